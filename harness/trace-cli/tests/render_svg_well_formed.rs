//! The SVG timeline is well-formed XML with one lane per task; the HTML page
//! embeds it.

mod samples;

use asyncsim_harness::render::{html, svg};

fn lanes(document: &roxmltree::Document<'_>) -> Vec<String> {
    document
        .descendants()
        .filter(|node| node.has_tag_name("g") && node.attribute("class") == Some("lane"))
        .map(|node| node.attribute("data-name").unwrap_or_default().to_string())
        .collect()
}

#[test]
fn svg_parses_with_one_lane_per_task_for_every_schedule() {
    for seed in 0..100 {
        let run = samples::run_in_executor(seed);
        let text = svg(&run.trace);
        let document = roxmltree::Document::parse(&text)
            .unwrap_or_else(|error| panic!("seed {seed}: {error}\n{text}"));
        assert!(document
            .root_element()
            .has_tag_name(("http://www.w3.org/2000/svg", "svg")));
        let names: Vec<String> = run
            .trace
            .tasks()
            .iter()
            .map(|info| info.name.to_string())
            .collect();
        assert_eq!(lanes(&document), names, "seed {seed}");
    }
}

#[test]
fn blocking_polls_are_drawn_as_blocking_bars() {
    let run = samples::blocking_speakers(10);
    let text = svg(&run.trace);
    let document = roxmltree::Document::parse(&text).unwrap();
    assert_eq!(lanes(&document).len(), 11);
    let blocking: Vec<_> = document
        .descendants()
        .filter(|node| node.attribute("class") == Some("poll blocking"))
        .collect();
    assert_eq!(blocking.len(), 10);
    for bar in blocking {
        let width: f64 = bar.attribute("width").unwrap().parse().unwrap();
        assert!(width > 50.0, "a 3 s bar of a 33 s run is wide: {width}");
        let title = bar
            .children()
            .find(|child| child.has_tag_name("title"))
            .unwrap();
        assert!(title.text().unwrap().contains("BLOCKED THE LOOP 3s"));
    }
    let wakes = document
        .descendants()
        .filter(|node| {
            node.attribute("class")
                .is_some_and(|class| class.starts_with("wake"))
        })
        .count();
    assert!(wakes >= 10);
}

#[test]
fn names_are_escaped() {
    let run = asyncsim_sim::Sim::new(asyncsim_sim::Config::new()).run(async {
        asyncsim_sim::task::Builder::new()
            .name("<&\"evil'>")
            .spawn(async { asyncsim_sim::trace::mark("</svg>") })
            .await
            .unwrap();
    });
    let text = svg(&run.trace);
    let document = roxmltree::Document::parse(&text).unwrap();
    assert_eq!(lanes(&document), ["main", "<&\"evil'>"]);
}

#[test]
fn html_embeds_the_svg_without_external_assets() {
    let run = samples::run_in_executor(3);
    let page = html(&run.trace);
    let picture = svg(&run.trace);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains(&picture));
    for external in ["src=\"http", "href=\"http", "<link", "@import", "url(http"] {
        assert!(!page.contains(external), "{external}");
    }
    assert!(page.contains("data-info"));
}

#[test]
fn a_run_without_virtual_time_is_drawn_along_the_steps() {
    let run = asyncsim_sim::Sim::new(asyncsim_sim::Config::new()).run(async {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                asyncsim_sim::spawn(async {
                    asyncsim_sim::yield_now().await;
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(run.elapsed(), std::time::Duration::ZERO);
    let text = svg(&run.trace);
    let document = roxmltree::Document::parse(&text).unwrap();
    let mut xs: Vec<String> = document
        .descendants()
        .filter(|node| node.attribute("class") == Some("poll"))
        .map(|node| node.attribute("x").unwrap().to_string())
        .collect();
    let polls = xs.len();
    assert_eq!(polls as u64, run.steps());
    xs.sort();
    xs.dedup();
    assert_eq!(xs.len(), polls, "each step has its own place on the axis");
}

#[test]
fn the_fault_lane_is_well_formed_and_comes_after_the_tasks() {
    for seed in 0..20 {
        let run = samples::faulty(seed);
        let text = svg(&run.trace);
        let document = roxmltree::Document::parse(&text)
            .unwrap_or_else(|error| panic!("seed {seed}: {error}\n{text}"));
        let faults: Vec<_> = document
            .descendants()
            .filter(|node| node.attribute("class") == Some("lane faults"))
            .collect();
        assert_eq!(faults.len(), 1, "seed {seed}");
        let marks = faults[0]
            .descendants()
            .filter(|node| node.attribute("class") == Some("fault"))
            .count();
        assert_eq!(marks, 4, "seed {seed}: partition, repair, crash, restart");
        assert_eq!(lanes(&document).len(), run.trace.tasks().len());
    }
}
