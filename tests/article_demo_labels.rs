//! The demo's Python-version labels for `asyncio.wait` and `asyncio.gather`
//! (`cargo run --release --example article`), checked against CPython's
//! `Lib/asyncio/tasks.py` history: `wait` iterated a set of its coroutines
//! in 3.5–3.10 and refuses coroutines since 3.11; `gather` iterated a set in
//! 3.5–3.6 and goes in argument order since 3.7. The text of each section is
//! what the demo prints; the `wait` section is also an insta snapshot.

#[path = "../examples/common/mod.rs"]
mod common;

use common::demo::{self, Section};

/// Few schedules: the labels and the FIFO-loop lines do not depend on the
/// count, and the snapshot stays small.
const RUNS: u64 = 200;

/// The lines of a section under its variant `label`, up to the next variant.
fn variant<'a>(section: &'a Section, label: &str) -> Vec<&'a str> {
    let heading = format!("  {label}");
    section
        .text
        .lines()
        .skip_while(|line| *line != heading)
        .skip(1)
        .take_while(|line| line.starts_with("    "))
        .collect()
}

#[test]
fn the_wait_section_names_3_5_to_3_10_as_a_set_and_3_11_as_tasks_first() {
    let section = demo::wait_section(RUNS);
    let labels: Vec<&str> = section
        .text
        .lines()
        .filter(|line| line.starts_with("  ") && !line.starts_with("    "))
        .map(str::trim)
        .collect();
    assert_eq!(labels, [demo::WAIT_SET_LABEL, demo::WAIT_TASKS_LABEL]);
    assert!(demo::WAIT_SET_LABEL.starts_with("3.5–3.10:"));
    assert!(demo::WAIT_SET_LABEL.contains("a set"));
    assert!(demo::WAIT_SET_LABEL.contains("StartOrder::Unordered"));
    assert!(demo::WAIT_TASKS_LABEL.starts_with("3.11+:"));
    assert!(demo::WAIT_TASKS_LABEL.contains("create_task"));
    // `wait` never started coroutines in argument order in any version: that
    // was gather's 3.7 change, and it must not be claimed for wait.
    assert!(!section.text.contains("3.7"), "{}", section.text);
    assert!(!section.text.contains("3.6 (a set)"), "{}", section.text);

    // What each label claims, shown by the lines under it: a set of six
    // starts the coroutines in each of its 720 orders on asyncio's FIFO
    // loop; tasks created first start in creation order under every one of
    // those set orders.
    let set = variant(&section, demo::WAIT_SET_LABEL);
    assert!(
        set[0].contains("every set order, FIFO loop")
            && set[0].contains("720 start order(s), argument order in 1 of 720"),
        "{set:?}"
    );
    let tasks = variant(&section, demo::WAIT_TASKS_LABEL);
    assert!(
        tasks[0].contains("every set order, FIFO loop")
            && tasks[0].contains("  1 start order(s), argument order in 720 of 720"),
        "{tasks:?}"
    );
    for lines in [&set, &tasks] {
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(
            lines[1].ends_with("all six done in 720 of 720"),
            "{lines:?}"
        );
        assert!(lines[3].ends_with(&format!("all six done in {RUNS} of {RUNS}")));
    }

    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        insta::assert_snapshot!(
            "demo_wait_section",
            format!("{}\n{}", section.title, section.text)
        );
    });
}

#[test]
fn the_gather_section_names_3_5_to_3_6_as_a_set_and_3_7_as_argument_order() {
    let section = demo::gather_section(RUNS);
    assert!(demo::GATHER_ORDERED_LABEL.starts_with("3.7+:"));
    assert!(demo::GATHER_ORDERED_LABEL.contains("argument order"));
    assert!(demo::GATHER_SET_LABEL.starts_with("3.5–3.6:"));
    assert!(demo::GATHER_SET_LABEL.contains("a set"));

    let ordered = variant(&section, demo::GATHER_ORDERED_LABEL);
    assert!(
        ordered[0].contains("asyncio's FIFO loop")
            && ordered[0].contains("1 start order(s), argument order in 1 of 1"),
        "{ordered:?}"
    );
    let set = variant(&section, demo::GATHER_SET_LABEL);
    assert!(
        set[0].contains("720 start order(s), argument order in 1 of 720"),
        "{set:?}"
    );
    // Results in argument order in every version, on every schedule.
    for lines in [&ordered, &set] {
        assert!(lines[1].contains("results in argument order"), "{lines:?}");
        let total = |line: &str| line.rsplit(" of ").next().unwrap().to_string();
        for line in [lines[1], lines[3]] {
            let right = line.rsplit(" in ").next().unwrap();
            let (count, of) = right.split_once(" of ").unwrap();
            assert_eq!(count, of, "{line}");
            assert_eq!(total(line), of);
        }
    }
}
