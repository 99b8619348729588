//! Many tasks may wait on one socket through the face, as tokio allows:
//! `readable()` from two tasks on a shared `TcpStream`, `readable()` in one
//! task while another peeks and reads, `accept` from two tasks on one
//! `TcpListener`, `recv_from` from two tasks on one `UdpSocket`; each is
//! woken by what arrives, in every schedule. `ready(Interest::ERROR)`
//! resolves once the connection's reset has come, `ready(Interest::PRIORITY)`
//! at the peer's EOF (`READ_CLOSED`: the world has no out-of-band data). A
//! `readable()` dropped while it waits leaves no stale wake behind it. An
//! in-memory `unix::pipe` wakes every task waiting on its reading end too.

#[path = "../../../tests/schedule_support/mod.rs"]
mod schedule_support;

use std::sync::Arc;
use std::time::Duration;

use asyncsim::trace::EventKind;
use asyncsim::Sim;
use schedule_support::random_and_pct;
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};

const MS: u64 = 1_000_000;

fn now_ns() -> u64 {
    asyncsim::time::Instant::now().as_nanos()
}

/// Node `server`: on each connection, writes `hello` after 5 ms, keeps the
/// connection open `close_ms` more, and closes it.
fn start_greeter(close_ms: u64) {
    asyncsim::node::Builder::new("server").start(move || async move {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                stream.write_all(b"hello").await.unwrap();
                tokio::time::sleep(Duration::from_millis(close_ms)).await;
            });
        }
    });
}

/// Every message on every link takes exactly 2 ms.
fn config(config: asyncsim::Config) -> asyncsim::Config {
    config.net(
        asyncsim::net::NetConfig::new().latency(Duration::from_millis(2), Duration::from_millis(2)),
    )
}

async fn connect() -> tokio::net::TcpStream {
    tokio::time::sleep(Duration::from_millis(1)).await;
    tokio::net::TcpStream::connect("server:7000").await.unwrap()
}

#[test]
fn two_tasks_in_readable_on_one_stream_both_wake_when_bytes_arrive() {
    for schedule in random_and_pct(24) {
        let run = Sim::new(config(schedule)).run(async {
            start_greeter(1_000);
            let stream = Arc::new(connect().await);
            let waiters: Vec<_> = (0..2)
                .map(|_| {
                    let stream = stream.clone();
                    tokio::spawn(async move {
                        stream.readable().await.unwrap();
                        now_ns()
                    })
                })
                .collect();
            let mut woken_ns = Vec::new();
            for waiter in waiters {
                woken_ns.push(waiter.await.unwrap());
            }
            woken_ns
        });
        let woken_ns = run.result.unwrap_or_else(|failure| panic!("{failure}"));
        // Accepted at the SYN's arrival (3 ms), `hello` 5 ms later, 2 on
        // its way.
        assert_eq!(woken_ns, [10 * MS, 10 * MS]);
    }
}

#[test]
fn readable_in_one_task_wakes_while_another_peeks_and_reads() {
    for schedule in random_and_pct(24) {
        let run = Sim::new(config(schedule)).run(async {
            start_greeter(3);
            let stream = Arc::new(connect().await);
            let watcher = {
                let stream = stream.clone();
                tokio::spawn(async move {
                    stream.readable().await.unwrap();
                    now_ns()
                })
            };
            let reader = {
                let stream = stream.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    let mut buf = [0u8; 16];
                    loop {
                        stream.peek(&mut buf).await.unwrap();
                        match stream.try_read(&mut buf) {
                            Ok(0) => break,
                            Ok(count) => got.extend_from_slice(&buf[..count]),
                            Err(error) => panic!("{error}"),
                        }
                    }
                    got
                })
            };
            let got = reader.await.unwrap();
            (watcher.await.unwrap(), got)
        });
        let (watched_ns, got) = run.result.unwrap_or_else(|failure| panic!("{failure}"));
        assert_eq!(got, b"hello");
        // Woken by `hello`; or, had the reader taken it first, by the EOF.
        assert!(
            watched_ns == 10 * MS || watched_ns == 13 * MS,
            "the watcher was woken at {watched_ns} ns"
        );
    }
}

#[test]
fn two_tasks_accepting_on_one_listener_get_a_connection_each() {
    for schedule in random_and_pct(24) {
        let run = Sim::new(config(schedule)).run(async {
            let listener = Arc::new(tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap());
            let acceptors: Vec<_> = (0..2)
                .map(|_| {
                    let listener = listener.clone();
                    tokio::spawn(async move {
                        let (mut stream, _) = listener.accept().await.unwrap();
                        stream.read_u8().await.unwrap()
                    })
                })
                .collect();
            let client = asyncsim::node::Builder::new("client").start(|| async {});
            let _streams = client
                .spawn(async {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    let mut streams = Vec::new();
                    for byte in [1u8, 2] {
                        let mut stream = tokio::net::TcpStream::connect("main:7000").await.unwrap();
                        stream.write_u8(byte).await.unwrap();
                        streams.push(stream);
                    }
                    streams
                })
                .await
                .unwrap();
            let mut got = Vec::new();
            for acceptor in acceptors {
                got.push(acceptor.await.unwrap());
            }
            got.sort();
            got
        });
        let got = run.result.unwrap_or_else(|failure| panic!("{failure}"));
        assert_eq!(got, [1, 2]);
    }
}

#[test]
fn two_tasks_receiving_on_one_udp_socket_get_a_datagram_each() {
    for schedule in random_and_pct(24) {
        let run = Sim::new(config(schedule)).run(async {
            let socket = Arc::new(tokio::net::UdpSocket::bind("0.0.0.0:9000").await.unwrap());
            let receivers: Vec<_> = (0..2)
                .map(|_| {
                    let socket = socket.clone();
                    tokio::spawn(async move {
                        let mut buf = [0u8; 8];
                        let (count, _) = socket.recv_from(&mut buf).await.unwrap();
                        buf[..count].to_vec()
                    })
                })
                .collect();
            let client = asyncsim::node::Builder::new("client").start(|| async {});
            client
                .spawn(async {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    let socket = tokio::net::UdpSocket::bind("0.0.0.0:5000").await.unwrap();
                    socket.send_to(b"one", "main:9000").await.unwrap();
                    socket.send_to(b"two", "main:9000").await.unwrap();
                })
                .await
                .unwrap();
            let mut got = Vec::new();
            for receiver in receivers {
                got.push(receiver.await.unwrap());
            }
            got.sort();
            got
        });
        let got = run.result.unwrap_or_else(|failure| panic!("{failure}"));
        assert_eq!(got, [b"one".to_vec(), b"two".to_vec()]);
    }
}

#[test]
fn ready_for_error_resolves_after_a_reset_and_priority_at_eof() {
    for schedule in random_and_pct(24) {
        let run = Sim::new(config(schedule)).run(async {
            let server = asyncsim::node::Builder::new("server").start(|| async {
                let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
                let (stream, _) = listener.accept().await.unwrap();
                std::future::pending::<()>().await;
                drop(stream);
            });
            asyncsim::node::Builder::new("closer").start(|| async {
                let listener = tokio::net::TcpListener::bind("0.0.0.0:7001").await.unwrap();
                let (stream, _) = listener.accept().await.unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
                drop(stream);
            });
            tokio::time::sleep(Duration::from_millis(1)).await;
            let failing = tokio::net::TcpStream::connect("server:7000").await.unwrap();
            let closing = tokio::net::TcpStream::connect("closer:7001").await.unwrap();
            let error = tokio::spawn(async move {
                let ready = failing.ready(Interest::ERROR).await.unwrap();
                (now_ns(), ready)
            });
            let priority = tokio::spawn(async move {
                let ready = closing.ready(Interest::PRIORITY).await.unwrap();
                (now_ns(), ready)
            });
            tokio::time::sleep(Duration::from_millis(10)).await;
            let crashed_ns = now_ns();
            server.crash();
            (crashed_ns, error.await.unwrap(), priority.await.unwrap())
        });
        let (crashed_ns, (error_ns, error), (eof_ns, eof)) =
            run.result.unwrap_or_else(|failure| panic!("{failure}"));
        // The crash's reset arrives 2 ms after it.
        assert_eq!(error_ns, crashed_ns + 2 * MS);
        assert!(error.is_error() && !error.is_readable(), "{error:?}");
        // The second connect leaves at 5 ms; the closer accepts at 7 ms,
        // closes at 12 ms, and its FIN takes 2.
        assert_eq!(eof_ns, 14 * MS);
        assert!(eof.is_read_closed() && !eof.is_priority(), "{eof:?}");
    }
}

#[test]
fn readable_dropped_while_it_waits_leaves_no_stale_wake() {
    for schedule in random_and_pct(24) {
        let run = Sim::new(config(schedule)).run(async {
            start_greeter(1_000);
            let stream = Arc::new(connect().await);
            let quitter = {
                let stream = stream.clone();
                asyncsim::task::Builder::new()
                    .name("quitter")
                    .spawn(async move {
                        let gave_up =
                            tokio::time::timeout(Duration::from_millis(1), stream.readable()).await;
                        assert!(gave_up.is_err(), "nothing arrives by 6 ms");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    })
            };
            let keeper = {
                let stream = stream.clone();
                tokio::spawn(async move { stream.readable().await.unwrap() })
            };
            keeper.await.unwrap();
            quitter.await.unwrap();
        });
        run.result.unwrap_or_else(|failure| panic!("{failure}"));
        let trace = &run.trace;
        let stale = trace
            .events()
            .iter()
            .filter(|event| {
                matches!(event.kind, EventKind::Poll)
                    && event
                        .task
                        .is_some_and(|task| trace.task_name(task) == "quitter")
                    && (7 * MS..56 * MS).contains(&event.time_ns)
            })
            .count();
        // It sleeps from 6 ms to 56 ms: not polled at `hello`'s arrival.
        assert_eq!(stale, 0, "{trace}");
    }
}

#[test]
fn two_tasks_in_readable_on_one_pipe_both_wake_when_it_is_written() {
    for schedule in random_and_pct(24) {
        let run = Sim::new(schedule).run(async {
            let (sender, receiver) = tokio::net::unix::pipe::pipe().unwrap();
            let receiver = Arc::new(receiver);
            let waiters: Vec<_> = (0..2)
                .map(|_| {
                    let receiver = receiver.clone();
                    tokio::spawn(async move {
                        receiver.readable().await.unwrap();
                        now_ns()
                    })
                })
                .collect();
            tokio::time::sleep(Duration::from_millis(3)).await;
            sender.writable().await.unwrap();
            sender.try_write(b"x").unwrap();
            let mut woken_ns = Vec::new();
            for waiter in waiters {
                woken_ns.push(waiter.await.unwrap());
            }
            woken_ns
        });
        let woken_ns = run.result.unwrap_or_else(|failure| panic!("{failure}"));
        assert_eq!(woken_ns, [3 * MS, 3 * MS]);
    }
}

/// Node `client`: after 1 ms, connects to `main:7000` and writes `1`; 20 ms
/// later connects again and writes `2`; keeps both streams open.
fn start_two_clients() {
    asyncsim::node::Builder::new("client").start(|| async {
        tokio::time::sleep(Duration::from_millis(1)).await;
        let mut streams = Vec::new();
        for byte in [1u8, 2] {
            let mut stream = tokio::net::TcpStream::connect("main:7000").await.unwrap();
            stream.write_u8(byte).await.unwrap();
            streams.push(stream);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        std::future::pending::<()>().await;
    });
}

async fn accept_byte(listener: &tokio::net::TcpListener) -> u8 {
    let (mut stream, _) = listener.accept().await.unwrap();
    stream.read_u8().await.unwrap()
}

#[test]
fn two_readables_in_one_task_one_timing_out_leave_the_other_waiting() {
    for schedule in random_and_pct(24) {
        let run = Sim::new(config(schedule)).run(async {
            start_greeter(1_000);
            let stream = connect().await;
            let s = &stream;
            tokio::join!(
                async {
                    s.readable().await.unwrap();
                    now_ns()
                },
                async {
                    tokio::time::timeout(Duration::from_millis(1), s.readable())
                        .await
                        .is_err()
                },
            )
        });
        let got = run.result.unwrap_or_else(|failure| panic!("{failure}"));
        // The timed-out wait's drop left the other one waiting: woken by
        // `hello` (accepted at 3 ms, written 5 ms later, 2 on its way).
        assert_eq!(got, (10 * MS, true));
    }
}

#[test]
fn an_accept_timing_out_beside_another_in_one_task_leaves_it_waiting() {
    for schedule in random_and_pct(24) {
        let run = Sim::new(config(schedule)).run(async {
            let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
            start_two_clients();
            tokio::join!(accept_byte(&listener), async {
                tokio::time::timeout(Duration::from_millis(1), listener.accept())
                    .await
                    .is_err()
            })
        });
        let got = run.result.unwrap_or_else(|failure| panic!("{failure}"));
        assert_eq!(got, (1, true));
    }
}

#[test]
fn readable_ready_beside_a_pending_ready_for_priority_in_one_task_leaves_it_waiting() {
    for schedule in random_and_pct(24) {
        let run = Sim::new(config(schedule)).run(async {
            start_greeter(3);
            let stream = connect().await;
            let s = &stream;
            tokio::join!(
                async {
                    s.readable().await.unwrap();
                    now_ns()
                },
                async {
                    s.ready(Interest::PRIORITY).await.unwrap();
                    now_ns()
                },
            )
        });
        let got = run.result.unwrap_or_else(|failure| panic!("{failure}"));
        // `readable` at `hello` (10 ms) does not take the wait for the EOF
        // (13 ms) off the stream, whichever of the two is polled first.
        assert_eq!(got, (10 * MS, 13 * MS));
    }
}
