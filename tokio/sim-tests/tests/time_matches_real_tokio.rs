//! The face's `tokio::time` against real tokio's paused clock: where real
//! tokio is deterministic (distinct deadlines, intervals, timeouts), the face
//! gives the same answer in every schedule.

use std::time::Duration;

use asyncsim::Explore;

/// The same program text on either crate: `$tokio` is `tokio` (the face) or
/// `real_tokio`.
macro_rules! sleepers_wake_in_deadline_order {
    ($tokio:ident) => {
        async {
            let (sender, mut receiver) = $tokio::sync::mpsc::unbounded_channel();
            let start = $tokio::time::Instant::now();
            for ms in [50u64, 10, 40, 20, 30] {
                let sender = sender.clone();
                $tokio::spawn(async move {
                    $tokio::time::sleep(Duration::from_millis(ms)).await;
                    sender.send((ms, start.elapsed().as_millis())).unwrap();
                });
            }
            drop(sender);
            let mut woken = Vec::new();
            while let Some(entry) = receiver.recv().await {
                woken.push(entry);
            }
            woken
        }
    };
}

macro_rules! interval_ticks {
    ($tokio:ident, $behavior:expr) => {
        async {
            let start = $tokio::time::Instant::now();
            let mut interval = $tokio::time::interval(Duration::from_millis(100));
            interval.set_missed_tick_behavior($behavior);
            let mut ticks = Vec::new();
            for round in 0..6 {
                let due = interval.tick().await;
                ticks.push((
                    due.duration_since(start).as_millis(),
                    start.elapsed().as_millis(),
                ));
                if round == 1 {
                    // Busy past two ticks: they are missed.
                    $tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
            ticks
        }
    };
}

macro_rules! timeouts_and_resets {
    ($tokio:ident) => {
        async {
            let start = $tokio::time::Instant::now();
            let quick = $tokio::time::timeout(Duration::from_millis(30), async {
                $tokio::time::sleep(Duration::from_millis(10)).await;
                "done"
            })
            .await;
            let slow = $tokio::time::timeout(
                Duration::from_millis(30),
                $tokio::time::sleep(Duration::from_secs(10)),
            )
            .await;
            let after_timeouts = start.elapsed().as_millis();
            let sleep = $tokio::time::sleep(Duration::from_millis(100));
            $tokio::pin!(sleep);
            let early = sleep.deadline() - Duration::from_millis(60);
            sleep.as_mut().reset(early);
            sleep.as_mut().await;
            let at_at = $tokio::time::timeout_at(
                $tokio::time::Instant::now() + Duration::from_millis(5),
                std::future::pending::<()>(),
            )
            .await
            .is_err();
            (
                quick.ok(),
                slow.is_err(),
                after_timeouts,
                start.elapsed().as_millis(),
                at_at,
            )
        }
    };
}

fn real_tokio_paused<F: std::future::Future>(future: F) -> F::Output {
    real_tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn sleepers_wake_in_deadline_order_in_every_schedule_as_in_tokio() {
    let expected = real_tokio_paused(sleepers_wake_in_deadline_order!(real_tokio));
    assert_eq!(expected, [(10, 10), (20, 20), (30, 30), (40, 40), (50, 50)]);
    asyncsim::check(Explore::new().runs(300).persist(false), || async {
        assert_eq!(sleepers_wake_in_deadline_order!(tokio).await, expected);
    });
}

#[test]
fn interval_burst_delay_and_skip_tick_as_in_tokio_in_every_schedule() {
    use tokio::time::MissedTickBehavior as Face;
    for (face, real) in [
        (Face::Burst, real_tokio::time::MissedTickBehavior::Burst),
        (Face::Delay, real_tokio::time::MissedTickBehavior::Delay),
        (Face::Skip, real_tokio::time::MissedTickBehavior::Skip),
    ] {
        let expected = real_tokio_paused(interval_ticks!(real_tokio, real));
        let expected = &expected;
        asyncsim::check(Explore::new().runs(100).persist(false), || async move {
            assert_eq!(
                &interval_ticks!(tokio, face).await,
                expected,
                "{face:?} differs from real tokio"
            );
        });
    }
}

#[test]
fn interval_behaviours_differ_after_a_missed_tick() {
    // Guards the comparison above: the three behaviours are told apart.
    let mut seen = Vec::new();
    for behavior in [
        real_tokio::time::MissedTickBehavior::Burst,
        real_tokio::time::MissedTickBehavior::Delay,
        real_tokio::time::MissedTickBehavior::Skip,
    ] {
        seen.push(real_tokio_paused(interval_ticks!(real_tokio, behavior)));
    }
    assert_ne!(seen[0], seen[1]);
    assert_ne!(seen[1], seen[2]);
    assert_ne!(seen[0], seen[2]);
}

#[test]
fn timeouts_and_sleep_resets_match_tokio_in_every_schedule() {
    let expected = real_tokio_paused(timeouts_and_resets!(real_tokio));
    assert_eq!(expected, (Some("done"), true, 40, 85, true));
    asyncsim::check(Explore::new().runs(100).persist(false), || async {
        assert_eq!(timeouts_and_resets!(tokio).await, expected);
    });
}

#[test]
fn pause_is_a_no_op_and_advance_moves_virtual_time() {
    asyncsim::check(Explore::new().runs(50).persist(false), || async {
        let start = tokio::time::Instant::now();
        tokio::time::pause();
        let sleeper = tokio::spawn(tokio::time::sleep(Duration::from_secs(5)));
        tokio::time::advance(Duration::from_secs(7)).await;
        tokio::time::resume();
        assert!(
            sleeper.is_finished(),
            "the 5 s sleep fired during the 7 s advance"
        );
        assert_eq!(start.elapsed(), Duration::from_secs(7));
    });
}

#[test]
fn instant_converts_to_std_and_back() {
    asyncsim::check(Explore::new().runs(5).persist(false), || async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let now = tokio::time::Instant::now();
        assert_eq!(tokio::time::Instant::from_std(now.into_std()), now);
        assert_eq!(now.checked_sub(Duration::from_secs(2)), None);
        assert_eq!(
            now.checked_duration_since(now + Duration::from_millis(1)),
            None
        );
        assert_eq!(
            (now + Duration::from_millis(500)).duration_since(now),
            Duration::from_millis(500)
        );
    });
}
