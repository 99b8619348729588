//! `tokio::runtime` on the face, `Send` handles, `spawn_blocking` on the
//! simulated pool, `LocalSet`, and tokio's own types re-exported.

use std::any::TypeId;
use std::rc::Rc;
use std::time::Duration;

use asyncsim::Explore;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn handles_are_send_and_sync_like_tokios() {
    assert_send_sync::<tokio::task::JoinHandle<u32>>();
    assert_send_sync::<tokio::task::JoinSet<u32>>();
    assert_send_sync::<tokio::task::AbortHandle>();
    assert_send_sync::<tokio::time::Sleep>();
    assert_send_sync::<tokio::time::Interval>();
    assert_send_sync::<tokio::time::Instant>();
    assert_send_sync::<tokio::task::JoinError>();
    assert_send_sync::<tokio::runtime::Handle>();
}

#[test]
fn sync_and_io_are_tokios_own_types() {
    assert_eq!(
        TypeId::of::<tokio::sync::Mutex<u8>>(),
        TypeId::of::<real_tokio::sync::Mutex<u8>>()
    );
    assert_eq!(
        TypeId::of::<tokio::sync::mpsc::Sender<u8>>(),
        TypeId::of::<real_tokio::sync::mpsc::Sender<u8>>()
    );
    assert_eq!(
        TypeId::of::<tokio::io::ReadBuf<'static>>(),
        TypeId::of::<real_tokio::io::ReadBuf<'static>>()
    );
}

#[test]
fn a_join_handle_moves_into_another_task() {
    asyncsim::check(Explore::new().runs(200).persist(false), || async {
        let inner = tokio::spawn(async { 5 });
        let outer = tokio::spawn(async move { inner.await.unwrap() * 2 });
        assert_eq!(outer.await.unwrap(), 10);
    });
}

#[test]
fn abort_handles_abort_and_report_finished() {
    asyncsim::check(Explore::new().runs(200).persist(false), || async {
        let start = tokio::time::Instant::now();
        let sleeper = tokio::spawn(tokio::time::sleep(Duration::from_secs(60)));
        let abort = sleeper.abort_handle();
        let clone = abort.clone();
        assert_eq!(abort.id(), sleeper.id());
        assert!(!clone.is_finished());
        tokio::spawn(async move { abort.abort() });
        let error = sleeper.await.unwrap_err();
        assert!(error.is_cancelled());
        assert!(clone.is_finished());
        assert_eq!(start.elapsed(), Duration::ZERO);
    });
}

#[test]
fn spawn_blocking_results_arrive_without_virtual_time_before_any_timer() {
    // Real tokio with a paused clock does not advance time while a blocking
    // task runs; the face's pool job takes no virtual time: in both, the job
    // wins against a 1 ms timeout.
    let real = real_tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
        .block_on(async {
            real_tokio::time::timeout(
                Duration::from_millis(1),
                real_tokio::task::spawn_blocking(|| (1..=10u64).product::<u64>()),
            )
            .await
            .map(Result::unwrap)
        });
    assert_eq!(real, Ok(3_628_800));
    asyncsim::check(Explore::new().runs(200).persist(false), || async {
        let start = tokio::time::Instant::now();
        let jobs: Vec<_> = (1..=20u64)
            .map(|n| tokio::task::spawn_blocking(move || (1..=n).product::<u64>()))
            .collect();
        let got = tokio::time::timeout(Duration::from_millis(1), async {
            let mut products = Vec::new();
            for job in jobs {
                products.push(job.await.unwrap());
            }
            products
        })
        .await
        .expect("pool jobs take no virtual time");
        assert_eq!(got[9], 3_628_800);
        assert_eq!(start.elapsed(), Duration::ZERO);
    });
}

#[test]
fn a_pool_job_spends_virtual_time_through_asyncsim_s_blocking_sleep() {
    // What the README tells a user whose job stands for slow blocking work:
    // `tokio::asyncsim::blocking::sleep` spends the worker's virtual time
    // (a `std::thread::sleep` would spend real time and none of the run's).
    asyncsim::check(Explore::new().runs(20).persist(false), || async {
        let start = tokio::time::Instant::now();
        let slow = tokio::task::spawn_blocking(|| {
            tokio::asyncsim::blocking::sleep(Duration::from_millis(30));
            "done"
        });
        let raced = tokio::time::timeout(Duration::from_millis(10), slow).await;
        assert!(raced.is_err(), "the 30 ms job loses to a 10 ms timeout");
        assert_eq!(start.elapsed(), Duration::from_millis(10));
    });
}

#[test]
fn a_spin_wait_that_yields_lets_the_other_task_run() {
    // The README's advice for a spin-wait, which `multi_thread` tokio runs
    // beside the task it waits for and a run (one thread) cannot: yield in
    // the loop.
    asyncsim::check(Explore::new().runs(50).persist(false), || async {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let setter = done.clone();
        tokio::spawn(async move { setter.store(true, std::sync::atomic::Ordering::SeqCst) });
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::task::yield_now().await;
        }
    });
}

#[test]
fn a_panicking_pool_job_is_a_join_error() {
    asyncsim::check(Explore::new().runs(50).persist(false), || async {
        let error = tokio::task::spawn_blocking(|| panic!("in the pool"))
            .await
            .unwrap_err();
        assert!(error.is_panic());
        assert!(error.to_string().contains("in the pool"), "{error}");
    });
}

#[test]
fn local_set_starts_held_back_tasks_and_waits_for_them() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let local = tokio::task::LocalSet::new();
    let shared = Rc::new(std::cell::RefCell::new(Vec::new()));
    let early = {
        let shared = shared.clone();
        local.spawn_local(async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            shared.borrow_mut().push("early");
            1
        })
    };
    let aborted = local.spawn_local(async { 2 });
    aborted.abort();
    let seen = local.block_on(&runtime, async move {
        let late = tokio::task::spawn_local(async { 3 });
        (
            early.await.unwrap(),
            aborted.await.unwrap_err().is_cancelled(),
            late.await.unwrap(),
        )
    });
    assert_eq!(seen, (1, true, 3));
    assert_eq!(*shared.borrow(), ["early"]);
}

#[test]
fn awaiting_a_local_set_waits_for_every_task() {
    asyncsim::check(Explore::new().runs(100).persist(false), || async {
        let start = tokio::time::Instant::now();
        let local = tokio::task::LocalSet::new();
        let counter = Rc::new(std::cell::Cell::new(0));
        for ms in [3u64, 1, 2] {
            let counter = counter.clone();
            local.spawn_local(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                counter.set(counter.get() + 1);
            });
        }
        local.await;
        assert_eq!(counter.get(), 3);
        assert_eq!(start.elapsed(), Duration::from_millis(3));
    });
}

#[test]
fn runtime_spawn_and_handle_current_work_inside_block_on() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let handle = runtime.handle().clone();
    let answer = runtime.block_on(async move {
        let a = handle.spawn(async { 20 });
        let b = tokio::runtime::Handle::current().spawn_blocking(|| 22);
        a.await.unwrap() + b.await.unwrap()
    });
    assert_eq!(answer, 42);
}

#[test]
fn task_ids_are_the_engines_and_stable_across_replays() {
    let census = asyncsim::outcomes(Explore::new().runs(50), || async {
        let child = tokio::spawn(async { tokio::task::id() });
        let id = child.id();
        assert_eq!(child.await.unwrap(), id);
        (id.to_string(), tokio::task::try_id().is_some())
    });
    assert_eq!(census.distinct(), [&("1".to_string(), true)]);
}

#[test]
fn tasks_spawned_on_a_runtime_before_block_on_run_in_it() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let background = runtime.spawn(async move {
        for n in 0..3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            sender.send(n).unwrap();
        }
        "background done"
    });
    let cancelled = runtime.handle().spawn(async { "never runs" });
    cancelled.abort();
    let (received, background, cancelled) = runtime.block_on(async move {
        let mut received = Vec::new();
        while let Some(n) = receiver.recv().await {
            received.push(n);
        }
        (
            received,
            background.await.unwrap(),
            cancelled.await.unwrap_err().is_cancelled(),
        )
    });
    assert_eq!(received, [0, 1, 2]);
    assert_eq!(background, "background done");
    assert!(cancelled);
}

#[test]
fn a_handle_kept_past_its_run_aborts_nothing_in_a_later_run() {
    // A plain spawn's handles are the engine's: they know their run, so the
    // task with the same number in a later run is not theirs to abort.
    let mut sim = asyncsim::Sim::new(asyncsim::Config::new());
    let kept = sim
        .run(async {
            let sleeper = tokio::spawn(tokio::time::sleep(Duration::from_secs(60)));
            (sleeper.abort_handle(), sleeper)
        })
        .result
        .unwrap();
    let later = sim.run(async move {
        let (abort, sleeper) = kept;
        let task = tokio::spawn(async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            7
        });
        let same_number = task.id() == abort.id();
        abort.abort();
        sleeper.abort();
        let finished = (abort.is_finished(), sleeper.is_finished());
        (same_number, finished, task.await.unwrap())
    });
    assert_eq!(later.result.unwrap(), (true, (true, true), 7));
}

#[test]
fn a_local_runtime_runs_not_send_tasks_held_back_until_block_on() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build_local(tokio::runtime::LocalOptions::default())
        .unwrap();
    let shared = std::rc::Rc::new(std::cell::Cell::new(0));
    let early = {
        let shared = shared.clone();
        runtime.spawn_local(async move { shared.set(shared.get() + 1) })
    };
    let total = runtime.block_on({
        let shared = shared.clone();
        async move {
            early.await.unwrap();
            let inside = tokio::runtime::LocalRuntime::new().unwrap();
            drop(inside);
            let shared_too = shared.clone();
            tokio::task::spawn_local(async move { shared_too.set(shared_too.get() + 10) })
                .await
                .unwrap();
            shared.get()
        }
    });
    assert_eq!(
        total, 11,
        "the held-back task ran first, then the one spawned inside"
    );
}

#[test]
fn a_listener_outliving_its_run_is_a_runtime_shutdown_error_and_worker_index_is_0_inside() {
    // tokio's own example for is_rt_shutdown_err, on two simulated runs.
    let first = tokio::runtime::Runtime::new().unwrap();
    let second = tokio::runtime::Runtime::new().unwrap();
    let listener = first.block_on(async {
        assert_eq!(tokio::runtime::worker_index(), Some(0));
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()
    });
    assert_eq!(tokio::runtime::worker_index(), None, "outside a run");
    drop(first);
    second.block_on(async {
        let error = listener.accept().await.unwrap_err();
        assert!(tokio::runtime::is_rt_shutdown_err(&error), "{error}");
        let other = std::io::Error::other("something else");
        assert!(!tokio::runtime::is_rt_shutdown_err(&other));
    });
}

#[test]
fn a_runtime_s_id_and_name_are_its_handles_inside_block_on_and_metrics_count_its_tasks() {
    let first = tokio::runtime::Builder::new_multi_thread()
        .name("first")
        .build()
        .unwrap();
    let second = tokio::runtime::Runtime::new().unwrap();
    assert_ne!(first.handle().id(), second.handle().id());
    assert_eq!(first.handle().name(), Some("first"));
    let (inside, name, counts) = first.block_on(async {
        let handle = tokio::runtime::Handle::current();
        let metrics = handle.metrics();
        let waiting = tokio::spawn(std::future::pending::<()>());
        let done = tokio::spawn(async {});
        let before = metrics.num_alive_tasks();
        done.await.unwrap();
        let after = metrics.num_alive_tasks();
        waiting.abort();
        (
            handle.id(),
            handle.name().map(str::to_string),
            (metrics.num_workers(), before, after),
        )
    });
    assert_eq!(inside, first.handle().id());
    assert_eq!(name.as_deref(), Some("first"));
    assert_eq!(counts, (1, 2, 1), "one worker; two tasks alive, then one");
    let in_second = second.block_on(async { tokio::runtime::Handle::current().id() });
    assert_eq!(in_second, second.handle().id());
    assert_eq!(second.metrics().num_alive_tasks(), 0, "outside a run");
    let local = (tokio::task::LocalSet::new(), tokio::task::LocalSet::new());
    assert_ne!(local.0.id(), local.1.id());
    assert_ne!(local.0.id(), first.handle().id());
}
