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
