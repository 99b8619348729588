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
    settings.set_omit_expression(true);
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
        "fs::OpenOptions::open on `db` failed with EIO (a drawn disk error)",
        "the crash of `db` kept",
        "clogged (+0.1s) `db` -> `main`",
        "set link `main` <-> `db`: latency 0.001s..0.001s, loss 1, duplicate 0, tcp timeout 30s",
    ] {
        assert!(timeline.contains(words), "{words:?} missing:\n{timeline}");
    }
    snapshot_settings().bind(|| insta::assert_snapshot!("timeline_fault_lane", timeline));
}

#[test]
fn the_svg_has_a_fault_lane_with_each_fault_on_hover() {
    let run = faulty_run();
    let svg = run.trace.to_svg();
    assert_eq!(svg.matches("<g class=\"lane faults\"").count(), 1);
    assert!(svg.contains("fault (crash): crashed node `db` at"), "{svg}");
    let html = run.trace.to_html();
    assert!(html.contains("fault(s) (the `faults` lane)"), "{html}");
    snapshot_settings().bind(|| insta::assert_snapshot!("svg_fault_lane", svg));
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
    snapshot_settings().bind(|| insta::assert_snapshot!("chrome_fault_lane", text));
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
