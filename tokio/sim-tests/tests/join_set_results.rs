//! `tokio::task::JoinSet` on the face: results come out in completion order
//! (as real tokio's do when completion times differ), every member exactly
//! once whatever the schedule, and aborts, panics and drops behave as in
//! tokio.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use asyncsim::Explore;

macro_rules! staggered_members {
    ($tokio:ident) => {
        async {
            let mut set = $tokio::task::JoinSet::new();
            for ms in [40u64, 10, 30, 20] {
                set.spawn(async move {
                    $tokio::time::sleep(Duration::from_millis(ms)).await;
                    ms
                });
            }
            let mut order = Vec::new();
            while let Some(result) = set.join_next().await {
                order.push(result.unwrap());
            }
            order
        }
    };
}

#[test]
fn join_next_returns_members_in_completion_order_as_tokio_does() {
    let expected = real_tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(staggered_members!(real_tokio));
    assert_eq!(expected, [10, 20, 30, 40]);
    asyncsim::check(Explore::new().runs(300).persist(false), || async {
        assert_eq!(staggered_members!(tokio).await, expected);
    });
}

#[test]
fn members_finishing_together_come_out_once_each_in_every_order() {
    // Three members with no await: which finishes first is the schedule's
    // choice. Every member comes out exactly once, and the order of
    // join_next is the order they finished.
    let census = asyncsim::outcomes(Explore::new().runs(400), || async {
        let finished = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut set = tokio::task::JoinSet::new();
        for member in 0..3u32 {
            let finished = finished.clone();
            set.spawn(async move {
                finished.lock().unwrap().push(member);
                member
            });
        }
        let mut joined = Vec::new();
        while let Some(result) = set.join_next().await {
            joined.push(result.unwrap());
        }
        assert_eq!(
            joined,
            *finished.lock().unwrap(),
            "join order is completion order"
        );
        assert!(set.is_empty());
        joined
    });
    assert!(census.failures.is_empty(), "{:?}", census.failures);
    let orders: BTreeSet<Vec<u32>> = census.distinct().into_iter().cloned().collect();
    assert_eq!(
        orders.len(),
        6,
        "every order of three members is a schedule: {orders:?}"
    );
    for order in &orders {
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, [0, 1, 2]);
    }
}

#[test]
fn aborted_members_resolve_as_cancelled_and_panics_as_panics() {
    asyncsim::check(Explore::new().runs(200).persist(false), || async {
        let start = tokio::time::Instant::now();
        let mut set = tokio::task::JoinSet::new();
        let sleeper = set.spawn(async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            "slept"
        });
        set.spawn(async { panic!("member failed") });
        set.spawn(async { "quick" });
        sleeper.abort();
        let mut cancelled = 0;
        let mut panicked = 0;
        let mut outputs = Vec::new();
        while let Some(result) = set.join_next_with_id().await {
            match result {
                Ok((_, output)) => outputs.push(output),
                Err(error) if error.is_cancelled() => {
                    assert_eq!(error.id(), sleeper.id());
                    cancelled += 1;
                }
                Err(error) => {
                    assert!(error.is_panic());
                    let message = error.into_panic().downcast::<String>().unwrap();
                    assert!(message.contains("member failed"), "{message}");
                    panicked += 1;
                }
            }
        }
        assert_eq!((cancelled, panicked, outputs), (1, 1, vec!["quick"]));
        assert!(sleeper.is_finished());
        assert_eq!(start.elapsed(), Duration::ZERO);
    });
}

#[test]
fn dropping_the_set_aborts_its_members_and_detach_keeps_them() {
    asyncsim::check(Explore::new().runs(200).persist(false), || async {
        let ran = Arc::new(AtomicUsize::new(0));
        let mut dropped = tokio::task::JoinSet::new();
        let mut detached = tokio::task::JoinSet::new();
        for set in [&mut dropped, &mut detached] {
            let ran = ran.clone();
            set.spawn(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                ran.fetch_add(1, Ordering::SeqCst);
            });
        }
        let watched = dropped.spawn(std::future::pending::<()>());
        drop(dropped);
        detached.detach_all();
        assert!(detached.is_empty());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            ran.load(Ordering::SeqCst),
            1,
            "only the detached member ran to the end"
        );
        assert!(watched.is_finished());
    });
}

#[test]
fn join_all_shutdown_and_try_join_next() {
    asyncsim::check(Explore::new().runs(200).persist(false), || async {
        let set: tokio::task::JoinSet<u64> = (1..=3u64)
            .map(|ms| async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                ms
            })
            .collect();
        assert_eq!(set.join_all().await, [1, 2, 3]);

        let mut set = tokio::task::JoinSet::new();
        set.spawn(std::future::pending::<()>());
        set.spawn(std::future::pending::<()>());
        assert!(set.try_join_next().is_none());
        set.shutdown().await;
        assert!(set.is_empty());

        let mut set = tokio::task::JoinSet::new();
        set.spawn_blocking(|| 7);
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(set.try_join_next().map(Result::unwrap), Some(7));
        assert_eq!(set.len(), 0);
    });
}
