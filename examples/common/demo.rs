//! The article demo's two combinator sections, as text: "Concurrent
//! runnings" (`asyncio.wait`) and "Handling async function results"
//! (`asyncio.gather`).
//!
//! `examples/article.rs` prints them; `tests/article_demo_labels.rs` pins
//! their Python-version labels (and snapshots the `wait` section), so the
//! demo cannot drift from CPython's history again:
//!
//! - `wait` put its argument in a set — `{ensure_future(f) for f in
//!   set(fs)}` — from 3.5 through 3.10 (3.8–3.10 warn about bare
//!   coroutines), so coroutines started in set order. 3.11 refuses
//!   coroutines (`TypeError`): the caller creates the tasks, and they start
//!   in creation order whatever `wait` then does with its set.
//! - `gather` iterated a set in 3.5–3.6 and goes in argument order since
//!   3.7; its results are in argument order in every version.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::future::Future;

use asyncsim::harness::run_schedule;
use asyncsim::trace::marks_so_far;
use asyncsim::{Explore, StartOrder, Strategy};

use super::concurrent::{self, JOBS};
use super::support::{argument_order, every_set_order};

/// The heading of the `wait` section.
pub const WAIT_TITLE: &str = "Concurrent runnings — asyncio.wait([meow(x) for x in range(6)])";
/// The `wait` section's first variant: what the article ran.
pub const WAIT_SET_LABEL: &str =
    "3.5–3.10: wait puts the coroutines in a set (StartOrder::Unordered; deprecated in 3.8)";
/// The `wait` section's second variant: what 3.11+ code has to write.
pub const WAIT_TASKS_LABEL: &str =
    "3.11+: coroutines refused; create_task(meow(x)) for each x in order, then wait(tasks)";
/// The heading of the `gather` section.
pub const GATHER_TITLE: &str = "Handling async function results — asyncio.gather(*coros)";
/// The `gather` section's variants.
pub const GATHER_ORDERED_LABEL: &str = "3.7+: gather starts them in argument order";
pub const GATHER_SET_LABEL: &str = "3.5–3.6: gather puts them in a set (StartOrder::Unordered)";

/// One section of the demo: its heading, its text (indented lines, each
/// ending in a newline) and how many schedules it ran.
pub struct Section {
    pub title: &'static str,
    pub text: String,
    pub schedules: u64,
}

/// The demo's two explorations of a snippet: `total` runs, half random,
/// half PCT of depth 2 (each's first run is asyncio's FIFO order, as every
/// exploration's is).
pub fn explorations(total: u64) -> [(Strategy, Explore); 2] {
    [Strategy::Random, Strategy::Pct { depth: 2 }].map(|strategy| {
        let explore = Explore::new()
            .runs(total / 2)
            .strategy(strategy.clone())
            .progress(false);
        (strategy, explore)
    })
}

/// What a combinator snippet showed: the order its six jobs printed their
/// numbers in (their start order), and whether the result was right.
pub type Started = (Vec<String>, bool);

/// How the loop of one line of a [`start_orders`] report was driven.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Loop {
    /// asyncio's own FIFO loop, once.
    Fifo,
    /// asyncio's FIFO loop after each of the 720 orders of a six-element set
    /// (the start draws of `StartOrder::Unordered` replayed, the loop FIFO
    /// after them).
    EverySetOrder,
}

/// Explores a combinator snippet twice — on asyncio's FIFO loop (`loop_kind`)
/// and over `runs` random and PCT schedules — and writes, for each, how many
/// start orders occurred, how often the jobs started in argument order, and
/// in how many runs the result was right. Returns the schedules run.
pub fn start_orders<B, F>(
    out: &mut String,
    label: &str,
    loop_kind: Loop,
    runs: u64,
    body: B,
    result_label: &str,
) -> u64
where
    B: Fn() -> F + Sync,
    F: Future<Output = Started>,
{
    writeln!(out, "  {label}").unwrap();
    let in_order = argument_order(JOBS);
    let mut report = |line: &str, orders: Vec<(Started, u64)>, total: u64| {
        let distinct: BTreeSet<&Vec<String>> = orders.iter().map(|((order, _), _)| order).collect();
        let count_where = |keep: &dyn Fn(&Started) -> bool| -> u64 {
            orders
                .iter()
                .filter(|(value, _)| keep(value))
                .map(|(_, count)| count)
                .sum()
        };
        let in_argument_order = count_where(&|(order, _)| *order == in_order);
        let right = count_where(&|(_, right)| *right);
        let example = distinct
            .iter()
            .find(|order| ***order != in_order)
            .map_or(String::new(), |order| format!("; e.g. {}", order.join(" ")));
        writeln!(
            out,
            "    {line:<31} {:>3} start order(s), argument order in {in_argument_order} of {total}{example}",
            distinct.len()
        )
        .unwrap();
        writeln!(out, "    {:<31} {result_label} in {right} of {total}", "").unwrap();
    };

    let (line, fifo_orders): (&str, Vec<(Started, u64)>) = match loop_kind {
        Loop::EverySetOrder => (
            "every set order, FIFO loop",
            every_set_order(JOBS as usize)
                .iter()
                .filter_map(|(tape, _)| run_schedule(tape, &body).result.ok())
                .map(|value| (value, 1))
                .collect(),
        ),
        Loop::Fifo => {
            let fifo = Explore::new().strategy(Strategy::Fifo).runs(1);
            let census = asyncsim::outcomes(fifo, &body);
            (
                "asyncio's FIFO loop",
                census
                    .values
                    .into_iter()
                    .map(|outcome| (outcome.value, outcome.count))
                    .collect(),
            )
        }
    };
    let fifo_total = fifo_orders.iter().map(|(_, count)| count).sum();
    report(line, fifo_orders, fifo_total);

    let mut any_orders = Vec::new();
    let mut total = 0;
    for (_, settings) in explorations(runs) {
        let census = asyncsim::outcomes(settings, &body);
        total += census.runs;
        any_orders.extend(
            census
                .values
                .into_iter()
                .map(|outcome| (outcome.value, outcome.count)),
        );
    }
    report("random and PCT schedules", any_orders, total);
    fifo_total + total
}

/// "Concurrent runnings": `asyncio.wait` over six coroutines as 3.5–3.10 ran
/// it (a set), and as 3.11+ code has to write it (tasks first), each over
/// every set order on the FIFO loop and over `runs` random and PCT
/// schedules.
pub fn wait_section(runs: u64) -> Section {
    let mut text = String::new();
    let mut schedules = start_orders(
        &mut text,
        WAIT_SET_LABEL,
        Loop::EverySetOrder,
        runs,
        || async {
            let done = concurrent::run_wait(StartOrder::Unordered).await;
            (marks_so_far(), done.len() == JOBS as usize)
        },
        "all six done",
    );
    // 3.11's `wait` still makes a set of the tasks it is given; by then they
    // are already scheduled, in creation order.
    schedules += start_orders(
        &mut text,
        WAIT_TASKS_LABEL,
        Loop::EverySetOrder,
        runs,
        || async {
            let done = concurrent::run_wait_on_tasks(StartOrder::Unordered).await;
            (marks_so_far(), done.len() == JOBS as usize)
        },
        "all six done",
    );
    Section {
        title: WAIT_TITLE,
        text,
        schedules,
    }
}

/// "Handling async function results": `asyncio.gather` over six coroutines
/// in 3.7+ (argument order) and 3.5–3.6 (a set).
pub fn gather_section(runs: u64) -> Section {
    let gather_body = |start_order| async move {
        let (_, results) = concurrent::run_gather_logged(start_order).await;
        (marks_so_far(), results == (0..JOBS).collect::<Vec<_>>())
    };
    let mut text = String::new();
    let mut schedules = start_orders(
        &mut text,
        GATHER_ORDERED_LABEL,
        Loop::Fifo,
        runs,
        || gather_body(StartOrder::Argument),
        "results in argument order",
    );
    schedules += start_orders(
        &mut text,
        GATHER_SET_LABEL,
        Loop::EverySetOrder,
        runs,
        || gather_body(StartOrder::Unordered),
        "results in argument order",
    );
    Section {
        title: GATHER_TITLE,
        text,
        schedules,
    }
}
