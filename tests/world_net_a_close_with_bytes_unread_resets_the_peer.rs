//! A stream closed (dropped) with bytes arrived and unread sends a reset
//! instead of a FIN, as Linux's `close` does: the peer reads every byte the
//! closer sent before it, then gets `ConnectionReset` (not EOF); its writes
//! fail with `ConnectionReset` from the reset's arrival (once: the first
//! read or write to get it takes it, then reads are EOF and writes
//! `BrokenPipe`, as on Linux); the reset is a
//! `net reset` on the peer's end at its arrival. A shutdown (`close()`)
//! still sends a FIN; a drop after it, with bytes unread, the reset: the
//! peer's reads then say EOF (the FIN came first) and its writes fail with
//! `BrokenPipe` (Linux's `EPIPE` for a reset after the FIN). A stream
//! closed with everything read sends a FIN; a write to it after is
//! accepted, reaches the closed end and is answered with a reset: the next
//! write fails with `BrokenPipe`. Across a cut the reset is lost (with
//! what the cut held): the peer learns of the close from its next write.

mod net_support;
mod schedule_support;

use std::time::Duration;

use asyncsim::net::{self, TcpListener, TcpStream};
use asyncsim::trace::{DropWhy, NetOp};
use asyncsim::{node, Sim};
use futures::{AsyncReadExt, AsyncWriteExt};
use net_support::{drops, fixed, net_events, now_ns, MS};
use schedule_support::random_and_pct;

/// How the server ends its stream once the request has arrived.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Ending {
    /// Reads the request, replies, drops the stream.
    ReadThenDrop,
    /// Replies and drops the stream, the request unread.
    Drop,
    /// Replies, shuts its write side down (`close()`), waits, then drops
    /// the stream, the request unread.
    ShutdownThenDrop,
}

/// A server on `server:7000` that accepts one connection, waits until the
/// client's 7-byte request has arrived, replies `reply` and ends as told;
/// it returns when it dropped its stream, at that time.
fn start_server(ending: Ending) {
    node::Builder::new("server").start(move || async move {
        let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
        let (mut stream, _) = listener.accept().await.unwrap();
        // (Long after the request arrived: it waits unread.)
        asyncsim::time::sleep(Duration::from_millis(20)).await;
        if ending == Ending::ReadThenDrop {
            let mut request = [0u8; 7];
            stream.read_exact(&mut request).await.unwrap();
        }
        stream.write_all(b"reply").await.unwrap();
        if ending == Ending::ShutdownThenDrop {
            stream.close().await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(20)).await;
        }
        asyncsim::trace::mark(format!("dropped at {}", now_ns()));
        drop(stream);
        std::future::pending::<()>().await;
    });
}

/// What the client saw: its reads until one failed or gave 0 (each read's
/// bytes or error kind), then, 10 ms later, a write's result and another
/// read's.
async fn client() -> (
    Vec<Result<Vec<u8>, std::io::ErrorKind>>,
    Result<usize, std::io::ErrorKind>,
    Result<usize, std::io::ErrorKind>,
) {
    asyncsim::time::sleep(Duration::from_millis(1)).await;
    let mut stream = TcpStream::connect("server:7000").await.unwrap();
    stream.write_all(b"request").await.unwrap();
    let mut reads = Vec::new();
    loop {
        let mut buf = [0u8; 16];
        match stream.read(&mut buf).await {
            Ok(0) => {
                reads.push(Ok(Vec::new()));
                break;
            }
            Ok(n) => reads.push(Ok(buf[..n].to_vec())),
            Err(error) => {
                reads.push(Err(error.kind()));
                break;
            }
        }
    }
    asyncsim::time::sleep(Duration::from_millis(10)).await;
    let write = stream.write(b"more").await.map_err(|e| e.kind());
    let mut buf = [0u8; 16];
    let read = stream.read(&mut buf).await.map_err(|e| e.kind());
    KEPT.with(|kept| *kept.borrow_mut() = Some(stream));
    (reads, write, read)
}

/// The time of the server's drop, from its mark.
fn dropped_at(trace: &asyncsim::trace::Trace) -> u64 {
    trace
        .marks()
        .find_map(|mark| mark.strip_prefix("dropped at ")?.parse().ok())
        .unwrap_or_else(|| panic!("no drop mark: {trace}"))
}

/// The server drops its stream with the request unread: the client reads
/// the whole reply (sent just before the drop, arriving with the reset),
/// then `ConnectionReset`, not EOF, once: a later write fails with
/// `BrokenPipe`, a later read is EOF (the reset taken, as on Linux);
/// the reset is recorded once, on the client's end, at its arrival (the
/// drop plus one latency, by the network).
#[test]
fn a_drop_with_bytes_unread_resets_the_peer_after_the_bytes_it_sent() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            start_server(Ending::Drop);
            client().await
        });
        let (reads, write, read) = run.result.clone().unwrap();
        let reset = std::io::ErrorKind::ConnectionReset;
        // The read took the reset (Linux reports it once): the write after
        // it is `BrokenPipe`, the read after that EOF.
        assert_eq!(
            (reads, write, read),
            (
                vec![Ok(b"reply".to_vec()), Err(reset)],
                Err(std::io::ErrorKind::BrokenPipe),
                Ok(0)
            ),
            "{}",
            run.trace
        );
        let resets = net_events(&run.trace, |op| op == NetOp::Reset);
        assert_eq!(
            resets,
            [(
                NetOp::Reset,
                dropped_at(&run.trace) + 2 * MS,
                None,
                "TcpStream#0 (main:49152 -> server:7000)".to_string()
            )],
            "{}",
            run.trace
        );
    }
}

/// A server that read what it was sent closes with a FIN: the client reads
/// the reply, then EOF, and its later write is accepted (and lost); it
/// reaches the closed end, which answers it with a reset (a round trip
/// later, recorded then), so the client's next write fails with
/// `BrokenPipe` while its reads stay at EOF, as on Linux.
#[test]
fn a_drop_with_everything_read_sends_a_fin_and_a_write_after_it_is_answered_with_a_reset() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            start_server(Ending::ReadThenDrop);
            let (reads, first, read) = client().await;
            let written_at = now_ns();
            // Past the reset's arrival (the write's latency and the reset's).
            asyncsim::time::sleep(Duration::from_millis(10)).await;
            let second = stream_write_again().await;
            (reads, first, read, second, written_at)
        });
        let (reads, first, read, second, written_at) = run.result.clone().unwrap();
        assert_eq!(
            (reads, first, read, second),
            (
                vec![Ok(b"reply".to_vec()), Ok(Vec::new())],
                Ok(4),
                Ok(0),
                (Err(std::io::ErrorKind::BrokenPipe), Ok(0))
            ),
            "{}",
            run.trace
        );
        let resets = net_events(&run.trace, |op| op == NetOp::Reset);
        assert_eq!(resets.len(), 1, "{}", run.trace);
        assert_eq!(resets[0].1, written_at + 4 * MS, "{}", run.trace);
    }
}

thread_local! {
    /// The client's stream, kept by [`client`] for a later look.
    static KEPT: std::cell::RefCell<Option<TcpStream>> = const { std::cell::RefCell::new(None) };
}

/// Writes and reads once more on the stream [`client`] kept.
async fn stream_write_again() -> (
    Result<usize, std::io::ErrorKind>,
    Result<usize, std::io::ErrorKind>,
) {
    let mut stream = KEPT.with(|kept| kept.borrow_mut().take()).expect("kept");
    let write = stream.write(b"again").await.map_err(|e| e.kind());
    let mut buf = [0u8; 8];
    let read = stream.read(&mut buf).await.map_err(|e| e.kind());
    (write, read)
}

/// A shutdown sends a FIN whatever is unread (Linux's `shutdown(SHUT_WR)`):
/// the client reads the reply, then EOF; the drop after it, the request
/// still unread, sends the reset: the client's write then fails with
/// `BrokenPipe` (Linux's `EPIPE` for a reset in CLOSE_WAIT) while its reads
/// still say EOF (the FIN came first, and Linux's read looks at it before
/// the error).
#[test]
fn a_drop_after_a_shutdown_with_bytes_unread_fails_the_peers_writes_not_its_reads() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            start_server(Ending::ShutdownThenDrop);
            let mut stream = {
                asyncsim::time::sleep(Duration::from_millis(1)).await;
                TcpStream::connect("server:7000").await.unwrap()
            };
            stream.write_all(b"request").await.unwrap();
            let mut reply = Vec::new();
            stream.read_to_end(&mut reply).await.unwrap();
            // Past the drop (20 ms after the FIN) and its reset's arrival.
            asyncsim::time::sleep(Duration::from_millis(30)).await;
            let write = stream.write(b"more").await.map_err(|e| e.kind());
            let mut buf = [0u8; 4];
            let read = stream.read(&mut buf).await.map_err(|e| e.kind());
            (reply, write, read)
        });
        assert_eq!(
            run.result.clone().unwrap(),
            (
                b"reply".to_vec(),
                Err(std::io::ErrorKind::BrokenPipe),
                Ok(0)
            ),
            "{}",
            run.trace
        );
        let resets = net_events(&run.trace, |op| op == NetOp::Reset);
        assert_eq!(resets.len(), 1, "{}", run.trace);
        assert_eq!(resets[0].1, dropped_at(&run.trace) + 2 * MS);
    }
}

/// Across a partition the reset is lost, and so is the reply the cut held
/// before it: Linux sends an RST once, never retransmitted, and its
/// abortive close purges the socket's write queue. Nothing reaches the
/// client at the repair (its read waits); its next write, after the repair,
/// reaches the closed end and is answered with a reset, which its read gets.
/// The loss is one drop, from the server's end to the client's, at the
/// close: the reply's 5 bytes, "a partition cuts its link" (beside the
/// request's, unread, lost with the closed end).
#[test]
fn a_close_reset_across_a_cut_is_lost_and_the_peer_learns_from_its_next_write() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            start_server(Ending::Drop);
            drop(asyncsim::spawn(async {
                // The request has arrived (at 7 ms: the connect's round
                // trip from 1 ms, then 2 ms); the server replies and drops
                // at 23 ms.
                asyncsim::time::sleep(Duration::from_millis(10)).await;
                net::partition("main", "server");
                asyncsim::time::sleep(Duration::from_millis(40)).await;
                net::repair("main", "server");
            }));
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:7000").await.unwrap();
            stream.write_all(b"request").await.unwrap();
            asyncsim::time::sleep_until(asyncsim::time::Instant::from_nanos(60 * MS)).await;
            let mut buf = [0u8; 16];
            let waited = asyncsim::time::timeout(Duration::from_millis(10), stream.read(&mut buf))
                .await
                .is_err();
            // At 70 ms: arrives at 72 ms, answered with a reset at 74 ms.
            let write = stream.write(b"more").await.map_err(|e| e.kind());
            let read = stream.read(&mut buf).await.map_err(|e| e.kind());
            (waited, write, read, now_ns())
        });
        assert_eq!(
            run.result.clone().unwrap(),
            (
                true,
                Ok(4),
                Err(std::io::ErrorKind::ConnectionReset),
                74 * MS
            ),
            "{}",
            run.trace
        );
        let resets = net_events(&run.trace, |op| op == NetOp::Reset);
        assert_eq!(resets.len(), 1, "{}", run.trace);
        assert_eq!(resets[0].1, 74 * MS, "{}", run.trace);
        let lost: Vec<_> = drops(&run.trace)
            .into_iter()
            .map(|(at, _, why, bytes)| (at, why, bytes))
            .collect();
        assert_eq!(
            lost,
            [
                (dropped_at(&run.trace), DropWhy::Partition, 5),
                (dropped_at(&run.trace), DropWhy::Closed, 7),
                (70 * MS, DropWhy::Closed, 4)
            ],
            "{}",
            run.trace
        );
    }
}

/// The reset alone (nothing held before it) is lost the same way, a drop of
/// 0 bytes: a client that writes across the cut gets no answer and times
/// out after `tcp_timeout`, as toward an end that gave up; no reset ever
/// reaches it.
#[test]
fn a_peer_writing_across_the_cut_after_a_lost_close_reset_times_out() {
    for config in random_and_pct(24) {
        let link = fixed(2).tcp_timeout(Duration::from_millis(40));
        let run = Sim::new(config.net(link)).run(async {
            node::Builder::new("server").start(|| async {
                let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
                let (stream, _) = listener.accept().await.unwrap();
                // The request arrived at 7 ms, unread.
                asyncsim::time::sleep_until(asyncsim::time::Instant::from_nanos(20 * MS)).await;
                drop(stream);
                std::future::pending::<()>().await;
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:7000").await.unwrap();
            stream.write_all(b"request").await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(5)).await;
            net::partition("main", "server");
            // After the server's drop, across the cut: no answer.
            asyncsim::time::sleep_until(asyncsim::time::Instant::from_nanos(30 * MS)).await;
            let write = stream.write(b"more").await.map_err(|e| e.kind());
            let mut buf = [0u8; 16];
            let read = stream.read(&mut buf).await.map_err(|e| e.kind());
            let failed_at = now_ns();
            net::repair("main", "server");
            asyncsim::time::sleep(Duration::from_millis(10)).await;
            (write, read, failed_at)
        });
        assert_eq!(
            run.result.clone().unwrap(),
            (Ok(4), Err(std::io::ErrorKind::TimedOut), 70 * MS),
            "{}",
            run.trace
        );
        assert!(
            net_events(&run.trace, |op| op == NetOp::Reset).is_empty(),
            "{}",
            run.trace
        );
        let lost: Vec<_> = drops(&run.trace)
            .into_iter()
            .map(|(at, _, why, bytes)| (at, why, bytes))
            .collect();
        assert_eq!(
            lost,
            [
                (20 * MS, DropWhy::Partition, 0),
                (20 * MS, DropWhy::Closed, 7),
                (30 * MS, DropWhy::Closed, 4)
            ],
            "{}",
            run.trace
        );
    }
}

/// Bytes still on their way to a stream when it is dropped (none arrived
/// unread: a FIN goes) are answered with a reset when the first arrives at
/// the closed end, as Linux answers data for a socket it closed: the peer
/// reads EOF (the FIN came first), and its writes after the reset's
/// arrival fail with `BrokenPipe`.
#[test]
fn bytes_on_their_way_to_a_dropped_stream_are_answered_with_a_reset() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            node::Builder::new("server").start(|| async {
                let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut request = [0u8; 7];
                stream.read_exact(&mut request).await.unwrap();
                asyncsim::time::sleep_until(asyncsim::time::Instant::from_nanos(30 * MS)).await;
                drop(stream);
                std::future::pending::<()>().await;
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:7000").await.unwrap();
            stream.write_all(b"request").await.unwrap();
            // Arrives at 31 ms, after the server's drop at 30 ms.
            asyncsim::time::sleep_until(asyncsim::time::Instant::from_nanos(29 * MS)).await;
            stream.write_all(b"late").await.unwrap();
            let mut buf = [0u8; 8];
            let eof = stream.read(&mut buf).await.map_err(|e| e.kind());
            let eof_at = now_ns();
            asyncsim::time::sleep_until(asyncsim::time::Instant::from_nanos(40 * MS)).await;
            let write = stream.write(b"more").await.map_err(|e| e.kind());
            (eof, eof_at, write)
        });
        assert_eq!(
            run.result.clone().unwrap(),
            (Ok(0), 32 * MS, Err(std::io::ErrorKind::BrokenPipe)),
            "{}",
            run.trace
        );
        let resets = net_events(&run.trace, |op| op == NetOp::Reset);
        assert_eq!(resets.len(), 1, "{}", run.trace);
        assert_eq!(resets[0].1, 33 * MS, "{}", run.trace);
    }
}
