//! insta snapshots of traces.

use asyncsim_sim::Trace;

/// Snapshots a trace's stable text (its `Display`) with insta, into the
/// `snapshots/` directory at the root of the calling crate (the crate's
/// `CARGO_MANIFEST_DIR`; for the `asyncsim` facade that is the repository's
/// top-level `snapshots/`). The snapshot's header names the expression
/// given (`expression: run.trace`).
///
/// A task named by its spawn site (the tokio face names each task so:
/// `task-1@src/lib.rs:72`) is written without its line
/// (`task-1@src/lib.rs`), so a snapshot does not change when a line is
/// added above a spawn; the task's number still tells two tasks of one file
/// apart. (To snapshot the names as the trace has them, snapshot
/// `trace.to_string()` with `insta::assert_snapshot!`.)
///
/// ```no_run
/// use asyncsim::{Config, Sim, Strategy};
/// let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
///     asyncsim::trace::mark("hello");
/// });
/// asyncsim::harness::assert_trace_snapshot!("hello_trace", run.trace);
/// ```
#[macro_export]
macro_rules! assert_trace_snapshot {
    ($name:expr, $trace:expr $(,)?) => {{
        let mut settings = $crate::insta::Settings::clone_current();
        settings.set_snapshot_path(
            ::std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"),
        );
        settings.set_prepend_module_to_snapshot(false);
        let text = $crate::__trace_snapshot_text(&$trace);
        let name: &str = ::std::convert::AsRef::<str>::as_ref(&$name);
        settings.bind(|| {
            $crate::insta::assert_snapshot!(name, text, stringify!($trace));
        });
    }};
}

/// The width of a trace line's task column in the trace's `Display` (its
/// `TASK_COLUMN_MIN`, which that text keeps whatever the names).
const TASK_COLUMN: usize = 12;

/// A trace's text as [`assert_trace_snapshot!`] keeps it: its `Display`,
/// each task named by its spawn site without the site's line
/// (`task-1@src/lib.rs:72` → `task-1@src/lib.rs`), in the task column
/// (padded as the trace pads it) and in the events' words.
#[doc(hidden)]
pub fn trace_snapshot_text(trace: &Trace) -> String {
    let mut renames: Vec<(&str, &str)> = trace
        .tasks()
        .iter()
        .filter_map(|task| {
            let name: &str = &task.name;
            without_line(name).map(|short| (name, short))
        })
        .collect();
    let text = trace.to_string();
    if renames.is_empty() {
        return text;
    }
    // The longest first: `task-1@a.rs:72` before a `task-1@a.rs:7`.
    renames.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    renames.dedup();
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (head, mut rest) = line.split_at(task_column_start(line).unwrap_or(0));
        out.push_str(head);
        if let Some((name, short)) = renames.iter().find(|(name, _)| {
            rest.strip_prefix(name)
                .is_some_and(|after| after.starts_with(' '))
        }) {
            // The column as the trace writes it: padded to its width, then
            // one space.
            let after = &rest[name.len()..];
            let padding = TASK_COLUMN.saturating_sub(name.len()) + 1;
            let spaces = after.len() - after.trim_start_matches(' ').len();
            rest = &after[padding.min(spaces)..];
            out.push_str(&format!("{short:<TASK_COLUMN$} "));
        }
        let mut words = rest.to_string();
        for (name, short) in &renames {
            if words.contains(name) {
                words = words.replace(name, short);
            }
        }
        out.push_str(&words);
    }
    out
}

/// Where a trace line's task column starts: after the step, one space, the
/// virtual time and two spaces (`{:>5} {:>10}  `); None for a line of
/// another shape (the "more events not recorded" line).
fn task_column_start(line: &str) -> Option<usize> {
    let step = line.trim_start_matches(' ');
    let time = step
        .strip_prefix(|c: char| c.is_ascii_digit())?
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .strip_prefix(' ')?
        .trim_start_matches(' ');
    let column = time.split_once(' ')?.1.strip_prefix(' ')?;
    Some(line.len() - column.len())
}

/// A spawn site's task name without its line: `task-1@src/lib.rs:72` →
/// `task-1@src/lib.rs` (also `blocking-<id>@…`); None for any other name
/// (a given name is the user's, kept as written).
fn without_line(name: &str) -> Option<&str> {
    let (task, site) = name.split_once('@')?;
    let (prefix, id) = task.rsplit_once('-')?;
    if !matches!(prefix, "task" | "blocking")
        || id.is_empty()
        || !id.bytes().all(|byte| byte.is_ascii_digit())
    {
        return None;
    }
    let (file, line) = site.rsplit_once(':')?;
    if file.is_empty() || line.is_empty() || !line.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some(&name[..name.len() - line.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_spawn_sites_name_loses_its_line() {
        assert_eq!(
            without_line("task-1@src/lib.rs:72"),
            Some("task-1@src/lib.rs")
        );
        assert_eq!(
            without_line("blocking-12@net/mod.rs:3"),
            Some("blocking-12@net/mod.rs")
        );
        assert_eq!(without_line("task-1"), None);
        assert_eq!(without_line("worker@host:80"), None);
        assert_eq!(without_line("task-x@a.rs:1"), None);
        assert_eq!(without_line("task-1@a.rs"), None);
    }

    #[test]
    fn the_task_column_starts_after_the_step_and_the_time() {
        let line = "   12     0.015s  main         poll\n";
        assert_eq!(
            &line[task_column_start(line).unwrap()..],
            "main         poll\n"
        );
        let long = "123456 3600.001s  task-1@a.rs:7 poll\n";
        assert_eq!(
            &long[task_column_start(long).unwrap()..],
            "task-1@a.rs:7 poll\n"
        );
        assert_eq!(
            task_column_start("... 3 more events not recorded (hash 00)\n"),
            None
        );
    }
}
