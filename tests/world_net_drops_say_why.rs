//! Every dropped datagram is a trace event whose line says why (a loss
//! draw, a full receive buffer, a partition, an isolated node, no socket
//! bound), how many bytes it carried, and from which socket to which.

mod net_support;
mod schedule_support;

use std::time::Duration;

use asyncsim::harness::trace_file;
use asyncsim::net::{self, NetConfig, UdpSocket};
use asyncsim::trace::{DropWhy, Event, EventKind, NetOp, TaskId, TaskInfo, Trace};
use asyncsim::{node, Config, Sim};
use net_support::{drops, fixed, MS};
use schedule_support::random_and_pct;

/// The trace's `net drop` lines, without their time and task columns.
fn drop_lines(trace: &Trace) -> Vec<String> {
    trace
        .to_string()
        .lines()
        .filter_map(|line| line.find("net drop").map(|at| line[at..].to_string()))
        .collect()
}

/// A client on another node sends five datagrams of 3 bytes to a server
/// whose buffer holds two and which reads only after all have arrived:
/// three are dropped, each a `net drop` line naming its size, sender,
/// receiver and the full buffer, recorded at their arrival by the network
/// (no task), not when the server looks.
#[test]
fn a_datagram_arriving_to_a_full_buffer_is_in_the_trace_with_its_reason_and_size() {
    let run = Sim::new(Config::new()).run(async {
        let server = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        server.set_recv_buffer(2);
        node::Builder::new("client").start(|| async {
            let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
            for number in 0..5u8 {
                socket.send_to(&[number; 3], "main:9000").await.unwrap();
            }
            std::future::pending::<()>().await;
            drop(socket);
        });
        asyncsim::time::sleep(Duration::from_secs(1)).await;
        let mut buf = [0u8; 8];
        let (len, _) = server.recv_from(&mut buf).await.unwrap();
        (len, server.dropped_full())
    });
    let (len, dropped) = run.result.unwrap();
    assert_eq!((len, dropped), (3, 3));
    let full = "net drop 3 bytes from UdpSocket#1 (client:5000) to UdpSocket#0 (main:9000): \
                the receiver's buffer was full";
    assert_eq!(drop_lines(&run.trace), vec![full; 3], "{}", run.trace);
    let events: Vec<_> = run
        .trace
        .events()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::NetDrop { why, bytes, .. } => Some((why, bytes, event.task)),
            _ => None,
        })
        .collect();
    // Recorded by no task: the network settled the buffer at the arrival.
    assert_eq!(events, vec![(DropWhy::Full, 3, None); 3]);
    // A trace file keeps them.
    let text = trace_file::to_string(&run.trace);
    assert!(text.contains(r#""kind":"net_drop","why":"full""#), "{text}");
    assert_eq!(trace_file::from_str(&text).unwrap(), run.trace);
}

/// A loss draw, a partition, an isolated node and a port with nobody bound
/// each drop a datagram at its send, and the line says which.
#[test]
fn a_datagram_dropped_at_its_send_says_why() {
    let run = Sim::new(Config::new()).run(async {
        node::Builder::new("server").start(|| async {
            let socket = UdpSocket::bind("0.0.0.0:7000").await.unwrap();
            std::future::pending::<()>().await;
            drop(socket);
        });
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        net::set_link("main", "server", NetConfig::new().loss(1.0));
        socket.send_to(b"a", "server:7000").await.unwrap();
        net::set_link("main", "server", NetConfig::new());
        net::partition("main", "server");
        socket.send_to(b"bb", "server:7000").await.unwrap();
        net::repair("main", "server");
        net::isolate("server");
        socket.send_to(b"ccc", "server:7000").await.unwrap();
        net::rejoin("server");
        socket.send_to(b"dddd", "server:7001").await.unwrap();
    });
    run.result.unwrap();
    let on = "from UdpSocket#1 (main:5000) to UdpSocket#0 (server:7000)";
    assert_eq!(
        drop_lines(&run.trace),
        [
            format!("net drop 1 bytes {on}: lost on its link (a loss draw)"),
            format!("net drop 2 bytes {on}: a partition cuts its link"),
            format!("net drop 3 bytes {on}: its sender's or receiver's node is isolated"),
            "net drop 4 bytes from UdpSocket#1 (main:5000) to server:7001: no socket is bound there"
                .to_string(),
        ],
        "{}",
        run.trace
    );
}

/// A file written before drops said why (a `net` event of operation
/// `drop`) still reads, as that event.
#[test]
fn an_older_files_net_drop_still_reads() {
    let event = Event {
        step: 0,
        time_ns: 0,
        task: Some(TaskId(0)),
        kind: EventKind::Net {
            op: NetOp::Drop,
            socket: 0,
            bytes: 2,
        },
    };
    let task = TaskInfo {
        name: "main".into(),
        parent: None,
        blocking: false,
    };
    let trace = Trace::from_parts(
        vec![event],
        vec![task],
        vec!["UdpSocket#0 (main:5000)".into()],
    );
    let text = trace_file::to_string(&trace).replace(
        &format!("\"version\": {}", trace_file::VERSION),
        "\"version\": 1",
    );
    assert!(text.contains(r#""kind":"net","op":"drop""#), "{text}");
    assert_eq!(trace_file::from_str(&text).unwrap(), trace);
}

/// A socket connected to one peer drops a datagram from another at its
/// arrival, and records it as a drop, saying why.
#[test]
fn a_datagram_from_another_peer_than_the_connected_one_is_a_drop() {
    let run = Sim::new(Config::new()).run(async {
        let inbox = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        let friend = UdpSocket::bind("0.0.0.0:9001").await.unwrap();
        let stranger = UdpSocket::bind("0.0.0.0:9002").await.unwrap();
        inbox.connect("127.0.0.1:9001").await.unwrap();
        stranger.send_to(b"psst", "127.0.0.1:9000").await.unwrap();
        friend.send_to(b"hello", "127.0.0.1:9000").await.unwrap();
        let mut buf = [0u8; 8];
        let len = inbox.recv(&mut buf).await.unwrap();
        buf[..len].to_vec()
    });
    assert_eq!(run.result.unwrap(), b"hello");
    assert_eq!(
        drop_lines(&run.trace),
        [
            "net drop 4 bytes from UdpSocket#2 (main:9002) to UdpSocket#0 (main:9000): \
          its receiver is connected to another peer"
        ],
        "{}",
        run.trace
    );
}

/// A shrunk report names a lost datagram's size and its way, beside the
/// trace's line saying why it was dropped.
#[test]
fn a_lost_datagram_is_named_in_the_report_with_its_size() {
    let link = NetConfig::new()
        .latency(Duration::from_millis(1), Duration::from_millis(1))
        .loss(0.2);
    let explore = asyncsim::Explore::new()
        .runs(200)
        .config(Config::new().net(link));
    let summary = asyncsim::explore(explore, || async {
        node::Builder::new("server").start(|| async {
            let socket = UdpSocket::bind("0.0.0.0:7000").await.unwrap();
            let mut buf = [0u8; 8];
            let (len, from) = socket.recv_from(&mut buf).await.unwrap();
            socket.send_to(&buf[..len], from).await.unwrap();
        });
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        socket.send_to(b"ping", "server:7000").await.unwrap();
        let mut buf = [0u8; 8];
        let reply =
            asyncsim::time::timeout(Duration::from_millis(100), socket.recv_from(&mut buf)).await;
        assert!(reply.is_ok(), "no reply");
    });
    let found = summary.first_failure.expect("no datagram was lost");
    assert_eq!(found.deviations, 1, "{found}");
    let report = found.to_string();
    assert!(
        report.contains("dropped a datagram of 4 bytes main:5000 -> server:7000")
            || report.contains("dropped a datagram of 4 bytes server:7000 -> main:5000"),
        "{report}"
    );
    assert!(
        report.contains("lost on its link (a loss draw)"),
        "{report}"
    );
}

/// Datagram `n` (of `n + 1` bytes) leaves `client` at `n` ms and takes
/// 2 ms; the server's buffer holds two and it reads once, at `k + 0.5` ms
/// (`k` from the seed), then never again. Every datagram that finds the
/// buffer full is a drop recorded at its arrival, by no task, whatever the
/// schedule: the ones the server never looks at again too.
#[test]
fn a_full_buffer_drop_is_recorded_at_its_arrival_even_if_the_receiver_never_reads_again() {
    for (index, config) in random_and_pct(24).enumerate() {
        let read_at_ns = (index as u64 % 8) * MS + MS / 2;
        let run = Sim::new(config.net(fixed(2))).run(async move {
            let server = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
            server.set_recv_buffer(2);
            node::Builder::new("client").start(|| async {
                let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
                for n in 0..6u8 {
                    socket
                        .send_to(&vec![n; usize::from(n) + 1], "main:9000")
                        .await
                        .unwrap();
                    asyncsim::time::sleep(Duration::from_millis(1)).await;
                }
                std::future::pending::<()>().await;
                drop(socket);
            });
            asyncsim::time::sleep_until(asyncsim::time::Instant::from_nanos(read_at_ns)).await;
            let mut buf = [0u8; 8];
            let (len, _) = server.recv_from(&mut buf).await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(50)).await;
            // Kept to the end: its close is the run's end, not recorded.
            (len, server)
        });
        let (len, _server) = run.result.unwrap();
        // The model: arrivals at n + 2 ms, one read at `read_at_ns` (or at
        // the first arrival after it, if none is buffered then).
        let (mut buffered, mut reading, mut read) = (Vec::new(), false, None);
        let mut expected = Vec::new();
        for n in 0..6u64 {
            let arrival_ns = (n + 2) * MS;
            if read.is_none() && !reading && read_at_ns < arrival_ns {
                if buffered.is_empty() {
                    reading = true;
                } else {
                    read = Some(buffered.remove(0));
                }
            }
            if reading {
                reading = false;
                read = Some(n);
            } else if buffered.len() < 2 {
                buffered.push(n);
            } else {
                expected.push((arrival_ns, None, DropWhy::Full, n as u32 + 1));
            }
        }
        let read = read.unwrap_or_else(|| buffered[0]);
        assert_eq!(len, read as usize + 1, "{}", run.trace);
        assert_eq!(
            drops(&run.trace),
            expected,
            "read at {read_at_ns}\n{}",
            run.trace
        );
    }
}

/// A socket closed (dropped) at 4 ms with two datagrams buffered and two on
/// their way records each as a drop at the close, saying so; a socket bound
/// again on its port gets none of them.
#[test]
fn a_socket_closed_with_datagrams_buffered_or_on_their_way_records_them() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let server = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
            node::Builder::new("client").start(|| async {
                let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
                for n in 1..=2u8 {
                    socket
                        .send_to(&vec![n; usize::from(n)], "main:9000")
                        .await
                        .unwrap();
                }
                asyncsim::time::sleep(Duration::from_millis(3)).await;
                for n in 3..=4u8 {
                    socket
                        .send_to(&vec![n; usize::from(n)], "main:9000")
                        .await
                        .unwrap();
                }
                std::future::pending::<()>().await;
                drop(socket);
            });
            asyncsim::time::sleep(Duration::from_millis(4)).await;
            drop(server);
            let again = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
            let mut buf = [0u8; 8];
            let got =
                asyncsim::time::timeout(Duration::from_millis(10), again.recv_from(&mut buf)).await;
            got.is_err()
        });
        assert!(
            run.result.unwrap(),
            "a new socket got a datagram of the closed one"
        );
        let expected: Vec<_> = (1..=4)
            .map(|n| (4 * MS, None, DropWhy::Closed, n))
            .collect();
        assert_eq!(drops(&run.trace), expected, "{}", run.trace);
    }
    let run = Sim::new(Config::new().net(fixed(2))).run(async {
        let server = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        let client = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        client.send_to(b"abc", "127.0.0.1:9000").await.unwrap();
        drop(server);
        asyncsim::task::yield_now().await;
    });
    run.result.unwrap();
    assert_eq!(
        drop_lines(&run.trace),
        [
            "net drop 3 bytes from UdpSocket#1 (main:5000) to UdpSocket#0 (main:9000): \
          its receiving socket was closed"
        ],
        "{}",
        run.trace
    );
}

/// A node that crashes with three datagrams buffered and two on their way
/// loses all five: each a drop at the crash, recorded by the task that
/// crashed it, saying so.
#[test]
fn a_node_crash_with_datagrams_buffered_or_on_their_way_records_them() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let server = node::Builder::new("server").start(|| async {
                let socket = UdpSocket::bind("0.0.0.0:7000").await.unwrap();
                std::future::pending::<()>().await;
                drop(socket);
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
            for n in 1..=3u8 {
                socket
                    .send_to(&vec![n; usize::from(n)], "server:7000")
                    .await
                    .unwrap();
            }
            asyncsim::time::sleep(Duration::from_millis(3)).await;
            for n in 4..=5u8 {
                socket
                    .send_to(&vec![n; usize::from(n)], "server:7000")
                    .await
                    .unwrap();
            }
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            server.crash();
            asyncsim::time::sleep(Duration::from_millis(10)).await;
        });
        run.result.unwrap();
        let expected: Vec<_> = (1..=5)
            .map(|n| (5 * MS, Some(TaskId(0)), DropWhy::Crashed, n))
            .collect();
        assert_eq!(drops(&run.trace), expected, "{}", run.trace);
    }
    let run = Sim::new(Config::new().net(fixed(2))).run(async {
        let server = node::Builder::new("server").start(|| async {
            let socket = UdpSocket::bind("0.0.0.0:7000").await.unwrap();
            std::future::pending::<()>().await;
            drop(socket);
        });
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        socket.send_to(b"xy", "server:7000").await.unwrap();
        server.crash();
    });
    run.result.unwrap();
    assert_eq!(
        drop_lines(&run.trace),
        [
            "net drop 2 bytes from UdpSocket#1 (main:5000) to UdpSocket#0 (server:7000): \
          its receiver's node crashed"
        ],
        "{}",
        run.trace
    );
}

/// What is still buffered or on its way when the run ends (the main future
/// returned, its sockets and every other task's dropped with it) is not a
/// drop: the run's end is no event of the run.
#[test]
fn datagrams_left_when_the_run_ends_are_not_drops() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            node::Builder::new("server").start(|| async {
                let socket = UdpSocket::bind("0.0.0.0:7000").await.unwrap();
                std::future::pending::<()>().await;
                drop(socket);
            });
            let inbox = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
            inbox.set_recv_buffer(1);
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
            socket.send_to(b"buffered", "server:7000").await.unwrap();
            socket.send_to(b"x", "127.0.0.1:9000").await.unwrap();
            socket.send_to(b"y", "127.0.0.1:9000").await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(3)).await;
            socket.send_to(b"on its way", "server:7000").await.unwrap();
        });
        run.result.unwrap();
        // `y` found `inbox`'s buffer of one full: the one drop.
        assert_eq!(
            drops(&run.trace),
            [(MS + 10_000, None, DropWhy::Full, 1)],
            "{}",
            run.trace
        );
    }
}

/// A stream's bytes that its receiving end never read are lost when that
/// end's node crashes (arrived or on their way, one drop of their count, at
/// the crash, by the crashing task) or when that end is dropped (at the
/// step boundary after the drop, by no task); a stream left unread when the
/// run ends records nothing.
#[test]
fn a_streams_unread_bytes_are_dropped_at_a_crash_or_a_close_and_not_at_the_runs_end() {
    use asyncsim::net::{TcpListener, TcpStream};
    use futures::AsyncWriteExt;
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let server = node::Builder::new("server").start(|| async {
                let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                let (stream, _) = listener.accept().await.unwrap();
                std::future::pending::<()>().await;
                drop((listener, stream));
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:6000").await.unwrap();
            stream.write_all(b"hello").await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(3)).await;
            stream.write_all(b"abc").await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let crashed_ns = asyncsim::time::Instant::now().as_nanos();
            server.crash();
            asyncsim::time::sleep(Duration::from_millis(10)).await;
            crashed_ns
        });
        let crashed_ns = run.result.unwrap();
        assert_eq!(
            drops(&run.trace),
            [(crashed_ns, Some(TaskId(0)), DropWhy::Crashed, 8)],
            "{}",
            run.trace
        );
        assert_eq!(
            drop_lines(&run.trace),
            [
                "net drop 8 bytes from TcpStream#0 (main:49152 -> server:6000) to \
              TcpStream#1 (server:6000 -> main:49152): its receiver's node crashed"
            ],
        );
    }
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
            let mut client = TcpStream::connect("127.0.0.1:6000").await.unwrap();
            let (unread, _) = listener.accept().await.unwrap();
            let (left, _) = {
                let mut other = TcpStream::connect("127.0.0.1:6000").await.unwrap();
                other.write_all(b"left for the end").await.unwrap();
                (listener.accept().await.unwrap(), other)
            };
            client.write_all(b"never read").await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let closed_ns = asyncsim::time::Instant::now().as_nanos();
            drop(unread);
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            // `left`'s 16 unread bytes are lost with the run's end: no drop.
            (closed_ns, left, client)
        });
        let (closed_ns, _, _) = run.result.unwrap();
        assert_eq!(
            drops(&run.trace),
            [(closed_ns, None, DropWhy::Closed, 10)],
            "{}",
            run.trace
        );
    }
}

/// Bytes already read are not lost at a crash: only the rest of what
/// arrived, and what is on its way, is one drop.
#[test]
fn a_streams_drop_at_a_crash_counts_only_the_bytes_not_yet_read() {
    use asyncsim::net::{TcpListener, TcpStream};
    use futures::{AsyncReadExt, AsyncWriteExt};
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let server = node::Builder::new("server").start(|| async {
                let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut three = [0u8; 3];
                stream.read_exact(&mut three).await.unwrap();
                assert_eq!(&three, b"hel");
                std::future::pending::<()>().await;
                drop((listener, stream));
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:6000").await.unwrap();
            stream.write_all(b"hello").await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(3)).await;
            stream.write_all(b"abc").await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let crashed_ns = asyncsim::time::Instant::now().as_nanos();
            server.crash();
            asyncsim::time::sleep(Duration::from_millis(10)).await;
            crashed_ns
        });
        let crashed_ns = run.result.unwrap();
        assert_eq!(
            drops(&run.trace),
            [(crashed_ns, Some(TaskId(0)), DropWhy::Crashed, 5)],
            "{}",
            run.trace
        );
    }
}

/// Bytes sent on a stream its server never accepted are lost once, at the
/// crash of the listener's node: one drop (the crash closes the stream's
/// end and the listener's backlog, and the bytes are counted once).
#[test]
fn a_crash_drops_the_bytes_of_a_stream_in_the_backlog_once() {
    use asyncsim::net::{TcpListener, TcpStream};
    use futures::AsyncWriteExt;
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let server = node::Builder::new("server").start(|| async {
                let _listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                std::future::pending::<()>().await;
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:6000").await.unwrap();
            stream.write_all(b"hello").await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(5)).await;
            let crashed_ns = asyncsim::time::Instant::now().as_nanos();
            server.crash();
            asyncsim::time::sleep(Duration::from_millis(10)).await;
            crashed_ns
        });
        let crashed_ns = run.result.unwrap();
        assert_eq!(
            drops(&run.trace),
            [(crashed_ns, Some(TaskId(0)), DropWhy::Crashed, 5)],
            "{}",
            run.trace
        );
    }
}

/// Bytes a stream's end had not read when the reset from its crashed
/// peer's node reaches it can never be read (a read sees the reset first):
/// one drop of their count at the reset's arrival, by no task, even though
/// nobody reads again; what was read before is not in it.
#[test]
fn a_streams_bytes_unread_when_a_reset_arrives_are_dropped_then() {
    use asyncsim::net::{TcpListener, TcpStream};
    use futures::{AsyncReadExt, AsyncWriteExt};
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let server = node::Builder::new("server").start(|| async {
                let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                let (mut stream, _) = listener.accept().await.unwrap();
                stream.write_all(b"early").await.unwrap();
                asyncsim::time::sleep(Duration::from_millis(1)).await;
                stream.write_all(b"late").await.unwrap();
                std::future::pending::<()>().await;
                drop((listener, stream));
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:6000").await.unwrap();
            let mut early = [0u8; 5];
            stream.read_exact(&mut early).await.unwrap();
            asyncsim::time::sleep(Duration::from_micros(500)).await;
            let crashed_ns = asyncsim::time::Instant::now().as_nanos();
            server.crash();
            asyncsim::time::sleep(Duration::from_millis(20)).await;
            (crashed_ns, early, stream)
        });
        let (crashed_ns, early, _stream) = run.result.unwrap();
        assert_eq!(&early, b"early");
        assert_eq!(
            drops(&run.trace),
            [(crashed_ns + 2 * MS, None, DropWhy::Reset, 4)],
            "{}",
            run.trace
        );
        assert_eq!(
            drop_lines(&run.trace),
            [
                "net drop 4 bytes from TcpStream#1 (server:6000 -> main:49152) to \
              TcpStream#0 (main:49152 -> server:6000): the connection was reset before it was read"
            ],
        );
    }
}

/// A cut that outlives `tcp_timeout` fails the end whose bytes it holds:
/// those bytes, which it gives up on, are one drop at its timeout (from it
/// to its peer), by no task. The idle peer is not failed (as on Linux): what
/// it had not read (delivered before the cut) is not lost. A repair in time
/// drops nothing.
#[test]
fn a_streams_bytes_held_when_its_sender_times_out_are_dropped_then() {
    use asyncsim::net::{TcpListener, TcpStream};
    use futures::AsyncWriteExt;
    let link = fixed(2).tcp_timeout(Duration::from_millis(100));
    for repair in [false, true] {
        for config in random_and_pct(24) {
            let run = Sim::new(config.net(link.clone())).run(async move {
                node::Builder::new("server").start(|| async {
                    let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                    let (stream, _) = listener.accept().await.unwrap();
                    std::future::pending::<()>().await;
                    drop((listener, stream));
                });
                asyncsim::time::sleep(Duration::from_millis(1)).await;
                let mut stream = TcpStream::connect("server:6000").await.unwrap();
                stream.write_all(b"abc").await.unwrap();
                asyncsim::time::sleep(Duration::from_millis(5)).await;
                net::partition("main", "server");
                let cut_ns = asyncsim::time::Instant::now().as_nanos();
                stream.write_all(b"de").await.unwrap();
                if repair {
                    asyncsim::time::sleep(Duration::from_millis(50)).await;
                    net::repair("main", "server");
                }
                asyncsim::time::sleep(Duration::from_millis(200)).await;
                (cut_ns, stream)
            });
            let (cut_ns, _stream) = run.result.unwrap();
            let expected = if repair {
                vec![]
            } else {
                vec![(cut_ns + 100 * MS, None, DropWhy::TimedOut, 2)]
            };
            assert_eq!(drops(&run.trace), expected, "{}", run.trace);
            if !repair {
                assert_eq!(
                    drop_lines(&run.trace),
                    [
                        "net drop 2 bytes from TcpStream#0 (main:49152 -> server:6000) to \
                         TcpStream#1 (server:6000 -> main:49152): the connection timed out \
                         before it was read"
                    ],
                );
            }
        }
    }
}

/// A failure's report names a drop that was no draw (a full buffer's) in
/// its trace line's words: in its timeline's fault notes, found in every
/// schedule.
#[test]
fn a_full_buffer_drop_is_named_in_the_failure_report() {
    let summary = asyncsim::explore(asyncsim::Explore::new().runs(20), || async {
        let inbox = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        inbox.set_recv_buffer(1);
        let outbox = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        outbox.send_to(b"a", "127.0.0.1:9000").await.unwrap();
        outbox.send_to(b"b", "127.0.0.1:9000").await.unwrap();
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let mut got = 0;
        let mut buf = [0u8; 4];
        while let Ok(Ok(_)) =
            asyncsim::time::timeout(Duration::from_millis(1), inbox.recv_from(&mut buf)).await
        {
            got += 1;
        }
        assert_eq!(got, 2, "a datagram went missing");
    });
    let found = summary
        .first_failure
        .expect("the full buffer never dropped");
    let report = found.to_string();
    assert!(
        report.contains(
            "net drop 1 bytes from UdpSocket#1 (main:5000) to UdpSocket#0 (main:9000): \
             the receiver's buffer was full"
        ),
        "{report}"
    );
}

/// A write to a stream whose peer end is gone (dropped: its FIN has come,
/// which only ends the reading; or its node crashed, the reset still on its
/// way) succeeds, as a real send buffer takes it, and is a drop at once, by
/// the writing task.
#[test]
fn a_write_to_a_peer_end_that_is_gone_is_a_drop_at_the_write() {
    use asyncsim::net::{TcpListener, TcpStream};
    use futures::AsyncWriteExt;
    for crash in [false, true] {
        for config in random_and_pct(24) {
            let run = Sim::new(config.net(fixed(2))).run(async move {
                let server = node::Builder::new("server").start(move || async move {
                    let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                    let (stream, _) = listener.accept().await.unwrap();
                    asyncsim::time::sleep(Duration::from_millis(10)).await;
                    if !crash {
                        drop(stream);
                    }
                    std::future::pending::<()>().await;
                    drop(listener);
                });
                let mut stream = TcpStream::connect("server:6000").await.unwrap();
                asyncsim::time::sleep(Duration::from_millis(15)).await;
                if crash {
                    server.crash();
                }
                let wrote_ns = asyncsim::time::Instant::now().as_nanos();
                stream.write_all(b"gone").await.unwrap();
                asyncsim::time::sleep(Duration::from_millis(10)).await;
                (wrote_ns, stream)
            });
            let (wrote_ns, _stream) = run.result.unwrap();
            let why = if crash {
                DropWhy::Crashed
            } else {
                DropWhy::Closed
            };
            assert_eq!(
                drops(&run.trace),
                [(wrote_ns, Some(TaskId(0)), why, 4)],
                "{}",
                run.trace
            );
        }
    }
}

/// Cut one way (main -> server), a stream's held bytes time main's end out,
/// and the server's reply, which gets there but whose ack cannot come back,
/// times out the server's end in its turn; what the server sent the other
/// way after the cut and main never read is lost at main's timeout with
/// main's held bytes: two drops at that timeout, one each way. A repair in
/// time: none, and the server's bytes are read.
#[test]
fn a_one_way_cut_that_times_a_stream_out_drops_what_came_the_other_way_unread() {
    use asyncsim::net::{TcpListener, TcpStream};
    use futures::{AsyncReadExt, AsyncWriteExt};
    let link = fixed(2).tcp_timeout(Duration::from_millis(100));
    for repair in [false, true] {
        for config in random_and_pct(24) {
            let run = Sim::new(config.net(link.clone())).run(async move {
                node::Builder::new("server").start(|| async {
                    let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                    let (mut stream, _) = listener.accept().await.unwrap();
                    asyncsim::time::sleep(Duration::from_millis(20)).await;
                    let _ = stream.write_all(b"reply").await;
                    std::future::pending::<()>().await;
                    drop((listener, stream));
                });
                asyncsim::time::sleep(Duration::from_millis(1)).await;
                let mut stream = TcpStream::connect("server:6000").await.unwrap();
                net::partition_oneway("main", "server");
                let cut_ns = asyncsim::time::Instant::now().as_nanos();
                stream.write_all(b"held").await.unwrap();
                let mut reply = Vec::new();
                if repair {
                    asyncsim::time::sleep(Duration::from_millis(50)).await;
                    net::repair("main", "server");
                    let mut buf = [0u8; 5];
                    stream.read_exact(&mut buf).await.unwrap();
                    reply.extend_from_slice(&buf);
                }
                asyncsim::time::sleep(Duration::from_millis(200)).await;
                (cut_ns, reply, stream)
            });
            let (cut_ns, reply, _stream) = run.result.unwrap();
            if repair {
                assert_eq!(reply, b"reply");
                assert_eq!(drops(&run.trace), [], "{}", run.trace);
            } else {
                let timeout_ns = cut_ns + 100 * MS;
                let mut got = drops(&run.trace);
                got.sort_by_key(|drop| drop.3);
                assert_eq!(
                    got,
                    [
                        (timeout_ns, None, DropWhy::TimedOut, 4),
                        (timeout_ns, None, DropWhy::TimedOut, 5)
                    ],
                    "{}",
                    run.trace
                );
            }
        }
    }
}
