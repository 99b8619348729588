//! A wait polled by hand through the face (tokio's `AsyncRead` and
//! `AsyncWrite`, `poll_recv_from`) has no guard of its own: nothing tells
//! its socket when its future goes. Beside it in one task, on the same
//! side of the same socket, a wait the face made (`readable`, `writable`,
//! `recv_from`) may time out: that must not take the by-hand wait's wake
//! (a false deadlock). Two `writable`s of one task, one under a timeout,
//! each keep theirs across a wake for room that another task's write
//! takes. In every schedule.

#[path = "../../../tests/schedule_support/mod.rs"]
mod schedule_support;

use std::sync::Arc;
use std::time::Duration;

use asyncsim::Sim;
use schedule_support::random_and_pct;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MS: u64 = 1_000_000;

fn now_ns() -> u64 {
    asyncsim::time::Instant::now().as_nanos()
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

/// Node `server`: on its one connection, writes `hello` after 5 ms and
/// keeps the stream.
fn start_greeter() {
    asyncsim::node::Builder::new("server").start(|| async {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
        let (mut stream, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        stream.write_all(b"hello").await.unwrap();
        std::future::pending::<()>().await;
    });
}

/// Sleeps until `ms` milliseconds into the run.
async fn until_ms(ms: u64) {
    asyncsim::time::sleep_until(asyncsim::time::Instant::from_nanos(ms * MS)).await;
}

/// Node `server`: on its one connection, reads `first` bytes at `at_ms`,
/// then, from `rest_ms` on, everything that comes; keeps the stream.
fn start_late_reader(at_ms: u64, first: usize, rest_ms: u64) {
    asyncsim::node::Builder::new("server").start(move || async move {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
        let (mut stream, _) = listener.accept().await.unwrap();
        until_ms(at_ms).await;
        let mut buf = vec![0u8; first];
        stream.read_exact(&mut buf).await.unwrap();
        until_ms(rest_ms).await;
        let mut buf = vec![0u8; 65_536];
        while stream.read(&mut buf).await.unwrap() > 0 {}
        std::future::pending::<()>().await;
    });
}

/// Writes with `try_write` until it would block.
fn fill(stream: &tokio::net::TcpStream) {
    let block = [7u8; 4_096];
    loop {
        match stream.try_write(&block) {
            Ok(taken) => assert!(taken > 0),
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => return,
            Err(error) => panic!("{error}"),
        }
    }
}

#[test]
fn a_read_beside_a_readable_timing_out_in_one_task_keeps_its_wake() {
    for schedule in random_and_pct(24) {
        let run = Sim::new(config(schedule)).run(async {
            start_greeter();
            let mut stream = connect().await;
            let (mut reader, writer) = stream.split();
            tokio::join!(
                async {
                    let mut buf = [0u8; 5];
                    reader.read_exact(&mut buf).await.unwrap();
                    (buf, now_ns())
                },
                async {
                    tokio::time::timeout(Duration::from_millis(1), writer.as_ref().readable())
                        .await
                        .is_err()
                },
            )
        });
        let got = run.result.unwrap_or_else(|failure| panic!("{failure}"));
        // Accepted at the SYN's arrival (3 ms), `hello` 5 ms later, 2 on
        // its way.
        assert_eq!(got, ((*b"hello", 10 * MS), true));
    }
}

#[test]
fn a_write_waiting_for_room_beside_a_writable_timing_out_in_one_task_keeps_its_wake() {
    for schedule in random_and_pct(24) {
        let run = Sim::new(config(schedule)).run(async {
            start_late_reader(20, 1, 20);
            let mut stream = connect().await;
            let (reader, mut writer) = stream.split();
            tokio::join!(
                async {
                    // More than the window (16,384 + 131,072): waits for
                    // room once the window is full.
                    writer.write_all(&vec![7u8; 200_000]).await.unwrap();
                    now_ns()
                },
                async {
                    // Once the write waits.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    tokio::time::timeout(Duration::from_millis(1), reader.as_ref().writable())
                        .await
                        .is_err()
                },
            )
        });
        let (written_ns, timed_out) = run.result.unwrap_or_else(|failure| panic!("{failure}"));
        assert!(timed_out);
        // The rest fits once the server reads, from 20 ms on.
        assert!(written_ns >= 20 * MS, "written at {written_ns}");
    }
}

#[test]
fn two_writables_in_one_task_keep_their_wakes_after_a_wake_another_writer_takes() {
    let mut late = 0;
    for schedule in random_and_pct(24) {
        let run = Sim::new(config(schedule)).run(async {
            // One byte of room at 10 ms, all of it from 50 ms.
            start_late_reader(10, 1, 50);
            let stream = Arc::new(connect().await);
            fill(&stream);
            let other = stream.clone();
            let taker = tokio::spawn(async move {
                // Woken with the task below at 10 ms: when it runs first,
                // it takes the room, and the two wait again.
                other.writable().await.unwrap();
                fill(&other);
            });
            let s = &stream;
            let got = tokio::join!(
                async {
                    s.writable().await.unwrap();
                    now_ns()
                },
                async {
                    tokio::time::timeout(Duration::from_millis(30), s.writable())
                        .await
                        .is_err()
                },
            );
            taker.await.unwrap();
            got
        });
        let got = run.result.unwrap_or_else(|failure| panic!("{failure}"));
        // Writable at the room of 10 ms (both), or, when the other writer
        // took it, at 50 ms, the other one having timed out at 35 ms.
        match got {
            (at, false) if at == 10 * MS => {}
            (at, true) if at == 50 * MS => late += 1,
            got => panic!("woken at {got:?}"),
        }
    }
    assert!(late > 0, "no schedule let the other writer take the room");
}

#[test]
fn a_receive_polled_by_hand_beside_a_recv_from_timing_out_in_one_task_keeps_its_wake() {
    for schedule in random_and_pct(24) {
        let run = Sim::new(config(schedule)).run(async {
            let socket = tokio::net::UdpSocket::bind("0.0.0.0:9000").await.unwrap();
            asyncsim::node::Builder::new("client").start(|| async {
                until_ms(10).await;
                let socket = tokio::net::UdpSocket::bind("0.0.0.0:5000").await.unwrap();
                socket.send_to(b"one", "main:9000").await.unwrap();
            });
            tokio::join!(
                async {
                    let mut buf = [0u8; 8];
                    let mut read = tokio::io::ReadBuf::new(&mut buf);
                    std::future::poll_fn(|context| socket.poll_recv_from(context, &mut read))
                        .await
                        .unwrap();
                    (read.filled().to_vec(), now_ns())
                },
                async {
                    let mut buf = [0u8; 8];
                    tokio::time::timeout(Duration::from_millis(1), socket.recv_from(&mut buf))
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
fn a_ready_for_reading_and_writing_ready_by_one_side_leaves_no_wake_on_the_other() {
    for schedule in random_and_pct(24) {
        let run = Sim::new(config(schedule)).run(async {
            // The server writes `hello` at 8 ms (here at 10), then reads a
            // byte at 20, 30 and 40 ms: room to write each time.
            asyncsim::node::Builder::new("server").start(|| async {
                let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
                let (mut stream, _) = listener.accept().await.unwrap();
                until_ms(8).await;
                stream.write_all(b"hello").await.unwrap();
                for at_ms in [20, 30, 40] {
                    until_ms(at_ms).await;
                    stream.read_u8().await.unwrap();
                }
                std::future::pending::<()>().await;
            });
            let stream = connect().await;
            fill(&stream);
            let ready = stream
                .ready(tokio::io::Interest::READABLE | tokio::io::Interest::WRITABLE)
                .await
                .unwrap();
            assert!(ready.is_readable() && !ready.is_writable());
            assert_eq!(now_ns(), 10 * MS);
            until_ms(100).await;
        });
        run.result.unwrap_or_else(|failure| panic!("{failure}"));
        let trace = &run.trace;
        let polls = trace
            .events()
            .iter()
            .filter(|event| {
                matches!(event.kind, asyncsim::trace::EventKind::Poll)
                    && event
                        .task
                        .is_some_and(|task| trace.task_name(task) == "main")
                    && (11 * MS..100 * MS).contains(&event.time_ns)
            })
            .count();
        // Done waiting at 10 ms: the room made later wakes nobody.
        assert_eq!(polls, 0, "{trace}");
    }
}
