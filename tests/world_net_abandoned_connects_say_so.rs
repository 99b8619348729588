//! A connect abandoned before it returns — its future dropped by a timeout,
//! a `select!` or an abort, or its node crashed while it waited — is a `net
//! connect aborted` at that time, on the would-be stream's label or the
//! stream's own, by the task whose poll dropped it (by no task at a crash).
//! As on Linux, which forgets a socket closed while connecting and answers
//! the SYN-ACK that comes for it with a reset, the server's end of a stream
//! made for it is reset a latency after the SYN-ACK's arrival (a `net
//! reset` there, by no task), not handed a clean EOF; dropped once the
//! handshake is done, the stream closes as any dropped one. A connect
//! dropped as the run ends records nothing.

mod net_support;
mod schedule_support;

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use asyncsim::harness::trace_file;
use asyncsim::net::{self, TcpListener, TcpStream};
use asyncsim::trace::{NetOp, TaskId, Trace};
use asyncsim::{node, Config, Sim};
use futures::AsyncReadExt;
use net_support::{fixed, idle_server, now_ns, MS};
use schedule_support::random_and_pct;

/// The trace's net events but sends and delivers: (op, time, task, label).
fn net_events(trace: &Trace) -> Vec<(NetOp, u64, Option<TaskId>, String)> {
    net_support::net_events(trace, |op| !matches!(op, NetOp::Send | NetOp::Deliver))
}

/// What the server's one accepted stream read first, and when.
type Read = Rc<RefCell<Option<(u64, io::Result<usize>)>>>;

/// A node `server` that accepts one connection on port 6000 and reads it.
fn reading_server() -> Read {
    let read: Read = Rc::new(RefCell::new(None));
    let record = read.clone();
    node::Builder::new("server").start(move || {
        let record = record.clone();
        async move {
            let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 8];
            let result = stream.read(&mut buf).await;
            *record.borrow_mut() = Some((now_ns(), result));
            std::future::pending::<()>().await;
        }
    });
    read
}

const CLIENT_END: &str = "TcpStream#0 (main:49152 -> server:6000)";
const SERVER_END: &str = "TcpStream#1 (server:6000 -> main:49152)";

/// A timeout gives up on a connect while its SYN is on its way (1 ms) or
/// while its SYN-ACK is (3 ms; links take 2 ms, the SYN-ACK arrives at 4
/// ms): `net connect aborted` then, by main, on the stream made for it, and
/// no `net connect`. The server accepted the stream (at the SYN's
/// arrival); the SYN-ACK meets a forgotten socket, so the server's end is
/// reset 2 ms after it (at 6 ms), which its read returns, not an EOF.
#[test]
fn a_connect_given_up_by_a_timeout_is_aborted_and_its_server_end_reset() {
    for abandon_ms in [1, 3] {
        for config in random_and_pct(24) {
            let run = Sim::new(config.net(fixed(2))).run(async move {
                let read = reading_server();
                asyncsim::time::sleep(Duration::from_millis(1)).await;
                let started = now_ns();
                let connect = TcpStream::connect("server:6000");
                let gave_up =
                    asyncsim::time::timeout(Duration::from_millis(abandon_ms), connect).await;
                assert!(gave_up.is_err(), "the connect returned first");
                asyncsim::time::sleep(Duration::from_millis(20)).await;
                let read = read.borrow_mut().take().expect("the server read nothing");
                (started, read)
            });
            let (started, (read_at, read)) = run.result.unwrap();
            assert_eq!(read.unwrap_err().kind(), io::ErrorKind::ConnectionReset);
            assert_eq!(read_at, started + 6 * MS, "at {abandon_ms} ms");
            let aborted = (
                NetOp::ConnectAborted,
                started + abandon_ms * MS,
                Some(TaskId::MAIN),
                CLIENT_END.to_string(),
            );
            let accepted = (
                NetOp::Accept,
                started + 2 * MS,
                Some(TaskId(1)),
                SERVER_END.to_string(),
            );
            let reset = (NetOp::Reset, started + 6 * MS, None, SERVER_END.to_string());
            let expected = if abandon_ms < 2 {
                [aborted, accepted, reset]
            } else {
                [accepted, aborted, reset]
            };
            assert_eq!(
                net_events(&run.trace),
                expected,
                "at {abandon_ms} ms:\n{}",
                run.trace
            );
            let text = run.trace.to_string();
            assert!(
                text.contains(
                    "main         net connect aborted: TcpStream#0 from main:49152 to server:6000"
                ),
                "{text}"
            );
        }
    }
}

/// Given up with no stream made — nothing listened when its SYN left, or
/// it waited out a cut — a connect records its abort on the would-be
/// stream's label, and nothing else: no refusal, no timeout.
#[test]
fn a_connect_given_up_before_any_stream_was_made_records_only_its_abort() {
    for across_a_cut in [false, true] {
        for config in random_and_pct(24) {
            let link = fixed(2).tcp_timeout(Duration::from_millis(50));
            let run = Sim::new(config.net(link)).run(async move {
                let _server = idle_server();
                asyncsim::time::sleep(Duration::from_millis(1)).await;
                if across_a_cut {
                    net::partition("main", "server");
                }
                let started = now_ns();
                let connect = TcpStream::connect("server:6000");
                let gave_up = asyncsim::time::timeout(Duration::from_millis(3), connect).await;
                assert!(gave_up.is_err(), "the connect returned first");
                // Past the refusal's and the timeout's times.
                asyncsim::time::sleep(Duration::from_millis(100)).await;
                started
            });
            let started = run.result.unwrap();
            assert_eq!(
                net_events(&run.trace),
                [(
                    NetOp::ConnectAborted,
                    started + 3 * MS,
                    Some(TaskId::MAIN),
                    "TcpStream (main -> server:6000)".to_string()
                )],
                "across a cut: {across_a_cut}\n{}",
                run.trace
            );
        }
    }
}

/// The connecting node crashes while the SYN is on its way: its connect is
/// aborted at the crash, by no task (the crash drops it between polls),
/// on the stream made for it, naming the crashed node; the server's end is
/// reset as by any crash of its peer (one latency after it). With no stream
/// made (nothing listens), the abort names the would-be stream from the
/// crashed node, and nothing else happens.
#[test]
fn a_connect_whose_node_crashes_is_aborted_at_the_crash() {
    for listening in [true, false] {
        for config in random_and_pct(24) {
            let run = Sim::new(config.net(fixed(2))).run(async move {
                let read = if listening {
                    reading_server()
                } else {
                    let _server = idle_server();
                    Rc::new(RefCell::new(None))
                };
                let client = node::Builder::new("client").start(|| async {
                    asyncsim::time::sleep(Duration::from_millis(1)).await;
                    let _ = TcpStream::connect("server:6000").await;
                    unreachable!("the connect returned before the crash");
                });
                asyncsim::time::sleep(Duration::from_millis(2)).await;
                client.crash();
                let crashed = now_ns();
                asyncsim::time::sleep(Duration::from_millis(20)).await;
                let read = read.borrow_mut().take();
                (crashed, read)
            });
            let (crashed, read) = run.result.unwrap();
            let events = net_events(&run.trace);
            if !listening {
                assert!(read.is_none());
                assert_eq!(
                    events,
                    [(
                        NetOp::ConnectAborted,
                        crashed,
                        None,
                        "TcpStream (client -> server:6000)".to_string()
                    )],
                    "{}",
                    run.trace
                );
                continue;
            }
            let (read_at, read) = read.expect("the server read nothing");
            assert_eq!(read.unwrap_err().kind(), io::ErrorKind::ConnectionReset);
            assert_eq!(read_at, crashed + 2 * MS);
            let server_end = "TcpStream#1 (server:6000 -> client:49152)".to_string();
            assert_eq!(
                events,
                [
                    (
                        NetOp::ConnectAborted,
                        crashed,
                        None,
                        "TcpStream#0 (client:49152 -> server:6000)".to_string()
                    ),
                    // The SYN left at 1 ms and arrives at 3 ms.
                    (NetOp::Accept, 3 * MS, Some(TaskId(1)), server_end.clone()),
                    (NetOp::Reset, crashed + 2 * MS, None, server_end),
                ],
                "{}",
                run.trace
            );
        }
    }
}

/// A task aborted while it connects abandons its connect: recorded by the
/// aborting task, whose poll dropped it.
#[test]
fn a_connect_in_an_aborted_task_is_aborted_by_the_aborting_task() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let _read = reading_server();
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let connecting = asyncsim::spawn(async {
                let _ = TcpStream::connect("server:6000").await;
                unreachable!("the connect returned before the abort");
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            connecting.abort();
            let aborted = now_ns();
            asyncsim::time::sleep(Duration::from_millis(20)).await;
            aborted
        });
        let aborted = run.result.unwrap();
        let events = net_events(&run.trace);
        assert!(
            events.contains(&(
                NetOp::ConnectAborted,
                aborted,
                Some(TaskId::MAIN),
                CLIENT_END.to_string()
            )),
            "{}",
            run.trace
        );
        assert!(
            events
                .iter()
                .any(|event| event.0 == NetOp::Reset && event.3 == SERVER_END),
            "{}",
            run.trace
        );
    }
}

/// A `select!` that drops the connect as its SYN-ACK arrives, before it is
/// polled again (`biased;`, the sleep first, both due then): the handshake
/// is done, so the stream closes as any dropped one does, the server
/// reading EOF, with no reset; the abort is still recorded.
#[test]
fn a_connect_dropped_once_its_handshake_is_done_closes_its_stream() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let read = reading_server();
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let started = now_ns();
            let connected = asyncsim::select! {
                biased;
                _ = asyncsim::time::sleep(Duration::from_millis(4)) => false,
                _ = TcpStream::connect("server:6000") => true,
            };
            assert!(!connected, "the connect was polled first");
            asyncsim::time::sleep(Duration::from_millis(20)).await;
            let read = read.borrow_mut().take().expect("the server read nothing");
            (started, read)
        });
        let (started, (read_at, read)) = run.result.unwrap();
        assert_eq!(read.unwrap(), 0, "not an EOF");
        assert_eq!(read_at, started + 6 * MS);
        let events = net_events(&run.trace);
        assert_eq!(
            events
                .iter()
                .map(|event| (event.0, event.1))
                .collect::<Vec<_>>(),
            [
                (NetOp::Accept, started + 2 * MS),
                (NetOp::ConnectAborted, started + 4 * MS),
            ],
            "{}",
            run.trace
        );
    }
}

/// A task still connecting when the run ends (the main future returned) is
/// dropped with the run: that is no abandon of the run's, and records
/// nothing.
#[test]
fn a_connect_dropped_as_the_run_ends_records_nothing() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let _read = reading_server();
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            drop(asyncsim::spawn(async {
                let _ = TcpStream::connect("server:6000").await;
            }));
            asyncsim::time::sleep(Duration::from_millis(1)).await;
        });
        run.result.unwrap();
        assert!(
            net_events(&run.trace)
                .iter()
                .all(|event| event.0 != NetOp::ConnectAborted),
            "{}",
            run.trace
        );
    }
}

/// An abort saves and loads equal at this build's trace file version (5
/// added it), and an older file cannot hold it.
#[test]
fn an_aborted_connect_round_trips_through_trace_files() {
    let run = Sim::new(Config::new().net(fixed(2))).run(async {
        let _read = reading_server();
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let connect = TcpStream::connect("server:6000");
        let gave_up = asyncsim::time::timeout(Duration::from_millis(1), connect).await;
        assert!(gave_up.is_err());
        asyncsim::time::sleep(Duration::from_millis(20)).await;
    });
    run.result.unwrap();
    const { assert!(trace_file::VERSION >= 5) };
    let text = trace_file::to_string(&run.trace);
    assert!(text.contains(r#""op":"connect aborted""#), "{text}");
    assert_eq!(trace_file::from_str(&text).unwrap(), run.trace);
    let version = format!("\"version\": {}", trace_file::VERSION);
    let older = text.replace(&version, "\"version\": 4");
    let error = trace_file::from_str(&older).unwrap_err();
    assert!(
        matches!(
            &error,
            trace_file::TraceFileError::EventNewerThanFile { kind, added_in: 5, version: 4, .. }
                if kind == "net connect aborted"
        ),
        "{error}"
    );
}

/// A connect whose listener is dropped while its SYN is on its way, and
/// that is given up before the SYN arrives (before or after that drop),
/// leaves nothing behind to fire at the SYN's arrival: a run stuck after it
/// is reported stuck at the give-up (or the drop), not one latency later
/// when a forgotten call would have jumped the clock to the SYN's arrival.
#[test]
fn a_connect_given_up_before_its_syn_arrives_at_a_dropped_listener_leaves_nothing_to_fire() {
    for give_up_us in [1_200u64, 1_800] {
        for config in random_and_pct(24) {
            let run = Sim::new(config.net(fixed(2))).run(async move {
                node::Builder::new("server").start(|| async {
                    let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                    asyncsim::time::sleep(Duration::from_micros(1_500)).await;
                    drop(listener);
                    std::future::pending::<()>().await;
                });
                asyncsim::time::sleep(Duration::from_millis(1)).await;
                // Its SYN arrives at 3 ms.
                let connect = TcpStream::connect("server:6000");
                let given_up =
                    asyncsim::time::timeout(Duration::from_micros(give_up_us - 1_000), connect)
                        .await;
                assert!(given_up.is_err(), "the connect returned");
                std::future::pending::<()>().await;
            });
            let failure = run.result.as_ref().unwrap_err();
            assert_eq!(
                failure.kind,
                asyncsim::FailureKind::Deadlock,
                "{}",
                failure.message
            );
            assert_eq!(
                run.elapsed_ns(),
                give_up_us.max(1_500) * 1_000,
                "{}",
                run.trace
            );
        }
    }
}
