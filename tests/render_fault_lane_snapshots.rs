//! Faults of the simulated world have a lane of their own in every picture
//! (text timeline, SVG, Chrome JSON), named in words; a run without faults
//! has no such lane (the other snapshots are the pictures of before).

use std::time::Duration;

use asyncsim::harness::render::{chrome_value, TraceExt};
use asyncsim::net::{NetConfig, UdpSocket};
use asyncsim::{fault, fs, net, node, time, Config, Run, Sim, Strategy};

fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// One of every kind of fault, scripted or drawn at rate 1 (so the
/// pictures do not depend on what the seed draws for them).
fn faulty_run() -> Run<()> {
    let fixed = Duration::from_millis(1);
    let config = Config::new()
        .seed(7)
        .strategy(Strategy::Random)
        .buggify(1.0)
        .net(NetConfig::new().latency(fixed, fixed));
    Sim::new(config).run(async move {
        let db = node::Builder::new("db").start(|| async {
            let _socket = UdpSocket::bind("0.0.0.0:5001").await.unwrap();
            std::future::pending::<()>().await;
        });
        let tick = || time::sleep(Duration::from_millis(10));
        tick().await;
        // A lossy link: the datagram is lost.
        net::set_link(
            "main",
            "db",
            NetConfig::new().latency(fixed, fixed).loss(1.0),
        );
        tick().await;
        let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        socket.send_to(b"ping", "db:5001").await.unwrap();
        tick().await;
        net::partition("main", "db");
        tick().await;
        net::repair("main", "db");
        tick().await;
        net::clog("db", "main", Duration::from_millis(100));
        tick().await;
        net::unclog("db", "main");
        tick().await;
        // A disk error burst on `db`: its write fails.
        fs::set_error_rate("db", Some(1.0));
        tick().await;
        let failed = db
            .spawn(async { fs::write("/f", b"x").await })
            .await
            .unwrap();
        assert!(failed.is_err());
        tick().await;
        fs::set_error_rate("db", None);
        db.spawn(async { fs::write("/f", b"unsynced").await.unwrap() })
            .await
            .unwrap();
        tick().await;
        db.crash();
        tick().await;
        db.restart();
        tick().await;
        assert!(fault::buggify());
        tick().await;
    })
}

#[test]
fn the_text_timeline_has_a_fault_lane_with_the_faults_in_words() {
    let run = faulty_run();
    run.result.as_ref().unwrap();
    let timeline = run.trace.timeline(100);
    let row = timeline
        .lines()
        .find(|line| line.starts_with("faults "))
        .unwrap_or_else(|| panic!("no fault lane:\n{timeline}"));
    // Each fault at a time of its own; a crash and what it kept share one.
    for letter in ['D', 'P', 'H', 'L', 'E', 'C', 'R', 'B'] {
        assert!(
            row.contains(letter),
            "no {letter} in the fault lane:\n{timeline}"
        );
    }
    for words in [
        "crashed node `db`",
        "restarted node `db`",
        "partitioned `main` <-> `db`",
        "dropped a datagram of 4 bytes main:5000 -> db:5001",
        "fs::write on `db` failed with EIO (a drawn disk error)",
        "the crash of `db` kept",
        "clogged (+0.1s) `db` -> `main`",
        "set link `main` <-> `db`: latency 0.001s..0.001s, loss 1, duplicate 0, tcp timeout 30s",
    ] {
        assert!(timeline.contains(words), "{words:?} missing:\n{timeline}");
    }
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "timeline_fault_lane",
            timeline,
            "faulty_run().trace.timeline(100)"
        )
    });
}

#[test]
fn the_svg_has_a_fault_lane_with_each_fault_on_hover() {
    let run = faulty_run();
    let svg = run.trace.to_svg();
    assert_eq!(svg.matches("<g class=\"lane faults\"").count(), 1);
    assert!(svg.contains("fault (crash): crashed node `db` at"), "{svg}");
    let html = run.trace.to_html();
    assert!(html.contains("fault(s) (the `faults` lane)"), "{html}");
    snapshot_settings()
        .bind(|| insta::assert_snapshot!("svg_fault_lane", svg, "faulty_run().trace.to_svg()"));
}

#[test]
fn the_chrome_trace_has_a_fault_track_with_each_fault_named() {
    let run = faulty_run();
    let value = chrome_value(&run.trace);
    let events = value["traceEvents"].as_array().unwrap();
    let track = events
        .iter()
        .find(|event| event["name"] == "thread_name" && event["args"]["name"] == "faults")
        .expect("no fault track");
    let faults: Vec<&str> = events
        .iter()
        .filter(|event| event["cat"] == "fault")
        .inspect(|event| assert_eq!(event["tid"], track["tid"]))
        .map(|event| event["name"].as_str().unwrap())
        .collect();
    assert!(faults.contains(&"crashed node `db`"), "{faults:?}");
    assert!(faults.contains(&"buggify() was true"), "{faults:?}");
    // One event a line.
    let lines: Vec<String> = events.iter().map(|event| event.to_string()).collect();
    let text = lines.join("\n");
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "chrome_fault_lane",
            text,
            "chrome_value(&faulty_run().trace)[\"traceEvents\"], one event a line"
        )
    });
}

#[test]
fn a_run_without_faults_has_no_fault_lane_even_with_nodes_and_sockets() {
    let run = Sim::new(Config::new().seed(7)).run(async {
        let db = node::Builder::new("db").start(|| async {});
        db.spawn(async { fs::write("/f", b"x").await.unwrap() })
            .await
            .unwrap();
        let a = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        a.send_to(b"x", "main:5000").await.unwrap();
    });
    run.result.unwrap();
    assert!(!run.trace.timeline(100).contains("faults"));
    assert!(!run.trace.to_svg().contains("faults"));
    assert!(!run.trace.to_chrome_json().contains("\"fault"));
}

/// A dropped datagram that is not a drawn loss (here a full buffer's, at
/// its arrival, and one lost with its socket's close) is in the fault lane
/// as a `D`, in its trace line's words, in every picture; a drawn loss is
/// there once, as its draw's fault.
#[test]
fn every_dropped_message_is_in_the_fault_lane_in_its_trace_lines_words() {
    let fixed = Duration::from_millis(1);
    let run = Sim::new(Config::new().net(NetConfig::new().latency(fixed, fixed))).run(async {
        let inbox = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        inbox.set_recv_buffer(1);
        let closing = UdpSocket::bind("0.0.0.0:9001").await.unwrap();
        let outbox = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        outbox.send_to(b"kept", "127.0.0.1:9000").await.unwrap();
        outbox.send_to(b"full", "127.0.0.1:9000").await.unwrap();
        outbox.send_to(b"closed", "127.0.0.1:9001").await.unwrap();
        drop(closing);
        time::sleep(Duration::from_millis(5)).await;
        inbox
    });
    let _inbox = run.result.unwrap();
    let full = "net drop 4 bytes from UdpSocket#2 (main:5000) to UdpSocket#0 (main:9000): \
                the receiver's buffer was full";
    let closed = "net drop 6 bytes from UdpSocket#2 (main:5000) to UdpSocket#1 (main:9001): \
                  its receiving socket was closed";
    let timeline = run.trace.timeline(80);
    let row = timeline
        .lines()
        .find(|line| line.starts_with("faults "))
        .unwrap_or_else(|| panic!("no fault lane:\n{timeline}"));
    // Both within a column (loopback: 10 µs apart), each in the notes.
    assert!(row.contains('D'), "{timeline}");
    let svg = run.trace.to_svg();
    for words in [full, closed] {
        assert!(timeline.contains(words), "{words:?} missing:\n{timeline}");
        // (The SVG escapes the apostrophe of "receiver's".)
        let before_quote = words.split('\'').next().unwrap();
        assert!(svg.contains(before_quote), "{words:?} missing from the SVG");
    }
    let value = chrome_value(&run.trace);
    let faults: Vec<&str> = value["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["cat"] == "fault")
        .map(|event| event["name"].as_str().unwrap())
        .collect();
    assert_eq!(faults, [closed, full]);
    // A drawn loss: once, as its draw's words.
    let lost = faulty_run();
    let timeline = lost.trace.timeline(100);
    assert!(!timeline.contains("net drop"), "{timeline}");
    assert_eq!(
        timeline.matches("dropped a datagram of 4 bytes").count(),
        1,
        "{timeline}"
    );
}

/// A crash and its restart at one virtual instant (one step) share a
/// column: the lane shows both, the restart under the crash, and the SVG
/// draws both letters at that tick (not one over the other).
#[test]
fn a_crash_and_its_restart_at_one_instant_both_show_in_the_fault_lane() {
    let run = Sim::new(Config::new().seed(7)).run(async {
        let db = node::Builder::new("db").start(std::future::pending::<()>);
        time::sleep(Duration::from_millis(10)).await;
        db.crash();
        db.restart();
        time::sleep(Duration::from_millis(10)).await;
    });
    run.result.as_ref().unwrap();
    let timeline = run.trace.timeline(80);
    let lines: Vec<&str> = timeline.lines().collect();
    let first = lines
        .iter()
        .position(|line| line.starts_with("faults "))
        .unwrap_or_else(|| panic!("no fault lane:\n{timeline}"));
    let column = lines[first]
        .find('C')
        .unwrap_or_else(|| panic!("no crash:\n{timeline}"));
    // The rows of the lane: the first and those under it, unnamed.
    let lane: Vec<&str> = lines[first..]
        .iter()
        .take_while(|line| *line == &lines[first] || line.starts_with(' '))
        .take_while(|line| !line.trim_start().starts_with('+'))
        .copied()
        .collect();
    let at_column: String = lane
        .iter()
        .filter_map(|line| line.chars().nth(column))
        .collect();
    assert_eq!(at_column, "CR", "{timeline}");
    assert!(timeline.contains("R restart"), "{timeline}");
    // The lane and its legend keep to 80 columns.
    let legend = timeline
        .lines()
        .skip_while(|line| !line.starts_with("fault lane: "))
        .take_while(|line| !line.starts_with("faults:"));
    assert!(
        lane.iter()
            .copied()
            .chain(legend)
            .all(|line| line.len() <= 80),
        "{timeline}"
    );

    let svg = run.trace.to_svg();
    assert!(svg.contains(">CR</text>"), "{svg}");
    assert!(
        svg.contains("fault (restart): restarted node `db` at"),
        "{svg}"
    );

    let value = chrome_value(&run.trace);
    let at: Vec<(&str, f64)> = value["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["cat"] == "fault")
        .map(|event| {
            (
                event["name"].as_str().unwrap(),
                event["ts"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        at,
        [
            ("crashed node `db`", 10_000.0),
            ("restarted node `db`", 10_000.0)
        ]
    );
}
