//! A connect or a stream that times out across a cut says what cut it: a
//! partition between the two nodes (both ways or one way), the calling
//! node isolated, the peer's node isolated. The error's kind stays
//! `TimedOut`; only its words name the cause.

mod net_support;
mod schedule_support;

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use asyncsim::net::{self, TcpListener, TcpStream};
use asyncsim::{node, Sim};
use futures::{AsyncReadExt, AsyncWriteExt};
use net_support::{fixed, MS};
use schedule_support::random_and_pct;

/// What cuts `main` from `server`.
#[derive(Clone, Copy, Debug)]
enum Cut {
    Partition,
    /// Only `server` -> `main` (a connect's SYN-ACK, a reply's way).
    OneWayBack,
    IsolateMain,
    IsolateServer,
    /// A partition and `server` isolated too: both named.
    PartitionAndIsolateServer,
}

impl Cut {
    fn make(self) {
        match self {
            Cut::Partition => net::partition("main", "server"),
            Cut::OneWayBack => net::partition_oneway("server", "main"),
            Cut::IsolateMain => net::isolate("main"),
            Cut::IsolateServer => net::isolate("server"),
            Cut::PartitionAndIsolateServer => {
                net::partition("main", "server");
                net::isolate("server");
            }
        }
    }

    /// The words the error names it with.
    fn words(self) -> &'static str {
        match self {
            Cut::Partition => "`main` and `server` are partitioned",
            Cut::OneWayBack => "a one-way partition cuts `server` -> `main`",
            Cut::IsolateMain => "node `main` is isolated",
            Cut::IsolateServer => "node `server` is isolated",
            Cut::PartitionAndIsolateServer => {
                "`main` and `server` are partitioned and node `server` is isolated"
            }
        }
    }
}

const CUTS: [Cut; 5] = [
    Cut::Partition,
    Cut::OneWayBack,
    Cut::IsolateMain,
    Cut::IsolateServer,
    Cut::PartitionAndIsolateServer,
];

/// A connect across each cut fails with `TimedOut` at `tcp_timeout` and
/// says what cut it.
#[test]
fn a_connect_timeout_names_the_cut() {
    for cut in CUTS {
        for config in random_and_pct(24) {
            let link = fixed(2).tcp_timeout(Duration::from_millis(30));
            let run = Sim::new(config.net(link)).run(async move {
                let _server = node::Builder::new("server").start(|| async {
                    let _listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                    std::future::pending::<()>().await;
                });
                asyncsim::time::sleep(Duration::from_millis(1)).await;
                cut.make();
                let error = TcpStream::connect("server:6000").await.unwrap_err();
                (asyncsim::time::Instant::now().as_nanos(), error)
            });
            let (returned, error) = run.result.unwrap();
            assert_eq!(returned, 31 * MS, "{cut:?}: at tcp_timeout");
            assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{cut:?}: {error}");
            assert_eq!(
                error.to_string(),
                format!("connect to server:6000 timed out: {}", cut.words()),
                "{cut:?}"
            );
        }
    }
}

/// A stream whose bytes a cut holds past `tcp_timeout` fails with
/// `TimedOut` on the end that sent them, its error naming the cut. The
/// server's end times out too only where it sent something that gets no
/// ack (the one-way cut of the reply's way holds its reply); elsewhere it
/// sent nothing, and, as on Linux, an idle end notices nothing: its read
/// still waits.
#[test]
fn a_stream_timeout_names_the_cut_on_the_end_that_sent() {
    for cut in CUTS {
        for config in random_and_pct(24) {
            let link = fixed(2).tcp_timeout(Duration::from_millis(30));
            let run = Sim::new(config.net(link)).run(async move {
                let server_error = Rc::new(RefCell::new(None));
                let record = server_error.clone();
                let _server = node::Builder::new("server").start(move || {
                    let record = record.clone();
                    async move {
                        let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                        let (mut stream, _) = listener.accept().await.unwrap();
                        let mut buf = [0u8; 8];
                        loop {
                            match stream.read(&mut buf).await {
                                Ok(0) => return,
                                // Under a one-way cut of the reply's way,
                                // the reply is what is held.
                                Ok(_) => {
                                    let _ = stream.write_all(b"reply").await;
                                }
                                Err(error) => {
                                    *record.borrow_mut() = Some(error);
                                    return;
                                }
                            }
                        }
                    }
                });
                asyncsim::time::sleep(Duration::from_millis(1)).await;
                let mut stream = TcpStream::connect("server:6000").await.unwrap();
                cut.make();
                stream.write_all(b"held").await.unwrap();
                let mut buf = [0u8; 8];
                let client_error = loop {
                    match stream.read(&mut buf).await {
                        Ok(_) => {}
                        Err(error) => break error,
                    }
                };
                asyncsim::time::sleep(Duration::from_millis(100)).await;
                let server_error = server_error.borrow_mut().take();
                (client_error, server_error)
            });
            let (client, server) = run.result.unwrap();
            let replied = matches!(cut, Cut::OneWayBack);
            assert_eq!(server.is_some(), replied, "{cut:?}: {server:?}");
            for (end, error) in [("client", Some(client)), ("server", server)] {
                let Some(error) = error else {
                    continue;
                };
                assert_eq!(
                    error.kind(),
                    io::ErrorKind::TimedOut,
                    "{cut:?} {end}: {error}"
                );
                let words = error.to_string();
                assert!(
                    words.ends_with(&format!(
                        ": connection timed out (no delivery for tcp_timeout: {})",
                        cut.words()
                    )),
                    "{cut:?} {end}: {words}"
                );
            }
        }
    }
}

/// Bytes on their way when a cut drops their acks (only the link back, or
/// both ways) are retransmitted, as on Linux, until the connection times
/// out `tcp_timeout` after the cut, naming it; repaired in time, the acks
/// get through and nothing times out. The client sends nothing after.
#[test]
fn bytes_in_flight_when_their_acks_are_cut_time_out_unless_healed() {
    for cut in [Cut::OneWayBack, Cut::Partition] {
        for repair in [false, true] {
            for config in random_and_pct(12) {
                let link = fixed(2).tcp_timeout(Duration::from_secs(1));
                let run = Sim::new(config.net(link)).run(async move {
                    let _server = node::Builder::new("server").start(|| async {
                        let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                        let (mut stream, _) = listener.accept().await.unwrap();
                        let mut buf = [0u8; 64];
                        while let Ok(1..) = stream.read(&mut buf).await {}
                        std::future::pending::<()>().await;
                    });
                    asyncsim::time::sleep(Duration::from_millis(1)).await;
                    let mut stream = TcpStream::connect("server:6000").await.unwrap();
                    stream.write_all(b"in flight").await.unwrap();
                    let cut_at = asyncsim::time::Instant::now().as_nanos();
                    cut.make();
                    if repair {
                        asyncsim::time::sleep(Duration::from_millis(500)).await;
                        net::repair("main", "server");
                    }
                    let mut buf = [0u8; 8];
                    let read =
                        asyncsim::time::timeout(Duration::from_secs(3), stream.read(&mut buf))
                            .await;
                    let at = asyncsim::time::Instant::now().as_nanos();
                    (
                        read.map(|read| read.map_err(|error| error.to_string())),
                        at - cut_at,
                    )
                });
                let (read, after) = run.result.unwrap();
                if repair {
                    assert!(read.is_err(), "{cut:?}: {read:?}\n{}", run.trace);
                    assert_eq!(after, 3_500 * MS, "{cut:?}");
                } else {
                    let words = read.expect("no timeout").expect_err("no error");
                    assert!(
                        words.ends_with(&format!(
                            ": connection timed out (no delivery for tcp_timeout: {})",
                            cut.words()
                        )),
                        "{cut:?}: {words}\n{}",
                        run.trace
                    );
                    assert_eq!(after, 1_000 * MS, "{cut:?}\n{}", run.trace);
                }
            }
        }
    }
}
