//! Task semantics: spawn never runs inline, join handles (await, abort,
//! is_finished), names, random data, blocking the loop, slow polls and the
//! spawn_blocking pool.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use asyncsim::trace::mark;
use asyncsim::{blocking, task, time, yield_now, Config, EventKind, Sim, Strategy, TaskId};

fn fifo() -> Config {
    Config::new().strategy(Strategy::Fifo)
}

async fn counting_task(counter: Rc<Cell<u32>>) -> u32 {
    counter.set(counter.get() + 1);
    42
}

#[test]
fn spawn_never_runs_the_task_inline() {
    for seed in 0..64 {
        let counter = Rc::new(Cell::new(0));
        let probe = counter.clone();
        let run = Sim::new(Config::new().seed(seed)).run(async move {
            let handle = asyncsim::spawn(counting_task(probe.clone()));
            let right_after_spawn = probe.get();
            let output = handle.await.unwrap();
            (right_after_spawn, output, probe.get())
        });
        assert_eq!(run.result.unwrap(), (0, 42, 1), "seed {seed}");
        assert_eq!(counter.get(), 1);
    }
}

#[test]
fn awaiting_a_finished_task_returns_its_result_without_running_it_again() {
    let counter = Rc::new(Cell::new(0));
    let probe = counter.clone();
    let run = Sim::new(fifo()).run(async move {
        let handle = asyncsim::spawn(counting_task(probe.clone()));
        let before = handle.is_finished();
        while !handle.is_finished() {
            yield_now().await;
        }
        let runs_before_await = probe.get();
        let output = handle.await.unwrap();
        (before, runs_before_await, output, probe.get())
    });
    let steps = run.steps();
    let (before, runs_before_await, output, runs_after) = run.result.unwrap();
    assert!(!before);
    assert_eq!((runs_before_await, output, runs_after), (1, 42, 1));
    // main, task, main: awaiting the finished handle did not yield again.
    assert_eq!(steps, 3);
    assert_eq!(counter.get(), 1);
}

#[test]
fn abort_cancels_a_pending_task_and_drops_its_future() {
    struct Guard(Rc<Cell<bool>>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let dropped = Rc::new(Cell::new(false));
    let flag = dropped.clone();
    let run = Sim::new(fifo()).run(async move {
        let sleeper = task::Builder::new().name("sleeper").spawn(async move {
            let _guard = Guard(flag);
            time::sleep(Duration::from_secs(60)).await;
            mark("sleeper woke");
        });
        yield_now().await; // the sleeper starts and registers its timer
        assert!(!sleeper.is_finished());
        sleeper.abort();
        assert!(sleeper.is_finished());
        sleeper.abort(); // aborting twice is harmless
        let error = sleeper.await.unwrap_err();
        (error.is_cancelled(), error.is_panic(), error.to_string())
    });
    let (cancelled, panicked, shown) = run.result.clone().unwrap();
    assert!(cancelled && !panicked);
    assert_eq!(shown, "task `sleeper` was cancelled");
    assert!(dropped.get());
    assert_eq!(
        run.elapsed_ns(),
        0,
        "the aborted task's timer kept the run going"
    );
    assert_eq!(run.trace.marks().count(), 0);
    assert!(run
        .trace
        .events()
        .iter()
        .any(|event| event.kind == EventKind::Abort && event.task == Some(TaskId(1))));
    assert_eq!(run.trace.warnings().count(), 0);
}

#[test]
fn abort_before_the_first_poll_means_the_task_never_runs() {
    let counter = Rc::new(Cell::new(0));
    let probe = counter.clone();
    let run = Sim::new(Config::new().seed(4)).run(async move {
        let handle = asyncsim::spawn(counting_task(probe));
        handle.abort();
        handle.await.unwrap_err().is_cancelled()
    });
    assert!(run.result.unwrap());
    assert_eq!(counter.get(), 0);
}

#[test]
fn aborting_a_finished_task_keeps_its_result() {
    let run = Sim::new(fifo()).run(async {
        let handle = asyncsim::spawn(async { 5 });
        yield_now().await;
        assert!(handle.is_finished());
        handle.abort();
        handle.await
    });
    assert_eq!(run.result.unwrap().unwrap(), 5);
}

#[test]
fn a_task_can_abort_itself_and_stops_at_its_next_await() {
    let run = Sim::new(fifo()).run(async {
        let handle_slot: Rc<std::cell::RefCell<Option<asyncsim::JoinHandle<()>>>> = Rc::default();
        let inner = handle_slot.clone();
        let handle = task::Builder::new().name("quitter").spawn(async move {
            mark("before abort");
            if let Some(me) = inner.borrow().as_ref() {
                me.abort();
            }
            mark("same poll, after abort");
            yield_now().await;
            mark("never");
        });
        *handle_slot.borrow_mut() = Some(handle);
        yield_now().await;
        yield_now().await;
        let handle = handle_slot.borrow_mut().take().unwrap();
        handle.await.unwrap_err().is_cancelled()
    });
    assert!(run.result.clone().unwrap());
    assert_eq!(
        run.trace.marks().collect::<Vec<_>>(),
        ["before abort", "same poll, after abort"]
    );
}

#[test]
fn named_tasks_appear_in_the_trace_and_unnamed_get_their_id() {
    let run = Sim::new(fifo()).run(async {
        let named = task::Builder::new().name("speaker").spawn(async {
            assert_eq!(task::current_name().as_deref(), Some("speaker"));
            mark("hello");
        });
        let unnamed = asyncsim::spawn(async { task::current_name() });
        named.await.unwrap();
        unnamed.await.unwrap()
    });
    assert_eq!(run.result.clone().unwrap().as_deref(), Some("task-2"));
    assert_eq!(run.trace.task_name(TaskId(1)), "speaker");
    assert_eq!(run.trace.tasks()[1].parent, Some(TaskId::MAIN));
    let text = run.trace.to_string();
    assert!(text.contains("speaker"), "{text}");
    assert!(text.contains("spawn (by main)"), "{text}");
    assert!(
        text.lines()
            .any(|line| line.contains("speaker") && line.contains("mark \"hello\"")),
        "{text}"
    );
}

#[test]
fn random_data_is_the_start_of_the_range_under_fifo() {
    let run = Sim::new(fifo()).run(async {
        (
            asyncsim::random::<u64>(),
            asyncsim::random::<i32>(),
            asyncsim::random::<bool>(),
            asyncsim::random_range(5..9u32),
            asyncsim::random_range(-3..=3i64),
            asyncsim::random_range(200..=255u8),
        )
    });
    assert_eq!(run.result.unwrap(), (0, 0, false, 5, -3, 200));
}

#[test]
fn random_data_stays_in_range_and_replays() {
    let body = || async {
        let mut values = Vec::new();
        for _ in 0..8 {
            values.push(asyncsim::random_range(-2..=2i8) as i64);
            values.push(asyncsim::random_range(10..13u16) as i64);
        }
        values
    };
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..100 {
        let run = Sim::new(Config::new().seed(seed)).run(body());
        let values = run.result.clone().unwrap();
        for pair in values.chunks(2) {
            assert!((-2..=2).contains(&pair[0]) && (10..13).contains(&pair[1]));
            seen.insert(pair[0]);
            seen.insert(pair[1]);
        }
        let replay =
            Sim::new(Config::new().strategy(Strategy::Replay(run.tape.clone()))).run(body());
        assert_eq!(replay.result.unwrap(), values);
    }
    assert_eq!(
        seen.len(),
        8,
        "every value of both ranges is reachable: {seen:?}"
    );
}

#[test]
fn a_blocking_sleep_holds_the_loop_and_makes_timers_late() {
    let run = Sim::new(fifo()).run(async {
        let timer = task::Builder::new().name("timer").spawn(async {
            time::sleep(Duration::from_secs(1)).await;
            mark("timer done");
        });
        yield_now().await; // the timer task registers its 1 s timer
        blocking::sleep(Duration::from_secs(3));
        mark("main unblocked");
        timer.await.unwrap();
    });
    assert!(run.result.is_ok());
    let fire = run
        .trace
        .events()
        .iter()
        .find_map(|event| match event.kind {
            EventKind::TimerFire { deadline_ns } => Some((event.time_ns, deadline_ns)),
            _ => None,
        })
        .unwrap();
    assert_eq!(fire, (3_000_000_000, 1_000_000_000), "fired late, at 3 s");
    assert_eq!(
        run.trace.timed_marks().collect::<Vec<_>>(),
        [
            (3_000_000_000, "main unblocked"),
            (3_000_000_000, "timer done")
        ]
    );
    assert_eq!(run.elapsed(), Duration::from_secs(3));
    let slow = run.slow_polls();
    assert_eq!(slow.len(), 1);
    assert_eq!(
        (slow[0].name.as_str(), slow[0].held_ns),
        ("main", 3_000_000_000)
    );
    assert_eq!(slow[0].start_ns, 0);
    assert!(run
        .trace
        .to_string()
        .contains("slow poll: held the loop 3s"));
}

#[test]
fn slow_polls_are_those_at_or_over_the_threshold() {
    let run = Sim::new(fifo().slow_poll(Duration::from_millis(50))).run(async {
        let quick = task::Builder::new().name("quick").spawn(async {
            blocking::sleep(Duration::from_millis(49));
        });
        let slow = task::Builder::new().name("slow").spawn(async {
            blocking::sleep(Duration::from_millis(30));
            blocking::sleep(Duration::from_millis(30));
            yield_now().await;
            blocking::sleep(Duration::from_millis(50));
        });
        quick.await.unwrap();
        slow.await.unwrap();
    });
    let slow: Vec<(&str, u64, u64)> = run
        .slow_polls()
        .iter()
        .map(|poll| (poll.name.as_str(), poll.start_ns, poll.held_ns))
        .collect();
    assert_eq!(
        slow,
        [
            ("slow", 49_000_000, 60_000_000),
            ("slow", 109_000_000, 50_000_000)
        ]
    );
    assert_eq!(run.elapsed(), Duration::from_millis(159));
}

fn two_jobs(pool_size: usize) -> asyncsim::Run<Vec<u32>> {
    Sim::new(fifo().pool_size(pool_size)).run(async {
        let ticker = asyncsim::spawn(async {
            let mut ticks = 0;
            while ticks < 6 {
                time::sleep(Duration::from_secs(1)).await;
                ticks += 1;
            }
            ticks
        });
        let a = blocking::spawn_blocking(|| {
            blocking::sleep(Duration::from_secs(3));
            1
        });
        let b = task::Builder::new().name("job-b").spawn_blocking(|| {
            blocking::sleep(Duration::from_secs(3));
            2
        });
        let a = a.await.unwrap();
        let b = b.await.unwrap();
        vec![a, b, ticker.await.unwrap()]
    })
}

#[test]
fn a_pool_of_one_runs_jobs_one_after_another() {
    let run = two_jobs(1);
    assert_eq!(run.result.clone().unwrap(), [1, 2, 6]);
    assert_eq!(run.elapsed(), Duration::from_secs(6));
    let starts: Vec<(u64, u32)> = run
        .trace
        .events()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::PoolStart { worker, .. } => Some((event.time_ns, worker)),
            _ => None,
        })
        .collect();
    assert_eq!(starts, [(0, 0), (3_000_000_000, 0)]);
    assert!(run.slow_polls().is_empty(), "the loop was never blocked");
}

#[test]
fn a_pool_of_two_runs_jobs_in_parallel() {
    let run = two_jobs(2);
    assert_eq!(run.result.clone().unwrap(), [1, 2, 6]);
    // Both jobs end at 3 s; the ticker's six seconds set the run's length.
    let finishes: Vec<u64> = run
        .trace
        .events()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::PoolFinish { .. } => Some(event.time_ns),
            _ => None,
        })
        .collect();
    assert_eq!(finishes, [3_000_000_000, 3_000_000_000]);
    assert_eq!(run.elapsed(), Duration::from_secs(6));
    assert!(run.trace.to_string().contains("job-b"));
}

#[test]
fn a_panicking_pool_job_is_a_join_error() {
    let run = Sim::new(fifo()).run(async {
        let job = blocking::spawn_blocking(|| -> u32 { panic!("job failed") });
        let error = job.await.unwrap_err();
        (
            error.is_panic(),
            error.panic_message().unwrap_or("").to_string(),
        )
    });
    let (is_panic, message) = run.result.unwrap();
    assert!(is_panic);
    assert!(message.contains("job failed"), "{message}");
}

#[test]
fn a_panicking_detached_pool_job_fails_the_run() {
    let run = Sim::new(fifo()).run(async {
        drop(
            task::Builder::new()
                .name("lost-job")
                .spawn_blocking(|| panic!("nobody sees this")),
        );
        time::sleep(Duration::from_secs(1)).await;
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, asyncsim::FailureKind::Panic);
    assert!(failure.message.contains("lost-job"), "{failure}");
    assert!(failure.message.contains("nobody sees this"), "{failure}");
}

#[test]
fn a_queued_pool_job_can_be_aborted_but_a_running_one_cannot() {
    let run = Sim::new(fifo().pool_size(1)).run(async {
        let running = blocking::spawn_blocking(|| blocking::sleep(Duration::from_secs(2)));
        let queued = blocking::spawn_blocking(|| mark("queued job ran"));
        queued.abort();
        running.abort();
        let queued = queued.await;
        let running = running.await;
        (queued.is_err(), running.is_ok())
    });
    assert_eq!(run.result.clone().unwrap(), (true, true));
    assert_eq!(run.trace.marks().count(), 0);
    assert_eq!(run.elapsed(), Duration::from_secs(2));
}
