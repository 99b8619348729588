//! The determinism check: one schedule run twice must give one trace.

use std::future::Future;

use asyncsim_sim::{Sim, TraceMode};

use crate::schedule::Schedule;
use crate::setup::{run_with, Setup};

/// Runs `schedule` twice with full traces; explains the first difference.
pub(crate) fn determinism_check<B, F>(
    setup: &Setup<'_>,
    body: &B,
    schedule: &Schedule,
) -> Option<String>
where
    B: Fn() -> F,
    F: Future,
{
    let mut sim = Sim::new(setup.settings.config.clone());
    let first = run_with(
        &mut sim,
        body,
        setup.config(schedule, TraceMode::Full, false),
    );
    let second = run_with(
        &mut sim,
        body,
        setup.config(schedule, TraceMode::Full, false),
    );
    if first.trace == second.trace && first.tape == second.tape {
        return None;
    }
    let detail = match crate::diff::first_divergence(&first.trace, &second.trace) {
        Some(divergence) => {
            let mut text = format!("they diverge at event #{}:", divergence.index);
            for line in &divergence.common {
                text.push_str(&format!("\n    both:   {line}"));
            }
            text.push_str(&format!(
                "\n  first run:  {}",
                divergence
                    .left_context
                    .first()
                    .map_or("(the trace ended here)", String::as_str)
            ));
            text.push_str(&format!(
                "\n  second run: {}",
                divergence
                    .right_context
                    .first()
                    .map_or("(the trace ended here)", String::as_str)
            ));
            text
        }
        None => "their events match but their draws differ".to_string(),
    };
    Some(format!(
        "asyncsim: `{}` is not deterministic: two runs of the same schedule ({}) differ; {detail}\n\
         A run must be a pure function of its schedule: look for wall-clock time, OS randomness, \
         HashMap iteration order, threads, or state kept between runs (statics, thread-locals) in the body; \
         under the tokio face, also for real tokio's own random choices in a dependency that names real \
         `tokio` (its `tokio::select!`, which picks a branch order, or a `tokio::sync::watch` of real tokio's \
         with several receivers waiting, which wakes them in a drawn order): tokio draws them from a generator \
         seeded by the OS, which the face cannot seed (the face's own `select!` and `watch` are replayable).",
        setup.test_name, schedule
    ))
}
