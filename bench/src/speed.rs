//! Speed: the same workloads on asyncsim and each peer that can express
//! them, in one process, timed with the wall clock.

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use asyncsim::{Config, Sim, Strategy};
use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;

use crate::bugs;
use crate::rt::{self, yield_once};
use crate::timing::{looped, race, Row, Slicer, SLICES};

/// A runner for a shuttle body: each slice is one `Runner` with the random
/// scheduler, sized (by a probe, done here) to take about `budget /
/// SLICES`.
fn shuttle_runner<'a, F>(budget: Duration, body: F) -> Slicer<'a>
where
    F: Fn() + Send + Sync + Clone + 'static,
{
    let run = move |iterations: u64, seed: u64| {
        let mut config = shuttle::Config::new();
        config.silence_warnings = true;
        config.max_steps = shuttle::MaxSteps::FailAfter(100_000_000);
        let scheduler =
            shuttle::scheduler::RandomScheduler::new_from_seed(seed, iterations as usize);
        let runner = shuttle::Runner::new(scheduler, config);
        let start = Instant::now();
        runner.run(body.clone());
        start.elapsed().as_secs_f64()
    };
    let probe = run(3, 1).max(1e-9) / 3.0;
    let slice = budget.as_secs_f64() / f64::from(SLICES);
    let iterations = ((slice / probe) as u64).clamp(3, 1_000_000);
    let mut seed = 2;
    Box::new(move |_| {
        seed += 1;
        (iterations, run(iterations, seed))
    })
}

/// A runner that runs `body` on one reused `Sim` (Random, full trace), a
/// new seed each run.
fn reused_sim<'a, F>(body: impl Fn() -> F + 'a) -> Slicer<'a>
where
    F: std::future::Future,
{
    let mut sim = Sim::new(Config::new().strategy(Strategy::Random));
    looped(move |seed| {
        sim.config_mut().seed = seed;
        assert!(sim.run(body()).result.is_ok(), "seed {seed}");
    })
}

/// asyncsim's steps for one run of `body` (the figure every runner's time
/// is divided by for ns/step).
fn sim_steps<F: std::future::Future>(body: F) -> f64 {
    Sim::new(Config::new().strategy(Strategy::Random))
        .run(body)
        .steps() as f64
}

struct Measure {
    budget: Duration,
    rows: Vec<Row>,
}

impl Measure {
    fn push(&mut self, workload: &str, runner: &str, (runs, seconds): (u64, f64), steps: f64) {
        let row = Row {
            workload: workload.to_string(),
            runner: runner.to_string(),
            runs,
            seconds,
            steps_per_run: steps,
        };
        crate::progress!(
            "  {:<28} {:<24} {:>12.1} us/run {:>9.1} ns/step",
            row.workload,
            row.runner,
            row.us_per_run(),
            row.ns_per_step()
        );
        self.rows.push(row);
    }
}

pub(crate) async fn sim_yields(tasks: usize, yields: usize) {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            asyncsim::spawn(async move {
                for _ in 0..yields {
                    asyncsim::yield_now().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
}

async fn tokio_yields(tasks: usize, yields: usize) {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            tokio::spawn(async move {
                for _ in 0..yields {
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
}

async fn shuttle_yields(tasks: usize, yields: usize) {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            shuttle::future::spawn(async move {
                for _ in 0..yields {
                    shuttle::future::yield_now().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
}

fn local_pool_yields(tasks: usize, yields: usize) {
    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            spawner
                .spawn_local_with_handle(async move {
                    for _ in 0..yields {
                        yield_once().await;
                    }
                })
                .unwrap()
        })
        .collect();
    pool.run_until(async {
        for handle in handles {
            handle.await;
        }
    });
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

/// A seeded duration in 1..=1000 ms for the peers' timer workload.
fn drawn_ms(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index.wrapping_add(1);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    1 + (z ^ (z >> 31)) % 1000
}

fn yields_workload(measure: &mut Measure, tasks: usize, yields: usize) {
    let name = format!("{tasks} tasks x {yields} yields");
    let steps = sim_steps(sim_yields(tasks, yields));
    let results = race(
        measure.budget,
        vec![
            (
                "asyncsim (reused Sim)",
                reused_sim(|| sim_yields(tasks, yields)),
            ),
            (
                "asyncsim (new Sim/run)",
                looped(|seed| {
                    let run = Sim::new(Config::new().seed(seed)).run(sim_yields(tasks, yields));
                    assert!(run.result.is_ok());
                }),
            ),
            (
                "tokio paused (new rt/run)",
                looped(|_| {
                    tokio_runtime().block_on(tokio_yields(tasks, yields));
                }),
            ),
            (
                "futures LocalPool",
                looped(|_| local_pool_yields(tasks, yields)),
            ),
            (
                "shuttle random",
                shuttle_runner(measure.budget, move || {
                    shuttle::future::block_on(shuttle_yields(tasks, yields));
                }),
            ),
        ],
    );
    for (runner, timing) in results {
        measure.push(&name, runner, timing, steps);
    }
}

pub(crate) async fn sim_timers() {
    let handles: Vec<_> = (0..100)
        .map(|_| {
            asyncsim::spawn(async {
                let ms: u64 = asyncsim::random_range(1..=1000u64);
                asyncsim::time::sleep(Duration::from_millis(ms)).await;
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
}

async fn tokio_timers(seed: u64) {
    let handles: Vec<_> = (0..100)
        .map(|index| {
            tokio::spawn(async move {
                let ms = drawn_ms(seed, index);
                tokio::time::sleep(Duration::from_millis(ms)).await;
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
}

fn timers_workload(measure: &mut Measure) {
    let name = "100 timers gathered";
    let steps = sim_steps(sim_timers());
    let results = race(
        measure.budget,
        vec![
            ("asyncsim (reused Sim)", reused_sim(sim_timers)),
            (
                "tokio paused (new rt/run)",
                looped(|seed| tokio_runtime().block_on(tokio_timers(seed))),
            ),
        ],
    );
    for (runner, timing) in results {
        measure.push(name, runner, timing, steps);
    }
}

const MUTEX_TASKS: usize = 8;
const MUTEX_ROUNDS: usize = 100;

fn mutex_workload(measure: &mut Measure) {
    let name = "8 tasks x 100 mutex acq";
    let total = (MUTEX_TASKS * MUTEX_ROUNDS) as u64;
    let steps = sim_steps(sim_mutex_body());
    let results = race(
        measure.budget,
        vec![
            ("asyncsim (sync::Mutex)", reused_sim(sim_mutex_body)),
            // A runtime-agnostic async mutex, for comparison.
            ("asyncsim (futures Mutex)", reused_sim(futures_mutex_body)),
            (
                "tokio paused (new rt/run)",
                looped(move |_| {
                    tokio_runtime().block_on(async {
                        let lock = Arc::new(tokio::sync::Mutex::new(0u64));
                        let handles: Vec<_> = (0..MUTEX_TASKS)
                            .map(|_| {
                                let lock = lock.clone();
                                tokio::spawn(async move {
                                    for _ in 0..MUTEX_ROUNDS {
                                        let mut guard = lock.lock().await;
                                        *guard += 1;
                                        tokio::task::yield_now().await;
                                    }
                                })
                            })
                            .collect();
                        for handle in handles {
                            handle.await.unwrap();
                        }
                        assert_eq!(*lock.lock().await, total);
                    });
                }),
            ),
            (
                "futures LocalPool",
                looped(move |_| {
                    let mut pool = LocalPool::new();
                    let spawner = pool.spawner();
                    let lock = Rc::new(futures::lock::Mutex::new(0u64));
                    let handles: Vec<_> = (0..MUTEX_TASKS)
                        .map(|_| {
                            let lock = lock.clone();
                            spawner
                                .spawn_local_with_handle(async move {
                                    for _ in 0..MUTEX_ROUNDS {
                                        let mut guard = lock.lock().await;
                                        *guard += 1;
                                        yield_once().await;
                                    }
                                })
                                .unwrap()
                        })
                        .collect();
                    pool.run_until(async {
                        for handle in handles {
                            handle.await;
                        }
                    });
                    assert_eq!(*pool.run_until(lock.lock()), total);
                }),
            ),
            (
                "shuttle (BatchSemaphore)",
                shuttle_runner(measure.budget, move || {
                    use shuttle::future::batch_semaphore::{BatchSemaphore, Fairness};
                    shuttle::future::block_on(async move {
                        let lock = Arc::new(BatchSemaphore::new(1, Fairness::StrictlyFair));
                        let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
                        let handles: Vec<_> = (0..MUTEX_TASKS)
                            .map(|_| {
                                let (lock, count) = (lock.clone(), count.clone());
                                shuttle::future::spawn(async move {
                                    for _ in 0..MUTEX_ROUNDS {
                                        lock.acquire(1).await.unwrap();
                                        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                        shuttle::future::yield_now().await;
                                        lock.release(1);
                                    }
                                })
                            })
                            .collect();
                        for handle in handles {
                            handle.await.unwrap();
                        }
                        assert_eq!(count.load(std::sync::atomic::Ordering::Relaxed), total);
                    });
                }),
            ),
        ],
    );
    for (runner, timing) in results {
        measure.push(name, runner, timing, steps);
    }
}

/// asyncsim's harness `check` over `runs` schedules on `jobs` threads;
/// returns seconds.
pub(crate) fn sim_check(runs: u64, jobs: u64) -> f64 {
    // Random, like shuttle's `check_random` beside it (the harness's
    // default, `Strategy::Mix`, gives half its seeds to PCT).
    let settings = asyncsim::harness::Explore::without_environment()
        .strategy(Strategy::Random)
        .runs(runs)
        .jobs(jobs as usize)
        .persist(false)
        .progress(false)
        .trace_file(false);
    let start = Instant::now();
    asyncsim::harness::check(settings, bugs::check_body::<rt::Sim>);
    start.elapsed().as_secs_f64()
}

/// A plain `Sim::run` loop over `runs` seeds on `jobs` threads (the engine
/// without the harness); returns seconds.
fn sim_loop(runs: u64, jobs: u64) -> f64 {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for job in 0..jobs {
            scope.spawn(move || {
                let mut sim = Sim::new(
                    Config::new()
                        .strategy(Strategy::Random)
                        .trace_mode(asyncsim::TraceMode::HashOnly),
                );
                let mut seed = job;
                while seed < runs {
                    sim.config_mut().seed = seed;
                    let run = sim.run(bugs::check_body::<rt::Sim>());
                    assert!(run.result.is_ok(), "check body failed at seed {seed}");
                    seed += jobs;
                }
            });
        }
    });
    start.elapsed().as_secs_f64()
}

/// shuttle `check_random` over `runs` schedules on `jobs` threads.
fn shuttle_check(runs: u64, jobs: u64) -> f64 {
    let start = Instant::now();
    std::thread::scope(|scope| {
        for job in 0..jobs {
            scope.spawn(move || {
                let share = runs / jobs + u64::from(job < runs % jobs);
                let mut config = shuttle::Config::new();
                config.silence_warnings = true;
                let scheduler =
                    shuttle::scheduler::RandomScheduler::new_from_seed(job, share as usize);
                shuttle::Runner::new(scheduler, config).run(|| {
                    shuttle::future::block_on(bugs::check_body::<rt::Shuttle>());
                });
            });
        }
    });
    start.elapsed().as_secs_f64()
}

/// Rounds of the `check` rows: their slices are short (10,000 runs of a small
/// body take asyncsim ~7 ms), so they need more rounds than the other cells
/// for one of them to miss every burst of interference.
const CHECK_ROUNDS: u32 = 12;

fn check_workload(measure: &mut Measure, runs: u64) {
    let steps = Sim::new(Config::new().strategy(Strategy::Fifo))
        .run(bugs::check_body::<rt::Sim>())
        .steps() as f64;
    sim_check(200, 1);
    for jobs in [1, 2] {
        let name = format!("check {runs} schedules, {jobs} core");
        // The three runners take turns, slice by slice, and each keeps its
        // fastest slice: a burst of interference on the shared machine then
        // slows one slice of each rather than every slice of one runner.
        let mut best = [f64::INFINITY; 3];
        for _ in 0..CHECK_ROUNDS {
            best[0] = best[0].min(sim_check(runs, jobs));
            best[1] = best[1].min(sim_loop(runs, jobs));
            best[2] = best[2].min(shuttle_check(runs, jobs));
        }
        measure.push(&name, "asyncsim check (random)", (runs, best[0]), steps);
        measure.push(&name, "asyncsim Sim::run loop", (runs, best[1]), steps);
        measure.push(&name, "shuttle check_random", (runs, best[2]), steps);
    }
}

/// Task counts of the many-tasks rows (issue #14: PCT's cost per step must
/// not grow with the number of tasks; PCT within 2× Random).
pub const MANY_TASKS: [usize; 2] = [10_000, 100_000];

/// Runner names of the many-tasks rows, with their strategies.
fn many_tasks_strategies() -> [(&'static str, Strategy); 3] {
    [
        ("asyncsim random", Strategy::Random),
        ("asyncsim pct:2", Strategy::Pct { depth: 2 }),
        ("asyncsim pct:3", Strategy::Pct { depth: 3 }),
    ]
}

/// One run of `tasks` tasks that yield once each, under Random and under
/// PCT: the strategies take turns, `rounds` times, each keeping its fastest
/// run (a run here is tenths of a second to seconds, so no slices).
fn many_tasks_workload(measure: &mut Measure, tasks: usize, rounds: u32) {
    let name = format!("{tasks} tasks x 1 yield");
    let steps = Sim::new(Config::new().tasks_max(tasks + 1))
        .run(sim_yields(tasks, 1))
        .steps() as f64;
    let strategies = many_tasks_strategies();
    let mut best = [f64::INFINITY; 3];
    for round in 0..rounds {
        for ((_, strategy), best) in strategies.iter().zip(best.iter_mut()) {
            let config = Config::new()
                .seed(u64::from(round))
                .strategy(strategy.clone())
                .tasks_max(tasks + 1)
                .steps_max(u64::MAX);
            let mut sim = Sim::new(config);
            let start = Instant::now();
            let run = sim.run(sim_yields(tasks, 1));
            let seconds = start.elapsed().as_secs_f64();
            if let Err(failure) = &run.result {
                panic!("{strategy} at {tasks} tasks: {failure}");
            }
            *best = best.min(seconds);
        }
    }
    for ((runner, _), seconds) in strategies.iter().zip(best) {
        measure.push(&name, runner, (1, seconds), steps);
    }
}

/// Runs every speed workload.
/// `only` keeps the workloads whose key (`10x10`, `100x100`, `timers`,
/// `mutex`, `check`, `pct`) it names.
pub fn run(budget: Duration, check_runs: u64, only: &[String]) -> Vec<Row> {
    let mut measure = Measure {
        budget,
        rows: Vec::new(),
    };
    let wanted = |key: &str| only.is_empty() || only.iter().any(|o| o == key);
    if wanted("10x10") {
        yields_workload(&mut measure, 10, 10);
    }
    if wanted("100x100") {
        yields_workload(&mut measure, 100, 100);
    }
    if wanted("timers") {
        timers_workload(&mut measure);
    }
    if wanted("mutex") {
        mutex_workload(&mut measure);
    }
    if wanted("check") {
        check_workload(&mut measure, check_runs);
    }
    if wanted("pct") {
        // Three rounds in a full run; one in a quick one.
        let rounds = if budget >= Duration::from_millis(1000) {
            3
        } else {
            1
        };
        for tasks in MANY_TASKS {
            many_tasks_workload(&mut measure, tasks, rounds);
        }
    }
    measure.rows
}

pub(crate) async fn sim_mutex_body() {
    let lock = Rc::new(asyncsim::sync::Mutex::new(0u64));
    let handles: Vec<_> = (0..MUTEX_TASKS)
        .map(|_| {
            let lock = lock.clone();
            asyncsim::spawn(async move {
                for _ in 0..MUTEX_ROUNDS {
                    let mut guard = lock.lock().await;
                    *guard += 1;
                    asyncsim::yield_now().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    assert_eq!(*lock.lock().await, (MUTEX_TASKS * MUTEX_ROUNDS) as u64);
}

pub(crate) async fn futures_mutex_body() {
    let lock = Rc::new(futures::lock::Mutex::new(0u64));
    let handles: Vec<_> = (0..MUTEX_TASKS)
        .map(|_| {
            let lock = lock.clone();
            asyncsim::spawn(async move {
                for _ in 0..MUTEX_ROUNDS {
                    let mut guard = lock.lock().await;
                    *guard += 1;
                    asyncsim::yield_now().await;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    assert_eq!(*lock.lock().await, (MUTEX_TASKS * MUTEX_ROUNDS) as u64);
}

/// Yields per task of the exhaustive-search body (three tasks): with 3,
/// shuttle's DFS takes ~40 s to visit its 8.8 M schedules; with 2, ~1 s.
pub const EXHAUST_YIELDS: u32 = 2;

/// One runner's whole-space search of the same program, each under its own
/// model of when a task can be switched out.
pub struct ExhaustRow {
    /// Runner name.
    pub runner: String,
    /// Schedules visited: the whole space.
    pub schedules: u64,
    /// Fastest of the rounds, seconds.
    pub seconds: f64,
}

/// Every schedule of [`bugs::counting_body`]: asyncsim's exhaustive search
/// (no bound on deviations) on `jobs` threads; returns (schedules, seconds).
fn sim_exhaust(jobs: usize) -> (u64, f64) {
    let settings = asyncsim::harness::Explore::without_environment()
        .exhaustive(u32::MAX)
        .runs(u64::MAX)
        .jobs(jobs)
        .persist(false)
        .progress(false)
        .trace_file(false);
    let start = Instant::now();
    let summary =
        asyncsim::harness::explore(settings, || bugs::counting_body::<rt::Sim>(EXHAUST_YIELDS));
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(summary.exhausted, Some(true), "the body's space is finite");
    assert_eq!(summary.failures, 0);
    (summary.runs, seconds)
}

/// Every schedule of [`bugs::counting_body`]: shuttle's DFS; returns
/// (schedules, seconds).
fn shuttle_exhaust() -> (u64, f64) {
    let mut config = shuttle::Config::new();
    config.silence_warnings = true;
    let start = Instant::now();
    let schedules =
        shuttle::Runner::new(shuttle::scheduler::DfsScheduler::new(None, false), config).run(
            || {
                shuttle::future::block_on(bugs::counting_body::<rt::Shuttle>(EXHAUST_YIELDS));
            },
        );
    (schedules as u64, start.elapsed().as_secs_f64())
}

/// A whole-space search: (schedules, seconds).
type Search = fn() -> (u64, f64);

/// Rounds of the exhaustive-search rows (each keeps its fastest).
const EXHAUST_ROUNDS: u32 = 5;

/// The whole schedule space of one small program, searched by asyncsim (one
/// thread and two) and by shuttle's DFS, taking turns round by round.
pub fn exhaust_workload() -> Vec<ExhaustRow> {
    let runners: [(&str, Search); 3] = [
        ("asyncsim exhaustive, 1 core", || sim_exhaust(1)),
        ("asyncsim exhaustive, 2 cores", || sim_exhaust(2)),
        ("shuttle dfs", shuttle_exhaust),
    ];
    let mut rows: Vec<ExhaustRow> = runners
        .iter()
        .map(|(runner, _)| ExhaustRow {
            runner: runner.to_string(),
            schedules: 0,
            seconds: f64::INFINITY,
        })
        .collect();
    for _ in 0..EXHAUST_ROUNDS {
        for (row, (_, search)) in rows.iter_mut().zip(&runners) {
            let (schedules, seconds) = search();
            row.schedules = schedules;
            row.seconds = row.seconds.min(seconds);
        }
    }
    for row in &rows {
        crate::progress!(
            "  exhaustive {:<30} {:>9} schedules {:>9.4} s",
            row.runner,
            row.schedules,
            row.seconds
        );
    }
    rows
}
