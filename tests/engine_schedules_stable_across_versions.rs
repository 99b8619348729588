//! A seed or a replay token saved today must mean the same schedule after
//! the engine changes: regression files, CI logs and bug reports quote them.
//! This pins, for a spread of programs (spawns, yields, timers with equal
//! deadlines, sync primitives, pool jobs, blocking sleeps, random data,
//! panics, aborts) under every strategy and many seeds, a digest of what each
//! run did — its rendered trace, its tape token, steps, virtual time and
//! outcome — and, on its own, its trace hash. An engine change that alters any schedule,
//! event or draw changes a digest and fails here; if the change is meant
//! (a new event kind, a different draw), say so in the changelog and accept
//! the new snapshot.

mod engine_support;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use asyncsim::{sync, task, time, trace, Config, Run, Sim, Strategy};
use proptest::strategy::{Strategy as _, ValueTree};
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};

const SEEDS: u64 = 24;

fn strategies() -> Vec<Strategy> {
    vec![
        Strategy::Fifo,
        Strategy::Random,
        Strategy::Pct { depth: 1 },
        Strategy::Pct { depth: 3 },
        Strategy::Mix,
    ]
}

/// FNV-1a over bytes, folded into a running digest.
fn fold(digest: &mut u64, bytes: &[u8]) {
    for byte in bytes {
        *digest ^= u64::from(*byte);
        *digest = digest.wrapping_mul(0x0100_0000_01b3);
    }
}

/// Folds what the run did into `digest` and its trace hash into `hashes`
/// (kept apart: the hash function may change without any schedule changing).
fn digest_run<T: std::fmt::Debug>(digest: &mut u64, hashes: &mut u64, run: &Run<T>) {
    fold(hashes, &run.trace.hash().to_le_bytes());
    fold(digest, run.trace.to_string().as_bytes());
    fold(digest, run.tape.to_string().as_bytes());
    fold(digest, &run.steps().to_le_bytes());
    fold(digest, &run.elapsed_ns().to_le_bytes());
    let outcome = match &run.result {
        Ok(value) => format!("ok {value:?}"),
        Err(failure) => format!("{:?}: {}", failure.kind, failure.message),
    };
    fold(digest, outcome.as_bytes());
}

/// Runs `body` under every strategy and seed; one line per strategy.
fn digests<T: std::fmt::Debug, F: std::future::Future<Output = T>>(body: impl Fn() -> F) -> String {
    let mut lines = String::new();
    for strategy in strategies() {
        let mut digest = 0xcbf2_9ce4_8422_2325u64;
        let mut hashes = digest;
        let mut sim = Sim::new(Config::new().strategy(strategy.clone()));
        for seed in 0..SEEDS {
            sim.config_mut().seed = seed;
            let run = sim.run(body());
            digest_run(&mut digest, &mut hashes, &run);
            // The tape replays to the same run.
            let mut replay = Sim::new(Config::new().strategy(Strategy::Replay(run.tape.clone())));
            let again = replay.run(body());
            assert_eq!(
                again.trace.hash(),
                run.trace.hash(),
                "{strategy} seed {seed}"
            );
        }
        lines.push_str(&format!(
            "{strategy} runs {digest:016x} hashes {hashes:016x}\n"
        ));
    }
    lines
}

fn snapshot(name: &str, text: String) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn generated_programs_keep_their_schedules() {
    let mut runner = TestRunner::new_with_rng(
        ProptestConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let mut text = String::new();
    for program in 0..12 {
        let ops = engine_support::ops()
            .new_tree(&mut runner)
            .expect("generate a program")
            .current();
        text.push_str(&format!("program {program}\n"));
        text.push_str(&digests(|| {
            engine_support::exec(ops.clone(), "main".to_string())
        }));
    }
    snapshot("stable_generated_programs", text);
}

#[test]
fn yields_timers_and_abort_keep_their_schedules() {
    let text = digests(|| async {
        let mut handles = Vec::new();
        for index in 0..5u64 {
            handles.push(task::spawn(async move {
                for round in 0..3 {
                    asyncsim::yield_now().await;
                    // Equal deadlines on purpose: their order is drawn.
                    time::sleep(Duration::from_millis(10 * (round % 2))).await;
                    trace::mark(format!("t{index} r{round}"));
                }
                index
            }));
        }
        let victim = task::spawn(time::sleep(Duration::from_secs(5)));
        asyncsim::yield_now().await;
        victim.abort();
        let cancelled = victim.await.is_err();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        let timed_out = time::timeout(
            Duration::from_millis(3),
            time::sleep(Duration::from_secs(1)),
        )
        .await
        .is_err();
        (sum, cancelled, timed_out)
    });
    snapshot("stable_yields_timers_abort", text);
}

#[test]
fn sync_primitives_keep_their_schedules() {
    let text = digests(|| async {
        let lock = Rc::new(sync::Mutex::new(0u32));
        let (sender, mut receiver) = sync::channel::<u32>(2);
        let event = Rc::new(sync::Event::new());
        let mut handles = Vec::new();
        for index in 0..4u32 {
            let lock = lock.clone();
            let sender = sender.clone();
            let event = event.clone();
            handles.push(task::spawn(async move {
                event.wait().await;
                for _ in 0..2 {
                    let mut guard = lock.lock().await;
                    let seen = *guard;
                    asyncsim::yield_now().await;
                    *guard = seen + 1;
                }
                sender.send(index).await.unwrap();
            }));
        }
        drop(sender);
        asyncsim::yield_now().await;
        event.set();
        let mut received = Vec::new();
        while let Some(value) = receiver.recv().await {
            received.push(value);
        }
        for handle in handles {
            handle.await.unwrap();
        }
        let total = *lock.lock().await;
        (received, total)
    });
    snapshot("stable_sync_primitives", text);
}

#[test]
fn pool_jobs_blocking_sleeps_random_data_and_panics_keep_their_schedules() {
    let text = digests(|| async {
        let counter = Rc::new(Cell::new(0u64));
        let mut jobs = Vec::new();
        for index in 0..3u64 {
            jobs.push(asyncsim::spawn_blocking(move || {
                asyncsim::blocking::sleep(Duration::from_millis(5 * (index + 1)));
                trace::mark(format!("job {index}"));
                index
            }));
        }
        let panicker = task::Builder::new().name("panicker").spawn(async {
            asyncsim::yield_now().await;
            if asyncsim::random_range(0..2u8) == 1 {
                panic!("drawn panic");
            }
            7u64
        });
        let looper = {
            let counter = counter.clone();
            task::spawn(async move {
                for _ in 0..3 {
                    counter.set(counter.get() + asyncsim::random_range(0..10u64));
                    asyncsim::blocking::sleep(Duration::from_millis(1));
                    asyncsim::yield_now().await;
                }
            })
        };
        let mut sum = 0;
        for job in jobs {
            sum += job.await.unwrap();
        }
        looper.await.unwrap();
        let panicked = panicker.await.map_err(|error| error.is_panic());
        (sum, counter.get(), panicked, asyncsim::random::<u32>())
    });
    snapshot("stable_pool_blocking_random_panics", text);
}
