//! `gather_with(StartOrder::Unordered, ..)` models Python 3.5–3.6's
//! set-based `gather`: the start order is drawn from the tape, so some
//! schedules start the children out of argument order, yet the results are
//! in argument order for every schedule within three deviations of FIFO.

use asyncsim::{gather_with, Config, DrawLabel, EventKind, Sim, StartOrder, Strategy, Tape};

mod schedule_support;

use schedule_support::{every_run, random_and_pct};

async fn four_children() -> Vec<usize> {
    gather_with(
        StartOrder::Unordered,
        (0..4usize).map(|index| async move {
            asyncsim::trace::mark(format!("start {index}"));
            asyncsim::yield_now().await;
            index
        }),
    )
    .await
}

/// The argument indexes of the children in the order they were spawned.
fn spawn_order(run: &asyncsim::Run<Vec<usize>>) -> Vec<usize> {
    let trace = &run.trace;
    trace
        .events()
        .iter()
        .filter(|event| matches!(event.kind, EventKind::Spawn { .. }))
        .filter_map(|event| event.task)
        .filter_map(|task| {
            let name = trace.task_name(task);
            name.strip_prefix("gather[")
                .and_then(|rest| rest.strip_suffix(']'))
                .map(|index| index.parse().unwrap())
        })
        .collect()
}

#[test]
fn unordered_gather_returns_results_in_argument_order_for_every_schedule_within_three_deviations() {
    every_run(3, 50_000, four_children, |run| {
        assert_eq!(
            run.result.as_ref().unwrap(),
            &[0, 1, 2, 3],
            "replay {}",
            run.tape
        );
        let mut started = spawn_order(&run);
        started.sort_unstable();
        assert_eq!(started, [0, 1, 2, 3], "every child starts exactly once");
    });
}

#[test]
fn unordered_gather_starts_out_of_argument_order_on_some_schedule() {
    let witness = random_and_pct(250)
        .map(|config| Sim::new(config).run(four_children()))
        .find(|run| spawn_order(run) != [0, 1, 2, 3])
        .expect("some schedule starts the children out of argument order");
    println!(
        "seed {} ({:?}) spawned the children in order {:?}; replay: {}",
        witness.seed,
        witness.strategy,
        spawn_order(&witness),
        witness.tape
    );
    assert_eq!(witness.result.unwrap(), [0, 1, 2, 3]);
}

#[test]
fn unordered_start_is_one_start_draw_per_choice_and_zeros_mean_argument_order() {
    // All-zero draws (an exhausted replay tape) give argument order, even
    // though the start order is drawn.
    let run =
        Sim::new(Config::new().strategy(Strategy::Replay(Tape::default()))).run(four_children());
    assert_eq!(spawn_order(&run), [0, 1, 2, 3]);
    assert_eq!(run.trace.marks().next(), Some("start 0"));

    // A Random run draws the permutation with label `start`: 4, 3, 2 choices.
    let run = Sim::new(Config::new().seed(1)).run(four_children());
    let bounds: Vec<u64> = run
        .tape
        .draws()
        .iter()
        .filter(|draw| draw.label == DrawLabel::Start)
        .map(|draw| draw.bound)
        .collect();
    assert_eq!(bounds, [4, 3, 2]);

    // And the tape replays the same start order.
    let replay =
        Sim::new(Config::new().strategy(Strategy::Replay(run.tape.clone()))).run(four_children());
    assert_eq!(spawn_order(&replay), spawn_order(&run));
}

#[test]
fn unordered_gather_under_fifo_scheduling_starts_in_spawn_order() {
    // Under FIFO the children first run in the order they were spawned,
    // which is argument order (FIFO draws are all zero).
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(four_children());
    let starts: Vec<&str> = run.trace.marks().collect();
    assert_eq!(starts, ["start 0", "start 1", "start 2", "start 3"]);
}
