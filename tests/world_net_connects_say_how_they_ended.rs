//! Every connect attempt's outcome is a trace event, recorded by the
//! connecting task when `connect` returns: a stream made is a `net connect`
//! on it (also when the listener's node crashed after the SYN arrived,
//! before accepting: the connect completes, then the reset comes, as on
//! Linux); a refusal (nothing listened when the SYN arrived) is a `net
//! refused` a round trip after the SYN left; a connect across a cut link is a `net connect
//! timed out` at `tcp_timeout`. A connect to an unknown host sends nothing:
//! it is an error at once and no net event.

mod net_support;
mod schedule_support;

use std::time::Duration;

use asyncsim::harness::trace_file;
use asyncsim::net::{self, NetConfig, TcpListener, TcpStream};
use asyncsim::trace::{EventKind, NetOp, TaskId, Trace};
use asyncsim::{node, Config, Sim};
use futures::{AsyncReadExt, AsyncWriteExt};
use net_support::{assert_only_by_main, assert_trace_says, fixed, idle_server, now_ns, MS};
use schedule_support::random_and_pct;

/// The trace's connect outcomes: (op, time, task, socket label), in order.
fn outcomes(trace: &Trace) -> Vec<(NetOp, u64, Option<TaskId>, String)> {
    net_support::net_events(trace, |op| {
        matches!(op, NetOp::Connect | NetOp::Refused | NetOp::ConnectTimedOut)
    })
}

/// A connect to a node with no listener returns `ConnectionRefused` one
/// round trip later, and the trace says so then, by the connecting task,
/// naming its node and the target; no `net connect`.
#[test]
fn a_connect_with_no_listener_records_its_refusal_when_it_returns() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let _server = idle_server();
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let started = now_ns();
            let error = TcpStream::connect("server:6000").await.unwrap_err();
            (started, now_ns(), error.kind())
        });
        let (started, returned, kind) = run.result.unwrap();
        assert_eq!(kind, std::io::ErrorKind::ConnectionRefused);
        assert_eq!(returned, started + 4 * MS);
        assert_only_by_main(
            outcomes(&run.trace),
            NetOp::Refused,
            returned,
            "TcpStream (main -> server:6000)",
            &run.trace,
        );
        assert_trace_says(
            &run.trace,
            "main         net refused: TcpStream from main to server:6000",
        );
    }
}

/// A connect that finds a listener records `net connect` on its stream as
/// before, and nothing else of its outcome.
#[test]
fn a_connect_that_succeeds_records_a_connect_and_no_refusal() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let _server = node::Builder::new("server").start(|| async {
                let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                let _kept = listener.accept().await.unwrap();
                std::future::pending::<()>().await;
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let started = now_ns();
            let stream = TcpStream::connect("server:6000").await.unwrap();
            (started, now_ns(), stream)
        });
        let (started, returned, _stream) = run.result.unwrap();
        assert_eq!(returned, started + 4 * MS);
        assert_only_by_main(
            outcomes(&run.trace),
            NetOp::Connect,
            returned,
            "TcpStream#0 (main:49152 -> server:6000)",
            &run.trace,
        );
    }
}

/// A client retries until the server listens (it binds after a drawn
/// delay): each failed attempt is one `net refused` at the time that
/// attempt returned, then one `net connect`.
#[test]
fn a_retry_loop_records_one_refusal_per_failed_attempt() {
    for config in random_and_pct(24) {
        let run =
            Sim::new(config.net(
                NetConfig::new().latency(Duration::from_micros(500), Duration::from_millis(3)),
            ))
            .run(async {
                let _server = node::Builder::new("server").start(|| async {
                    let wait = asyncsim::random_range(1u64..40);
                    asyncsim::time::sleep(Duration::from_millis(wait)).await;
                    let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                    let _kept = listener.accept().await.unwrap();
                    std::future::pending::<()>().await;
                });
                let mut refused_at = Vec::new();
                loop {
                    match TcpStream::connect("server:6000").await {
                        Ok(stream) => return (refused_at, now_ns(), stream),
                        Err(error) => {
                            assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
                            refused_at.push(now_ns());
                            asyncsim::time::sleep(Duration::from_millis(1)).await;
                        }
                    }
                }
            });
        let (refused_at, connected_at, _stream) = run.result.unwrap();
        let mut expected: Vec<_> = refused_at
            .iter()
            .map(|&at| {
                (
                    NetOp::Refused,
                    at,
                    Some(TaskId::MAIN),
                    "TcpStream (main -> server:6000)".to_string(),
                )
            })
            .collect();
        expected.push((
            NetOp::Connect,
            connected_at,
            Some(TaskId::MAIN),
            "TcpStream#0 (main:49152 -> server:6000)".to_string(),
        ));
        assert_eq!(outcomes(&run.trace), expected, "{}", run.trace);
    }
}

/// Over many seeds the retry loop above fails a different number of times
/// (so the count is the loop's, not a constant).
#[test]
fn the_retry_loop_fails_a_varying_number_of_times() {
    let mut counts = std::collections::BTreeSet::new();
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(1))).run(async {
            let _server = node::Builder::new("server").start(|| async {
                let wait = asyncsim::random_range(1u64..40);
                asyncsim::time::sleep(Duration::from_millis(wait)).await;
                let _listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                std::future::pending::<()>().await;
            });
            let mut failed = 0;
            while TcpStream::connect("server:6000").await.is_err() {
                failed += 1;
            }
            failed
        });
        let failed = run.result.unwrap();
        let refused = outcomes(&run.trace)
            .iter()
            .filter(|outcome| outcome.0 == NetOp::Refused)
            .count();
        assert_eq!(refused, failed, "{}", run.trace);
        counts.insert(failed);
    }
    assert!(counts.len() > 3, "{counts:?}");
}

/// The listener's node crashes after the SYN arrived (the connection
/// queued, not accepted) and before the SYN-ACK does: as on Linux (the
/// SYN-ACK left when the SYN arrived; the reset answers the client's ACK)
/// the connect succeeds a round trip after it started (`net connect`, by
/// the connecting task), a write then is accepted, and the reset comes one
/// latency later: the first read gets `ConnectionReset`, the next EOF.
/// (With the SYN still on its way the SYN finds what listens when it
/// arrives: `world_net_a_closed_listener_refuses_syns_on_their_way`.)
#[test]
fn a_listener_crashed_before_accepting_completes_the_connect_then_resets_it() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let server = node::Builder::new("server").start(|| async {
                let _listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                std::future::pending::<()>().await;
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let crasher = asyncsim::spawn(async move {
                // The SYN arrives 2 ms after the connect starts.
                asyncsim::time::sleep(Duration::from_micros(2_500)).await;
                server.crash();
            });
            let started = now_ns();
            let mut stream = TcpStream::connect("server:6000").await.unwrap();
            let returned = now_ns();
            crasher.await.unwrap();
            let wrote = stream.write(b"x").await.map_err(|e| e.kind());
            let mut buf = [0u8; 4];
            let read = stream.read(&mut buf).await.map_err(|e| e.kind());
            let reset_at = now_ns();
            let again = stream.read(&mut buf).await.map_err(|e| e.kind());
            (started, returned, wrote, read, reset_at, again)
        });
        let (started, returned, wrote, read, reset_at, again) = run.result.unwrap();
        assert_eq!(returned, started + 4 * MS);
        assert_eq!(
            (wrote, read, reset_at, again),
            (
                Ok(1),
                Err(std::io::ErrorKind::ConnectionReset),
                returned + 2 * MS,
                Ok(0)
            ),
            "{}",
            run.trace
        );
        assert_only_by_main(
            outcomes(&run.trace),
            NetOp::Connect,
            returned,
            "TcpStream#0 (main:49152 -> server:6000)",
            &run.trace,
        );
    }
}

/// A connect across a partition returns `TimedOut` at `tcp_timeout` and
/// records `net connect timed out` then.
#[test]
fn a_connect_across_a_partition_records_its_timeout() {
    for config in random_and_pct(24) {
        let link = fixed(2).tcp_timeout(Duration::from_millis(50));
        let run = Sim::new(config.net(link)).run(async {
            let _server = node::Builder::new("server").start(|| async {
                let _listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                std::future::pending::<()>().await;
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            net::partition("main", "server");
            let started = now_ns();
            let error = TcpStream::connect("server:6000").await.unwrap_err();
            (started, now_ns(), error.kind())
        });
        let (started, returned, kind) = run.result.unwrap();
        assert_eq!(kind, std::io::ErrorKind::TimedOut);
        assert_eq!(returned, started + 50 * MS);
        assert_only_by_main(
            outcomes(&run.trace),
            NetOp::ConnectTimedOut,
            returned,
            "TcpStream (main -> server:6000)",
            &run.trace,
        );
        assert_trace_says(
            &run.trace,
            "net connect timed out: TcpStream from main to server:6000",
        );
    }
}

/// A connect to an unknown host is `NotFound` at once: nothing was sent,
/// so no net event.
#[test]
fn a_connect_to_an_unknown_host_is_an_error_and_no_net_event() {
    let run = Sim::new(Config::new()).run(async {
        let error = TcpStream::connect("nowhere:6000").await.unwrap_err();
        (now_ns(), error.kind())
    });
    assert_eq!(run.result.unwrap(), (0, std::io::ErrorKind::NotFound));
    assert!(
        run.trace
            .events()
            .iter()
            .all(|event| !matches!(event.kind, EventKind::Net { .. })),
        "{}",
        run.trace
    );
}

/// A trace with refusals and a connect timeout saves and loads equal, at
/// this build's version and at version 4 (which added these operations),
/// not at version 3.
#[test]
fn refusals_and_connect_timeouts_round_trip_through_trace_files() {
    let link = fixed(2).tcp_timeout(Duration::from_millis(20));
    let run = Sim::new(Config::new().net(link)).run(async {
        let _server = idle_server();
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let refused = TcpStream::connect("server:6000").await.unwrap_err();
        net::partition("main", "server");
        let timed_out = TcpStream::connect("server:6000").await.unwrap_err();
        (refused.kind(), timed_out.kind())
    });
    assert_eq!(
        run.result.unwrap(),
        (
            std::io::ErrorKind::ConnectionRefused,
            std::io::ErrorKind::TimedOut
        )
    );
    let text = trace_file::to_string(&run.trace);
    assert!(text.contains(r#""op":"refused""#), "{text}");
    assert!(text.contains(r#""op":"connect timed out""#), "{text}");
    assert_eq!(trace_file::from_str(&text).unwrap(), run.trace);
    // Version 4 added them: a version-4 file holding them loads, a
    // version-3 one cannot hold them (it was edited).
    let current = format!("\"version\": {}", trace_file::VERSION);
    let four = text.replace(&current, "\"version\": 4");
    assert_eq!(trace_file::from_str(&four).unwrap(), run.trace);
    let older = text.replace(&current, "\"version\": 3");
    let error = trace_file::from_str(&older).unwrap_err();
    assert!(
        matches!(
            &error,
            trace_file::TraceFileError::EventNewerThanFile { kind, added_in: 4, version: 3, .. }
                if kind == "net refused"
        ),
        "{error}"
    );
}

/// A failure's report tells a refused connect in its trace line's words.
#[test]
fn a_refused_connect_is_named_in_the_failure_report() {
    let summary = asyncsim::explore(asyncsim::Explore::new().runs(20), || async {
        let _server = idle_server();
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        TcpStream::connect("server:6000")
            .await
            .expect("the server listens");
    });
    let found = summary
        .first_failure
        .expect("the connect was never refused");
    let report = found.to_string();
    assert!(report.contains("the server listens"), "{report}");
    assert!(
        report.contains("net refused: TcpStream from main to server:6000"),
        "{report}"
    );
}
