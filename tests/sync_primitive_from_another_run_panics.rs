//! A sync primitive belongs to one run: using it from another run panics
//! with a message that says to create it inside the run.

use asyncsim::sync::{Event, Mutex, Semaphore};
use asyncsim::{Config, FailureKind, Sim};
use std::rc::Rc;

#[test]
fn a_mutex_created_in_one_run_and_used_in_another_panics_with_advice() {
    let mut sim = Sim::new(Config::new());
    let kept = Rc::new(std::cell::RefCell::new(None));
    let slot = kept.clone();
    let first = sim.run(async move {
        let mutex = Rc::new(Mutex::new(0));
        *mutex.lock().await += 1;
        *slot.borrow_mut() = Some(mutex);
    });
    assert!(first.result.is_ok());
    let mutex = kept.borrow_mut().take().unwrap();
    let second = sim.run(async move {
        let _guard = mutex.lock().await;
    });
    let failure = second.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Panic);
    assert!(
        failure
            .message
            .contains("Mutex was used in a simulation run other than the one it belongs to")
            && failure
                .message
                .contains("create the Mutex inside the future passed to Sim::run"),
        "{}",
        failure.message
    );
}

#[test]
fn a_primitive_created_outside_any_run_binds_to_the_first_run_that_uses_it() {
    let event = Rc::new(Event::new());
    let semaphore = Rc::new(Semaphore::new(1));
    let (e, s) = (event.clone(), semaphore.clone());
    let first = Sim::new(Config::new()).run(async move {
        e.set();
        e.wait().await;
        let _permit = s.acquire().await;
    });
    assert!(first.result.is_ok());
    let second = Sim::new(Config::new()).run(async move {
        event.wait().await;
    });
    let failure = second.result.unwrap_err();
    assert!(
        failure.message.contains("asyncsim::sync::Event"),
        "{}",
        failure.message
    );
    let third = Sim::new(Config::new()).run(async move {
        let _permit = semaphore.acquire().await;
    });
    assert!(third
        .result
        .unwrap_err()
        .message
        .contains("asyncsim::sync::Semaphore"));
}
