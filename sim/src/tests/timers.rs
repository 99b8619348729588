//! A timer goes when its future is dropped, wherever the kernel drops it.

use std::future::{poll_fn, Future};
use std::task::Poll;
use std::time::Duration;

use crate::trace::EventKind;
use crate::{blocking, spawn_blocking, time, Config, Sim, Strategy};

/// A queued pool job owns a `Sleep` whose timer is set; the job is aborted.
/// Its closure (and the `Sleep`) must be dropped outside the kernel's borrow,
/// so the timer is cancelled: no wake at its deadline. (Dropped under the
/// borrow, the cancel was skipped and the timer fired at 10 s.)
#[test]
fn a_timer_owned_by_an_aborted_pool_job_is_cancelled() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo).pool_size(1)).run(async {
        let busy = spawn_blocking(|| blocking::sleep(Duration::from_secs(1)));
        let mut sleep = Box::pin(time::sleep(Duration::from_secs(10)));
        // One poll sets the timer.
        poll_fn(|context| {
            assert!(sleep.as_mut().poll(context).is_pending());
            Poll::Ready(())
        })
        .await;
        let queued = spawn_blocking(move || drop(sleep));
        queued.abort();
        assert!(queued.await.unwrap_err().is_cancelled());
        busy.await.unwrap();
        time::sleep(Duration::from_secs(20)).await;
    });
    assert!(run.is_ok(), "{:?}", run.result);
    let fired: Vec<u64> = run
        .trace
        .events()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::TimerFire { deadline_ns } => Some(deadline_ns),
            _ => None,
        })
        .collect();
    assert_eq!(fired, [21_000_000_000], "only main's own 20 s sleep fires");
}

/// A `Sleep` kept past its run (here in a thread-local) and dropped in a
/// later run cancels nothing there, even when that run set a timer at the
/// same deadline, in the same order, in the same slot of the clock. (Keys
/// used to be `(deadline, sequence)` alone: the same program's next run
/// had a timer of that key, and lost it.)
#[test]
fn a_sleep_kept_from_an_earlier_run_cancels_nothing_in_a_later_one() {
    use std::cell::RefCell;
    use std::pin::Pin;

    thread_local! {
        static KEPT: RefCell<Option<Pin<Box<time::Sleep>>>> = const { RefCell::new(None) };
    }
    let mut sim = Sim::new(Config::new().strategy(Strategy::Fifo));
    let first = sim.run(async {
        let mut sleep = Box::pin(time::sleep(Duration::from_secs(5)));
        poll_fn(|context| {
            assert!(sleep.as_mut().poll(context).is_pending());
            Poll::Ready(())
        })
        .await;
        KEPT.with(|kept| *kept.borrow_mut() = Some(sleep));
    });
    assert!(first.is_ok(), "{:?}", first.result);
    let second = sim.run(async {
        let mut sleep = Box::pin(time::sleep(Duration::from_secs(5)));
        poll_fn(|context| {
            assert!(sleep.as_mut().poll(context).is_pending());
            Poll::Ready(())
        })
        .await;
        // The first run's sleep goes now, in this run.
        drop(KEPT.with(|kept| kept.borrow_mut().take()));
        sleep.await;
    });
    assert!(second.is_ok(), "{:?}", second.result);
    assert_eq!(second.elapsed(), Duration::from_secs(5));
}

/// Timers due together fire in a drawn order, each draw an index into the
/// ones not yet fired, in key order; a nonzero draw is a deviation naming
/// the timer's task and the one key order would have fired. Checked against
/// that model from the fire order in the trace, over seeds and group sizes
/// (the kernel keeps the ones not yet fired as bits of a word up to 64, and
/// as a list beyond).
#[test]
fn timers_due_together_fire_in_a_drawn_order_and_each_deviation_names_its_timer() {
    use crate::tape::DrawLabel;
    use crate::trace::TaskId;
    for tasks in [2usize, 5, 64, 65, 70] {
        for seed in 0..12 {
            let config = Config::new()
                .strategy(Strategy::Random)
                .seed(seed)
                .record_deviations(true);
            let run = Sim::new(config).run(async move {
                let handles: Vec<_> = (0..tasks)
                    .map(|_| crate::spawn(time::sleep(Duration::from_millis(10))))
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            });
            assert!(run.is_ok(), "{:?}", run.result);
            let tasks_of = |set: bool| -> Vec<TaskId> {
                run.trace
                    .events()
                    .iter()
                    .filter(|event| match event.kind {
                        EventKind::TimerSet { .. } => set,
                        EventKind::TimerFire { .. } => !set,
                        _ => false,
                    })
                    .filter_map(|event| event.task)
                    .collect()
            };
            let fired = tasks_of(false);
            assert_eq!(fired.len(), tasks);
            // Key order: the order they were set in.
            let mut remaining = tasks_of(true);
            let mut expected = Vec::new();
            for task in &fired {
                let index = remaining.iter().position(|t| t == task).unwrap();
                if index != 0 {
                    expected.push((index as u64, remaining.len() as u64, *task, remaining[0]));
                }
                remaining.remove(index);
            }
            let noted: Vec<(u64, u64, TaskId, TaskId)> = run
                .deviations()
                .iter()
                .filter(|deviation| deviation.label == DrawLabel::Timer)
                .map(|d| (d.value, d.bound, d.chosen.unwrap(), d.canonical.unwrap()))
                .collect();
            assert_eq!(noted, expected, "{tasks} timers, seed {seed}");
            assert!(
                tasks < 5 || !expected.is_empty(),
                "{tasks} timers, seed {seed}: never drawn"
            );
        }
    }
}

/// The world's call at a time (`cx::call_at`) fires at its deadline, before
/// the timers due with it, by no task, and draws nothing: the tape of a run
/// with the call is the tape of the same run without it (two sleeps sharing
/// the deadline still draw their order once), over many seeds. A cancelled
/// call never fires.
#[test]
fn a_call_at_fires_first_at_its_deadline_and_draws_nothing() {
    fn call(arg: u64) {
        crate::cx::mark(&format!("call {arg}"));
    }
    let body = |with_call: bool| async move {
        if with_call {
            crate::cx::call_at(5_000_000, call, 1);
            let cancelled = crate::cx::call_at(5_000_000, call, 2);
            crate::cx::cancel_timer(cancelled);
        }
        let a = crate::spawn(time::sleep(Duration::from_millis(5)));
        let b = crate::spawn(time::sleep(Duration::from_millis(5)));
        a.await.unwrap();
        b.await.unwrap();
    };
    for seed in 0..40 {
        let config = Config::new().seed(seed).strategy(Strategy::Random);
        let with = Sim::new(config.clone()).run(body(true));
        let without = Sim::new(config).run(body(false));
        assert!(with.is_ok() && without.is_ok());
        assert_eq!(with.tape, without.tape, "seed {seed}");
        let events = with.trace.events();
        let at = events
            .iter()
            .position(|event| matches!(event.kind, EventKind::Mark { .. }))
            .expect("the call fired");
        assert_eq!((events[at].time_ns, events[at].task), (5_000_000, None));
        assert_eq!(with.trace.describe(&events[at]), "mark \"call 1\"");
        let first_fire = events
            .iter()
            .position(|event| matches!(event.kind, EventKind::TimerFire { .. }))
            .unwrap();
        assert!(at < first_fire, "the call fired after a timer due with it");
        let marks = events
            .iter()
            .filter(|event| matches!(event.kind, EventKind::Mark { .. }))
            .count();
        assert_eq!(marks, 1, "the cancelled call fired");
    }
}
