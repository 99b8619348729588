//! The text timeline of each of the article's examples, snapshotted.

mod render_samples;

use asyncsim::harness::render::{timeline_text, TraceExt};

fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

#[test]
fn timeline_of_the_blocking_speakers_shows_the_blocking_sleeps_one_after_another() {
    let run = render_samples::blocking_speakers();
    let timeline = timeline_text(&run.trace, 80);
    // Each speaker's row holds the loop (`#`) for its own 3 s, in turn.
    let starts: Vec<usize> = timeline
        .lines()
        .filter(|line| line.starts_with("speak-"))
        .map(|line| line.find('#').expect("every speaker blocks the loop"))
        .collect();
    assert_eq!(starts.len(), 10);
    assert!(
        starts.windows(2).all(|pair| pair[0] < pair[1]),
        "{timeline}"
    );
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "timeline_blocking_speakers",
            timeline,
            "timeline_text(&render_samples::blocking_speakers().trace, 80)"
        )
    });
}

#[test]
fn timeline_of_blocking_func_on_the_loop_shows_both_runs_blocking() {
    let run = render_samples::blocking_func_on_the_loop();
    let timeline = run.trace.timeline(72);
    assert_eq!(
        timeline.matches("held the loop 3s").count(),
        2,
        "{timeline}"
    );
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "timeline_blocking_func_on_the_loop",
            timeline,
            "render_samples::blocking_func_on_the_loop().trace.timeline(72)"
        )
    });
}

#[test]
fn timeline_of_run_in_executor_shows_pool_jobs_and_no_blocking() {
    let run = render_samples::blocking_func_in_executor();
    let timeline = run.trace.timeline(72);
    assert!(!timeline.contains("loop blocked"), "{timeline}");
    let pool_rows = timeline.lines().filter(|line| line.contains("==")).count();
    assert_eq!(pool_rows, 2, "{timeline}");
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "timeline_run_in_executor",
            timeline,
            "render_samples::blocking_func_in_executor().trace.timeline(72)"
        )
    });
}

#[test]
fn timeline_rows_fit_the_width_on_200_random_schedules() {
    for seed in 0..200 {
        let run = render_samples::assorted(seed);
        for width in [40, 80, 133] {
            let timeline = timeline_text(&run.trace, width);
            let rows: Vec<&str> = timeline
                .lines()
                .skip(1)
                .take(run.trace.tasks().len())
                .collect();
            assert_eq!(rows.len(), run.trace.tasks().len());
            for (row, info) in rows.iter().zip(run.trace.tasks()) {
                assert!(row.starts_with(&*info.name), "seed {seed}: {row}");
                assert!(
                    row.chars().count() <= width,
                    "seed {seed} width {width}: {row}"
                );
            }
            assert!(
                timeline.contains('!'),
                "seed {seed}: the panic is drawn\n{timeline}"
            );
        }
    }
}

#[test]
fn timeline_is_the_same_for_the_same_run() {
    let a = render_samples::assorted(11);
    let b = render_samples::assorted(11);
    assert_eq!(a.trace.timeline(90), b.trace.timeline(90));
}

#[test]
fn timeline_of_a_run_without_virtual_time_counts_steps() {
    let run = render_samples::concurrent_meows();
    assert_eq!(run.elapsed(), std::time::Duration::ZERO);
    let timeline = run.trace.timeline(72);
    assert!(
        timeline.lines().next().unwrap().contains("step 0 .."),
        "{timeline}"
    );
    // Each meow is polled twice, at different steps: two marks-or-polls apart.
    for line in timeline.lines().filter(|line| line.starts_with("meow-")) {
        assert!(line.contains('*') && line.contains('|'), "{timeline}");
    }
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "timeline_concurrent_meows",
            timeline,
            "render_samples::concurrent_meows().trace.timeline(72)"
        )
    });
}

#[test]
fn timeline_at_80_columns_fits_in_80_with_its_legend_on_two_lines() {
    let run = render_samples::blocking_speakers();
    let timeline = timeline_text(&run.trace, 80);
    let lines: Vec<&str> = timeline.lines().collect();
    let legend = lines
        .iter()
        .position(|line| line.starts_with("legend: "))
        .unwrap_or_else(|| panic!("no legend:\n{timeline}"));
    assert_eq!(
        lines[legend..legend + 2],
        [
            "legend: | poll  # poll blocking the loop  = pool job  . waiting",
            "        * mark  ! panic  x abort",
        ],
        "{timeline}"
    );
    for line in &lines {
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line}",
            line.chars().count()
        );
    }
}
