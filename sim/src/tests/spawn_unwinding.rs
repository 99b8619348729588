//! A spawn's future goes into its task's block before the spawn asks the
//! run for the task's id (`raw::NewTask`). These tests unwind and drop at
//! the awkward moments around that: the id call unwinding (a spawn outside
//! a run), a spawn from inside a future's destructor (a task aborted, a
//! task left pending as the run ends), a destructor that panics. Each
//! future is dropped exactly once; under a sanitizer (AddressSanitizer, or
//! Miri) the blocks are freed exactly once too.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Duration;

use crate::{Config, Sim};

/// Counts its drops; `then` runs in its drop (a spawn, a panic).
struct Tally {
    drops: Rc<Cell<u32>>,
    then: Option<Box<dyn FnOnce()>>,
}

impl Tally {
    fn new(drops: &Rc<Cell<u32>>) -> Tally {
        Tally {
            drops: drops.clone(),
            then: None,
        }
    }

    fn then(drops: &Rc<Cell<u32>>, then: impl FnOnce() + 'static) -> Tally {
        Tally {
            drops: drops.clone(),
            then: Some(Box::new(then)),
        }
    }
}

impl Drop for Tally {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
        if let Some(then) = self.then.take() {
            then();
        }
    }
}

/// A future holding `tally` and a few kilobytes (a large future, as a
/// world server's), pending forever.
fn holding(tally: Tally) -> impl std::future::Future<Output = u8> {
    let ballast = [7u8; 4096];
    async move {
        let _tally = &tally;
        std::future::pending::<()>().await;
        ballast[4095]
    }
}

/// Outside a run the spawn's look at the run unwinds after the future went
/// into its block: the future is dropped once (and its block freed), by
/// every way of spawning.
#[test]
fn a_spawn_unwinding_before_its_task_has_an_id_drops_its_future_once() {
    let drops = Rc::new(Cell::new(0));
    let spawns: [&dyn Fn(Tally); 3] = [
        &|tally| drop(crate::spawn(holding(tally))),
        &|tally| drop(crate::task::Builder::new().name("x").spawn(holding(tally))),
        &|tally| drop(crate::cx::spawn_task(holding(tally), None)),
    ];
    for (n, spawn) in spawns.iter().enumerate() {
        let tally = Tally::new(&drops);
        let payload = catch_unwind(AssertUnwindSafe(|| spawn(tally))).unwrap_err();
        let message = payload
            .downcast_ref::<String>()
            .expect("a formatted panic message");
        assert!(
            message.contains("asyncsim::spawn was called outside a simulation"),
            "{message}"
        );
        assert_eq!(drops.get(), n as u32 + 1);
    }
}

/// A future whose destructor spawns: dropped by an abort and by the run's
/// end, its destructor's spawn makes a task that is run (the abort, in the
/// run) or dropped unpolled (the run's end); every future is dropped once.
#[test]
fn a_spawn_from_a_destructor_drops_every_future_once() {
    let drops = Rc::new(Cell::new(0));
    let polled = Rc::new(Cell::new(0));
    let run = {
        let (drops, polled) = (drops.clone(), polled.clone());
        Sim::new(Config::new()).run(async move {
            let spawn_from_drop = |drops: &Rc<Cell<u32>>, polled: &Rc<Cell<u32>>| {
                let (inner_drops, polled) = (drops.clone(), polled.clone());
                Tally::then(drops, move || {
                    let inner = Tally::new(&inner_drops);
                    drop(crate::spawn(async move {
                        let _inner = &inner;
                        polled.set(polled.get() + 1);
                        crate::time::sleep(Duration::from_secs(1)).await;
                    }));
                })
            };
            let aborted = crate::spawn(holding(spawn_from_drop(&drops, &polled)));
            // Left pending as the run ends.
            drop(crate::spawn(holding(spawn_from_drop(&drops, &polled))));
            crate::task::yield_now().await;
            aborted.abort();
            crate::task::yield_now().await;
            crate::task::yield_now().await;
        })
    };
    run.result.unwrap();
    // The aborted task's spawn ran (and was left sleeping as the run
    // ended); the pending one's, made as the run ended, never ran.
    assert_eq!(polled.get(), 1, "{}", run.trace);
    assert_eq!(drops.get(), 4, "{}", run.trace);
}

/// A future whose destructor panics, dropped by an abort: dropped once,
/// and the panic reported.
#[test]
fn a_destructor_that_panics_drops_its_future_once() {
    let drops = Rc::new(Cell::new(0));
    let run = {
        let drops = drops.clone();
        Sim::new(Config::new()).run(async move {
            let tally = Tally::then(&drops, || panic!("a destructor panics"));
            let task = crate::spawn(holding(tally));
            crate::task::yield_now().await;
            task.abort();
            let _ = task.await;
            7
        })
    };
    assert_eq!(drops.get(), 1, "{}", run.trace);
    // Reported, not lost (the abort drops the future in the aborting
    // task's poll).
    let failure = run.result.unwrap_err();
    assert!(failure.message.contains("a destructor panics"), "{failure}");
}
