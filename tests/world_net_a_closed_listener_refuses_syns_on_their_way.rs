//! A listener dropped while a client's SYN is on its way: as on Linux, the
//! SYN finds no listener when it arrives and is answered with a RST, so the
//! connect fails with `ConnectionRefused` when the RST comes back (the
//! SYN-ACK's time), a `net refused` on the would-be stream, exactly as a
//! connect to a port where nothing was ever bound; the server records
//! nothing of it. A listener bound again on the port before the SYN
//! arrives takes it. A connection whose SYN had arrived (queued, not
//! accepted) is reset when the listener closes, as before. A listener's
//! node crashing with the SYN on its way is the same case: the SYN finds
//! what listens when it arrives (the node restarted and bound again, or
//! nothing).

mod net_support;
mod schedule_support;

use std::io::ErrorKind;
use std::time::Duration;

use asyncsim::net::{TcpListener, TcpStream};
use asyncsim::trace::{NetOp, TaskId, Trace};
use asyncsim::{node, Sim};
use futures::{AsyncReadExt, AsyncWriteExt};
use net_support::{assert_only_by_main, assert_trace_says, fixed, now_ns, MS};
use schedule_support::random_and_pct;

/// Every `net` event of the trace: (op, time, task, socket label).
fn net(trace: &Trace) -> Vec<(NetOp, u64, Option<TaskId>, String)> {
    net_support::net_events(trace, |_| true)
}

/// Every `net` event of the trace as (op, time).
fn op_times(trace: &Trace) -> Vec<(NetOp, u64)> {
    net(trace).iter().map(|(op, at, ..)| (*op, *at)).collect()
}

/// Asserts no event of `got` is a refusal or a reset; a failure shows
/// `trace`.
#[track_caller]
fn assert_no_refusal_or_reset(got: &[(NetOp, u64, Option<TaskId>, String)], trace: &Trace) {
    assert!(
        got.iter()
            .all(|(op, ..)| !matches!(op, NetOp::Refused | NetOp::Reset)),
        "{trace}"
    );
}

/// A node `server` whose listener on port 6000 is dropped at `drop_ms`.
fn closing_server(drop_ms: u64) -> node::Node {
    node::Builder::new("server").start(move || async move {
        let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
        asyncsim::time::sleep(Duration::from_millis(drop_ms)).await;
        drop(listener);
        std::future::pending::<()>().await;
    })
}

/// The SYN leaves at 1 ms and arrives at 3 ms; the listener is dropped at
/// 2 ms. The connect is refused at 5 ms (the RST's arrival), recorded as a
/// `net refused` on the would-be stream by the connecting task, and no
/// other net event: no stream was made, the server saw nothing.
#[test]
fn a_listener_dropped_while_the_syn_is_on_its_way_refuses_the_connect() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let _server = closing_server(2);
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let error = TcpStream::connect("server:6000").await.unwrap_err();
            (now_ns(), error.kind(), error.to_string())
        });
        let (returned, kind, message) = run.result.unwrap();
        assert_eq!(kind, ErrorKind::ConnectionRefused, "{}", run.trace);
        assert_eq!(returned, 5 * MS, "{}", run.trace);
        assert_eq!(
            message,
            "connection refused: nothing listens on server:6000"
        );
        assert_only_by_main(
            net(&run.trace),
            NetOp::Refused,
            5 * MS,
            "TcpStream (main -> server:6000)",
            &run.trace,
        );
        assert_trace_says(
            &run.trace,
            "main         net refused: TcpStream from main to server:6000",
        );
    }
}

/// The SYN arrives at 3 ms; the listener is dropped at 4 ms, the
/// connection queued and not accepted: the connect succeeds at 5 ms and the
/// stream is reset (as before, and as Linux resets it), recorded right
/// after its connect.
#[test]
fn a_listener_dropped_after_the_syn_arrived_resets_the_queued_connection() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let _server = closing_server(4);
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:6000").await.unwrap();
            let connected = now_ns();
            let mut buf = [0u8; 2];
            let kind = stream.read(&mut buf).await.unwrap_err().kind();
            (connected, kind)
        });
        let (connected, kind) = run.result.unwrap();
        assert_eq!((connected, kind), (5 * MS, ErrorKind::ConnectionReset));
        let stream = "TcpStream#0 (main:49152 -> server:6000)".to_string();
        assert_eq!(
            net(&run.trace),
            [
                (NetOp::Connect, 5 * MS, Some(TaskId::MAIN), stream.clone()),
                (NetOp::Reset, 5 * MS, Some(TaskId::MAIN), stream),
            ],
            "{}",
            run.trace
        );
    }
}

/// Both in one run: client `a`'s SYN arrives at 3 ms, `b`'s leaves at
/// 3.5 ms, the listener is dropped at 4 ms. `a` connects and is reset; `b`
/// is refused at 7.5 ms, on the would-be stream, and nothing names the
/// stream that was made for it while its SYN was on its way.
#[test]
fn a_queued_connection_is_reset_and_one_on_its_way_refused() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let _server = closing_server(4);
            let a = node::Builder::new("a").start(std::future::pending::<()>);
            let b = node::Builder::new("b").start(std::future::pending::<()>);
            let a = a.spawn(async {
                asyncsim::time::sleep(Duration::from_millis(1)).await;
                let mut stream = TcpStream::connect("server:6000").await.unwrap();
                let mut buf = [0u8; 2];
                stream.read(&mut buf).await.unwrap_err().kind()
            });
            let b = b.spawn(async {
                asyncsim::time::sleep(Duration::from_micros(3500)).await;
                let error = TcpStream::connect("server:6000").await.unwrap_err();
                (now_ns(), error.kind())
            });
            (a.await.unwrap(), b.await.unwrap())
        });
        let (a, b) = run.result.unwrap();
        assert_eq!(a, ErrorKind::ConnectionReset, "{}", run.trace);
        assert_eq!(
            b,
            (7_500_000, ErrorKind::ConnectionRefused),
            "{}",
            run.trace
        );
        let stream = "TcpStream#0 (a:49152 -> server:6000)".to_string();
        let got = net(&run.trace);
        assert_eq!(got.len(), 3, "{}", run.trace);
        assert!(
            got.iter()
                .all(|(_, _, task, label)| task.is_some() && !label.contains("TcpStream#2")),
            "{}",
            run.trace
        );
        let ops: Vec<_> = got
            .iter()
            .map(|(op, at, _, label)| (*op, *at, label.clone()))
            .collect();
        assert_eq!(
            ops,
            [
                (NetOp::Connect, 5 * MS, stream.clone()),
                (NetOp::Reset, 5 * MS, stream),
                (
                    NetOp::Refused,
                    7_500_000,
                    "TcpStream (b -> server:6000)".to_string()
                ),
            ],
            "{}",
            run.trace
        );
    }
}

/// A listener bound again on the port before the SYN arrives takes it (as
/// on Linux the SYN finds the new listener): dropped at 2 ms, bound again
/// at 2.5 ms, the SYN arriving at 3 ms; the connect succeeds at 5 ms and
/// the new listener's accept hands out the stream, which carries bytes.
#[test]
fn a_listener_bound_again_before_the_syn_arrives_takes_the_connection() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let _server = node::Builder::new("server").start(|| async {
                let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                asyncsim::time::sleep(Duration::from_millis(2)).await;
                drop(listener);
                asyncsim::time::sleep(Duration::from_micros(500)).await;
                let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut word = [0u8; 4];
                stream.read_exact(&mut word).await.unwrap();
                stream.write_all(&word).await.unwrap();
                std::future::pending::<()>().await;
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:6000").await.unwrap();
            let connected = now_ns();
            stream.write_all(b"ping").await.unwrap();
            let mut echo = [0u8; 4];
            stream.read_exact(&mut echo).await.unwrap();
            (connected, echo)
        });
        let (connected, echo) = run.result.unwrap();
        assert_eq!((connected, &echo), (5 * MS, b"ping"), "{}", run.trace);
        let got = net(&run.trace);
        let accepts: Vec<_> = got
            .iter()
            .filter(|(op, ..)| *op == NetOp::Accept)
            .map(|(_, at, ..)| *at)
            .collect();
        assert_eq!(accepts, [3 * MS], "{}", run.trace);
        assert_no_refusal_or_reset(&got, &run.trace);
    }
}

/// The listener is dropped at 2 ms and its node crashes at 2.5 ms, the SYN
/// still on its way: the connect is refused at 5 ms as above, the crash
/// having nothing of it to reset (its listener was gone already).
#[test]
fn a_crash_after_the_drop_leaves_the_refusal_as_it_is() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let server = closing_server(2);
            let crasher = asyncsim::spawn(async move {
                asyncsim::time::sleep(Duration::from_micros(2500)).await;
                server.crash();
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let error = TcpStream::connect("server:6000").await.unwrap_err();
            crasher.await.unwrap();
            (now_ns(), error.kind())
        });
        let (returned, kind) = run.result.unwrap();
        assert_eq!((returned, kind), (5 * MS, ErrorKind::ConnectionRefused));
        assert_only_by_main(
            net(&run.trace),
            NetOp::Refused,
            5 * MS,
            "TcpStream (main -> server:6000)",
            &run.trace,
        );
    }
}

/// A connect given up on (a timeout at 2.5 ms) after the listener was
/// dropped and before its SYN arrives is abandoned as any connect is: a
/// `net connect aborted` then, and no refusal or reset later.
#[test]
fn a_connect_abandoned_on_the_way_is_aborted_and_nothing_else() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let _server = closing_server(2);
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let connect = TcpStream::connect("server:6000");
            let gave_up = asyncsim::time::timeout(Duration::from_micros(1500), connect).await;
            assert!(gave_up.is_err());
            asyncsim::time::sleep(Duration::from_millis(10)).await;
        });
        run.result.unwrap();
        assert_eq!(
            op_times(&run.trace),
            [(NetOp::ConnectAborted, 2_500_000)],
            "{}",
            run.trace
        );
    }
}

/// The listener is dropped at 2 ms and its node restarted at 2.2 ms, its
/// `init` binding the port again, before the SYN arrives at 3 ms: the new
/// incarnation's listener takes the connection, which carries bytes.
#[test]
fn a_listener_of_a_restarted_node_bound_before_the_syn_arrives_takes_it() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let starts = std::rc::Rc::new(std::cell::Cell::new(0u32));
            let server = node::Builder::new("server").start(move || {
                let start = starts.get();
                starts.set(start + 1);
                async move {
                    let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                    if start == 0 {
                        asyncsim::time::sleep(Duration::from_millis(2)).await;
                        drop(listener);
                        return std::future::pending::<()>().await;
                    }
                    let (mut stream, _) = listener.accept().await.unwrap();
                    let mut word = [0u8; 4];
                    stream.read_exact(&mut word).await.unwrap();
                    stream.write_all(&word).await.unwrap();
                    std::future::pending::<()>().await;
                }
            });
            let restarter = asyncsim::spawn(async move {
                asyncsim::time::sleep(Duration::from_micros(2200)).await;
                server.restart();
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:6000").await.unwrap();
            let connected = now_ns();
            stream.write_all(b"ping").await.unwrap();
            let mut echo = [0u8; 4];
            stream.read_exact(&mut echo).await.unwrap();
            restarter.await.unwrap();
            (connected, echo)
        });
        let (connected, echo) = run.result.unwrap();
        assert_eq!((connected, &echo), (5 * MS, b"ping"), "{}", run.trace);
        assert_no_refusal_or_reset(&net(&run.trace), &run.trace);
    }
}

/// A second listener bound on the port after the first was dropped, and
/// dropped too, at `second_drop_us`: before the SYN arrives (3 ms), the
/// connect is refused at 5 ms as if neither had listened; after it, the
/// second listener had queued the connection, which is reset.
#[test]
fn a_second_listener_dropped_before_or_after_the_syn_arrives() {
    for (second_drop_us, refused) in [(2800, true), (4000, false)] {
        for config in random_and_pct(24) {
            let run = Sim::new(config.net(fixed(2))).run(async move {
                let _server = node::Builder::new("server").start(move || async move {
                    let first = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                    asyncsim::time::sleep(Duration::from_millis(2)).await;
                    drop(first);
                    asyncsim::time::sleep(Duration::from_micros(500)).await;
                    let second = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                    asyncsim::time::sleep(Duration::from_micros(second_drop_us - 2500)).await;
                    drop(second);
                    std::future::pending::<()>().await;
                });
                asyncsim::time::sleep(Duration::from_millis(1)).await;
                match TcpStream::connect("server:6000").await {
                    Ok(mut stream) => {
                        let connected = now_ns();
                        let mut buf = [0u8; 2];
                        Ok((connected, stream.read(&mut buf).await.unwrap_err().kind()))
                    }
                    Err(error) => Err((now_ns(), error.kind(), error.to_string())),
                }
            });
            let outcome = run.result.unwrap();
            if refused {
                assert_eq!(
                    outcome,
                    Err((
                        5 * MS,
                        ErrorKind::ConnectionRefused,
                        "connection refused: nothing listens on server:6000".to_string()
                    )),
                    "{}",
                    run.trace
                );
                assert_eq!(
                    op_times(&run.trace),
                    [(NetOp::Refused, 5 * MS)],
                    "{}",
                    run.trace
                );
            } else {
                assert_eq!(
                    outcome,
                    Ok((5 * MS, ErrorKind::ConnectionReset)),
                    "{}",
                    run.trace
                );
            }
        }
    }
}

/// A node `server` that listens on 6000 and greets each connection it
/// accepts with `hi`; crashed at `crash_us` and, given `restart_us`,
/// restarted then (binding again at once).
fn greeter_crashed_at(crash_us: u64, restart_us: Option<u64>) {
    let server = node::Builder::new("server").start(|| async {
        let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
        let mut kept = Vec::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            stream.write_all(b"hi").await.unwrap();
            kept.push(stream);
        }
    });
    drop(asyncsim::spawn(async move {
        asyncsim::time::sleep(Duration::from_micros(crash_us)).await;
        server.crash();
        if let Some(restart_us) = restart_us {
            asyncsim::time::sleep(Duration::from_micros(restart_us - crash_us)).await;
            server.restart();
        }
    }));
}

/// The listener's node crashes at 2 ms, the SYN (left at 1 ms) still on its
/// way: as on a dropped listener, the SYN finds what listens when it
/// arrives (3 ms): nothing, so the connect is refused at 5 ms as one to a
/// port where nothing is bound (on the would-be stream), not as one whose
/// listener closed before accepting it (which its SYN never reached).
#[test]
fn a_crash_with_the_syn_on_its_way_refuses_as_nothing_listens() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            greeter_crashed_at(2_000, None);
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let error = TcpStream::connect("server:6000").await.unwrap_err();
            (now_ns(), error.kind(), error.to_string())
        });
        let (returned, kind, message) = run.result.unwrap();
        assert_eq!(
            (returned, kind, message.as_str()),
            (
                5 * MS,
                ErrorKind::ConnectionRefused,
                "connection refused: nothing listens on server:6000"
            ),
            "{}",
            run.trace
        );
        assert_only_by_main(
            net(&run.trace),
            NetOp::Refused,
            5 * MS,
            "TcpStream (main -> server:6000)",
            &run.trace,
        );
    }
}

/// The node crashes at 2 ms and restarts at 2.5 ms, binding again, before
/// the SYN arrives at 3 ms: the restarted listener takes it (Linux's SYN
/// reaches whatever listens when it arrives), and the stream works.
#[test]
fn a_listener_restarted_before_the_syn_arrives_takes_it() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            greeter_crashed_at(2_000, Some(2_500));
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:6000").await.unwrap();
            let connected = now_ns();
            let mut hello = [0u8; 2];
            stream.read_exact(&mut hello).await.unwrap();
            (connected, hello)
        });
        assert_eq!(run.result.unwrap(), (5 * MS, *b"hi"), "{}", run.trace);
        assert_no_refusal_or_reset(&net(&run.trace), &run.trace);
    }
}
