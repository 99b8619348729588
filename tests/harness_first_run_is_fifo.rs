//! A sampled exploration (`check`, `explore`, `find`, `outcomes` under
//! Random, PCT or the default mix) runs asyncio's own order first: run 0 is
//! FIFO, every draw 0. A bug that plain FIFO shows is found there, already
//! the simplest schedule, and its report says so; run `i > 0` is still seed
//! `base + i`, so a seed keeps its meaning.

use asyncsim::harness::{Origin, Schedule};
use asyncsim::{explore, Counterexample, Explore, Strategy};
use std::cell::Cell;
use std::rc::Rc;

fn settings() -> Explore {
    Explore::without_environment()
        .runs(200)
        .persist(false)
        .progress(false)
        .trace_file(false)
}

/// Fails when the spawned task runs before `main` comes back from its
/// yield, which FIFO always does (the task was queued first) and a seed's
/// schedule does about half the time.
async fn fails_in_fifo_order() {
    let ran = Rc::new(Cell::new(false));
    let flag = ran.clone();
    let task = asyncsim::spawn(async move { flag.set(true) });
    asyncsim::yield_now().await;
    assert!(!ran.get(), "the task ran before main came back");
    task.await.unwrap();
}

/// Fails when `main` comes back from its yield before the spawned task
/// ran, which FIFO never does.
async fn fails_out_of_fifo_order() {
    let ran = Rc::new(Cell::new(false));
    let flag = ran.clone();
    let task = asyncsim::spawn(async move { flag.set(true) });
    asyncsim::yield_now().await;
    assert!(ran.get(), "main came back before the task ran");
    task.await.unwrap();
}

fn found(
    settings: Explore,
    body: fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
) -> Counterexample {
    explore(settings, body)
        .first_failure
        .expect("a schedule fails")
}

#[test]
fn a_bug_fifo_shows_is_found_at_run_0_for_every_sampled_strategy() {
    for strategy in ["random", "pct:2", "pct:3", "mix"] {
        let strategy: Strategy = strategy.parse().unwrap();
        // Any base seed: run 0 is FIFO whatever it is.
        for base in [0, 41] {
            let found = found(settings().strategy(strategy.clone()).seed(base), || {
                Box::pin(fails_in_fifo_order())
            });
            assert_eq!(
                (found.run_index, &found.origin, found.deviations),
                (0, &Origin::Fifo, 0),
                "{strategy}, base {base}: {found}"
            );
            let report = found.to_string();
            assert!(
                report.contains(&format!(
                    "failed after 1 schedule(s) (strategy {strategy}; its first run is FIFO, no deviation, before any seed)"
                )),
                "{report}"
            );
            assert!(
                report
                    .contains("schedule (already the simplest schedule: no deviation from FIFO):"),
                "{report}"
            );
            // No seed made it: the token replays it.
            assert!(!report.contains("ASYNCSIM_SEED="), "{report}");
            assert!(report.contains("ASYNCSIM_REPLAY=as1."), "{report}");
            let replayed = explore(settings().replay(found.tape.clone()), || {
                Box::pin(fails_in_fifo_order())
            });
            assert_eq!(replayed.failures, 1, "{strategy}: the token replays it");
        }
    }
    // As an exhaustive search, whose first schedule is FIFO's too.
    let exhaustive = found(settings().exhaustive(2), || Box::pin(fails_in_fifo_order()));
    assert_eq!(
        (
            exhaustive.run_index,
            &exhaustive.origin,
            exhaustive.deviations
        ),
        (0, &Origin::Exhaustive, 0),
        "{exhaustive}"
    );
}

#[test]
fn the_runs_after_fifo_keep_their_seeds() {
    for strategy in ["random", "pct:2", "mix"] {
        let strategy: Strategy = strategy.parse().unwrap();
        let found = found(settings().strategy(strategy.clone()).seed(1000), || {
            Box::pin(fails_out_of_fifo_order())
        });
        assert_eq!(found.origin, Origin::Seed, "{strategy}: {found}");
        assert!(found.run_index > 0, "{strategy}: FIFO passes");
        assert_eq!(found.seed, 1000 + found.run_index, "{strategy}");
        // That seed alone (ASYNCSIM_SEED) fails as found.
        let again = found_with_seed(&strategy, found.seed);
        assert_eq!(again.original_tape, found.original_tape, "{strategy}");
    }
}

fn found_with_seed(strategy: &Strategy, seed: u64) -> Counterexample {
    found(
        settings().strategy(strategy.clone()).replay_seed(seed),
        || Box::pin(fails_out_of_fifo_order()),
    )
}

#[test]
fn find_and_outcomes_see_fifo_first() {
    let witness = asyncsim::find(
        settings(),
        || async {
            let order = Rc::new(Cell::new(0u8));
            let first = order.clone();
            let task = asyncsim::spawn(async move { first.set(first.get() * 10 + 1) });
            order.set(order.get() * 10 + 2);
            task.await.unwrap();
            order.get()
        },
        |_| true,
    )
    .expect("every run gives a value");
    // FIFO: main runs on before the task it spawned.
    assert_eq!(
        (witness.run_index, &witness.schedule, witness.value),
        (0, &Schedule::Tape(asyncsim::Tape::new()), 21)
    );
}

/// The determinism check runs the first seeded schedule twice, not FIFO's:
/// a body whose state leaks between runs only on orders FIFO never takes
/// (here: eight tasks finishing out of their spawn order) is still caught.
/// With FIFO checked, this body would pass both runs alike.
#[test]
fn the_determinism_check_runs_a_seeded_schedule() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static OUT_OF_ORDER_RUNS: AtomicU64 = AtomicU64::new(0);
    let summary = explore(
        settings()
            .runs(1)
            .strategy(Strategy::Random)
            .check_determinism(true),
        || async {
            let order = Rc::new(std::cell::RefCell::new(Vec::new()));
            let tasks: Vec<_> = (0..8)
                .map(|id| {
                    let order = order.clone();
                    asyncsim::spawn(async move {
                        asyncsim::yield_now().await;
                        order.borrow_mut().push(id);
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            let fifo = order.borrow().windows(2).all(|pair| pair[0] < pair[1]);
            // Leaked state: every other out-of-order run yields once more.
            if !fifo && OUT_OF_ORDER_RUNS.fetch_add(1, Ordering::SeqCst) % 2 == 1 {
                asyncsim::yield_now().await;
            }
        },
    );
    let explanation = summary.nondeterminism.expect("the leak went unseen");
    assert!(
        explanation.contains("is not deterministic"),
        "{explanation}"
    );
    assert!(explanation.contains("(seed 1)"), "{explanation}");
}
