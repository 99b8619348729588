//! The article's programs, run once under FIFO (asyncio's own order), as
//! sample traces for the renderer, trace-file and diff tests.

#![allow(dead_code)]

use std::time::Duration;

use asyncsim::{blocking, task, time, trace, Config, Run, Sim, Strategy};

fn fifo() -> Sim {
    Sim::new(Config::new().strategy(Strategy::Fifo))
}

/// The article's culprit: ten `speak()`s, each `await asyncio.sleep(3)` then
/// `time.sleep(3)`, awaited together: the blocking sleeps run one after another.
pub fn blocking_speakers() -> Run<()> {
    fifo().run(async {
        let speakers: Vec<_> = (0..10)
            .map(|index| {
                task::Builder::new()
                    .name(format!("speak-{index}"))
                    .spawn(async {
                        time::sleep(Duration::from_secs(3)).await;
                        blocking::sleep(Duration::from_secs(3)); // the culprit
                    })
            })
            .collect();
        for speaker in speakers {
            speaker.await.unwrap();
        }
    })
}

fn blocking_func() {
    trace::mark("before block");
    blocking::sleep(Duration::from_secs(3));
    trace::mark("after block");
}

/// `run()` calling `blocking_func()` on the loop, twice, awaited together.
pub fn blocking_func_on_the_loop() -> Run<()> {
    fifo().run(async {
        let runs: Vec<_> = (0..2)
            .map(|index| {
                task::Builder::new()
                    .name(format!("run-{index}"))
                    .spawn(async {
                        trace::mark("before run");
                        blocking_func();
                        trace::mark("after run");
                    })
            })
            .collect();
        for run in runs {
            run.await.unwrap();
        }
    })
}

/// The fix: `await loop.run_in_executor(None, blocking_func)`.
pub fn blocking_func_in_executor() -> Run<()> {
    fifo().run(async {
        let runs: Vec<_> = (0..2)
            .map(|index| {
                task::Builder::new()
                    .name(format!("run-{index}"))
                    .spawn(async {
                        trace::mark("before run");
                        asyncsim::spawn_blocking(blocking_func).await.unwrap();
                        trace::mark("after run");
                    })
            })
            .collect();
        for run in runs {
            run.await.unwrap();
        }
    })
}

/// A small program with every kind of event worth drawing, for `seed`
/// under the random strategy: timers, yields, a pool job, marks, a wake
/// between tasks, and a panic that is retrieved.
pub fn assorted(seed: u64) -> Run<()> {
    Sim::new(Config::new().seed(seed).strategy(Strategy::Random)).run(async {
        let sleeper = task::Builder::new().name("sleeper").spawn(async {
            time::sleep(Duration::from_millis(5)).await;
            trace::mark("slept");
            blocking::sleep(Duration::from_millis(2));
        });
        let yielder = task::Builder::new().name("yielder").spawn(async {
            for round in 0..3 {
                trace::mark(format!("round {round}"));
                asyncsim::yield_now().await;
            }
        });
        let job = asyncsim::spawn_blocking(|| {
            blocking::sleep(Duration::from_millis(4));
            7
        });
        let doomed = task::Builder::new().name("doomed").spawn(async {
            asyncsim::yield_now().await;
            panic!("on purpose");
        });
        assert_eq!(job.await.unwrap(), 7);
        sleeper.await.unwrap();
        yielder.await.unwrap();
        assert!(doomed.await.unwrap_err().is_panic());
    })
}

/// "Concurrent runnings": six `meow(x)` tasks awaited together. No virtual
/// time passes, so the timeline's axis is the step.
pub fn concurrent_meows() -> Run<()> {
    fifo().run(async {
        let meows: Vec<_> = (0..6)
            .map(|x| {
                task::Builder::new()
                    .name(format!("meow-{x}"))
                    .spawn(async move {
                        trace::mark(format!("meow {x}"));
                        asyncsim::yield_now().await;
                        x
                    })
            })
            .collect();
        for meow in meows {
            meow.await.unwrap();
        }
    })
}
