//! The whole article, explored: every snippet runs over a few thousand
//! schedules (half random, half PCT), and for each we print the orderings
//! of its printed lines that occurred, how often, the virtual time the run
//! took, and a replay token for a schedule that shows it.
//!
//! ```text
//! cargo run --release --example article
//! ```
//!
//! A line that says "every schedule" is a guarantee the tests in
//! `tests/article_*.rs` check; several lines under one snippet are orderings
//! asyncio does not fix. `ASYNCSIM_REPLAY=<token>` with the matching test
//! (or `asyncsim::harness::run_schedule`) replays a schedule.

mod common;

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use asyncsim::harness::{Schedule, TraceExt};
use asyncsim::task::Builder;
use asyncsim::time::Instant;
use asyncsim::trace::{self, format_ns, marks_so_far};
use asyncsim::{Explore, Strategy};
use common::demo;
use common::snippets::*;

/// Schedules per snippet (`ASYNCSIM_RUNS` overrides).
fn runs() -> u64 {
    std::env::var("ASYNCSIM_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(3000)
}

/// The most orderings listed per snippet; the rest are counted.
const ORDERINGS_SHOWN: usize = 4;

/// What a run of a snippet showed: its printed lines and its virtual time.
type Printed = (String, Duration);

/// Runs `program`, then reads what it printed and the virtual clock.
async fn printed<T>(program: impl Future<Output = T>) -> Printed {
    program.await;
    let marks = marks_so_far();
    let text = if marks.is_empty() {
        "(prints nothing)".to_string()
    } else {
        marks.join(" → ")
    };
    (text, Instant::now().since_start())
}

fn section(title: &str) {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        println!("\n\x1b[1m{title}\x1b[0m");
    } else {
        println!("\n{title}");
    }
}

/// One ordering over both explorations: how often, and the first schedule
/// that showed it.
struct Seen {
    value: Printed,
    count: u64,
    strategy: Strategy,
    seed: u64,
}

/// Explores one snippet with [`asyncsim::outcomes`] and prints each ordering
/// with its count, virtual time and a witness replay token (found again
/// with [`asyncsim::find`] on the witness seed).
fn explore<B, F>(label: &str, body: B) -> u64
where
    B: Fn() -> F + Sync,
    F: Future<Output = Printed>,
{
    let mut seen: Vec<Seen> = Vec::new();
    let mut total = 0;
    let mut failures = 0;
    for (strategy, settings) in demo::explorations(runs()) {
        let census = asyncsim::outcomes(settings, &body);
        total += census.runs;
        failures += census
            .failures
            .iter()
            .map(|(_, count, _)| count)
            .sum::<u64>();
        for outcome in census.values {
            match seen.iter_mut().find(|known| known.value == outcome.value) {
                Some(known) => known.count += outcome.count,
                None => seen.push(Seen {
                    seed: match outcome.witness {
                        Schedule::Seed(seed) => seed,
                        Schedule::Tape(_) => 0,
                    },
                    value: outcome.value,
                    count: outcome.count,
                    strategy: strategy.clone(),
                }),
            }
        }
    }
    seen.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
    println!("  {label}");
    for ordering in seen.iter().take(ORDERINGS_SHOWN) {
        let (text, elapsed) = &ordering.value;
        let how_often = if ordering.count == total {
            "every schedule".to_string()
        } else {
            format!("{} of {total}", ordering.count)
        };
        println!(
            "    {how_often:<16}{:>5}   {text}",
            format_ns(nanos(*elapsed))
        );
        println!("    {:21}   {}", "", witness_token(&body, ordering));
    }
    if seen.len() > ORDERINGS_SHOWN {
        let rest: u64 = seen[ORDERINGS_SHOWN..].iter().map(|o| o.count).sum();
        println!(
            "    … and {} more orderings in {rest} schedules",
            seen.len() - ORDERINGS_SHOWN
        );
    }
    if failures > 0 {
        println!("    {failures} schedules failed");
    }
    total
}

/// The replay token of the witness schedule of one ordering.
fn witness_token<B, F>(body: &B, ordering: &Seen) -> String
where
    B: Fn() -> F + Sync,
    F: Future<Output = Printed>,
{
    let settings = Explore::new()
        .strategy(ordering.strategy.clone())
        .replay_seed(ordering.seed)
        .progress(false);
    match asyncsim::find(settings, body, |value| *value == ordering.value) {
        Some(witness) if witness.tape.deviations() == 0 => {
            format!("replay {} (asyncio's own FIFO order)", witness.token())
        }
        Some(witness) => format!(
            "replay {} ({}, seed {})",
            witness.token(),
            ordering.strategy,
            ordering.seed
        ),
        None => "(the witness did not replay)".to_string(),
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// `create_task` with a zero sleep instead of one second: B and C race.
async fn run_with_create_task_and_a_zero_sleep() {
    let will_speak = Builder::new().name("speak").spawn(async {
        asyncsim::yield_now().await;
        trace::mark("C");
    });
    trace::mark("A");
    asyncsim::yield_now().await;
    trace::mark("B");
    will_speak.await.expect("speak does not panic");
}

/// `run_task_result`, failing the run if `compute` ran other than once.
async fn task_result_runs_compute_once() {
    let executions = Rc::new(Cell::new(0));
    run_task_result(executions.clone()).await;
    assert_eq!(executions.get(), 1, "compute ran again");
}

/// The slow-poll report of a speakers run, instead of its (empty) marks.
async fn slow_polls_of(bark_kind: Bark) -> Printed {
    run_speakers(10, bark_kind).await;
    let slow = asyncsim::blocking::slow_polls_so_far();
    let speakers: std::collections::BTreeSet<&str> =
        slow.iter().map(|poll| poll.name.as_str()).collect();
    let text = match slow.as_slice() {
        [] => "no slow polls".to_string(),
        [first, .., last] => format!(
            "{} slow polls by {} speakers, {} each, at {}, {} … {}",
            slow.len(),
            speakers.len(),
            format_ns(first.held_ns),
            format_ns(first.start_ns),
            format_ns(slow[1].start_ns),
            format_ns(last.start_ns)
        ),
        [only] => format!("1 slow poll: {}", only.name),
    };
    (text, Instant::now().since_start())
}

fn main() {
    let wall = std::time::Instant::now(); // progress reporting only
    let mut schedules_run = 0;
    println!(
        "Asyncio basics, explored: each snippet of the article over {} schedules\n\
         (half random, half PCT): each ordering of its printed lines (the\n\
         article's print), how often it occurred, the virtual time the run took,\n\
         and a replay token for a schedule that shows it.",
        runs()
    );

    section("Creating an event loop — run_until_complete(some_func())");
    schedules_run += explore("some_func()", || printed(some_func()));
    schedules_run += explore("some_func() created, never awaited", || {
        printed(forget_some_func())
    });

    section("The real magic — await");
    schedules_run += explore("await speak_async()", || printed(run_await()));

    section("Starting a function and getting back to it later");
    schedules_run += explore(
        "will_speak = speak(); print A; sleep(1); print B; await will_speak",
        || printed(run_without_create_task()),
    );
    schedules_run += explore(
        "will_speak = create_task(speak()); print A; sleep(1); print B; await will_speak",
        || printed(run_with_create_task()),
    );
    schedules_run += explore(
        "the same with sleep(0) instead of sleep(1): B and C race",
        || printed(run_with_create_task_and_a_zero_sleep()),
    );

    section("Order mucking — await meow(3), meow(1), meow(2)");
    schedules_run += explore("as coroutines: sequential, in await order", || {
        printed(run_in_await_order([3, 1, 2]))
    });
    schedules_run += explore("as tasks: concurrent", || {
        printed(run_tasks_in_await_order([3, 1, 2]))
    });

    for demo_section in [demo::wait_section(runs()), demo::gather_section(runs())] {
        section(demo_section.title);
        print!("{}", demo_section.text);
        schedules_run += demo_section.schedules;
    }

    section("That it? What else you got? — a task stores its result");
    schedules_run += explore(
        "create_task(compute()); sleep(2); await it (compute runs once per run, or the run fails)",
        || printed(task_result_runs_compute_once()),
    );

    section("Blocking the loop — ten speakers");
    schedules_run += explore("asyncio.sleep(3); time.sleep(3)", || {
        slow_polls_of(Bark::Blocking)
    });
    schedules_run += explore("asyncio.sleep(3) only", || {
        slow_polls_of(Bark::WithoutCulprit)
    });

    section("Unblock the Blockers — two runs of blocking_func");
    schedules_run += explore("blocking_func() on the loop", || printed(start(false)));
    schedules_run += explore("await loop.run_in_executor(None, blocking_func)", || {
        printed(start(true))
    });

    section("One witness, replayed: a schedule where C beats B after sleep(0)");
    let witness = asyncsim::find(
        Explore::new()
            .runs(runs())
            .strategy(Strategy::Pct { depth: 2 })
            .progress(false),
        || printed(run_with_create_task_and_a_zero_sleep()),
        |(text, _)| text == "A → C → B",
    );
    match witness {
        Some(witness) => {
            println!(
                "  run {} of PCT, replay token {}\n",
                witness.run_index,
                witness.token()
            );
            println!("{}", witness.trace.timeline(72));
        }
        None => println!("  none found"),
    }

    println!(
        "\n{schedules_run} schedules in {:.2?} of wall-clock time.",
        wall.elapsed()
    );
}
