//! Bad use of the world is a clear error, or a panic at the caller's own
//! line that says what to do, never a panic inside asyncsim, a silent
//! no-op or a hang: unknown node names in scripted faults, link settings
//! and the nemesis; names and addresses no node could be reached by; an
//! impossible link configuration; an empty path; an oversized datagram.

use std::io::ErrorKind;
use std::time::Duration;

use asyncsim::net::{self, NetConfig, UdpSocket};
use asyncsim::{fault, fs, node, Config, FailureKind, Sim};

/// The line of this file that ends with `marker`.
fn line_of(marker: &str) -> u32 {
    let source = include_str!("world_bad_use_is_a_clear_error.rs");
    source
        .lines()
        .position(|line| line.ends_with(marker))
        .expect(marker) as u32
        + 1
}

/// Runs `body`, which must panic at the line ending with `marker`, with a
/// message containing every one of `words`.
fn panics_at_the_callers_line<F: std::future::Future<Output = ()> + 'static>(
    marker: &str,
    words: &[&str],
    body: F,
) {
    let run = Sim::new(Config::new()).run(body);
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Panic, "{failure}");
    let at = format!("world_bad_use_is_a_clear_error.rs:{}", line_of(marker));
    assert!(
        failure.message.contains(&at),
        "not at {at}: {}",
        failure.message
    );
    for word in words {
        assert!(
            failure.message.contains(word),
            "{word:?}: {}",
            failure.message
        );
    }
}

#[test]
fn scripted_faults_on_an_unknown_node_panic_at_the_callers_line() {
    panics_at_the_callers_line(
        "// scripted partition",
        &[
            "net::partition",
            "no node is called `db2`",
            "nodes: main, db",
        ],
        async {
            node::Builder::new("db").start(|| async {});
            net::partition("main", "db2"); // scripted partition
        },
    );
    panics_at_the_callers_line("// isolate", &["net::isolate", "`nosuch`"], async {
        net::isolate("nosuch"); // isolate
    });
    panics_at_the_callers_line("// set_link", &["net::set_link", "`nosuch`"], async {
        net::set_link("main", "nosuch", NetConfig::new()); // set_link
    });
    panics_at_the_callers_line("// clog", &["net::clog", "`nosuch`"], async {
        net::clog("nosuch", "main", Duration::from_millis(1)); // clog
    });
}

#[test]
fn an_impossible_link_configuration_panics_at_the_callers_line() {
    panics_at_the_callers_line("// latency", &["min (5ms) is more than max (1ms)"], async {
        let (min, max) = (Duration::from_millis(5), Duration::from_millis(1));
        let _ = NetConfig::new().latency(min, max); // latency
    });
    panics_at_the_callers_line(
        "// loss",
        &["NetConfig::loss", "not a probability"],
        async {
            let _ = NetConfig::new().loss(f64::NAN); // loss
        },
    );
}

#[test]
fn a_nemesis_naming_an_unknown_node_or_main_is_refused_where_it_is_spawned() {
    // Before, its crash of `dbb` silently did nothing while reports listed it.
    panics_at_the_callers_line(
        "// unknown",
        &[
            "Nemesis::crash",
            "no node is called `dbb`",
            "start the nodes before the nemesis",
        ],
        async {
            node::Builder::new("db").start(|| async {});
            drop(fault::Nemesis::new().crash(&["dbb"]).spawn()); // unknown
        },
    );
    panics_at_the_callers_line(
        "// main",
        &["Nemesis::crash", "`main` cannot crash"],
        async {
            drop(fault::Nemesis::new().crash(&["main"]).spawn()); // main
        },
    );
    panics_at_the_callers_line(
        "// nemesis partition",
        &["Nemesis::partition", "`x`"],
        async {
            drop(fault::Nemesis::new().partition(&["main", "x"]).spawn()); // nemesis partition
        },
    );
    // Before, a partition of one node listed alone was a no-op the report
    // still named ("nemesis: partition `db` from the others").
    panics_at_the_callers_line(
        "// one node partitioned",
        &[
            "Nemesis::partition",
            "`db` is the only node listed",
            "would never do anything",
            r#".partition(&["db", "main"])"#,
        ],
        async {
            node::Builder::new("db").start(|| async {});
            drop(fault::Nemesis::new().partition(&["db"]).spawn()); // one node partitioned
        },
    );
    // Before, a clog of one node listed alone clogged nothing, silently.
    panics_at_the_callers_line(
        "// one node clogged",
        &[
            "Nemesis::clog",
            "`db` is the only node listed",
            "clogs the links between listed nodes",
            "would never do anything",
            r#".clog(&["db", "main"])"#,
        ],
        async {
            node::Builder::new("db").start(|| async {});
            drop(fault::Nemesis::new().clog(&["db", "db"]).spawn()); // one node clogged
        },
    );
    panics_at_the_callers_line("// interval", &["Nemesis::interval"], async {
        let (min, max) = (Duration::from_secs(2), Duration::from_secs(1));
        drop(fault::Nemesis::new().interval(min, max)); // interval
    });
}

#[test]
fn a_node_no_other_node_could_reach_is_refused() {
    let run = Sim::new(Config::new()).run(async {
        let mut refused = Vec::new();
        for name in ["", "localhost", "db:5432", "10.0.0.7", "::1"] {
            let error = node::Builder::new(name)
                .try_start(|| async {})
                .err()
                .unwrap();
            refused.push((error.kind(), error.to_string()));
        }
        let error = node::Builder::new("db")
            .ip("127.0.0.1".parse().unwrap())
            .try_start(|| async {})
            .err()
            .unwrap();
        refused.push((error.kind(), error.to_string()));
        // Ordinary names still start.
        assert!(node::Builder::new("db-1.example")
            .try_start(|| async {})
            .is_ok());
        assert!(node::Builder::new("10x").try_start(|| async {}).is_ok());
        refused
    });
    let refused = run.result.unwrap();
    for (kind, words) in &refused {
        assert_eq!(*kind, ErrorKind::InvalidInput, "{words}");
        assert!(words.starts_with("a node cannot be called `"), "{words}");
    }
    assert!(refused[1].1.contains("loopback"), "{}", refused[1].1);
    assert!(
        refused[2].1.contains("separates the port"),
        "{}",
        refused[2].1
    );
    assert!(
        refused[3].1.contains("reads as an IP address"),
        "{}",
        refused[3].1
    );
    assert!(refused[5].1.contains("127.0.0.1"), "{}", refused[5].1);
    // `start` panics with the same words at the caller's line.
    panics_at_the_callers_line(
        "// start",
        &["a node cannot be called `localhost`"],
        async {
            node::Builder::new("localhost").start(|| async {}); // start
        },
    );
}

#[test]
fn an_empty_path_is_not_found_as_on_linux() {
    let run = Sim::new(Config::new()).run(async {
        let ours = fs::write("", b"x").await.unwrap_err();
        let linux = std::fs::write("", b"x").unwrap_err();
        (
            ours.kind(),
            linux.kind(),
            ours.raw_os_error(),
            linux.raw_os_error(),
        )
    });
    let (ours, linux, our_code, linux_code) = run.result.unwrap();
    assert_eq!((ours, our_code), (linux, linux_code));
    assert_eq!(ours, ErrorKind::NotFound);
}

#[test]
fn a_datagram_over_the_ipv4_limit_is_emsgsize_and_not_sent() {
    let run = Sim::new(Config::new()).run(async {
        let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        let error = socket
            .send_to(&vec![0; 65_508], "main:5000")
            .await
            .unwrap_err();
        let fits = socket.send_to(&vec![7; 65_507], "main:5000").await.unwrap();
        let mut buf = vec![0; 70_000];
        let (got, _) = socket.recv_from(&mut buf).await.unwrap();
        (error.raw_os_error(), fits, got, buf[0])
    });
    assert_eq!(run.result.unwrap(), (Some(90), 65_507, 65_507, 7));
}

#[test]
fn an_empty_random_range_panics_at_the_callers_line() {
    panics_at_the_callers_line("// range", &["empty range"], async {
        let _ = asyncsim::random_range(5..5u32); // range
    });
}
