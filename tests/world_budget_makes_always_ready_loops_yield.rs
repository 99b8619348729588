//! The cooperative budget (`task::coop`, tokio's): a task that loops over
//! operations that never wait — UDP sends, reads of bytes already buffered,
//! writes to a file — yields after 128 of them in one poll, so the other
//! tasks of the run still run, in every schedule. Before the budget such a
//! loop held the run's one thread until it ended (or for ever). Each loop
//! here ends when another task has run, or at a bound far past where the
//! budget must have let it run (PCT keeps a spinning top-priority task
//! running for `PCT_SPIN_POLLS` polls in a row), so without the budget the
//! test fails at the bound instead of hanging.

mod schedule_support;

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use asyncsim::net::{TcpListener, TcpStream, UdpSocket};
use asyncsim::task::coop;
use asyncsim::trace::WaitOn;
use asyncsim::{node, Config, EventKind, Sim, Strategy, TaskId, TraceMode};
use futures::{AsyncReadExt, AsyncWriteExt};
use schedule_support::random_and_pct;

/// Operations one poll may complete before the task yields (tokio's).
const BUDGET: u64 = 128;

/// Far past the operations after which every schedule lets the other task
/// run: PCT's spin rule demotes a task picked `PCT_SPIN_POLLS` times in a
/// row, each poll `BUDGET` operations.
const LOOP_BOUND: u64 = 2 * asyncsim::PCT_SPIN_POLLS as u64 * BUDGET;

/// Every schedule these properties are checked over: FIFO, and 24 seeds of
/// `Random` and of `Pct`. Hash-only traces: a loop past its yields records
/// an event a send.
fn schedules() -> impl Iterator<Item = Config> {
    random_and_pct(24)
        .chain([Config::new().strategy(Strategy::Fifo)])
        .map(|config| config.trace_mode(TraceMode::HashOnly))
}

/// The schedules of a loop bounded by what is buffered (far fewer
/// operations than PCT's spin rule may let one task run): PCT may keep the
/// loop's task running to the last of them, so FIFO and `Random` only.
fn fifo_and_random() -> impl Iterator<Item = Config> {
    schedules().filter(|config| config.strategy != Strategy::Pct { depth: 3 })
}

/// Spawns another task, then repeats `operation` until that task has run
/// (or `bound` times): how many times it did. The task is spawned here,
/// after the caller's set-up, so a set-up that waits (during which the
/// task would run) leaves the loop something to check.
async fn loop_until_another_task_runs(bound: u64, mut operation: impl AsyncFnMut()) -> u64 {
    let other_ran = Rc::new(Cell::new(false));
    let flag = other_ran.clone();
    let other = asyncsim::spawn(async move { flag.set(true) });
    let mut operations = 0;
    while !other_ran.get() && operations < bound {
        operation().await;
        operations += 1;
    }
    other.await.unwrap();
    operations
}

/// Runs `body` (a set-up, then [`loop_until_another_task_runs`] with
/// `bound`: its count) in every schedule, and asserts that the other task
/// ran before the bound.
fn other_task_runs_during<B, F>(what: &str, bound: u64, body: B)
where
    B: Fn() -> F,
    F: std::future::Future<Output = u64> + 'static,
{
    check_on(schedules(), what, bound, body);
}

/// [`other_task_runs_during`] for a loop bounded by what is buffered, on
/// [`fifo_and_random`].
fn other_task_runs_during_buffered<B, F>(what: &str, bound: u64, body: B)
where
    B: Fn() -> F,
    F: std::future::Future<Output = u64> + 'static,
{
    check_on(fifo_and_random(), what, bound, body);
}

fn check_on<B, F>(configs: impl Iterator<Item = Config>, what: &str, bound: u64, body: B)
where
    B: Fn() -> F,
    F: std::future::Future<Output = u64> + 'static,
{
    for config in configs {
        let run = Sim::new(config.clone()).run(body());
        let operations = run
            .result
            .unwrap_or_else(|failure| panic!("{what} under {config:?}: {failure}"));
        assert!(
            operations < bound,
            "{what} under {:?} seed {}: {operations} operations and the other task never ran",
            config.strategy,
            config.seed
        );
    }
}

#[test]
fn a_udp_send_loop_lets_another_task_run_in_every_schedule() {
    other_task_runs_during("a send_to loop", LOOP_BOUND, || async move {
        let socket = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        loop_until_another_task_runs(LOOP_BOUND, async || {
            socket.send_to(b"ping", "127.0.0.1:9001").await.unwrap();
        })
        .await
    });
}

#[test]
fn a_loop_reading_buffered_bytes_lets_another_task_run_in_every_schedule() {
    // The 4,095 bytes left after the first read bound the loop.
    other_task_runs_during_buffered("a read loop", 4095, || async {
        node::Builder::new("server").start(|| async {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.write_all(&[7; 4096]).await.unwrap();
            std::future::pending::<()>().await;
        });
        let mut stream = TcpStream::connect("server:7000").await.unwrap();
        // All 4,096 bytes arrived: every one-byte read below completes at
        // once.
        let mut byte = [0; 1];
        stream.read_exact(&mut byte).await.unwrap();
        asyncsim::time::sleep(std::time::Duration::from_secs(1)).await;
        loop_until_another_task_runs(4095, async || {
            stream.read_exact(&mut byte).await.unwrap();
        })
        .await
    });
}

#[test]
fn a_udp_receive_loop_over_buffered_datagrams_lets_another_task_run() {
    other_task_runs_during_buffered("a recv_from loop", 1000, || async move {
        let receiver = UdpSocket::bind("0.0.0.0:9001").await.unwrap();
        let sender = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        receiver.set_recv_buffer(1000);
        for _ in 0..1000 {
            // Unconstrained: the sends are not what this test is about.
            coop::unconstrained(sender.send_to(b"x", "127.0.0.1:9001"))
                .await
                .unwrap();
        }
        // Every datagram arrives (loopback latency) before the loop.
        asyncsim::time::sleep(std::time::Duration::from_secs(1)).await;
        let mut buf = [0; 8];
        loop_until_another_task_runs(1000, async || {
            receiver.recv_from(&mut buf).await.unwrap();
        })
        .await
    });
}

#[test]
fn a_file_write_loop_lets_another_task_run_in_every_schedule() {
    other_task_runs_during("a file write loop", LOOP_BOUND, || async move {
        let mut file = asyncsim::fs::File::create("/log").await.unwrap();
        loop_until_another_task_runs(LOOP_BOUND, async || {
            file.write_all(b"x").await.unwrap();
        })
        .await
    });
}

#[test]
fn a_consume_budget_loop_lets_another_task_run_in_every_schedule() {
    other_task_runs_during("a consume_budget loop", LOOP_BOUND, || async move {
        loop_until_another_task_runs(LOOP_BOUND, async || {
            coop::consume_budget().await;
        })
        .await
    });
}

/// FIFO: the loop's task completes 128 sends, yields at the 129th (which
/// completes when it is polled again), and the trace shows the yield as
/// any other: the task's `Pending` (on `Yield`), then its next `Poll`.
#[test]
fn fifo_a_send_loop_yields_every_128_sends_as_an_ordinary_yield() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        let socket = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        for _ in 0..1000 {
            socket.send_to(b"ping", "127.0.0.1:9001").await.unwrap();
        }
    });
    run.result.unwrap();
    let main = Some(TaskId::MAIN);
    let mut sends_per_poll = Vec::new();
    for event in run.trace.events().iter().filter(|event| event.task == main) {
        match event.kind {
            EventKind::Poll => sends_per_poll.push(0),
            EventKind::Net { .. } => *sends_per_poll.last_mut().unwrap() += 1,
            EventKind::Pending { on } => assert_eq!(on, WaitOn::Yield, "{event:?}"),
            _ => {}
        }
    }
    // 1,000 sends: seven polls of 128, then the rest.
    assert_eq!(sends_per_poll, [128, 128, 128, 128, 128, 128, 128, 104]);
}

/// `unconstrained` turns the budget off for the future it wraps: its loop
/// never yields, in any schedule (the other task runs only after it).
#[test]
fn unconstrained_never_yields_for_the_budget() {
    for config in schedules() {
        let run = Sim::new(config.clone()).run(async {
            let other_ran = Rc::new(Cell::new(false));
            let flag = other_ran.clone();
            let other = asyncsim::spawn(async move { flag.set(true) });
            let socket = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
            let saw_other = coop::unconstrained(async {
                for _ in 0..1000 {
                    socket.send_to(b"ping", "127.0.0.1:9001").await.unwrap();
                    coop::consume_budget().await;
                }
                other_ran.get()
            })
            .await;
            other.await.unwrap();
            // Outside it, the budget is as it was: spent by nothing yet.
            (saw_other, coop::has_budget_remaining())
        });
        assert_eq!(run.result.unwrap(), (false, true), "{config:?}");
    }
}

/// A run whose polls complete fewer than 128 budgeted operations each is
/// the run it was before the budget: FIFO's 127 sends take one poll.
#[test]
fn fewer_than_128_operations_in_a_poll_never_yield() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        let socket = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        for _ in 0..127 {
            socket.send_to(b"ping", "127.0.0.1:9001").await.unwrap();
        }
        coop::has_budget_remaining()
    });
    assert_eq!(run.steps(), 1);
    assert!(run.result.unwrap());
}

/// An operation that waits spends nothing (tokio gives the unit back): a
/// task that polls 200 receives that all wait, then makes 128 sends, in
/// one poll, is never made to yield.
#[test]
fn operations_that_wait_spend_nothing() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        let receiver = UdpSocket::bind("0.0.0.0:9001").await.unwrap();
        let mut buffers = vec![[0u8; 8]; 200];
        let mut receives: Vec<_> = buffers
            .iter_mut()
            .map(|buf| Box::pin(receiver.recv_from(buf)))
            .collect();
        std::future::poll_fn(|context| {
            for receive in &mut receives {
                assert!(receive.as_mut().poll(context).is_pending());
            }
            std::task::Poll::Ready(())
        })
        .await;
        let sender = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        for _ in 0..BUDGET {
            sender.send_to(b"x", "127.0.0.1:9").await.unwrap();
        }
        drop(receives);
    });
    assert_eq!(run.steps(), 1);
    run.result.unwrap();
}

/// A send loop that never ends yields, but its task stays runnable, so
/// virtual time stands still and the task waiting for a timer never
/// resumes: the run ends at the step limit, a reported livelock, not a
/// hang. (Bounded at 10 million sends: without the budget the loop held
/// its first poll to its end and the run then completed.)
#[test]
fn an_endless_send_loop_ends_at_the_step_limit() {
    let run = Sim::new(
        Config::new()
            .strategy(Strategy::Fifo)
            .steps_max(1_000)
            .trace_mode(TraceMode::HashOnly),
    )
    .run(async {
        drop(asyncsim::spawn(async {
            let socket = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
            for _ in 0..10_000_000u64 {
                socket.send_to(b"ping", "127.0.0.1:9001").await.unwrap();
            }
        }));
        asyncsim::time::sleep(std::time::Duration::from_secs(1)).await;
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, asyncsim::FailureKind::StepLimit, "{failure}");
    // The report names this cause among the likely ones.
    assert!(
        failure
            .message
            .contains("a loop over operations that are always ready (a `send_to` loop)"),
        "{failure}"
    );
}

/// A stream whose server dropped it with the request unread (a reset,
/// arrived long before the loop starts), or, not `reset`, keeps it.
async fn stream_to_server(reset: bool) -> TcpStream {
    node::Builder::new("server").start(move || async move {
        let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        asyncsim::time::sleep(std::time::Duration::from_millis(10)).await;
        if reset {
            drop(stream);
        }
        std::future::pending::<()>().await;
    });
    let mut stream = TcpStream::connect("server:7000").await.unwrap();
    stream.write_all(b"request").await.unwrap();
    asyncsim::time::sleep(std::time::Duration::from_secs(1)).await;
    stream
}

/// A loop that retries a failed operation (a read or write of a reset
/// stream, a write after a shutdown, an oversized datagram) yields as one
/// that succeeds does: each failure spends a unit (tokio's readiness spends
/// one whatever the operation then finds). Before, the failures spent
/// nothing and such a loop held the run for ever, virtual time standing
/// still.
#[test]
fn a_loop_retrying_a_failed_operation_lets_another_task_run() {
    other_task_runs_during("failed reads", LOOP_BOUND, || async move {
        let mut stream = stream_to_server(true).await;
        let mut buf = [0; 8];
        let mut first = true;
        loop_until_another_task_runs(LOOP_BOUND, async || {
            // The reset once (the first read takes it, as Linux's), then
            // EOF.
            let read = stream.read(&mut buf).await;
            assert!(read.as_ref().map_or(first, |n| *n == 0), "{read:?}");
            first = false;
        })
        .await
    });
    other_task_runs_during("failed writes", LOOP_BOUND, || async move {
        let mut stream = stream_to_server(true).await;
        loop_until_another_task_runs(LOOP_BOUND, async || {
            assert!(stream.write(b"x").await.is_err());
        })
        .await
    });
    other_task_runs_during("writes after a shutdown", LOOP_BOUND, || async move {
        let mut stream = stream_to_server(false).await;
        stream.close().await.unwrap();
        loop_until_another_task_runs(LOOP_BOUND, async || {
            assert!(stream.write(b"x").await.is_err());
        })
        .await
    });
    other_task_runs_during("oversized sends", LOOP_BOUND, || async move {
        let socket = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        let datagram = vec![0; 70_000];
        loop_until_another_task_runs(LOOP_BOUND, async || {
            assert!(socket.send_to(&datagram, "127.0.0.1:9001").await.is_err());
        })
        .await
    });
}

/// A write loop to a peer that closed (with nothing unread: a FIN) yields:
/// each write is accepted and lost until the peer's answering reset comes,
/// and each spends a unit; before, they spent nothing, and the loop held
/// the run with virtual time standing still, so the reset never came.
#[test]
fn a_write_loop_to_a_closed_peer_lets_another_task_run() {
    other_task_runs_during("writes to a closed peer", LOOP_BOUND, || async move {
        node::Builder::new("server").start(|| async {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            drop(listener.accept().await.unwrap());
            std::future::pending::<()>().await;
        });
        let mut stream = TcpStream::connect("server:7000").await.unwrap();
        asyncsim::time::sleep(std::time::Duration::from_secs(1)).await;
        loop_until_another_task_runs(LOOP_BOUND, async || {
            let _ = stream.write(b"x").await;
        })
        .await
    });
}

/// A loop peeking at bytes (or a datagram) that have arrived, as one that
/// waits for enough of them does, yields: a peek that completes spends a
/// unit, as a read does (tokio's spends one at its readiness). Before, it
/// spent nothing and such a loop held the run for ever.
#[test]
fn a_peek_loop_lets_another_task_run_in_every_schedule() {
    other_task_runs_during("stream peeks", LOOP_BOUND, || async move {
        node::Builder::new("server").start(|| async {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.write_all(b"half").await.unwrap();
            std::future::pending::<()>().await;
        });
        let stream = TcpStream::connect("server:7000").await.unwrap();
        asyncsim::time::sleep(std::time::Duration::from_secs(1)).await;
        loop_until_another_task_runs(LOOP_BOUND, async || {
            let peeked =
                std::future::poll_fn(|context| stream.poll_peek_with(context, 8, |_| {})).await;
            assert_eq!(peeked.unwrap(), 4);
        })
        .await
    });
    other_task_runs_during("datagram peeks", LOOP_BOUND, || async move {
        let socket = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        socket.send_to(b"ping", "127.0.0.1:9000").await.unwrap();
        asyncsim::time::sleep(std::time::Duration::from_secs(1)).await;
        let mut buf = [0; 8];
        loop_until_another_task_runs(LOOP_BOUND, async || {
            std::future::poll_fn(|context| socket.poll_peek_from(context, &mut buf))
                .await
                .unwrap();
        })
        .await
    });
}

/// A `select!` looks at the budget before its branches, as tokio's does: a
/// loop over one whose budgeted branch (a send) yields when the budget is
/// spent but whose other branch is always ready and spends nothing would
/// otherwise go on for ever, the ready branch winning each round.
#[test]
fn a_select_loop_with_an_always_ready_branch_lets_another_task_run() {
    other_task_runs_during("a select! loop", LOOP_BOUND, || async move {
        let socket = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        loop_until_another_task_runs(LOOP_BOUND, async || {
            asyncsim::select! {
                sent = socket.send_to(b"ping", "127.0.0.1:9001") => { sent.unwrap(); }
                () = std::future::ready(()) => {}
            }
        })
        .await
    });
}

/// `biased;` too: the spent budget's yield comes before the branches.
#[test]
fn a_biased_select_loop_over_a_spent_budget_yields() {
    other_task_runs_during("a biased select! loop", LOOP_BOUND, || async move {
        loop_until_another_task_runs(LOOP_BOUND, async || {
            asyncsim::select! {
                biased;
                () = coop::consume_budget() => {}
                () = std::future::ready(()) => {}
            }
        })
        .await
    });
}

/// A stream's `poll_peek_with`, `poll_read_ready` and `poll_write_ready`
/// spend a unit when ready and yield when the budget is spent (tokio's
/// `poll_peek` and `poll_*_ready` do): a loop of one, always ready over
/// bytes that stay unread, lets another task run. Before, a peek looked at
/// nothing and the readiness forms spent nothing: the loop held the run.
#[test]
fn a_peek_or_poll_ready_loop_lets_another_task_run() {
    for which in ["peek", "read ready", "write ready"] {
        other_task_runs_during(which, LOOP_BOUND, move || async move {
            node::Builder::new("server").start(|| async {
                let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
                let (mut stream, _) = listener.accept().await.unwrap();
                stream.write_all(b"unread").await.unwrap();
                std::future::pending::<()>().await;
            });
            let stream = TcpStream::connect("server:7000").await.unwrap();
            asyncsim::time::sleep(std::time::Duration::from_secs(1)).await;
            loop_until_another_task_runs(LOOP_BOUND, async || {
                std::future::poll_fn(|context| match which {
                    "peek" => stream.poll_peek_with(context, 4, |_| ()).map_ok(drop),
                    "read ready" => stream.poll_read_ready(context),
                    _ => stream.poll_write_ready(context),
                })
                .await
                .unwrap();
            })
            .await
        });
    }
}

/// A UDP socket's `poll_recv_ready` spends a unit when ready and yields
/// when the budget is spent (tokio's does): a loop of it, always ready over
/// a datagram left unreceived, lets another task run. Before, it only
/// looked: the loop held the run.
#[test]
fn a_udp_poll_recv_ready_loop_lets_another_task_run() {
    other_task_runs_during("recv ready", LOOP_BOUND, || async move {
        let socket = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        socket.send_to(b"unread", "127.0.0.1:9000").await.unwrap();
        asyncsim::time::sleep(std::time::Duration::from_secs(1)).await;
        loop_until_another_task_runs(LOOP_BOUND, async || {
            std::future::poll_fn(|context| socket.poll_recv_ready(context))
                .await
                .unwrap();
        })
        .await
    });
}
