//! A message is a timer of its reader: the sender sets it for the reader's
//! task, so a reader waiting on a socket is polled once, when the message
//! arrives, and not also at the send (to set a timer of its own). The world
//! costs what the program does: an echo round trip is two polls.

use std::time::Duration;

use asyncsim::net::{TcpListener, TcpStream, UdpSocket};
use asyncsim::trace::{EventKind, TaskId};
use asyncsim::{node, Config, Sim, Strategy};
use futures::{AsyncReadExt, AsyncWriteExt};

const ROUND_TRIPS: u64 = 50;

fn polls_of(run: &asyncsim::Run<()>, task: TaskId) -> u64 {
    run.trace
        .events()
        .iter()
        .filter(|event| event.task == Some(task) && event.kind == EventKind::Poll)
        .count() as u64
}

async fn tcp_echo() {
    node::Builder::new("server").start(|| async {
        let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0; 64];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => stream.write_all(&buf[..n]).await.unwrap(),
            }
        }
    });
    asyncsim::time::sleep(Duration::from_millis(1)).await;
    let mut stream = TcpStream::connect("server:7000").await.unwrap();
    let mut buf = [0; 4];
    for _ in 0..ROUND_TRIPS {
        stream.write_all(b"ping").await.unwrap();
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
    }
}

async fn udp_echo() {
    node::Builder::new("server").start(|| async {
        let socket = UdpSocket::bind("0.0.0.0:7000").await.unwrap();
        let mut buf = [0; 64];
        loop {
            let (n, from) = socket.recv_from(&mut buf).await.unwrap();
            socket.send_to(&buf[..n], from).await.unwrap();
        }
    });
    asyncsim::time::sleep(Duration::from_millis(1)).await;
    let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
    let mut buf = [0; 64];
    for _ in 0..ROUND_TRIPS {
        socket.send_to(b"ping", "server:7000").await.unwrap();
        let (n, _) = socket.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
    }
}

#[test]
fn a_tcp_round_trip_polls_the_client_once_and_the_server_once() {
    for seed in 0..20 {
        let run = Sim::new(Config::new().seed(seed).strategy(Strategy::Random)).run(tcp_echo());
        assert!(run.result.is_ok(), "seed {seed}: {:?}", run.result);
        // main: its first poll, the sleep, the connect, then one poll a
        // round trip (the reply's arrival).
        assert_eq!(polls_of(&run, TaskId::MAIN), ROUND_TRIPS + 3, "seed {seed}");
        // The echo task (the server node's `init`): its start, the accept,
        // one poll a request, and the EOF when the client's stream drops.
        let server = run
            .trace
            .tasks()
            .iter()
            .position(|task| task.name != "main")
            .map(|index| TaskId(index as u32))
            .unwrap();
        assert_eq!(polls_of(&run, server), ROUND_TRIPS + 2, "seed {seed}");
        assert_eq!(run.steps(), 2 * ROUND_TRIPS + 5, "seed {seed}");
    }
}

#[test]
fn a_udp_round_trip_polls_the_client_once_and_the_server_once() {
    for seed in 0..20 {
        let run = Sim::new(Config::new().seed(seed).strategy(Strategy::Random)).run(udp_echo());
        assert!(run.result.is_ok(), "seed {seed}: {:?}", run.result);
        // main: its first poll, the sleep, then one poll a round trip.
        assert_eq!(polls_of(&run, TaskId::MAIN), ROUND_TRIPS + 2, "seed {seed}");
        assert_eq!(run.steps(), 2 * ROUND_TRIPS + 3, "seed {seed}");
    }
}

#[test]
fn the_reader_timer_a_sender_sets_is_in_the_trace_as_the_readers() {
    let run = Sim::new(Config::new()).run(tcp_echo());
    assert!(run.result.is_ok());
    // Every delivery's timer is set (by the sender's poll) for the task
    // that reads: each names a task that then fires and reads at its
    // deadline.
    let sets: Vec<_> = run
        .trace
        .events()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::TimerSet { deadline_ns } => Some((event.task, deadline_ns)),
            _ => None,
        })
        .collect();
    assert!(sets.len() as u64 >= 2 * ROUND_TRIPS, "{}", sets.len());
    // (The run ends when main returns: the EOF its stream's drop sends
    // arrives after that.)
    let end_ns = run.trace.events().last().unwrap().time_ns;
    for (task, deadline_ns) in sets.into_iter().filter(|(_, at)| *at <= end_ns) {
        assert!(
            run.trace
                .events()
                .iter()
                .any(|event| event.task == task
                    && event.kind == EventKind::TimerFire { deadline_ns }),
            "a timer set for {task:?} at {deadline_ns} never fired"
        );
    }
}
