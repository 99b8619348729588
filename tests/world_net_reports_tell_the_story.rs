//! A failure report about a network program tells its story: a drawn
//! latency names the socket and the size of what it delayed, a trace line's
//! arrow reads from sender to receiver, a read woken by an arrival says so,
//! and a panic on a node names the node.

use std::time::Duration;

use asyncsim::net::UdpSocket;
use asyncsim::net::{NetConfig, TcpListener, TcpStream};
use asyncsim::{node, Config, Explore, Sim};
use futures::{AsyncReadExt, AsyncWriteExt};

/// A leader sends 8 bytes to a follower, which answers with 8; the leader
/// insists the round trip took no more than the link's minimum, so the
/// explorer finds a drawn latency and shrinks it to one.
fn slow_round_trip_report() -> String {
    let summary = asyncsim::explore(Explore::new().runs(50), || async {
        node::Builder::new("follower").start(|| async {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut ask = [0u8; 8];
            stream.read_exact(&mut ask).await.unwrap();
            stream.write_all(&ask).await.unwrap();
        });
        let leader = node::Builder::new("leader").start(|| async {});
        asyncsim::net::set_link(
            "leader",
            "follower",
            NetConfig::new().latency(Duration::from_millis(1), Duration::from_millis(10)),
        );
        leader
            .spawn(async {
                asyncsim::time::sleep(Duration::from_millis(1)).await;
                let mut stream = TcpStream::connect("follower:7000").await.unwrap();
                let start = asyncsim::time::Instant::now();
                stream.write_all(&[1; 8]).await.unwrap();
                let mut answer = [0u8; 8];
                stream.read_exact(&mut answer).await.unwrap();
                assert!(
                    start.elapsed() <= Duration::from_millis(2),
                    "the round trip was slow"
                );
            })
            .await
            .unwrap();
    });
    let found = summary
        .first_failure
        .expect("the slow round trip was not found");
    found.to_string()
}

#[test]
fn a_drawn_latency_names_the_stream_and_the_size() {
    let report = slow_round_trip_report();
    assert!(report.contains("the round trip was slow"), "{report}");
    assert!(
        report.contains("a 8-byte segment on TcpStream#"),
        "{report}"
    );
    assert!(!report.contains("a message `"), "{report}");
}

#[test]
fn a_read_woken_by_an_arrival_says_so() {
    let report = slow_round_trip_report();
    // The follower's read is woken by the leader's 8 bytes: no "woken by
    // the engine" for it, the delivery and its sender named instead.
    assert!(
        report.contains(
            "follower     woken by a delivery on TcpStream#1 from leader:49152 to follower:7000 (sent by `"
        ),
        "{report}"
    );
    assert!(
        !report.contains("follower     woken by the engine"),
        "{report}"
    );
    // In order: the reader's timer fires for the arrival, then the wake
    // says what arrived; the timer was set in the sender's poll, for the
    // reader, and says so.
    let lines: Vec<&str> = report.lines().collect();
    let wake = lines
        .iter()
        .position(|line| line.contains("follower     woken by a delivery"))
        .unwrap();
    assert!(
        lines[wake - 1].contains("follower     timer fired (due ")
            && lines[wake - 1].ends_with("): the arrival of a delivery"),
        "{report}"
    );
    assert!(
        report.contains("follower     timer set for ")
            && report.contains(": an arrival, sent in `"),
        "{report}"
    );
}

#[test]
fn a_sleep_is_still_woken_by_the_engine() {
    let run = asyncsim::Sim::new(asyncsim::Config::new()).run(async {
        asyncsim::time::sleep(Duration::from_millis(3)).await;
    });
    let text = run.trace.to_string();
    assert!(text.contains("main         woken by the engine"), "{text}");
}

#[test]
fn a_panic_on_a_node_names_the_node() {
    // Awaited: the JoinError says where the task ran.
    let run = asyncsim::Sim::new(asyncsim::Config::new()).run(async {
        let server = node::Builder::new("server").start(|| async {});
        let error = server
            .spawn(async { panic!("bad request") })
            .await
            .unwrap_err();
        let words = error.to_string();
        assert!(words.contains("on node `server` panicked"), "{words}");
        assert!(
            format!("{error:?}").contains("node: \"server\""),
            "{error:?}"
        );
        assert_eq!(error.panic_node(), Some("server"));
        // On the main node: no node named.
        let error = asyncsim::spawn(async { panic!("main's own") })
            .await
            .unwrap_err();
        assert!(!error.to_string().contains("on node"), "{error}");
        assert_eq!(error.panic_node(), None);
    });
    run.result.unwrap();
    // Unobserved (its handle dropped): the failure says where.
    let run = asyncsim::Sim::new(asyncsim::Config::new()).run(async {
        let server = node::Builder::new("server").start(|| async {});
        drop(server.spawn(async { panic!("nobody saw") }));
        asyncsim::time::sleep(Duration::from_millis(1)).await;
    });
    let failure = run.result.unwrap_err();
    assert!(
        failure.message.contains("on node `server` panicked"),
        "{}",
        failure.message
    );
}

#[test]
fn a_drawn_datagram_latency_names_the_socket_and_the_size() {
    use asyncsim::net::UdpSocket;
    let summary = asyncsim::explore(Explore::new().runs(50), || async {
        let (tell, heard) = asyncsim::sync::oneshot::channel();
        let tell = std::rc::Rc::new(std::cell::RefCell::new(Some(tell)));
        node::Builder::new("follower").start(move || {
            let tell = tell.clone();
            async move {
                let socket = UdpSocket::bind("0.0.0.0:7001").await.unwrap();
                let mut buf = [0u8; 16];
                let (len, _) = socket.recv_from(&mut buf).await.unwrap();
                if let Some(tell) = tell.borrow_mut().take() {
                    let _ = tell.send(len);
                }
            }
        });
        let leader = node::Builder::new("leader").start(|| async {});
        asyncsim::net::set_link(
            "leader",
            "follower",
            NetConfig::new().latency(Duration::from_millis(1), Duration::from_millis(10)),
        );
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let start = asyncsim::time::Instant::now();
        leader
            .spawn(async {
                let socket = UdpSocket::bind("0.0.0.0:7000").await.unwrap();
                socket.send_to(&[1; 8], "follower:7001").await.unwrap();
            })
            .await
            .unwrap();
        assert_eq!(heard.await.unwrap(), 8);
        assert!(
            start.elapsed() <= Duration::from_millis(1),
            "the datagram was slow"
        );
    });
    let report = summary
        .first_failure
        .expect("the slow datagram was not found")
        .to_string();
    assert!(
        report
            .contains("a 8-byte datagram on UdpSocket#1 (leader:7000) `leader` -> `follower` took"),
        "{report}"
    );
    assert!(
        report.contains("follower     woken by a delivery on UdpSocket#0 (follower:7001)"),
        "{report}"
    );
}

/// Two UDP sockets a node bound on the same port, one before a crash and
/// one after its restart, read apart in the trace (as `TcpStream#n` do).
#[test]
fn udp_sockets_are_numbered_like_streams() {
    let run = Sim::new(Config::new()).run(async {
        let inbox = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        let node = node::Builder::new("n").start(|| async {
            let socket = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
            socket.send_to(b"hi", "main:5000").await.unwrap();
        });
        let mut buf = [0u8; 2];
        inbox.recv_from(&mut buf).await.unwrap();
        node.crash();
        node.restart();
        inbox.recv_from(&mut buf).await.unwrap();
    });
    run.result.unwrap();
    let mut labels: Vec<&str> = run
        .trace
        .labels()
        .iter()
        .map(String::as_str)
        .filter(|label| label.starts_with("UdpSocket"))
        .collect();
    labels.sort();
    assert_eq!(
        labels,
        [
            "UdpSocket#0 (main:5000)",
            "UdpSocket#1 (n:9000)",
            "UdpSocket#2 (n:9000)"
        ],
        "{}",
        run.trace
    );
}

/// The two socket events the other tests do not show: a datagram dropped
/// (sent where nobody listens, on another node and on its own; every other
/// reason is in `world_net_drops_say_why.rs`) and a stream reset by its
/// peer's crash, each in the trace on the socket it happened to (the reset
/// at its arrival, by the network: no task's, though main reads after it).
#[test]
fn drops_and_resets_are_in_the_trace() {
    let run = Sim::new(Config::new()).run(async {
        let server = node::Builder::new("server").start(|| async {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            let (_stream, _) = listener.accept().await.unwrap();
            std::future::pending::<()>().await;
        });
        asyncsim::net::set_link("main", "server", NetConfig::new().loss(1.0));
        let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        socket.send_to(b"lost", "server:9").await.unwrap();
        socket.send_to(b"nobody", "main:9").await.unwrap();
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let mut stream = TcpStream::connect("server:7000").await.unwrap();
        server.crash();
        let mut byte = [0u8; 1];
        stream.read(&mut byte).await.unwrap_err().kind()
    });
    assert_eq!(run.result.unwrap(), std::io::ErrorKind::ConnectionReset);
    let text = run.trace.to_string();
    for drop in [
        "main         net drop 4 bytes from UdpSocket#0 (main:5000) to server:9: no socket is bound there",
        "main         net drop 6 bytes from UdpSocket#0 (main:5000) to main:9: no socket is bound there",
    ] {
        assert!(text.contains(drop), "no `{drop}` in\n{text}");
    }
    let reset = "-            net reset TcpStream#0 from server:7000 to main:49152";
    assert!(text.contains(reset), "no `{reset}` in\n{text}");
    assert_eq!(text.matches("net reset").count(), 1, "{text}");
}

/// A deadlock report names a blocked accept and a blocked datagram receive
/// by their sockets, as it names a blocked read.
#[test]
fn a_blocked_accept_and_receive_are_named_in_the_deadlock_report() {
    let run = Sim::new(Config::new()).run(async {
        node::Builder::new("server").start(|| async {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            let _ = listener.accept().await;
        });
        let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        let mut buf = [0u8; 8];
        let _ = socket.recv_from(&mut buf).await;
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, asyncsim::FailureKind::Deadlock, "{failure}");
    let report = failure.to_string();
    for wait in [
        "accept of TcpListener (server:7000)",
        "receive of UdpSocket#0 (main:5000)",
    ] {
        assert!(report.contains(wait), "no `{wait}` in\n{report}");
    }
}

/// A lost stream segment is a retransmission, and the shrunk report says
/// which segment of which stream, and how long the retransmission took.
#[test]
fn a_lost_segment_is_named_in_the_report_as_a_retransmission() {
    let link = NetConfig::new()
        .latency(Duration::from_millis(1), Duration::from_millis(1))
        .loss(0.2);
    let explore = Explore::new().runs(200).config(Config::new().net(link));
    let summary = asyncsim::explore(explore, || async {
        node::Builder::new("server").start(|| async {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut ask = [0u8; 4];
            stream.read_exact(&mut ask).await.unwrap();
            stream.write_all(&ask).await.unwrap();
        });
        let start = asyncsim::time::Instant::now();
        let mut stream = TcpStream::connect("server:7000").await.unwrap();
        stream.write_all(b"ping").await.unwrap();
        let mut reply = [0u8; 4];
        stream.read_exact(&mut reply).await.unwrap();
        assert!(
            start.elapsed() < Duration::from_millis(100),
            "the exchange was slow"
        );
    });
    let found = summary.first_failure.expect("no segment was lost");
    assert_eq!(found.deviations, 1, "{found}");
    let report = found.to_string();
    assert!(
        report.contains("lost a segment of TcpStream#")
            && report.contains("retransmitted after 0.2s"),
        "{report}"
    );
}
