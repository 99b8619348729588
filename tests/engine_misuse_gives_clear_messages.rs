//! Using the engine wrongly gives a panic that says what to do, never a hang
//! or a bare `unwrap` message.

use asyncsim::{blocking, spawn, task, Config, JoinHandle, Sim};
use std::cell::RefCell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Duration;

/// The panic message of `action`, which must panic.
fn panic_message(action: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(action)).expect_err("the misuse panics");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
        .expect("a text panic message")
}

#[test]
fn a_join_handle_awaited_outside_its_run_panics_with_advice() {
    let stash: Rc<RefCell<Option<JoinHandle<u32>>>> = Rc::default();
    let keep = stash.clone();
    let run = Sim::new(Config::new()).run(async move {
        // A task that never finishes within the run.
        let handle = spawn(async {
            asyncsim::time::sleep(Duration::from_secs(60)).await;
            7
        });
        *keep.borrow_mut() = Some(handle);
    });
    assert!(run.result.is_ok());
    let handle = stash
        .borrow_mut()
        .take()
        .expect("the handle escaped the run");
    let message = panic_message(|| {
        let waker = futures::task::noop_waker();
        let mut context = std::task::Context::from_waker(&waker);
        let mut handle = handle;
        let _ = std::pin::Pin::new(&mut handle).poll(&mut context);
    });
    assert!(
        message.contains("awaited outside the simulation run that spawned it"),
        "{message}"
    );
    assert!(message.contains("await it inside that run"), "{message}");
}

#[test]
fn a_join_handle_awaited_in_another_run_panics_with_advice() {
    let stash: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
    let keep = stash.clone();
    Sim::new(Config::new())
        .run(async move {
            *keep.borrow_mut() = Some(spawn(asyncsim::time::sleep(Duration::from_secs(5))));
        })
        .result
        .unwrap();
    let handle = stash.borrow_mut().take().unwrap();
    let run = Sim::new(Config::new()).run(handle);
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, asyncsim::FailureKind::Panic);
    assert!(
        failure
            .message
            .contains("awaited outside the simulation run that spawned it"),
        "{failure}"
    );
}

#[test]
fn spawning_outside_a_run_panics_with_advice() {
    let message = panic_message(|| drop(spawn(async {})));
    assert!(
        message.contains("asyncsim::spawn was called outside a simulation"),
        "{message}"
    );
    assert!(
        message.contains("inside the future passed to Sim::run"),
        "{message}"
    );
    let message = panic_message(|| drop(task::Builder::new().name("x").spawn(async {})));
    assert!(message.contains("outside a simulation"), "{message}");
}

#[test]
fn blocking_calls_outside_a_run_panic_with_advice() {
    let message = panic_message(|| blocking::sleep(Duration::from_secs(1)));
    assert!(
        message.contains("asyncsim::blocking::sleep was called outside a simulation"),
        "{message}"
    );
    let message = panic_message(|| drop(asyncsim::spawn_blocking(|| 1)));
    assert!(
        message.contains("asyncsim::spawn_blocking was called outside a simulation"),
        "{message}"
    );
    let message = panic_message(|| {
        let _ = asyncsim::time::Instant::now();
    });
    assert!(
        message.contains("Instant::now was called outside a simulation"),
        "{message}"
    );
}

#[test]
fn a_pool_of_zero_workers_is_refused_where_it_is_configured() {
    let message = panic_message(|| drop(Config::new().pool_size(0)));
    assert!(message.contains("needs at least one worker"), "{message}");
}

#[test]
fn a_simulation_inside_a_simulation_is_refused() {
    let run =
        Sim::new(Config::new()).run(async { Sim::new(Config::new()).run(async {}).result.is_ok() });
    let failure = run.result.unwrap_err();
    assert!(
        failure.message.contains("simulations do not nest"),
        "{failure}"
    );
}
