//! A stream's reset (its peer's node crashed) and its timeout (a cut that
//! outlived `tcp_timeout`) are trace events at the end they reach, at their
//! arrival, by the network (no task): whether or not that end's task ever
//! touches its stream again, and once an end even when it does.

mod net_support;
mod schedule_support;

use std::time::Duration;

use asyncsim::net::{self, TcpListener, TcpStream};
use asyncsim::trace::{EventKind, NetOp, TaskId, Trace};
use asyncsim::{node, Sim};
use futures::{AsyncReadExt, AsyncWriteExt};
use net_support::{fixed, MS};
use schedule_support::random_and_pct;

/// The trace's resets: (time, task, the end's label), in trace order.
fn resets(trace: &Trace) -> Vec<(u64, Option<TaskId>, String)> {
    ends_broken(trace, NetOp::Reset)
}

/// The trace's events `op` on a stream's end (a reset or a timeout): (time,
/// task, the end's label), in trace order.
fn ends_broken(trace: &Trace, op: NetOp) -> Vec<(u64, Option<TaskId>, String)> {
    trace
        .events()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::Net {
                op: recorded,
                socket,
                ..
            } if recorded == op => {
                Some((event.time_ns, event.task, trace.label(socket).to_string()))
            }
            _ => None,
        })
        .collect()
}

/// A server on `server:6000` that accepts connections and keeps them,
/// sending `hello` on each, until its node crashes.
fn start_server() -> node::Node {
    node::Builder::new("server").start(|| async {
        let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
        let mut kept = Vec::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            stream.write_all(b"hello").await.unwrap();
            kept.push(stream);
        }
    })
}

/// The server's node crashes with two connections from main open; main
/// never touches either again (it sleeps past the resets' arrival, the
/// streams kept). Each end gets one reset at the crash plus one latency,
/// by no task; one end's unread `hello` is dropped after its reset.
#[test]
fn a_peer_crash_records_a_reset_at_each_surviving_end_that_never_reads_again() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let server = start_server();
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut first = TcpStream::connect("server:6000").await.unwrap();
            let second = TcpStream::connect("server:6000").await.unwrap();
            let mut hello = [0u8; 5];
            first.read_exact(&mut hello).await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(5)).await;
            let crashed_ns = asyncsim::time::Instant::now().as_nanos();
            server.crash();
            asyncsim::time::sleep(Duration::from_millis(20)).await;
            (crashed_ns, [first, second])
        });
        let (crashed_ns, _streams) = run.result.unwrap();
        let mut got = resets(&run.trace);
        got.sort_by(|a, b| a.2.cmp(&b.2));
        assert_eq!(
            got,
            [
                (
                    crashed_ns + 2 * MS,
                    None,
                    "TcpStream#0 (main:49152 -> server:6000)".to_string()
                ),
                (
                    crashed_ns + 2 * MS,
                    None,
                    "TcpStream#2 (main:49153 -> server:6000)".to_string()
                ),
            ],
            "{}",
            run.trace
        );
        // The second's unread hello: dropped right after its reset.
        let text = run.trace.to_string();
        let reset = text
            .find("net reset TcpStream#2")
            .unwrap_or_else(|| panic!("{text}"));
        let dropped = text
            .find("net drop 5 bytes from TcpStream#3")
            .unwrap_or_else(|| panic!("{text}"));
        assert!(reset < dropped, "{text}");
    }
}

/// An end that is read, written and read again after its reset came gets
/// `ConnectionReset` once (the first read takes it, as Linux's `sk_err`),
/// then `BrokenPipe` from the write and EOF from the read, and the trace
/// no second reset; one reader parked in a read when the reset comes gets
/// it (and the later calls the same), its reset recorded once, at the
/// arrival, and its wake told as the reset's.
#[test]
fn an_end_that_touches_its_stream_after_the_reset_gets_it_and_no_second_event() {
    for parked in [false, true] {
        for config in random_and_pct(24) {
            let run = Sim::new(config.net(fixed(2))).run(async move {
                let server = start_server();
                asyncsim::time::sleep(Duration::from_millis(1)).await;
                let mut stream = TcpStream::connect("server:6000").await.unwrap();
                let mut hello = [0u8; 5];
                stream.read_exact(&mut hello).await.unwrap();
                let crashed_ns = asyncsim::time::Instant::now().as_nanos();
                let mut errors = Vec::new();
                if parked {
                    let reader = asyncsim::spawn(async move {
                        let mut buf = [0u8; 8];
                        let kind = stream.read(&mut buf).await.unwrap_err().kind();
                        (kind, stream)
                    });
                    asyncsim::time::sleep(Duration::from_micros(10)).await;
                    server.crash();
                    let (kind, back) = reader.await.unwrap();
                    errors.push(kind);
                    stream = back;
                } else {
                    server.crash();
                    asyncsim::time::sleep(Duration::from_millis(20)).await;
                }
                let mut buf = [0u8; 8];
                let mut after = Vec::new();
                if !parked {
                    errors.push(stream.read(&mut buf).await.unwrap_err().kind());
                }
                after.push(stream.write(b"x").await.map_err(|e| e.kind()));
                after.push(stream.read(&mut buf).await.map_err(|e| e.kind()));
                (crashed_ns, errors, after)
            });
            let (crashed_ns, errors, after) = run.result.unwrap();
            assert_eq!(errors, [std::io::ErrorKind::ConnectionReset]);
            assert_eq!(after, [Err(std::io::ErrorKind::BrokenPipe), Ok(0)]);
            let crashed_ns = if parked {
                crashed_ns + 10_000
            } else {
                crashed_ns
            };
            assert_eq!(
                resets(&run.trace),
                [(
                    crashed_ns + 2 * MS,
                    None,
                    "TcpStream#0 (main:49152 -> server:6000)".to_string()
                )],
                "{}",
                run.trace
            );
            if parked {
                // The reader's wake is told as the reset's.
                let trace = &run.trace;
                let wake = trace
                    .events()
                    .iter()
                    .position(|event| {
                        event.time_ns == crashed_ns + 2 * MS
                            && event.task == Some(TaskId(2))
                            && matches!(event.kind, EventKind::Wake { by: None })
                    })
                    .unwrap_or_else(|| panic!("{trace}"));
                let fired = trace.describe_at(wake - 1);
                assert!(
                    fired.starts_with("timer fired") && fired.ends_with(": the arrival of a reset"),
                    "{fired}\n{trace}"
                );
                assert_eq!(
                    trace.arrival_wake_words(wake).as_deref(),
                    Some(
                        "woken by its socket TcpStream#0 from server:6000 to main:49152 \
                         (reset after `main`'s poll)"
                    ),
                    "{trace}"
                );
            }
        }
    }
}

/// A cut between main and the server outlives `tcp_timeout` with main's
/// bytes held by it: main's end times out, a `timed out` event (not a
/// reset) at the timeout, by no task, though it is not touched again; the
/// server's end, which sent nothing, none (as on Linux, where only the
/// end that retransmits gives up, and tells no one); main, reading
/// afterwards, gets `TimedOut` (then EOF: the read took it) and the trace
/// no second event. A repair in time: no event, and the held bytes are
/// read.
#[test]
fn a_timeout_cut_records_a_timeout_at_the_sending_end_once_and_a_repair_none() {
    let link = fixed(2).tcp_timeout(Duration::from_millis(100));
    for (repair, read_after) in [(false, false), (false, true), (true, false)] {
        for config in random_and_pct(24) {
            let run = Sim::new(config.net(link.clone())).run(async move {
                node::Builder::new("server").start(|| async {
                    let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                    let (mut stream, _) = listener.accept().await.unwrap();
                    let mut buf = [0u8; 2];
                    let got = stream.read_exact(&mut buf).await;
                    if got.is_ok() {
                        stream.write_all(&buf).await.unwrap();
                    }
                    std::future::pending::<()>().await;
                    drop((listener, stream));
                });
                asyncsim::time::sleep(Duration::from_millis(1)).await;
                let mut stream = TcpStream::connect("server:6000").await.unwrap();
                asyncsim::time::sleep(Duration::from_millis(5)).await;
                net::partition("main", "server");
                let cut_ns = asyncsim::time::Instant::now().as_nanos();
                stream.write_all(b"ab").await.unwrap();
                let mut after = None;
                if repair {
                    asyncsim::time::sleep(Duration::from_millis(50)).await;
                    net::repair("main", "server");
                    let mut buf = [0u8; 2];
                    stream.read_exact(&mut buf).await.unwrap();
                    assert_eq!(&buf, b"ab");
                }
                asyncsim::time::sleep(Duration::from_millis(200)).await;
                if read_after {
                    let mut buf = [0u8; 2];
                    after = Some(stream.read(&mut buf).await.unwrap_err().kind());
                    // Taken by that read: EOF now, as on Linux.
                    assert_eq!(stream.read(&mut buf).await.unwrap(), 0);
                }
                (cut_ns, after, stream)
            });
            let (cut_ns, after, _stream) = run.result.unwrap();
            assert_eq!(resets(&run.trace), [], "{}", run.trace);
            if repair {
                assert_eq!(
                    ends_broken(&run.trace, NetOp::TimedOut),
                    [],
                    "{}",
                    run.trace
                );
                continue;
            }
            if read_after {
                assert_eq!(after, Some(std::io::ErrorKind::TimedOut));
            }
            let text = run.trace.to_string();
            assert_eq!(
                text.matches("net timed out TcpStream#").count(),
                1,
                "{text}"
            );
            let at = cut_ns + 100 * MS;
            assert_eq!(
                ends_broken(&run.trace, NetOp::TimedOut),
                [(
                    at,
                    None,
                    "TcpStream#0 (main:49152 -> server:6000)".to_string()
                )],
                "{}",
                run.trace
            );
        }
    }
}

/// A reset that reaches the client before its connect completes (the
/// server's listener closed with the connection unaccepted) is recorded
/// once, by the connecting task, right after its connect: never before it.
#[test]
fn a_reset_before_the_connect_completes_follows_the_connect() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            node::Builder::new("server").start(|| async {
                let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                // The SYN arrives at 3 ms; the listener goes at 4 ms, before
                // the SYN-ACK reaches the client at 5 ms.
                asyncsim::time::sleep(Duration::from_millis(4)).await;
                drop(listener);
                std::future::pending::<()>().await;
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:6000").await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(20)).await;
            let mut buf = [0u8; 2];
            stream.read(&mut buf).await.unwrap_err().kind()
        });
        assert_eq!(
            run.result.unwrap(),
            std::io::ErrorKind::ConnectionReset,
            "{}",
            run.trace
        );
        let got = resets(&run.trace);
        assert_eq!(got.len(), 1, "{}", run.trace);
        let (at, task, _) = &got[0];
        assert_eq!((*at, *task), (5 * MS, Some(TaskId(0))), "{}", run.trace);
        let text = run.trace.to_string();
        let connect = text.find("net connect").unwrap_or_else(|| panic!("{text}"));
        let reset = text.find("net reset").unwrap_or_else(|| panic!("{text}"));
        assert!(connect < reset, "{text}");
    }
}

/// A listener dropped with a connected client's connection unaccepted
/// resets that client's end at once. When the task that dropped it reads
/// the end in the same poll, its read sees the reset first, records it and
/// cancels the network's call; when it yields first, the network records it.
/// Either way: `ConnectionReset` for the first read (it takes it), EOF
/// for the next, the reset once.
#[test]
fn a_reset_for_the_present_instant_is_recorded_once_whoever_sees_it_first() {
    for read_first in [true, false] {
        for config in random_and_pct(24) {
            let run = Sim::new(config.net(fixed(2))).run(async move {
                let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                let mut stream = TcpStream::connect("127.0.0.1:6000").await.unwrap();
                asyncsim::time::sleep(Duration::from_millis(10)).await;
                let dropped_ns = asyncsim::time::Instant::now().as_nanos();
                drop(listener);
                if !read_first {
                    asyncsim::task::yield_now().await;
                }
                let mut buf = [0u8; 2];
                let kind = stream.read(&mut buf).await.unwrap_err().kind();
                let again = stream.read(&mut buf).await.map_err(|e| e.kind());
                (dropped_ns, kind, again)
            });
            let (dropped_ns, kind, again) = run.result.unwrap();
            assert_eq!(kind, std::io::ErrorKind::ConnectionReset);
            assert_eq!(again, Ok(0));
            let by = if read_first { Some(TaskId(0)) } else { None };
            assert_eq!(
                resets(&run.trace),
                [(
                    dropped_ns,
                    by,
                    "TcpStream#0 (main:49152 -> main:6000)".to_string()
                )],
                "{}",
                run.trace
            );
        }
    }
}
