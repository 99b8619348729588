//! The whole article, explored: every snippet runs over a few thousand
//! schedules (random and PCT), and for each we print the orderings that
//! occurred — the article's printed lines — with how often, and the virtual
//! time the run took.
//!
//! ```text
//! cargo run --release --example article
//! ```
//!
//! A line that says "every schedule" is a guarantee the tests in
//! `tests/article_*.rs` check; several lines under one snippet are orderings
//! asyncio does not fix, each with a seed that shows it.

mod common;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use asyncsim::task::Builder;
use asyncsim::{trace, Run, StartOrder, Strategy};
use common::concurrent;
use common::snippets::*;
use common::support::{self, census, schedules, Outcome};

/// Schedules per snippet (`ASYNCSIM_RUNS` overrides).
fn runs() -> u64 {
    std::env::var("ASYNCSIM_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(3000)
}

/// The most orderings listed per snippet; the rest are counted.
const ORDERINGS_SHOWN: usize = 6;

/// How a snippet's outcome is shown: its marks, comma-separated.
fn printed<T>(run: &Run<T>) -> (String, Duration) {
    let marks: Vec<&str> = run.trace.marks().collect();
    let text = if marks.is_empty() {
        "(prints nothing)".to_string()
    } else {
        marks.join(" → ")
    };
    (text, run.elapsed())
}

fn section(title: &str) {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        println!("\n\x1b[1m{title}\x1b[0m");
    } else {
        println!("\n{title}");
    }
}

fn strategy_name(strategy: &Strategy) -> String {
    match strategy {
        Strategy::Fifo => "fifo".to_string(),
        Strategy::Random => "random".to_string(),
        Strategy::Pct { depth } => format!("pct:{depth}"),
        Strategy::Replay(_) => "replay".to_string(),
    }
}

/// Explores one snippet and prints what it printed, grouped.
fn explore<T, F: Future<Output = T>>(
    label: &str,
    program: impl FnMut() -> F,
    observe: impl FnMut(&Run<T>) -> (String, Duration),
) -> u64 {
    let total = runs();
    let outcomes: BTreeMap<(String, Duration), Outcome> =
        census(schedules(total), program, observe);
    println!("  {label}");
    let mut sorted: Vec<_> = outcomes.iter().collect();
    sorted.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
    for ((text, elapsed), outcome) in sorted.iter().take(ORDERINGS_SHOWN) {
        let time =
            asyncsim::trace::format_ns(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX));
        if outcome.count == total {
            println!("      {:<16}{time:>5}   {text}", "every schedule");
        } else {
            println!(
                "      {:<16}{time:>5}   {text}   (seed {}, {})",
                format!("{} of {total}", outcome.count),
                outcome.witness.seed,
                strategy_name(&outcome.witness.strategy)
            );
        }
    }
    if sorted.len() > ORDERINGS_SHOWN {
        let rest: u64 = sorted[ORDERINGS_SHOWN..].iter().map(|(_, o)| o.count).sum();
        println!(
            "      … and {} more orderings in {rest} schedules",
            sorted.len() - ORDERINGS_SHOWN
        );
    }
    total
}

/// Explores a combinator snippet twice — on asyncio's own FIFO loop with
/// only the set order drawn, and with every scheduling decision drawn — and
/// prints how many start orders occurred and whether `accept` held for the
/// returned value in every schedule.
fn start_orders<T, F: Future<Output = T>>(
    label: &str,
    mut program: impl FnMut() -> F,
    result_label: &str,
    accept: impl Fn(&T) -> bool,
) -> u64 {
    let total = runs();
    let argument_order: Vec<String> = (0..concurrent::JOBS).map(|x| x.to_string()).collect();
    let mut on_fifo_loop = BTreeMap::new();
    let mut on_any_loop = BTreeMap::new();
    let mut accepted = 0;
    for config in schedules(total) {
        let run = asyncsim::Sim::new(config).run(program());
        if run.result.as_ref().is_ok_and(&accept) {
            accepted += 1;
        }
        *on_any_loop
            .entry(support::marks(&run.trace))
            .or_insert(0u64) += 1;
        let fifo_loop = support::fifo().strategy(support::set_order_then_fifo(&run.tape));
        let replayed = asyncsim::Sim::new(fifo_loop).run(program());
        *on_fifo_loop
            .entry(support::marks(&replayed.trace))
            .or_insert(0u64) += 1;
    }
    println!("  {label}");
    for (loop_kind, orders) in [
        ("asyncio's FIFO loop", &on_fifo_loop),
        ("any schedule", &on_any_loop),
    ] {
        let in_order = orders.get(&argument_order).copied().unwrap_or(0);
        let example = orders
            .keys()
            .find(|order| **order != argument_order)
            .map_or(String::new(), |order| {
                format!(", e.g. {}", order.join(" → "))
            });
        println!(
            "      {loop_kind:<21} {:>4} start order(s); argument order in {in_order} of {total}{example}",
            orders.len()
        );
    }
    println!(
        "      {:<21} in {accepted} of {total} schedules",
        result_label
    );
    2 * total
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

fn main() {
    let wall = std::time::Instant::now(); // progress reporting only
    let mut schedules_run = 0;
    println!(
        "Asyncio basics, explored: each snippet of the article over {} schedules\n\
         (random and PCT): how often each ordering of its printed lines occurred,\n\
         the virtual time the run took, and the lines (the article\'s print).",
        runs()
    );

    section("Creating an event loop — run_until_complete(some_func())");
    schedules_run += explore("some_func()", some_func, printed);
    schedules_run += explore(
        "some_func() created, never awaited",
        forget_some_func,
        printed,
    );

    section("The real magic — await");
    schedules_run += explore("await speak_async()", run_await, printed);

    section("Starting a function and getting back to it later");
    schedules_run += explore(
        "will_speak = speak(); print A; sleep(1); print B; await will_speak",
        run_without_create_task,
        printed,
    );
    schedules_run += explore(
        "will_speak = create_task(speak()); print A; sleep(1); print B; await will_speak",
        run_with_create_task,
        printed,
    );
    schedules_run += explore(
        "the same with sleep(0) instead of sleep(1): B and C race",
        run_with_create_task_and_a_zero_sleep,
        printed,
    );

    section("Order mucking — await meow(3), meow(1), meow(2)");
    schedules_run += explore(
        "as coroutines: sequential, in await order",
        || run_in_await_order([3, 1, 2]),
        printed,
    );
    schedules_run += explore(
        "as tasks: concurrent",
        || run_tasks_in_await_order([3, 1, 2]),
        printed,
    );

    section("Concurrent runnings — asyncio.wait([meow(x) for x in range(6)])");
    schedules_run += start_orders(
        "3.7+ (argument order)",
        || concurrent::run_wait(StartOrder::Argument),
        "all six done",
        |done| done.len() == 6,
    );
    schedules_run += start_orders(
        "3.6 (a set)",
        || concurrent::run_wait(StartOrder::Unordered),
        "all six done",
        |done| done.len() == 6,
    );

    section("Handling async function results — asyncio.gather(*coros)");
    let in_argument_order =
        |values: &Vec<u64>| *values == (0..concurrent::JOBS).collect::<Vec<_>>();
    schedules_run += start_orders(
        "3.7+",
        concurrent::run_gather,
        "results in arg order",
        in_argument_order,
    );
    schedules_run += start_orders(
        "3.5–3.6 (a set)",
        concurrent::run_gather_unordered,
        "results in arg order",
        in_argument_order,
    );

    section("That it? What else you got? — a task stores its result");
    let executions = Rc::new(Cell::new(0));
    schedules_run += explore(
        "create_task(compute()); sleep(2); await it",
        || run_task_result(executions.clone()),
        printed,
    );
    println!(
        "      compute ran {} times in {} runs: awaiting a done task never re-runs it",
        executions.get(),
        runs()
    );

    section("Blocking the loop — ten speakers");
    let slow = |run: &Run<()>| {
        let names: Vec<&str> = run
            .slow_polls()
            .iter()
            .map(|slow| slow.name.as_str())
            .collect();
        let text = if names.is_empty() {
            "no slow polls".to_string()
        } else {
            format!("{} slow polls", names.len())
        };
        (text, run.elapsed())
    };
    schedules_run += explore(
        "asyncio.sleep(3); time.sleep(3)",
        || run_speakers(10, Bark::Blocking),
        slow,
    );
    schedules_run += explore(
        "asyncio.sleep(3) only",
        || run_speakers(10, Bark::WithoutCulprit),
        slow,
    );

    section("Unblock the Blockers — two runs of blocking_func");
    schedules_run += explore("blocking_func() on the loop", || start(false), printed);
    schedules_run += explore(
        "await loop.run_in_executor(None, blocking_func)",
        || start(true),
        printed,
    );

    println!(
        "\n{schedules_run} schedules in {:.2?} of wall-clock time.",
        wall.elapsed()
    );
}
