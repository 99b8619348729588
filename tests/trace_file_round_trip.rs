//! A trace saved to a file reads back to an equal trace; damaged files are
//! clear errors.

mod render_samples;

use asyncsim::harness::trace_file::{self, TraceFileError, VERSION};
use asyncsim::Trace;

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("trace_file_round_trip");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn save_then_load_gives_an_equal_trace_on_200_random_schedules() {
    let path = temp_path("assorted.trace.json");
    for seed in 0..200 {
        let run = render_samples::assorted(seed);
        trace_file::save(&run.trace, &path).unwrap();
        let back = trace_file::load(&path).unwrap();
        assert_eq!(back, run.trace, "seed {seed}");
        assert_eq!(back.hash(), run.trace.hash());
        assert_eq!(back.to_string(), run.trace.to_string());
    }
}

#[test]
fn the_article_examples_round_trip_through_strings() {
    for run in [
        render_samples::blocking_speakers(),
        render_samples::blocking_func_on_the_loop(),
        render_samples::blocking_func_in_executor(),
    ] {
        let text = trace_file::to_string(&run.trace);
        assert_eq!(trace_file::from_str(&text).unwrap(), run.trace);
    }
}

#[test]
fn an_empty_trace_round_trips() {
    let empty = Trace::from_parts(Vec::new(), Vec::new(), Vec::new());
    let text = trace_file::to_string(&empty);
    assert_eq!(trace_file::from_str(&text).unwrap(), empty);
}

#[test]
fn a_missing_file_is_an_io_error() {
    let error = trace_file::load(&temp_path("does-not-exist.json")).unwrap_err();
    assert!(matches!(error, TraceFileError::Io(_)), "{error}");
    assert!(error.to_string().contains("cannot read"), "{error}");
}

#[test]
fn a_cut_file_is_malformed() {
    let run = render_samples::blocking_speakers();
    let text = trace_file::to_string(&run.trace);
    let cut = &text[..text.len() / 2];
    let error = trace_file::from_str(cut).unwrap_err();
    assert!(matches!(error, TraceFileError::Malformed(_)), "{error}");
    assert!(error
        .to_string()
        .contains("not a valid asyncsim trace file"));
}

#[test]
fn a_file_of_another_version_is_refused_by_name() {
    let run = render_samples::blocking_speakers();
    let text = trace_file::to_string(&run.trace)
        .replace(&format!("\"version\": {VERSION}"), "\"version\": 999");
    let error = trace_file::from_str(&text).unwrap_err();
    assert!(matches!(
        error,
        TraceFileError::UnsupportedVersion { found: 999 }
    ));
    assert!(error.to_string().contains("version 999"), "{error}");
}

#[test]
fn other_json_is_not_a_trace_file() {
    let error = trace_file::from_str(r#"{"traceEvents": []}"#).unwrap_err();
    assert!(matches!(error, TraceFileError::NotATraceFile), "{error}");
}

#[test]
fn an_edited_event_is_caught_by_the_hash() {
    let run = render_samples::blocking_speakers();
    let text = trace_file::to_string(&run.trace);
    let edited = text.replacen(
        "\"duration_ns\":3000000000",
        "\"duration_ns\":2000000000",
        1,
    );
    assert_ne!(edited, text);
    let error = trace_file::from_str(&edited).unwrap_err();
    assert!(matches!(error, TraceFileError::Inconsistent(_)), "{error}");
    assert!(error.to_string().contains("hash"), "{error}");
}

#[test]
fn an_event_naming_a_missing_task_is_inconsistent() {
    let run = render_samples::blocking_speakers();
    let text = trace_file::to_string(&run.trace).replacen("\"task\":1,", "\"task\":77,", 1);
    let error = trace_file::from_str(&text).unwrap_err();
    assert!(error.to_string().contains("task #77"), "{error}");
}

#[test]
fn a_file_of_the_oldest_version_still_loads() {
    // Version 1 files hold a subset of today's kinds, read the same way.
    let run = render_samples::blocking_speakers();
    let text = trace_file::to_string(&run.trace).replace(
        &format!("\"version\": {VERSION}"),
        &format!("\"version\": {}", trace_file::OLDEST_VERSION),
    );
    assert_eq!(trace_file::OLDEST_VERSION, 1);
    assert_eq!(trace_file::from_str(&text).unwrap(), run.trace);
    let older = text.replace("\"version\": 1", "\"version\": 0");
    let error = trace_file::from_str(&older).unwrap_err();
    assert!(
        matches!(error, TraceFileError::UnsupportedVersion { found: 0 }),
        "{error}"
    );
}

#[test]
fn a_newer_version_says_a_newer_asyncsim_wrote_it() {
    let run = render_samples::blocking_speakers();
    let text = trace_file::to_string(&run.trace).replace(
        &format!("\"version\": {VERSION}"),
        &format!("\"version\": {}", VERSION + 1),
    );
    let error = trace_file::from_str(&text).unwrap_err().to_string();
    assert!(error.contains("newer asyncsim wrote it"), "{error}");
    assert!(error.contains("asyncsim-trace"), "{error}");
}

/// A run of the world: its trace holds `net` events of a stream and a
/// datagram, a blocked socket wait, and `crash` and `fault` events.
fn crash_run() -> asyncsim::Run<()> {
    use futures::AsyncWriteExt;
    asyncsim::Sim::new(asyncsim::Config::new()).run(async {
        let db = asyncsim::node::Builder::new("db").start(|| async {
            asyncsim::fs::write("/x", b"1").await.unwrap();
            let listener = asyncsim::net::TcpListener::bind("0.0.0.0:7000")
                .await
                .unwrap();
            let (_stream, _) = listener.accept().await.unwrap();
            std::future::pending::<()>().await;
        });
        let socket = asyncsim::net::UdpSocket::bind("0.0.0.0:5000")
            .await
            .unwrap();
        socket.send_to(b"hello", "db:9").await.unwrap();
        let mut stream = asyncsim::net::TcpStream::connect("db:7000").await.unwrap();
        stream.write_all(b"ping").await.unwrap();
        asyncsim::time::sleep(std::time::Duration::from_millis(5)).await;
        db.crash();
        asyncsim::time::sleep(std::time::Duration::from_millis(5)).await;
    })
}

#[test]
fn a_world_run_round_trips_with_its_net_crash_and_fault_events() {
    let run = crash_run();
    let kinds: Vec<&str> = [
        "\"kind\":\"net\"",
        "\"kind\":\"crash\"",
        "\"kind\":\"fault\"",
        "\"type\":\"socket\"",
    ]
    .into_iter()
    .collect();
    let text = trace_file::to_string(&run.trace);
    for kind in kinds {
        assert!(text.contains(kind), "no {kind} in\n{text}");
    }
    assert_eq!(trace_file::from_str(&text).unwrap(), run.trace);
}

#[test]
fn an_event_of_an_unknown_kind_is_named() {
    let run = render_samples::blocking_speakers();
    let text = trace_file::to_string(&run.trace);
    let edited = text.replacen("\"kind\":\"poll\"", "\"kind\":\"teleport\"", 1);
    assert_ne!(edited, text);
    let error = trace_file::from_str(&edited).unwrap_err();
    let TraceFileError::UnknownEvent {
        index,
        kind,
        version,
    } = &error
    else {
        panic!("{error}")
    };
    assert_eq!((kind.as_str(), *version), ("teleport", VERSION));
    let poll = run
        .trace
        .events()
        .iter()
        .position(|event| event.kind == asyncsim::EventKind::Poll)
        .unwrap();
    assert_eq!(*index, poll);
    let words = error.to_string();
    assert!(
        words.contains("\"teleport\"") && words.contains("newer asyncsim"),
        "{words}"
    );
}

#[test]
fn a_fault_of_an_unknown_operation_is_named() {
    let run = crash_run();
    let text = trace_file::to_string(&run.trace);
    assert_eq!(trace_file::from_str(&text).unwrap(), run.trace);
    let edited = text.replacen("\"op\":\"crash\"", "\"op\":\"meteor\"", 1);
    assert_ne!(edited, text, "{text}");
    let error = trace_file::from_str(&edited).unwrap_err();
    assert!(
        matches!(&error, TraceFileError::UnknownEvent { kind, .. } if kind == "fault meteor"),
        "{error}"
    );
    // A wait this build does not know, inside a known kind, is named too.
    let waiting = text.replacen("\"type\":\"socket\"", "\"type\":\"telepathy\"", 1);
    assert_ne!(waiting, text, "{text}");
    let error = trace_file::from_str(&waiting).unwrap_err();
    assert!(
        matches!(&error, TraceFileError::UnknownEvent { kind, .. } if kind == "pending telepathy"),
        "{error}"
    );
}

/// Every event a version after 1 added, with the name a file gives it and
/// that version (the trace file module's table): `net_drop` and its first
/// reasons in 2, its reasons of a stream's lost bytes in 3, the connect
/// outcomes and a stream's timeout in 4, an abandoned connect in 5, a
/// writer waiting for room in 6, a wait for a UDP socket's error in 7.
fn added_after_version_1() -> Vec<(asyncsim::EventKind, &'static str, u64)> {
    use asyncsim::trace::{DropWhy, NetOp};
    use asyncsim::EventKind;
    let drop = |why| EventKind::NetDrop {
        why,
        from: 0,
        to: 1,
        bytes: 3,
    };
    let net = |op| EventKind::Net {
        op,
        socket: 0,
        bytes: 0,
    };
    vec![
        (drop(DropWhy::Lost), "net_drop lost", 2),
        (drop(DropWhy::Full), "net_drop full", 2),
        (drop(DropWhy::Partition), "net_drop partition", 2),
        (drop(DropWhy::Isolated), "net_drop isolated", 2),
        (drop(DropWhy::Unbound), "net_drop unbound", 2),
        (drop(DropWhy::NotPeer), "net_drop not_peer", 2),
        (drop(DropWhy::Closed), "net_drop closed", 3),
        (drop(DropWhy::Crashed), "net_drop crashed", 3),
        (drop(DropWhy::Reset), "net_drop reset", 3),
        (drop(DropWhy::TimedOut), "net_drop timed_out", 3),
        (net(NetOp::Refused), "net refused", 4),
        (net(NetOp::ConnectTimedOut), "net connect timed out", 4),
        (net(NetOp::TimedOut), "net timed out", 4),
        (net(NetOp::ConnectAborted), "net connect aborted", 5),
        (
            EventKind::Pending {
                on: asyncsim::trace::WaitOn::Socket {
                    op: asyncsim::trace::SocketWait::Write,
                    socket: 0,
                },
            },
            "pending socket write",
            6,
        ),
        (
            EventKind::Pending {
                on: asyncsim::trace::WaitOn::Socket {
                    op: asyncsim::trace::SocketWait::Error,
                    socket: 0,
                },
            },
            "pending socket error",
            7,
        ),
        (drop(DropWhy::SenderCrashed), "net_drop sender_crashed", 8),
    ]
}

/// A file whose events include one its version did not have yet (a
/// version-3 file holding a `refused`) is refused, naming the event, the
/// version that added it and the file's; from that version on it loads.
#[test]
fn an_event_newer_than_the_files_version_is_refused() {
    use asyncsim::trace::{Event, TaskId, TaskInfo};
    use asyncsim::EventKind;
    let added = added_after_version_1();
    // Every reason and every operation since version 1 is in the list.
    assert_eq!(
        added
            .iter()
            .filter(|(kind, ..)| matches!(kind, EventKind::NetDrop { .. }))
            .count(),
        asyncsim::trace::DropWhy::ALL.len()
    );
    for (kind, name, added_in) in added {
        let events = vec![
            Event {
                step: 0,
                time_ns: 0,
                task: Some(TaskId::MAIN),
                kind: EventKind::Spawn { parent: None },
            },
            Event {
                step: 1,
                time_ns: 5,
                task: None,
                kind,
            },
        ];
        let tasks = vec![TaskInfo {
            name: "main".into(),
            parent: None,
            blocking: false,
        }];
        let labels = vec!["TcpStream#0 (main:49152 -> server:6000)".into(), "b".into()];
        let trace = Trace::from_parts(events, tasks, labels);
        let text = trace_file::to_string(&trace);
        for version in trace_file::OLDEST_VERSION..=VERSION {
            let edited = text.replace(
                &format!("\"version\": {VERSION}"),
                &format!("\"version\": {version}"),
            );
            let loaded = trace_file::from_str(&edited);
            if version >= added_in {
                assert_eq!(loaded.unwrap(), trace, "{name} at version {version}");
                continue;
            }
            let error = loaded.unwrap_err();
            match &error {
                TraceFileError::EventNewerThanFile {
                    index,
                    kind,
                    added_in: said,
                    version: found,
                } => assert_eq!(
                    (*index, kind.as_str(), *said, *found),
                    (1, name, added_in, version),
                    "{error}"
                ),
                _ => panic!("{name} at version {version}: {error}"),
            }
            let words = error.to_string();
            assert!(
                words.contains(&format!("{name:?}"))
                    && words.contains(&format!("version {added_in} added"))
                    && words.contains(&format!("says version {version}")),
                "{words}"
            );
        }
    }
}
