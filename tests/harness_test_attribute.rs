//! `#[asyncsim::test]` turns an `async fn` into a test checked over many
//! schedules.

use std::cell::Cell;
use std::rc::Rc;

#[asyncsim::test(persist = false)]
async fn attribute_with_defaults_runs_the_body_under_check() {
    let a = asyncsim::spawn(async { 1 });
    let b = asyncsim::spawn(async { 2 });
    assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
}

#[asyncsim::test(runs = 50, strategy = "pct:2", persist = false)]
async fn attribute_with_runs_and_strategy() {
    let counter = Rc::new(Cell::new(0));
    let writer = counter.clone();
    asyncsim::spawn(async move { writer.set(1) }).await.unwrap();
    assert_eq!(counter.get(), 1);
}

#[asyncsim::test(strategy = "exhaustive:2", runs = 100, persist = false)]
async fn attribute_with_exhaustive_search() {
    let a = asyncsim::spawn(async { asyncsim::yield_now().await });
    let b = asyncsim::spawn(async { asyncsim::yield_now().await });
    a.await.unwrap();
    b.await.unwrap();
}

#[asyncsim::test(strategy = "preemptions:1", runs = 100, persist = false)]
async fn attribute_with_preemption_bounding() {
    let order = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let handles: Vec<_> = (0..2)
        .map(|task| {
            let order = order.clone();
            asyncsim::spawn(async move {
                order.borrow_mut().push(task);
                asyncsim::yield_now().await;
                order.borrow_mut().push(task);
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    let order = order.borrow();
    assert_eq!(order.len(), 4);
    assert!(order.iter().filter(|task| **task == 0).count() == 2);
}

mod failing {
    #[asyncsim::test(runs = 200, persist = false)]
    #[should_panic(expected = "ASYNCSIM_REPLAY=")]
    async fn attribute_test_fails_with_the_report() {
        let flag = std::rc::Rc::new(std::cell::Cell::new(false));
        let setter = flag.clone();
        let task = asyncsim::spawn(async move { setter.set(true) });
        asyncsim::yield_now().await;
        // Not guaranteed: the task may not have run yet.
        assert!(flag.get(), "the task had not run");
        task.await.unwrap();
    }
}

// `explore = …`: settings no argument names, the arguments on top. The
// sleep is days past the default hour of virtual time and passes only under
// the limit it sets.
#[asyncsim::test(
    explore = asyncsim::Explore::new()
        .config(asyncsim::Config::new().time_limit(std::time::Duration::from_secs(30 * 24 * 3600))),
    runs = 5,
    persist = false
)]
async fn attribute_with_explore_sets_what_no_argument_names() {
    asyncsim::time::sleep(std::time::Duration::from_secs(8 * 24 * 3600)).await;
}

// `time_limit = "2h"`: the virtual-time limit, written as
// `ASYNCSIM_TIME_LIMIT` takes it. The sleep is past the default hour and
// passes only under the limit the argument sets.
#[asyncsim::test(time_limit = "2h", runs = 5, persist = false)]
async fn attribute_with_time_limit_raises_the_hour() {
    asyncsim::time::sleep(std::time::Duration::from_secs(90 * 60)).await;
}

// A `Duration` expression works too; and a lower limit fails a run past it.
#[asyncsim::test(time_limit = std::time::Duration::from_secs(60), runs = 1, persist = false)]
#[should_panic(expected = "past Config::time_limit (60s)")]
async fn attribute_with_a_duration_time_limit_lowers_it() {
    asyncsim::time::sleep(std::time::Duration::from_secs(61)).await;
}
