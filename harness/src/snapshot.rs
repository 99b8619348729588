//! insta snapshots of traces.

/// Snapshots a trace's stable text (its `Display`) with insta, into the
/// `snapshots/` directory at the root of the calling crate (the crate's
/// `CARGO_MANIFEST_DIR`; for the `asyncsim` facade that is the repository's
/// top-level `snapshots/`).
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
        let text = ::std::string::ToString::to_string(&$trace);
        let name: &str = ::std::convert::AsRef::<str>::as_ref(&$name);
        settings.bind(|| {
            $crate::insta::assert_snapshot!(name, text);
        });
    }};
}
