//! Flow control: a stream's writer may have at most a window of bytes
//! written and not read by its peer (in flight, or waiting in the peer's
//! receive buffer): its send buffer and the peer's receive buffer, as
//! their sockets report them. A write past that takes what fits (a partial
//! write, as `std::io::Write` allows) and waits when nothing fits, until
//! the peer reads. So a writer whose peer never reads ends in a deadlock
//! report that names it, not in a hang; a reset of its peer (the peer's
//! node crashed), a timeout across a partition or its own shutdown wakes
//! it with the error, as on Linux.

mod net_support;
mod schedule_support;

use std::cell::Cell;
use std::future::poll_fn;
use std::io::ErrorKind;
use std::rc::Rc;
use std::time::Duration;

use asyncsim::net::{Detached, TcpListener, TcpStream};
use asyncsim::trace::{EventKind, NetOp, SocketWait, Trace, WaitOn};
use asyncsim::{node, Sim};
use futures::{AsyncReadExt, AsyncWriteExt};
use net_support::{fixed, now_ns, MS};
use schedule_support::random_and_pct;

/// What `set_send_buffer_size(1000)` gives on Linux: 2 x 1000, at least
/// 4,608.
const SEND: usize = 4_608;
/// What `set_recv_buffer_size(1000)` gives: 2 x 1000, at least 2,304.
const RECV: usize = 2_304;
/// The window from a client with `SEND` to a server with `RECV`.
const WINDOW: usize = SEND + RECV;

/// A node `server` listening on 7000 whose accepted streams have a
/// receive buffer of `RECV`; each accepted stream is handed to `serve`.
fn server<F, Fut>(serve: F) -> node::Node
where
    F: Fn(TcpStream) -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    node::Builder::new("server").start(move || {
        let serve = serve.clone();
        async move {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            listener.set_recv_buffer_size(1000).unwrap();
            assert_eq!(listener.recv_buffer_size().unwrap() as usize, RECV);
            let (stream, _) = listener.accept().await.unwrap();
            assert_eq!(stream.recv_buffer_size().unwrap() as usize, RECV);
            serve(stream).await;
        }
    })
}

/// A server that never reads: it holds its stream forever.
fn deaf_server() -> node::Node {
    server(|stream| async move {
        let _kept = stream;
        std::future::pending::<()>().await;
    })
}

/// Connects to the server with a send buffer of `SEND`.
async fn connect() -> TcpStream {
    asyncsim::time::sleep(Duration::from_millis(1)).await;
    let stream = TcpStream::connect("server:7000").await.unwrap();
    stream.set_send_buffer_size(1000).unwrap();
    assert_eq!(stream.send_buffer_size().unwrap() as usize, SEND);
    stream
}

/// The bytes the main task's stream sent (`net send`), in all.
fn sent_bytes(trace: &Trace) -> u64 {
    trace
        .events()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::Net {
                op: NetOp::Send,
                bytes,
                ..
            } => Some(u64::from(bytes)),
            _ => None,
        })
        .sum()
}

/// True when some task waited for room to write.
fn a_writer_waited(trace: &Trace) -> bool {
    trace.events().iter().any(|event| {
        matches!(
            event.kind,
            EventKind::Pending {
                on: WaitOn::Socket {
                    op: SocketWait::Write,
                    ..
                }
            }
        )
    })
}

/// A writer far faster than its reader: after every write, what it wrote
/// and the reader has not read is at most the window, and reaches it (the
/// writer is held back); every byte arrives, in order.
#[test]
fn a_fast_writer_never_gets_more_than_a_window_ahead_of_a_slow_reader() {
    for config in random_and_pct(24) {
        let run = Sim::new(config).run(async {
            let read = Rc::new(Cell::new(0usize));
            let (tell, heard) = asyncsim::sync::oneshot::channel();
            let tell = Rc::new(Cell::new(Some(tell)));
            let counted = read.clone();
            let _server = server(move |mut stream| {
                let (read, tell) = (counted.clone(), tell.clone());
                async move {
                    let mut all = Vec::new();
                    let mut buf = [0u8; 700];
                    loop {
                        let want = asyncsim::random_range(1..700usize);
                        let n = stream.read(&mut buf[..want]).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        all.extend_from_slice(&buf[..n]);
                        read.set(read.get() + n);
                        let pause = asyncsim::random_range(0..3u64);
                        asyncsim::time::sleep(Duration::from_millis(pause)).await;
                    }
                    if let Some(tell) = tell.take() {
                        let _ = tell.send(all);
                    }
                }
            });
            let mut stream = connect().await;
            let sent: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
            let (mut written, mut most_ahead, mut partial) = (0, 0, 0);
            let mut rest = &sent[..];
            while !rest.is_empty() {
                let size = asyncsim::random_range(1..3_000usize).min(rest.len());
                let n = stream.write(&rest[..size]).await.unwrap();
                assert!(n > 0, "a write returned 0");
                if n < size {
                    partial += 1;
                }
                written += n;
                rest = &rest[n..];
                let ahead = written - read.get();
                assert!(
                    ahead <= WINDOW,
                    "{ahead} bytes written and not read: over the window of {WINDOW}"
                );
                most_ahead = most_ahead.max(ahead);
            }
            stream.close().await.unwrap();
            let all = heard.await.unwrap();
            assert!(all == sent, "the server read other bytes than were sent");
            (most_ahead, partial)
        });
        let (most_ahead, partial) = run.result.unwrap();
        assert_eq!(most_ahead, WINDOW, "the writer never filled the window");
        assert!(partial > 0, "no write was partial");
        assert!(a_writer_waited(&run.trace), "the writer never waited");
    }
}

/// A writer whose peer never reads sends exactly one window and waits: the
/// run ends in a deadlock whose report names the write and why, instead
/// of a run that never returns.
#[test]
fn a_writer_to_a_peer_that_never_reads_is_named_in_the_deadlock_report() {
    for config in random_and_pct(24) {
        let run = Sim::new(config).run(async {
            let _server = deaf_server();
            let mut stream = connect().await;
            stream.write_all(&[7u8; 50_000]).await.unwrap();
        });
        let failure = run.result.unwrap_err();
        assert_eq!(failure.kind, asyncsim::FailureKind::Deadlock, "{failure}");
        let report = failure.to_string();
        let wait = "write of TcpStream#0 from main:49152 to server:7000: the peer's receive \
                    buffer is full (it has not read what was sent)";
        assert!(report.contains(wait), "no `{wait}` in\n{report}");
        assert_eq!(sent_bytes(&run.trace), WINDOW as u64, "{}", run.trace);
    }
}

/// The default window is Linux's default send and receive buffers (16 KiB
/// and 128 KiB): a writer to a peer that never reads gets that far.
#[test]
fn the_default_window_is_linuxs_default_buffers() {
    let run = Sim::new(asyncsim::Config::new()).run(async {
        let _server = node::Builder::new("server").start(|| async {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            let (_kept, _) = listener.accept().await.unwrap();
            std::future::pending::<()>().await;
        });
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let mut stream = TcpStream::connect("server:7000").await.unwrap();
        assert_eq!(
            (
                stream.send_buffer_size().unwrap(),
                stream.recv_buffer_size().unwrap()
            ),
            (16_384, 131_072)
        );
        stream.write_all(&[7u8; 200_000]).await.unwrap();
    });
    assert_eq!(
        run.result.unwrap_err().kind,
        asyncsim::FailureKind::Deadlock
    );
    assert_eq!(sent_bytes(&run.trace), 16_384 + 131_072);
}

/// The reader's node crashes while the writer waits: the reset reaches the
/// writer a latency later (2 ms), and its write returns `ConnectionReset`
/// then.
#[test]
fn a_crash_of_the_reader_wakes_a_waiting_writer_with_a_reset() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let server = deaf_server();
            let crash_at = 20 + asyncsim::random_range(0..10u64);
            let _crasher = asyncsim::spawn(async move {
                asyncsim::time::sleep(Duration::from_millis(crash_at)).await;
                server.crash();
            });
            let mut stream = connect().await;
            let error = stream.write_all(&[7u8; 50_000]).await.unwrap_err();
            (error.kind(), now_ns(), crash_at)
        });
        let (kind, at, crash_at) = run.result.unwrap();
        assert_eq!(kind, ErrorKind::ConnectionReset, "{}", run.trace);
        assert_eq!(at, (crash_at + 2) * MS, "{}", run.trace);
        assert!(a_writer_waited(&run.trace), "{}", run.trace);
    }
}

/// The link is cut while the writer waits: its probes of the full window
/// go unanswered, so the connection times out after `tcp_timeout` (1 s
/// here) and the write returns `TimedOut`; healed in time, the writer
/// goes on once the reader reads.
#[test]
fn a_partition_while_a_writer_waits_times_it_out_unless_healed() {
    for config in random_and_pct(24) {
        let link = fixed(2).tcp_timeout(Duration::from_secs(1));
        let run = Sim::new(config.net(link)).run(async {
            let _server = deaf_server();
            let _cutter = asyncsim::spawn(async {
                asyncsim::time::sleep(Duration::from_millis(50)).await;
                asyncsim::net::partition("main", "server");
            });
            let mut stream = connect().await;
            let error = stream.write_all(&[7u8; 50_000]).await.unwrap_err();
            (error.kind(), now_ns())
        });
        let (kind, at) = run.result.unwrap();
        assert_eq!(
            (kind, at),
            (ErrorKind::TimedOut, 1_050 * MS),
            "{}",
            run.trace
        );
    }
    for config in random_and_pct(24) {
        let link = fixed(2).tcp_timeout(Duration::from_secs(1));
        let run = Sim::new(config.net(link)).run(async {
            let _server = server(|mut stream| async move {
                asyncsim::time::sleep(Duration::from_millis(600)).await;
                let mut all = Vec::new();
                stream.read_to_end(&mut all).await.unwrap();
                assert_eq!(all.len(), 50_000);
            });
            let _cutter = asyncsim::spawn(async {
                asyncsim::time::sleep(Duration::from_millis(50)).await;
                asyncsim::net::partition("main", "server");
                asyncsim::time::sleep(Duration::from_millis(500)).await;
                asyncsim::net::repair("main", "server");
            });
            let mut stream = connect().await;
            stream.write_all(&[7u8; 50_000]).await.unwrap();
            stream.close().await.unwrap();
        });
        run.result.unwrap();
        assert!(a_writer_waited(&run.trace), "{}", run.trace);
    }
}

/// Only the link back from the reader is cut (its acks and window updates
/// cannot reach the writer) while the writer waits: the reader reads what
/// was sent, but the window cannot reopen, so the writer gets no more room
/// and the connection times out after `tcp_timeout` as across a two-way
/// cut; repaired in time, the window update gets through (the writer is
/// woken) and everything arrives, with no timeout after.
#[test]
fn a_one_way_cut_of_the_readers_acks_times_a_waiting_writer_out_unless_healed() {
    for repair in [false, true] {
        for config in random_and_pct(24) {
            let link = fixed(2).tcp_timeout(Duration::from_secs(1));
            let read = Rc::new(Cell::new(0usize));
            let got = read.clone();
            let run = Sim::new(config.net(link)).run(async move {
                let _server = server(move |mut stream| {
                    let got = got.clone();
                    async move {
                        asyncsim::time::sleep(Duration::from_millis(100)).await;
                        let mut buf = [0u8; 4096];
                        while let Ok(n @ 1..) = stream.read(&mut buf).await {
                            got.set(got.get() + n);
                        }
                    }
                });
                let _cutter = asyncsim::spawn(async move {
                    asyncsim::time::sleep(Duration::from_millis(50)).await;
                    asyncsim::net::partition_oneway("server", "main");
                    if repair {
                        asyncsim::time::sleep(Duration::from_millis(500)).await;
                        asyncsim::net::repair("server", "main");
                    }
                });
                let mut stream = connect().await;
                let written = stream.write_all(&[7u8; 50_000]).await;
                let kind = written.err().map(|error| error.kind());
                let at = now_ns();
                // Long past when a timeout set at the cut would come.
                asyncsim::time::sleep(Duration::from_secs(2)).await;
                (kind, at)
            });
            let (kind, at) = run.result.unwrap();
            let timed_out = run.trace.events().iter().any(|event| {
                matches!(
                    event.kind,
                    EventKind::Net {
                        op: NetOp::TimedOut,
                        ..
                    }
                )
            });
            if repair {
                assert_eq!(kind, None, "{}", run.trace);
                assert_eq!(read.get(), 50_000, "{}", run.trace);
                assert!(!timed_out, "{}", run.trace);
            } else {
                assert_eq!(
                    (kind, at, read.get()),
                    (Some(ErrorKind::TimedOut), 1_050 * MS, WINDOW),
                    "{}",
                    run.trace
                );
                assert!(timed_out, "{}", run.trace);
            }
            assert!(a_writer_waited(&run.trace), "{}", run.trace);
        }
    }
}

/// A write while the reader's acks are cut gets no ack (its room is not
/// given back, though the reader reads it): as Linux retransmits it until
/// it gives up, the connection times out `tcp_timeout` after it unless the
/// link back heals first; a cut with nothing written across it times
/// nothing out.
#[test]
fn a_write_while_the_readers_acks_are_cut_times_out_unless_healed() {
    for (write, repair) in [(true, false), (true, true), (false, false)] {
        for config in random_and_pct(24) {
            let link = fixed(2).tcp_timeout(Duration::from_secs(1));
            let run = Sim::new(config.net(link)).run(async move {
                let _server = server(|mut stream| async move {
                    let mut buf = [0u8; 4096];
                    while let Ok(1..) = stream.read(&mut buf).await {}
                    std::future::pending::<()>().await;
                });
                let mut stream = connect().await;
                asyncsim::time::sleep(Duration::from_millis(50)).await;
                asyncsim::net::partition_oneway("server", "main");
                asyncsim::time::sleep(Duration::from_millis(10)).await;
                if write {
                    stream.write_all(&[7u8; 100]).await.unwrap();
                }
                if repair {
                    asyncsim::time::sleep(Duration::from_millis(500)).await;
                    asyncsim::net::repair("server", "main");
                }
                asyncsim::time::sleep(Duration::from_secs(2)).await;
                stream
                    .write_all(b"late")
                    .await
                    .map_err(|error| error.kind())
            });
            let expected = if write && !repair {
                Err(ErrorKind::TimedOut)
            } else {
                Ok(())
            };
            assert_eq!(run.result.unwrap(), expected, "{}", run.trace);
        }
    }
}

/// Shutting down the write side (from another task) while a write waits
/// fails that write with `BrokenPipe`, as Linux's `shutdown(SHUT_WR)`
/// wakes a blocked `send` with `EPIPE`.
#[test]
fn a_shutdown_fails_a_waiting_write_with_broken_pipe() {
    for config in random_and_pct(24) {
        let run = Sim::new(config).run(async {
            let _server = deaf_server();
            // One stream for two tasks (`Detached` writes through `&self`).
            let stream = Rc::new(Detached::new(connect().await));
            let shutter = stream.clone();
            let shut_at = now_ns() + 20 * MS;
            let _shutter = asyncsim::spawn(async move {
                asyncsim::time::sleep(Duration::from_millis(20)).await;
                shutter.shutdown_write().unwrap();
            });
            let block = [7u8; 50_000];
            let mut written = 0;
            let error = loop {
                match poll_fn(|context| stream.poll_write(context, &block[written..])).await {
                    // (Without flow control the loop would never end.)
                    Ok(0) => panic!("all {written} bytes were taken: the write never waited"),
                    Ok(n) => written += n,
                    Err(error) => break error,
                }
            };
            (error.kind(), now_ns() - shut_at, written)
        });
        let (kind, late, written) = run.result.unwrap();
        assert_eq!(
            (kind, late, written),
            (ErrorKind::BrokenPipe, 0, WINDOW),
            "{}",
            run.trace
        );
    }
}
