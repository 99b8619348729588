//! `tokio::task::coop` on the run's cooperative budget: each poll of a task
//! has 128 units (tokio's); `consume_budget`, and the face's own resources
//! (sockets, files, sleeps, join handles, `watch`), spend them and yield
//! when none is left, so a loop over always-ready operations lets the other
//! tasks run, in every schedule; `unconstrained` turns the budget off. Real
//! tokio's versions of these, outside a tokio runtime, never yield: before
//! the face had its own, each loop below held the run for good (each is
//! bounded here, far past where the budget must have let the other task
//! run, so the old behaviour fails instead of hanging).

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use asyncsim::{Config, Sim, Strategy};
use asyncsim_tokio_tests::random_and_pct;
use tokio::task::coop;

/// Far past the operations after which every schedule lets the other task
/// run (PCT's spin rule demotes a task picked `PCT_SPIN_POLLS` times in a
/// row, each poll 128 operations).
const LOOP_BOUND: u64 = 2 * asyncsim::PCT_SPIN_POLLS as u64 * 128;

fn schedules() -> impl Iterator<Item = Config> {
    random_and_pct(24)
        .chain([Config::new().strategy(Strategy::Fifo)])
        .map(|config| config.trace_mode(asyncsim::TraceMode::HashOnly))
}

/// Spawns another task, then repeats `operation` until that task has run
/// (or [`LOOP_BOUND`] times): how many times it did. The task is spawned
/// here, after the caller's set-up, so a set-up that waits (during which
/// the task would run) leaves the loop something to check.
async fn loop_until_another_task_runs(mut operation: impl AsyncFnMut()) -> u64 {
    let other_ran = Rc::new(Cell::new(false));
    let flag = other_ran.clone();
    let other = asyncsim::spawn(async move { flag.set(true) });
    let mut operations = 0;
    while !other_ran.get() && operations < LOOP_BOUND {
        operation().await;
        operations += 1;
    }
    other.await.unwrap();
    operations
}

/// Runs `body` (a set-up, then [`loop_until_another_task_runs`]: its
/// count) in every schedule; asserts the loop saw the other task run
/// before its bound.
fn other_task_runs_during<B, F>(what: &str, body: B)
where
    B: Fn() -> F,
    F: std::future::Future<Output = u64> + 'static,
{
    for config in schedules() {
        let run = Sim::new(config.clone()).run(body());
        let operations = run
            .result
            .unwrap_or_else(|failure| panic!("{what} under {config:?}: {failure}"));
        assert!(
            operations < LOOP_BOUND,
            "{what} under {:?} seed {}: the other task never ran",
            config.strategy,
            config.seed
        );
    }
}

#[test]
fn a_consume_budget_loop_yields_in_every_schedule() {
    other_task_runs_during("coop::consume_budget", || async move {
        loop_until_another_task_runs(async || {
            coop::consume_budget().await;
        })
        .await
    });
}

#[test]
#[allow(deprecated)]
fn tokios_old_path_task_consume_budget_yields_too() {
    other_task_runs_during("task::consume_budget", || async move {
        loop_until_another_task_runs(async || {
            tokio::task::consume_budget().await;
        })
        .await
    });
}

#[test]
fn a_udp_send_to_loop_yields_in_every_schedule() {
    other_task_runs_during("UdpSocket::send_to", || async move {
        let socket = tokio::net::UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        loop_until_another_task_runs(async || {
            socket.send_to(b"ping", "127.0.0.1:9001").await.unwrap();
        })
        .await
    });
}

#[test]
fn a_pipe_write_loop_with_its_reader_in_the_same_task_yields() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    other_task_runs_during("unix::pipe", || async move {
        let (mut sender, mut receiver) = tokio::net::unix::pipe::pipe().unwrap();
        let mut byte = [0; 1];
        loop_until_another_task_runs(async || {
            sender.write_all(b"x").await.unwrap();
            receiver.read_exact(&mut byte).await.unwrap();
        })
        .await
    });
}

#[test]
fn a_watch_send_and_changed_loop_yields_in_every_schedule() {
    other_task_runs_during("watch::Receiver::changed", || async move {
        let (sender, mut receiver) = tokio::sync::watch::channel(0u64);
        let mut changes = 0;
        loop_until_another_task_runs(async || {
            changes += 1;
            sender.send(changes).unwrap();
            receiver.changed().await.unwrap();
        })
        .await
    });
}

/// A `timeout` whose value spends the whole budget at every poll still
/// looks at its deadline (unconstrained, as tokio's does): a deadline already
/// due fires, where the face's `Sleep` alone would yield for the budget at
/// every poll and the run would spin to its step limit.
#[test]
fn a_timeout_fires_over_a_value_that_spends_the_whole_budget() {
    for config in schedules() {
        let run = Sim::new(config.clone().steps_max(1_000)).run(async {
            tokio::time::timeout(std::time::Duration::ZERO, async {
                loop {
                    coop::consume_budget().await;
                }
            })
            .await
            .is_err()
        });
        assert!(run.result.unwrap(), "{config:?}");
    }
}

/// `unconstrained` turns the budget off for what it wraps: a loop of 1,000
/// units never yields (the other task, spawned first, runs after it), and
/// the budget outside is as it was.
#[test]
fn unconstrained_turns_the_budget_off() {
    for config in schedules() {
        let run = Sim::new(config.clone()).run(async {
            let other_ran = Rc::new(Cell::new(false));
            let flag = other_ran.clone();
            let other = asyncsim::spawn(async move { flag.set(true) });
            let saw_other = coop::unconstrained(async {
                for _ in 0..1000 {
                    coop::consume_budget().await;
                }
                other_ran.get()
            })
            .await;
            other.await.unwrap();
            (saw_other, coop::has_budget_remaining())
        });
        assert_eq!(run.result.unwrap(), (false, true), "{config:?}");
    }
}

/// `has_budget_remaining` is false once 128 units are spent in a poll, and
/// a `cooperative` future spends one each time it completes.
#[test]
fn has_budget_remaining_and_cooperative_count_units() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        for _ in 0..127 {
            coop::cooperative(std::future::ready(())).await;
        }
        let one_left = coop::has_budget_remaining();
        coop::consume_budget().await;
        (one_left, coop::has_budget_remaining())
    });
    assert_eq!(run.steps(), 1);
    assert_eq!(run.result.unwrap(), (true, false));
}

/// `poll_proceed`'s `RestoreOnPending` gives the unit back unless the
/// operation made progress (tokio's contract).
#[test]
fn poll_proceed_restores_the_unit_unless_progress_was_made() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        std::future::poll_fn(|context: &mut Context<'_>| {
            // 1,000 tries that make no progress spend nothing...
            for _ in 0..1000 {
                let restore = coop::poll_proceed(context).map(drop);
                assert!(restore.is_ready());
            }
            // ... and 128 that do spend all of it.
            for _ in 0..128 {
                let Poll::Ready(restore) = coop::poll_proceed(context) else {
                    panic!("budget spent early");
                };
                restore.made_progress();
            }
            let spent = coop::poll_proceed(context).is_pending();
            Poll::Ready(spent)
        })
        .await
    });
    assert!(run.result.unwrap());
}

/// The face's items have tokio 1.54's signatures, item for item (this
/// only has to compile).
#[allow(dead_code, deprecated)]
fn signatures_are_tokios() {
    struct Future;
    impl std::future::Future for Future {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            Poll::Ready(())
        }
    }
    let _: fn() -> bool = coop::has_budget_remaining;
    let _: fn() -> bool = real_tokio::task::coop::has_budget_remaining;
    let _: fn(&mut Context<'_>) -> Poll<coop::RestoreOnPending> = coop::poll_proceed;
    let _: fn(&mut Context<'_>) -> Poll<real_tokio::task::coop::RestoreOnPending> =
        real_tokio::task::coop::poll_proceed;
    let _: fn(&coop::RestoreOnPending) = coop::RestoreOnPending::made_progress;
    let _: fn(Future) -> coop::Coop<Future> = coop::cooperative;
    let _: fn(Future) -> real_tokio::task::coop::Coop<Future> = real_tokio::task::coop::cooperative;
    let _: fn(Future) -> coop::Unconstrained<Future> = coop::unconstrained;
    let _: fn(Future) -> tokio::task::Unconstrained<Future> = tokio::task::unconstrained;
    let _: fn(Future) -> real_tokio::task::Unconstrained<Future> = real_tokio::task::unconstrained;
    drop(coop::consume_budget());
    drop(tokio::task::consume_budget());
}

/// Polls `operations` from a fresh poll of its task (a yield first): true
/// when they completed in that one poll and left a unit of the budget.
async fn budget_left_after(operations: impl std::future::Future<Output = ()>) -> bool {
    tokio::task::yield_now().await;
    let mut operations = std::pin::pin!(operations);
    let mut polls = 0;
    std::future::poll_fn(|context| {
        polls += 1;
        operations.as_mut().poll(context)
    })
    .await;
    polls == 1 && coop::has_budget_remaining()
}

/// `operation` repeated 127 times, then 128 times, each from a fresh poll
/// of its task ([`budget_left_after`]): whether each left a unit. `[true,
/// false]` when it spends one unit each time it completes (tokio's count).
async fn units_left_after_127_and_128(mut operation: impl AsyncFnMut()) -> [bool; 2] {
    let mut left = [false; 2];
    for (left, times) in left.iter_mut().zip([127, 128]) {
        *left = budget_left_after(async {
            for _ in 0..times {
                operation().await;
            }
        })
        .await;
    }
    left
}

/// Asserts that each operation named spent one unit each time: 127 left a
/// unit, 128 none ([`units_left_after_127_and_128`]).
fn assert_each_spends_one_unit(units: &[(&str, [bool; 2])]) {
    for (what, left) in units {
        assert_eq!(
            *left,
            [true, false],
            "{what}: 127 should leave a unit and 128 none"
        );
    }
}

/// Each budgeted operation spends one unit, not two: 127 leave a unit, 128
/// leave none (tokio's count).
#[test]
fn each_operation_spends_one_unit() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        let socket = tokio::net::UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        socket.connect("127.0.0.1:9001").await.unwrap();
        let (a, b) = tokio::net::UnixDatagram::pair().unwrap();
        let (mut sender, mut receiver) = tokio::net::unix::pipe::pipe().unwrap();
        let mut byte = [0; 1];
        let units = vec![
            (
                "UDP poll_send",
                units_left_after_127_and_128(async || {
                    std::future::poll_fn(|context| socket.poll_send(context, b"x"))
                        .await
                        .unwrap();
                })
                .await,
            ),
            (
                "UDP send",
                units_left_after_127_and_128(async || {
                    socket.send(b"x").await.unwrap();
                })
                .await,
            ),
            (
                "Unix datagram send",
                units_left_after_127_and_128(async || {
                    a.send(b"x").await.unwrap();
                })
                .await,
            ),
            (
                "Unix datagram poll_send",
                units_left_after_127_and_128(async || {
                    std::future::poll_fn(|context| a.poll_send(context, b"x"))
                        .await
                        .unwrap();
                })
                .await,
            ),
            (
                "pipe write",
                units_left_after_127_and_128(async || {
                    sender.write_all(b"x").await.unwrap();
                })
                .await,
            ),
            (
                "pipe read",
                units_left_after_127_and_128(async || {
                    receiver.read_exact(&mut byte).await.unwrap();
                })
                .await,
            ),
        ];
        drop(b);
        units
    });
    assert_each_spends_one_unit(&run.result.unwrap());
}

/// tokio's own pattern for UDP (`UdpSocket::writable`'s example): wait until
/// writable, then `try_send_to`. A UDP socket is always writable, so the
/// loop yields only through the budget (tokio's readiness waits spend it).
#[test]
fn a_udp_writable_then_try_send_loop_yields_in_every_schedule() {
    other_task_runs_during("UdpSocket::writable + try_send_to", || async move {
        let socket = tokio::net::UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        let to = "127.0.0.1:9001".parse().unwrap();
        loop_until_another_task_runs(async || {
            socket.writable().await.unwrap();
            socket.try_send_to(b"ping", to).unwrap();
        })
        .await
    });
    other_task_runs_during("UdpSocket::ready + try_send_to", || async move {
        let socket = tokio::net::UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        let to = "127.0.0.1:9001".parse().unwrap();
        loop_until_another_task_runs(async || {
            socket.ready(tokio::io::Interest::WRITABLE).await.unwrap();
            socket.try_send_to(b"ping", to).unwrap();
        })
        .await
    });
    other_task_runs_during("UnixDatagram::writable + try_send", || async move {
        let (a, _b) = tokio::net::UnixDatagram::pair().unwrap();
        loop_until_another_task_runs(async || {
            a.writable().await.unwrap();
            a.try_send(b"ping").unwrap();
        })
        .await
    });
}

/// tokio's pattern for a stream (`TcpStream::writable`'s example): wait
/// until writable, then `try_write`, to a peer that closed. Its end stays
/// writable (a write is accepted and lost until the peer's reset comes, a
/// latency later; then each fails), so the loop yields only through the
/// budget, which tokio's readiness waits spend; else virtual time stood
/// still and the reset never came. The same for `readable` and `try_read`
/// of a reset stream, and at the EOF of a peer's FIN (`try_read` returns 0
/// each time: it spends its unit as every `try_` form that completes; it
/// spent nothing at EOF before, and the loop held the run).
#[test]
fn a_tcp_readiness_then_try_loop_on_a_closed_peer_yields() {
    other_task_runs_during("TcpStream::writable + try_write", || async move {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
        let stream = tokio::net::TcpStream::connect("127.0.0.1:7000")
            .await
            .unwrap();
        drop(listener.accept().await.unwrap());
        drop(listener);
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        loop_until_another_task_runs(async || {
            stream.writable().await.unwrap();
            let _ = stream.try_write(b"x");
        })
        .await
    });
    other_task_runs_during("TcpStream::readable + try_read", || async move {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
        let mut stream = tokio::net::TcpStream::connect("127.0.0.1:7000")
            .await
            .unwrap();
        let (peer, _) = listener.accept().await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut stream, b"unread")
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        drop(peer); // the bytes unread: a reset
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let mut buf = [0; 8];
        loop_until_another_task_runs(async || {
            stream.readable().await.unwrap();
            let _ = stream.try_read(&mut buf);
        })
        .await
    });
    other_task_runs_during("TcpStream::readable + try_read at EOF", || async move {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
        let stream = tokio::net::TcpStream::connect("127.0.0.1:7000")
            .await
            .unwrap();
        drop(listener.accept().await.unwrap()); // nothing unread: a FIN
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let mut buf = [0; 8];
        loop_until_another_task_runs(async || {
            stream.readable().await.unwrap();
            assert_eq!(stream.try_read(&mut buf).unwrap(), 0);
        })
        .await
    });
}

/// A connected pair with bytes arrived and unread at the client's end: its
/// read readiness, a peek and its write readiness are ready for ever.
async fn stream_with_bytes_waiting() -> (tokio::net::TcpStream, tokio::net::TcpStream) {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
    let stream = tokio::net::TcpStream::connect("127.0.0.1:7000")
        .await
        .unwrap();
    let (mut peer, _) = listener.accept().await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut peer, b"waiting")
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    (stream, peer)
}

/// A stream's `poll_read_ready`, `poll_write_ready`, `poll_peek` and `peek`
/// spend a unit when ready and yield when the budget is spent, as tokio's
/// (its `poll_*_ready` and `poll_peek` through the registration's
/// `poll_ready`, its `peek` through `async_io`): a loop of any of them
/// alone, always ready, lets the other task run. Before, each looked at
/// nothing (or looked and spent nothing) and the loop held the run.
#[test]
fn a_tcp_poll_ready_or_peek_loop_yields_in_every_schedule() {
    other_task_runs_during("TcpStream::poll_read_ready", || async move {
        let (stream, _peer) = stream_with_bytes_waiting().await;
        loop_until_another_task_runs(async || {
            std::future::poll_fn(|context| stream.poll_read_ready(context))
                .await
                .unwrap();
        })
        .await
    });
    other_task_runs_during("TcpStream::poll_write_ready", || async move {
        let (stream, _peer) = stream_with_bytes_waiting().await;
        loop_until_another_task_runs(async || {
            std::future::poll_fn(|context| stream.poll_write_ready(context))
                .await
                .unwrap();
        })
        .await
    });
    other_task_runs_during("TcpStream::poll_peek", || async move {
        let (stream, _peer) = stream_with_bytes_waiting().await;
        let mut buf = [0; 4];
        loop_until_another_task_runs(async || {
            std::future::poll_fn(|context| {
                stream.poll_peek(context, &mut tokio::io::ReadBuf::new(&mut buf))
            })
            .await
            .unwrap();
        })
        .await
    });
    other_task_runs_during("TcpStream::peek", || async move {
        let (stream, _peer) = stream_with_bytes_waiting().await;
        let mut buf = [0; 4];
        loop_until_another_task_runs(async || {
            stream.peek(&mut buf).await.unwrap();
        })
        .await
    });
}

/// Which readiness forms spend, as tokio 1.54's: `poll_read_ready`,
/// `poll_write_ready`, `poll_peek` and `peek` one unit each (127 leave a
/// unit, 128 none); `readable`, `writable` and `ready` none (128 leave
/// units).
#[test]
fn tcp_poll_ready_and_peek_spend_a_unit_and_readable_writable_ready_none() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        let (stream, _peer) = stream_with_bytes_waiting().await;
        let mut buf = [0; 4];
        let units = vec![
            (
                "poll_read_ready",
                units_left_after_127_and_128(async || {
                    std::future::poll_fn(|context| stream.poll_read_ready(context))
                        .await
                        .unwrap();
                })
                .await,
            ),
            (
                "poll_write_ready",
                units_left_after_127_and_128(async || {
                    std::future::poll_fn(|context| stream.poll_write_ready(context))
                        .await
                        .unwrap();
                })
                .await,
            ),
            (
                "poll_peek",
                units_left_after_127_and_128(async || {
                    std::future::poll_fn(|context| {
                        stream.poll_peek(context, &mut tokio::io::ReadBuf::new(&mut buf))
                    })
                    .await
                    .unwrap();
                })
                .await,
            ),
            (
                "peek",
                units_left_after_127_and_128(async || {
                    stream.peek(&mut buf).await.unwrap();
                })
                .await,
            ),
        ];
        let unspent = budget_left_after(async {
            for _ in 0..128 {
                stream.readable().await.unwrap();
                stream.writable().await.unwrap();
                stream
                    .ready(tokio::io::Interest::READABLE | tokio::io::Interest::WRITABLE)
                    .await
                    .unwrap();
            }
        })
        .await;
        (units, unspent)
    });
    let (units, unspent) = run.result.unwrap();
    assert_each_spends_one_unit(&units);
    assert!(unspent, "readable, writable, ready spend nothing");
}

/// A UDP or Unix datagram socket's `poll_recv_ready` and `poll_send_ready`
/// spend a unit when ready, as tokio's (127 leave a unit, 128 none), so a
/// loop of one alone yields; `readable` and `writable` spend none.
#[test]
fn datagram_poll_ready_spends_a_unit_and_readable_writable_none() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        let socket = tokio::net::UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        socket.send_to(b"x", "127.0.0.1:9000").await.unwrap();
        let (a, b) = tokio::net::UnixDatagram::pair().unwrap();
        b.send(b"x").await.unwrap();
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let units = vec![
            (
                "UDP poll_recv_ready",
                units_left_after_127_and_128(async || {
                    std::future::poll_fn(|context| socket.poll_recv_ready(context))
                        .await
                        .unwrap();
                })
                .await,
            ),
            (
                "UDP poll_send_ready",
                units_left_after_127_and_128(async || {
                    std::future::poll_fn(|context| socket.poll_send_ready(context))
                        .await
                        .unwrap();
                })
                .await,
            ),
            (
                "Unix datagram poll_recv_ready",
                units_left_after_127_and_128(async || {
                    std::future::poll_fn(|context| a.poll_recv_ready(context))
                        .await
                        .unwrap();
                })
                .await,
            ),
            (
                "Unix datagram poll_send_ready",
                units_left_after_127_and_128(async || {
                    std::future::poll_fn(|context| a.poll_send_ready(context))
                        .await
                        .unwrap();
                })
                .await,
            ),
        ];
        let unspent = budget_left_after(async {
            for _ in 0..128 {
                socket.readable().await.unwrap();
                socket.writable().await.unwrap();
                a.readable().await.unwrap();
                a.writable().await.unwrap();
            }
        })
        .await;
        (units, unspent)
    });
    let (units, unspent) = run.result.unwrap();
    assert_each_spends_one_unit(&units);
    assert!(unspent, "readable, writable spend nothing");
}

/// A pipe's `poll_read_ready` and `poll_write_ready` spend a unit when
/// ready and yield when the budget is spent, as tokio's (its registration's
/// `poll_ready`): a loop of one, always ready over bytes left unread and
/// room to write, lets another task run. Before, they only looked: the loop
/// held the run.
#[test]
fn a_pipe_poll_ready_loop_yields_in_every_schedule() {
    for which in ["read", "write"] {
        other_task_runs_during(which, move || async move {
            let (mut sender, receiver) = tokio::net::unix::pipe::pipe().unwrap();
            tokio::io::AsyncWriteExt::write_all(&mut sender, b"unread")
                .await
                .unwrap();
            loop_until_another_task_runs(async || {
                std::future::poll_fn(|context| match which {
                    "read" => receiver.poll_read_ready(context),
                    _ => sender.poll_write_ready(context),
                })
                .await
                .unwrap();
            })
            .await
        });
    }
}

/// A pipe's `poll_read_ready` and `poll_write_ready` spend a unit when
/// ready (127 leave a unit, 128 none); `readable` and `writable` spend
/// none, as tokio's.
#[test]
fn pipe_poll_ready_spends_a_unit_and_readable_writable_none() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        let (mut sender, receiver) = tokio::net::unix::pipe::pipe().unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut sender, b"unread")
            .await
            .unwrap();
        let units = vec![
            (
                "poll_read_ready",
                units_left_after_127_and_128(async || {
                    std::future::poll_fn(|context| receiver.poll_read_ready(context))
                        .await
                        .unwrap();
                })
                .await,
            ),
            (
                "poll_write_ready",
                units_left_after_127_and_128(async || {
                    std::future::poll_fn(|context| sender.poll_write_ready(context))
                        .await
                        .unwrap();
                })
                .await,
            ),
        ];
        let unspent = budget_left_after(async {
            for _ in 0..128 {
                receiver.readable().await.unwrap();
                sender.writable().await.unwrap();
            }
        })
        .await;
        (units, unspent)
    });
    let (units, unspent) = run.result.unwrap();
    assert_each_spends_one_unit(&units);
    assert!(unspent, "readable, writable spend nothing");
}

/// A pipe's `try_read` and `try_write` spend a unit when they complete
/// (failed or not), as the world sockets' `try_` forms: a `readable` then
/// `try_read` loop at EOF (always ready, 0 each time), or a `writable` then
/// `try_write` loop with the receiver gone (`BrokenPipe` each time), lets
/// another task run. Before, they spent nothing: the loop held the run.
#[test]
fn a_pipe_readiness_then_try_loop_yields_in_every_schedule() {
    for which in ["try_read at EOF", "try_write to a gone receiver"] {
        other_task_runs_during(which, move || async move {
            let (sender, receiver) = tokio::net::unix::pipe::pipe().unwrap();
            let (sender, receiver) = if which.starts_with("try_read") {
                drop(sender);
                (None, Some(receiver))
            } else {
                drop(receiver);
                (Some(sender), None)
            };
            loop_until_another_task_runs(async || {
                if let Some(receiver) = &receiver {
                    receiver.readable().await.unwrap();
                    let mut buf = [0; 16];
                    assert_eq!(receiver.try_read(&mut buf).unwrap(), 0);
                }
                if let Some(sender) = &sender {
                    sender.writable().await.unwrap();
                    let error = sender.try_write(b"lost").unwrap_err();
                    assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe);
                }
            })
            .await
        });
    }
}

/// A pipe's `try_read`, `try_read_buf` and `try_write` spend one unit each
/// (127 leave a unit, 128 none); one that would wait spends nothing.
#[test]
fn pipe_try_forms_spend_a_unit_and_would_block_none() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        let (sender, receiver) = tokio::net::unix::pipe::pipe().unwrap();
        let mut units = vec![
            (
                "try_write",
                units_left_after_127_and_128(async || {
                    sender.try_write(b"x").unwrap();
                })
                .await,
            ),
            (
                "try_read",
                units_left_after_127_and_128(async || {
                    assert_eq!(receiver.try_read(&mut [0; 1]).unwrap(), 1);
                })
                .await,
            ),
        ];
        // Bytes for the 127 and 128 reads below.
        assert_eq!(sender.try_write(&[b'x'; 255]).unwrap(), 255);
        units.push((
            "try_read_buf",
            units_left_after_127_and_128(async || {
                let mut buf = Vec::with_capacity(1);
                assert_eq!(receiver.try_read_buf(&mut buf).unwrap(), 1);
            })
            .await,
        ));
        // The pipe is empty and its sender there: each would wait.
        let unspent = budget_left_after(async {
            for _ in 0..200 {
                let error = receiver.try_read(&mut [0; 1]).unwrap_err();
                assert_eq!(error.kind(), std::io::ErrorKind::WouldBlock);
            }
        })
        .await;
        (units, unspent)
    });
    let (units, unspent) = run.result.unwrap();
    assert_each_spends_one_unit(&units);
    assert!(unspent, "a try_read that would block spends nothing");
}

/// A datagram socket's `poll_send_ready` spends one unit and looks once:
/// 128 of them complete in one poll (tokio's count). It looked twice, so
/// with one unit left it yielded a unit early and 128 took two polls.
#[test]
fn datagram_poll_send_ready_completes_128_in_one_poll() {
    let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async {
        let socket = tokio::net::UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        let (a, _b) = tokio::net::UnixDatagram::pair().unwrap();
        let mut polls = Vec::new();
        for unix in [false, true] {
            tokio::task::yield_now().await;
            let mut operations = std::pin::pin!(async {
                for _ in 0..128 {
                    std::future::poll_fn(|context| {
                        if unix {
                            a.poll_send_ready(context)
                        } else {
                            socket.poll_send_ready(context)
                        }
                    })
                    .await
                    .unwrap();
                }
            });
            let mut count = 0;
            std::future::poll_fn(|context| {
                count += 1;
                std::future::Future::poll(operations.as_mut(), context)
            })
            .await;
            polls.push(count);
        }
        polls
    });
    assert_eq!(
        run.result.unwrap(),
        [1, 1],
        "128 sends ready in one poll, UDP and Unix"
    );
}
