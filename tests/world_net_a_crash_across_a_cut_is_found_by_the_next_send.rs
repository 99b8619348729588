//! A node that crashes while its link to a peer is cut sends its resets
//! into the cut: they are lost, and the peer's stream learns nothing then,
//! as on Linux. What it learns comes from its own segments: those that get
//! no answer are retransmitted until it gives up (`TimedOut` after the
//! link's `tcp_timeout`); the first to get through once the link is
//! repaired reaches a node with no such socket (crashed, or restarted),
//! which answers with a reset (`ConnectionReset`). An idle peer notices
//! nothing until it sends.

mod net_support;
mod schedule_support;

use std::io::ErrorKind;
use std::time::Duration;

use asyncsim::net::{TcpListener, TcpStream};
use asyncsim::trace::{DropWhy, NetOp, TaskId, Trace};
use asyncsim::{node, Sim};
use futures::{AsyncReadExt, AsyncWriteExt};
use net_support::{assert_trace_says, drops, fixed, net_events, now_ns, MS};
use schedule_support::random_and_pct;

/// The link's `tcp_timeout`.
const TIMEOUT: Duration = Duration::from_secs(1);

/// A node `server` that accepts one stream on 7000 and holds it, reading
/// nothing and sending nothing.
fn quiet_server() -> node::Node {
    node::Builder::new("server").start(|| async {
        let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
        let (_stream, _) = listener.accept().await.unwrap();
        std::future::pending::<()>().await;
    })
}

/// Connects to the server.
async fn connect() -> TcpStream {
    asyncsim::time::sleep(Duration::from_millis(1)).await;
    TcpStream::connect("server:7000").await.unwrap()
}

/// The times of the resets and timeouts recorded on the main node's end.
fn failures_on_main(trace: &Trace) -> Vec<(NetOp, u64)> {
    net_events(trace, |op| matches!(op, NetOp::Reset | NetOp::TimedOut))
        .into_iter()
        .filter(|(_, _, _, label)| label.contains("(main:"))
        .map(|(op, at, _, _)| (op, at))
        .collect()
}

/// The crash's reset is lost in the cut: the idle peer hears nothing, not
/// past `tcp_timeout`, not after the repair; its first send after the
/// repair is answered with a reset, a round trip later (2 ms each way),
/// whether the node came back or not.
#[test]
fn an_idle_peer_hears_of_the_crash_from_the_answer_to_its_next_send() {
    for restart in [false, true] {
        for config in random_and_pct(12) {
            let link = fixed(2).tcp_timeout(TIMEOUT);
            let run = Sim::new(config.net(link)).run(async move {
                let server = quiet_server();
                let mut stream = connect().await;
                asyncsim::net::partition("main", "server");
                server.crash();
                if restart {
                    server.restart();
                }
                asyncsim::time::sleep(Duration::from_secs(2)).await;
                asyncsim::net::repair("main", "server");
                asyncsim::time::sleep(Duration::from_secs(2)).await;
                let sent_at = now_ns();
                stream.write_all(b"ping").await.unwrap();
                let mut buf = [0u8; 4];
                let error = stream.read(&mut buf).await.unwrap_err();
                (sent_at, error.kind(), now_ns())
            });
            let (sent_at, kind, at) = run.result.unwrap();
            assert_eq!(
                (kind, at - sent_at),
                (ErrorKind::ConnectionReset, 4 * MS),
                "restart {restart}: {}",
                run.trace
            );
            assert_eq!(
                failures_on_main(&run.trace),
                vec![(NetOp::Reset, at)],
                "restart {restart}: nothing before the answer\n{}",
                run.trace
            );
        }
    }
}

/// An idle peer that sends while the cut lasts gets no answer: it times out
/// `tcp_timeout` after that send, the error naming the cut.
#[test]
fn a_send_across_the_cut_times_out() {
    for config in random_and_pct(12) {
        let link = fixed(2).tcp_timeout(TIMEOUT);
        let run = Sim::new(config.net(link)).run(async {
            let server = quiet_server();
            let mut stream = connect().await;
            asyncsim::net::partition("main", "server");
            server.crash();
            asyncsim::time::sleep(Duration::from_millis(10)).await;
            let sent_at = now_ns();
            stream.write_all(b"ping").await.unwrap();
            let mut buf = [0u8; 4];
            let error = stream.read(&mut buf).await.unwrap_err();
            (sent_at, error, now_ns())
        });
        let (sent_at, error, at) = run.result.unwrap();
        assert_eq!(error.kind(), ErrorKind::TimedOut, "{error}\n{}", run.trace);
        assert_eq!(at - sent_at, 1_000 * MS, "{}", run.trace);
        assert!(
            error
                .to_string()
                .ends_with("(no delivery for tcp_timeout: `main` and `server` are partitioned)"),
            "{error}"
        );
    }
}

/// Bytes sent before the crash and held by the cut time out if the cut
/// lasts; repaired in time, they reach the crashed node, which answers them
/// with a reset (their arrival, 2 ms after the repair, then 2 ms back).
#[test]
fn bytes_held_by_the_cut_time_out_or_are_answered_with_a_reset_at_the_repair() {
    for repair in [false, true] {
        for config in random_and_pct(12) {
            let link = fixed(2).tcp_timeout(TIMEOUT);
            let run = Sim::new(config.net(link)).run(async move {
                let server = quiet_server();
                let mut stream = connect().await;
                asyncsim::net::partition("main", "server");
                let sent_at = now_ns();
                stream.write_all(b"held").await.unwrap();
                server.crash();
                let mut repaired_at = None;
                if repair {
                    asyncsim::time::sleep(Duration::from_millis(500)).await;
                    asyncsim::net::repair("main", "server");
                    repaired_at = Some(now_ns());
                }
                let mut buf = [0u8; 4];
                let error = stream.read(&mut buf).await.unwrap_err();
                (sent_at, repaired_at, error.kind(), now_ns())
            });
            let (sent_at, repaired_at, kind, at) = run.result.unwrap();
            match repaired_at {
                Some(repaired_at) => assert_eq!(
                    (kind, at - repaired_at),
                    (ErrorKind::ConnectionReset, 4 * MS),
                    "{}",
                    run.trace
                ),
                None => assert_eq!(
                    (kind, at - sent_at),
                    (ErrorKind::TimedOut, 1_000 * MS),
                    "{}",
                    run.trace
                ),
            }
        }
    }
}

/// A node `server` that accepts one stream on 7000 and, 5 ms later, writes
/// `lost` to it (across the cut the caller makes by then), then holds it.
fn server_writing_late() -> node::Node {
    node::Builder::new("server").start(|| async {
        let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
        let (mut stream, _) = listener.accept().await.unwrap();
        asyncsim::time::sleep(Duration::from_millis(5)).await;
        stream.write_all(b"lost").await.unwrap();
        std::future::pending::<()>().await;
    })
}

/// What the crashed end wrote across the cut, before its crash, dies with
/// it, as on Linux (bytes with no ack live only in the sender's send
/// queue): the repair delivers nothing of it; it is one drop at the crash
/// (`sender_crashed`); and the peer, idle, does not time out for it. Its
/// next send is answered with a reset, as ever.
#[test]
fn bytes_the_crashed_end_wrote_across_the_cut_die_with_it() {
    for repair in [false, true] {
        for config in random_and_pct(12) {
            let link = fixed(2).tcp_timeout(TIMEOUT);
            let run = Sim::new(config.net(link)).run(async move {
                let server = server_writing_late();
                let mut stream = connect().await;
                asyncsim::net::partition("main", "server");
                asyncsim::time::sleep(Duration::from_millis(10)).await;
                let crashed_at = now_ns();
                server.crash();
                if !repair {
                    // Past `tcp_timeout` from the held write: no timeout.
                    asyncsim::time::sleep(Duration::from_secs(2)).await;
                    let quiet = stream.take_error().unwrap().map(|error| error.kind());
                    return (crashed_at, quiet, None);
                }
                asyncsim::time::sleep(Duration::from_millis(500)).await;
                asyncsim::net::repair("main", "server");
                let mut buf = [0u8; 4];
                let read =
                    asyncsim::time::timeout(Duration::from_millis(100), stream.read(&mut buf))
                        .await;
                assert!(read.is_err(), "the crashed end's bytes arrived: {read:?}");
                stream.write_all(b"ping").await.unwrap();
                let error = stream.read(&mut buf).await.unwrap_err();
                (crashed_at, None, Some(error.kind()))
            });
            let (crashed_at, quiet, answer) = run.result.unwrap();
            assert_eq!(quiet, None, "repair {repair}: {}", run.trace);
            if repair {
                assert_eq!(answer, Some(ErrorKind::ConnectionReset), "{}", run.trace);
            }
            // (After the repair, the `ping` written to the gone end is
            // lost as any write to it.)
            assert_eq!(
                drops(&run.trace)[0],
                (crashed_at, Some(TaskId::MAIN), DropWhy::SenderCrashed, 4),
                "repair {repair}: {}",
                run.trace
            );
            assert_eq!(drops(&run.trace).len(), 1 + usize::from(repair));
            assert_trace_says(
                &run.trace,
                "net drop 4 bytes from TcpStream#1 (server:7000 -> main:49152) to TcpStream#0 \
                 (main:49152 -> server:7000): its sender's node crashed while a cut held it",
            );
        }
    }
}

/// A stream its server never accepted (in the listener's backlog when the
/// node crashes) is no different: the crash's reset is lost in the cut,
/// and the client learns of it from the answer to its first send after
/// the repair.
#[test]
fn a_stream_in_the_backlog_hears_of_the_crash_from_the_answer_to_its_next_send() {
    for config in random_and_pct(12) {
        let link = fixed(2).tcp_timeout(TIMEOUT);
        let run = Sim::new(config.net(link)).run(async {
            let server = node::Builder::new("server").start(|| async {
                let _listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
                std::future::pending::<()>().await;
            });
            let mut stream = connect().await;
            asyncsim::net::partition("main", "server");
            server.crash();
            asyncsim::time::sleep(Duration::from_secs(2)).await;
            let quiet = stream.take_error().unwrap().map(|error| error.kind());
            asyncsim::net::repair("main", "server");
            let sent_at = now_ns();
            stream.write_all(b"ping").await.unwrap();
            let mut buf = [0u8; 4];
            let error = stream.read(&mut buf).await.unwrap_err();
            (quiet, sent_at, error.kind(), now_ns())
        });
        let (quiet, sent_at, kind, at) = run.result.unwrap();
        assert_eq!(
            (quiet, kind, at - sent_at),
            (None, ErrorKind::ConnectionReset, 4 * MS),
            "{}",
            run.trace
        );
    }
}
