//! Many tasks may wait on one side of a socket at once, as tokio allows:
//! two in readiness on one stream, one in readiness while another reads,
//! two accepting on one listener, two receiving on one datagram socket.
//! Every one of them is woken by what arrives, in every schedule (a second
//! waiter does not take the first one's place), a deadlock names every task
//! still waiting, and a wait whose future is dropped leaves no stale wake
//! behind it.

mod net_support;
mod schedule_support;

use std::future::poll_fn;
use std::rc::Rc;
use std::time::Duration;

use asyncsim::net::{TcpListener, TcpStream, UdpSocket};
use asyncsim::trace::{EventKind, Trace};
use asyncsim::{node, task, Sim};
use futures::{AsyncReadExt, AsyncWriteExt};
use net_support::{fixed, MS};
use schedule_support::random_and_pct;

/// A server on node `server` that, on each connection, writes `hello`
/// after `delay_ms`, then keeps the connection open until `close_ms` more
/// have passed and closes it.
fn start_greeter(delay_ms: u64, close_ms: u64) {
    node::Builder::new("server").start(move || async move {
        let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            drop(asyncsim::spawn(async move {
                asyncsim::time::sleep(Duration::from_millis(delay_ms)).await;
                stream.write_all(b"hello").await.unwrap();
                asyncsim::time::sleep(Duration::from_millis(close_ms)).await;
            }));
        }
    });
}

/// The polls of the task named `name` at times in `from_ns..to_ns`.
fn polls_between(trace: &Trace, name: &str, from_ns: u64, to_ns: u64) -> usize {
    trace
        .events()
        .iter()
        .filter(|event| {
            matches!(event.kind, EventKind::Poll)
                && event.task.is_some_and(|task| trace.task_name(task) == name)
                && (from_ns..to_ns).contains(&event.time_ns)
        })
        .count()
}

#[test]
fn two_tasks_waiting_for_readiness_on_one_stream_both_wake_when_bytes_arrive() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            start_greeter(5, 1_000);
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let stream = Rc::new(TcpStream::connect("server:7000").await.unwrap());
            let waiters: Vec<_> = (0..2)
                .map(|index| {
                    let stream = stream.clone();
                    task::Builder::new()
                        .name(format!("waiter {index}"))
                        .spawn(async move {
                            poll_fn(|context| stream.poll_read_ready(context))
                                .await
                                .unwrap();
                            net_support::now_ns()
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
        // The server accepts at the SYN's arrival (3 ms), writes `hello`
        // 5 ms later, and it takes 2.
        assert_eq!(woken_ns, [10 * MS, 10 * MS]);
    }
}

#[test]
fn a_task_waiting_for_readiness_wakes_while_another_reads() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            start_greeter(5, 3);
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let stream = Rc::new(TcpStream::connect("server:7000").await.unwrap());
            let watcher = {
                let stream = stream.clone();
                task::Builder::new().name("watcher").spawn(async move {
                    poll_fn(|context| stream.poll_read_ready(context))
                        .await
                        .unwrap();
                    net_support::now_ns()
                })
            };
            let reader = {
                let stream = stream.clone();
                task::Builder::new().name("reader").spawn(async move {
                    let mut got = Vec::new();
                    // `&TcpStream` cannot read: a read through the `Rc`.
                    let mut buf = [0u8; 16];
                    loop {
                        let count = poll_fn(|context| {
                            stream.poll_read_with(context, buf.len(), |bytes| {
                                buf[..bytes.len()].copy_from_slice(bytes)
                            })
                        })
                        .await
                        .unwrap();
                        if count == 0 {
                            break;
                        }
                        got.extend_from_slice(&buf[..count]);
                    }
                    got
                })
            };
            let got = reader.await.unwrap();
            (watcher.await.unwrap(), got)
        });
        let (watched_ns, got) = run.result.unwrap_or_else(|failure| panic!("{failure}"));
        assert_eq!(got, b"hello");
        // Woken by `hello` at 10 ms; if the reader took it first, the
        // watcher waits on and the EOF (the server's task ends 3 ms after
        // its write) wakes it at 13 ms.
        assert!(
            watched_ns == 10 * MS || watched_ns == 13 * MS,
            "the watcher was woken at {watched_ns} ns"
        );
    }
}

#[test]
fn two_tasks_accepting_on_one_listener_get_a_connection_each() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let listener = Rc::new(TcpListener::bind("0.0.0.0:7000").await.unwrap());
            let acceptors: Vec<_> = (0..2)
                .map(|index| {
                    let listener = listener.clone();
                    task::Builder::new()
                        .name(format!("acceptor {index}"))
                        .spawn(async move {
                            let (mut stream, _) = listener.accept().await.unwrap();
                            let mut byte = [0u8; 1];
                            stream.read_exact(&mut byte).await.unwrap();
                            byte[0]
                        })
                })
                .collect();
            let client = node::Builder::new("client").start(|| async {});
            client
                .spawn(async {
                    asyncsim::time::sleep(Duration::from_millis(1)).await;
                    let mut streams = Vec::new();
                    for byte in [1u8, 2] {
                        let mut stream = TcpStream::connect("main:7000").await.unwrap();
                        stream.write_all(&[byte]).await.unwrap();
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
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let socket = Rc::new(UdpSocket::bind("0.0.0.0:9000").await.unwrap());
            let receivers: Vec<_> = (0..2)
                .map(|index| {
                    let socket = socket.clone();
                    task::Builder::new()
                        .name(format!("receiver {index}"))
                        .spawn(async move {
                            let mut buf = [0u8; 8];
                            let (count, _) = socket.recv_from(&mut buf).await.unwrap();
                            buf[..count].to_vec()
                        })
                })
                .collect();
            let client = node::Builder::new("client").start(|| async {});
            client
                .spawn(async {
                    asyncsim::time::sleep(Duration::from_millis(1)).await;
                    let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
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
fn a_deadlock_names_every_task_waiting_on_the_socket() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            // `hello`, then the connection held open and silent: the
            // readers read past it and wait for more that never comes.
            node::Builder::new("server").start(|| async {
                let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
                let (mut stream, _) = listener.accept().await.unwrap();
                stream.write_all(b"hello").await.unwrap();
                std::future::pending::<()>().await;
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let stream = Rc::new(TcpStream::connect("server:7000").await.unwrap());
            let socket = Rc::new(UdpSocket::bind("0.0.0.0:9000").await.unwrap());
            let mut waiters = Vec::new();
            for index in 0..2 {
                let stream = stream.clone();
                waiters.push(task::Builder::new().name(format!("reader {index}")).spawn(
                    async move {
                        let mut buf = [0u8; 16];
                        loop {
                            poll_fn(|context| {
                                stream.poll_read_with(context, buf.len(), |bytes| {
                                    buf[..bytes.len()].copy_from_slice(bytes)
                                })
                            })
                            .await
                            .unwrap();
                        }
                    },
                ));
                let socket = socket.clone();
                waiters.push(
                    task::Builder::new()
                        .name(format!("receiver {index}"))
                        .spawn(async move {
                            let mut buf = [0u8; 8];
                            socket.recv_from(&mut buf).await.unwrap();
                        }),
                );
            }
            for waiter in waiters {
                waiter.await.unwrap();
            }
        });
        let failure = run.result.expect_err("the waiters wait forever");
        let report = failure.to_string();
        assert!(report.contains("deadlock"), "{report}");
        for index in 0..2 {
            for (name, what) in [
                ("reader", "read of TcpStream#0"),
                ("receiver", "receive of UdpSocket#0"),
            ] {
                let task = format!("{name} {index}");
                let blocked = failure
                    .blocked
                    .iter()
                    .find(|blocked| blocked.name == task)
                    .unwrap_or_else(|| panic!("`{task}` is not named: {report}"));
                assert!(
                    blocked.waiting_on.starts_with(what),
                    "`{task}` waits on {}: {report}",
                    blocked.waiting_on
                );
            }
        }
    }
}

#[test]
fn a_receive_dropped_while_it_waits_leaves_no_stale_wake() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let socket = Rc::new(UdpSocket::bind("0.0.0.0:9000").await.unwrap());
            let listener = Rc::new(TcpListener::bind("0.0.0.0:7000").await.unwrap());
            let quitter = {
                let (socket, listener) = (socket.clone(), listener.clone());
                task::Builder::new().name("quitter").spawn(async move {
                    let mut buf = [0u8; 8];
                    let gave_up = asyncsim::time::timeout(
                        Duration::from_millis(1),
                        socket.recv_from(&mut buf),
                    )
                    .await;
                    assert!(gave_up.is_err(), "nothing arrives in 1 ms");
                    let gave_up =
                        asyncsim::time::timeout(Duration::from_millis(1), listener.accept()).await;
                    assert!(gave_up.is_err(), "nothing connects in 2 ms");
                    // Asleep past the arrivals: nothing of the socket or
                    // the listener may wake it now.
                    asyncsim::time::sleep(Duration::from_millis(50)).await;
                })
            };
            let keeper = {
                let socket = socket.clone();
                task::Builder::new().name("keeper").spawn(async move {
                    let mut buf = [0u8; 8];
                    socket.recv_from(&mut buf).await.unwrap();
                    let (_stream, _) = listener.accept().await.unwrap();
                })
            };
            let client = node::Builder::new("client").start(|| async {});
            client
                .spawn(async {
                    asyncsim::time::sleep(Duration::from_millis(5)).await;
                    let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
                    socket.send_to(b"late", "main:9000").await.unwrap();
                    TcpStream::connect("main:7000").await.unwrap()
                })
                .await
                .unwrap();
            keeper.await.unwrap();
            quitter.await.unwrap();
        });
        run.result.unwrap_or_else(|failure| panic!("{failure}"));
        // The quitter sleeps from 2 ms to 52 ms: polled at neither arrival.
        assert_eq!(
            polls_between(&run.trace, "quitter", 3 * MS, 52 * MS),
            0,
            "{}",
            run.trace
        );
    }
}

/// Node `client`: after 1 ms, connects to `main:7000` and writes `1`; 20 ms
/// later connects again and writes `2`; keeps both streams open.
fn start_two_clients() {
    node::Builder::new("client").start(|| async {
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let mut streams = Vec::new();
        for byte in [1u8, 2] {
            let mut stream = TcpStream::connect("main:7000").await.unwrap();
            stream.write_all(&[byte]).await.unwrap();
            streams.push(stream);
            asyncsim::time::sleep(Duration::from_millis(20)).await;
        }
        std::future::pending::<()>().await;
    });
}

async fn accept_byte(listener: &TcpListener) -> u8 {
    let (mut stream, _) = listener.accept().await.unwrap();
    let mut byte = [0u8; 1];
    stream.read_exact(&mut byte).await.unwrap();
    byte[0]
}

#[test]
fn an_accept_timing_out_beside_another_in_one_task_leaves_it_waiting() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            start_two_clients();
            asyncsim::join!(accept_byte(&listener), async {
                asyncsim::time::timeout(Duration::from_millis(1), listener.accept())
                    .await
                    .is_err()
            })
        });
        let got = run.result.unwrap_or_else(|failure| panic!("{failure}"));
        // Accepted at the SYN's arrival (1 ms + 2), the byte 4 ms later.
        assert_eq!(got, (1, true));
    }
}

#[test]
fn a_receive_timing_out_beside_another_in_one_task_leaves_it_waiting() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let socket = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
            node::Builder::new("client").start(|| async {
                asyncsim::time::sleep(Duration::from_millis(10)).await;
                let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
                socket.send_to(b"one", "main:9000").await.unwrap();
            });
            asyncsim::join!(
                async {
                    let mut buf = [0u8; 8];
                    let (count, _) = socket.recv_from(&mut buf).await.unwrap();
                    (
                        buf[..count].to_vec(),
                        asyncsim::time::Instant::now().as_nanos(),
                    )
                },
                async {
                    let mut buf = [0u8; 8];
                    asyncsim::time::timeout(Duration::from_millis(1), socket.recv_from(&mut buf))
                        .await
                        .is_err()
                },
            )
        });
        let got = run.result.unwrap_or_else(|failure| panic!("{failure}"));
        assert_eq!(got, ((b"one".to_vec(), 12 * MS), true));
    }
}

#[test]
fn a_wait_of_a_crashed_nodes_task_on_another_nodes_socket_wakes_nothing_after_the_crash() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let socket = Rc::new(UdpSocket::bind("0.0.0.0:9000").await.unwrap());
            // A task of node `worker` waits on main's socket (guarded), and
            // one polled by hand beside it; the node crashes under them.
            let worker = node::Builder::new("worker").start(std::future::pending::<()>);
            let shared = socket.clone();
            drop(worker.spawn(async move {
                let mut buf = [0u8; 8];
                let by_hand = poll_fn(|context| shared.poll_recv_from(context, &mut buf));
                let mut other = [0u8; 8];
                let _ = asyncsim::join!(by_hand, shared.recv_from(&mut other));
            }));
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            worker.crash();
            node::Builder::new("client").start(|| async {
                asyncsim::time::sleep(Duration::from_millis(10)).await;
                let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
                socket.send_to(b"one", "main:9000").await.unwrap();
            });
            let mut buf = [0u8; 8];
            let (count, _) = socket.recv_from(&mut buf).await.unwrap();
            buf[..count].to_vec()
        });
        let trace = &run.trace;
        assert_eq!(run.result.unwrap(), b"one", "{trace}");
        // The crashed task's waits left with it: the datagram set no timer
        // for it.
        let after_crash = trace
            .events()
            .iter()
            .filter(|event| {
                matches!(event.kind, EventKind::TimerSet { .. })
                    && event.time_ns >= MS
                    // The worker's waiting task (spawned by `main`).
                    && event.task.is_some_and(|task| trace.task_name(task) == "task-2")
            })
            .count();
        assert_eq!(after_crash, 0, "{trace}");
    }
}
