//! What a new user meets reads as they would write it: doc examples name
//! `asyncsim::…` (the crate they depend on), the renderers come with one
//! prelude import, and a failing run leaves a timeline page beside its
//! trace file, so nothing needs installing to look at it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn rust_files(directory: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(directory).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn harness_doc_examples_use_paths_a_user_can_write() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for directory in [
        "harness/src",
        "harness/macros/src",
        "harness/trace-cli/src",
        "src",
    ] {
        rust_files(&root.join(directory), &mut files);
    }
    files.sort();
    assert!(files.len() > 20, "found the sources: {files:?}");
    let mut offenders = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let doc = line.trim_start();
            let is_doc = doc.starts_with("///") || doc.starts_with("//!");
            if is_doc && (doc.contains("asyncsim_harness::") || doc.contains("asyncsim_sim::")) {
                offenders.push(format!("{}:{}: {doc}", file.display(), number + 1));
            }
        }
    }
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for (number, line) in readme.lines().enumerate() {
        if line.contains("asyncsim_harness::") || line.contains("asyncsim_sim::") {
            offenders.push(format!("README.md:{}: {line}", number + 1));
        }
    }
    assert!(
        offenders.is_empty(),
        "doc examples a user cannot write (use `asyncsim::…`):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_prelude_brings_the_renderers() {
    use asyncsim::prelude::*;
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        asyncsim::spawn(async { asyncsim::trace::mark("speak") })
            .await
            .unwrap();
    });
    assert!(run.trace.timeline(40).contains("task-1"));
    assert!(run.trace.to_chrome_json().contains("traceEvents"));
    assert!(run.trace.to_svg().starts_with("<svg"));
    assert!(run.trace.to_html().contains("<svg"));
}

#[test]
fn a_failing_run_writes_a_timeline_page_beside_its_trace_file() {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        asyncsim::check(
            asyncsim::Explore::without_environment()
                .runs(50)
                .name("timeline_page_beside_the_trace")
                .persist(false)
                .progress(false),
            || async {
                let sleeper = asyncsim::task::Builder::new()
                    .name("sleeper")
                    .spawn(async { asyncsim::yield_now().await });
                sleeper.await.unwrap();
                Err::<(), _>("always fails")
            },
        )
    }));
    let report = *outcome.unwrap_err().downcast::<String>().unwrap();
    let trace_file = report
        .lines()
        .find_map(|line| line.strip_prefix("full trace: "))
        .expect("the report names the trace file");
    let page = report
        .lines()
        .find_map(|line| line.strip_prefix("timeline page: "))
        .and_then(|rest| rest.strip_suffix(" (open it in a browser)"))
        .expect("the report names the timeline page");
    assert_eq!(page, trace_file.replace(".trace.json", ".html"));
    let html = std::fs::read_to_string(page).expect("the page was written");
    assert!(html.contains("<svg") && html.contains("sleeper"), "{html}");
    assert!(!html.contains("<script src="), "self-contained");
}

/// `cargo doc --no-deps -p asyncsim` (a user's first look at the API)
/// documents the harness under the README's names (`asyncsim::harness::
/// schedules`, `run_schedule`, `assert_trace_snapshot!`) only when its
/// re-export is inlined: without `#[doc(inline)]` the page had no `harness`
/// module and the crate's doc linked to the internal crates' names, which
/// that build does not document.
#[test]
fn the_crate_page_documents_the_harness_under_its_re_exported_name() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    let lines: Vec<&str> = lib.lines().map(str::trim).collect();
    let at = lines
        .iter()
        .position(|line| *line == "pub use asyncsim_harness as harness;")
        .expect("src/lib.rs re-exports the harness as `harness`");
    let attributes: Vec<&str> = lines[..at]
        .iter()
        .rev()
        .take_while(|line| line.starts_with("#[") || line.starts_with("///"))
        .copied()
        .collect();
    assert!(
        attributes.contains(&"#[doc(inline)]"),
        "the harness re-export is not inlined: {attributes:?}"
    );
    let crate_doc: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|line| line.starts_with("//!"))
        .collect();
    for internal in ["[`asyncsim_sim`]", "[`asyncsim_harness`]"] {
        assert!(
            !crate_doc.iter().any(|line| line.contains(internal)),
            "the crate's doc links {internal}, which `cargo doc --no-deps -p asyncsim` does not document"
        );
    }
}
