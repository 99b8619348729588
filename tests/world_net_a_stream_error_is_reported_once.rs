//! A stream's error (the reset of its peer's crash or of its peer's close,
//! a timeout) is reported once, as Linux reports `sk_err`: the first read,
//! peek or write to meet it returns it and takes it; the socket is closed
//! from then on, so later reads return 0 (EOF) and later writes
//! `BrokenPipe` (`EPIPE`). Whichever call comes first takes it: a write
//! that took it leaves the reads EOF. A readiness look takes nothing. A
//! shutdown once the error came, taken or not, is `NotConnected` (Linux's
//! `ENOTCONN` for a socket its error closed) and sends nothing; nor does
//! the drop of such an end.

mod net_support;
mod schedule_support;

use std::future::poll_fn;
use std::io::ErrorKind;
use std::time::Duration;

use asyncsim::net::{self, TcpListener, TcpStream};
use asyncsim::tape::DrawLabel;
use asyncsim::{node, NetConfig, Sim};
use futures::{AsyncReadExt, AsyncWriteExt};
use net_support::fixed;
use schedule_support::random_and_pct;

/// What a stream's calls got, in order: a read's or write's count or error
/// kind.
type Got = Vec<Result<usize, ErrorKind>>;

/// One call on `stream`: `r` a read, `w` a write, `p` a peek, `s` a
/// shutdown (`close()`; `Ok(0)` when it succeeds).
async fn call(stream: &mut TcpStream, what: char) -> Result<usize, ErrorKind> {
    let mut buf = [0u8; 16];
    let got = match what {
        'r' => stream.read(&mut buf).await,
        'w' => stream.write(b"more").await,
        'p' => poll_fn(|context| stream.poll_peek_with(context, 16, |_| ())).await,
        's' => stream.close().await.map(|()| 0),
        _ => unreachable!(),
    };
    got.map_err(|error| error.kind())
}

/// A server on `server:7000` that accepts one connection, sends `hello`
/// and keeps it until its node crashes.
fn start_server() -> node::Node {
    node::Builder::new("server").start(|| async {
        let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.write_all(b"hello").await.unwrap();
        std::future::pending::<()>().await;
        drop((listener, stream));
    })
}

/// Connects, reads `hello`, crashes the server and waits past the reset's
/// arrival; then makes `calls` in order.
async fn after_a_crash(calls: &'static str) -> Got {
    let server = start_server();
    asyncsim::time::sleep(Duration::from_millis(1)).await;
    let mut stream = TcpStream::connect("server:7000").await.unwrap();
    let mut hello = [0u8; 5];
    stream.read_exact(&mut hello).await.unwrap();
    server.crash();
    asyncsim::time::sleep(Duration::from_millis(20)).await;
    let mut got = Vec::new();
    for what in calls.chars() {
        got.push(call(&mut stream, what).await);
    }
    got
}

/// The peer's crash: the first call gets `ConnectionReset`, whichever it
/// is; after it reads are EOF, writes `BrokenPipe`.
#[test]
fn a_crash_reset_is_returned_by_the_first_call_then_reads_are_eof_and_writes_broken_pipe() {
    let reset = Err(ErrorKind::ConnectionReset);
    let broken = Err(ErrorKind::BrokenPipe);
    let cases: [(&'static str, Got); 3] = [
        ("rrw", vec![reset, Ok(0), broken]),
        ("wrw", vec![reset, Ok(0), broken]),
        ("prw", vec![reset, Ok(0), broken]),
    ];
    for (calls, expected) in cases {
        for config in random_and_pct(8) {
            let run = Sim::new(config.net(fixed(2))).run(after_a_crash(calls));
            assert_eq!(run.result.unwrap(), expected, "{calls}");
        }
    }
}

/// A readiness look (`poll_read_ready`, `poll_write_ready`) takes nothing:
/// the read after it gets the reset.
#[test]
fn a_readiness_look_leaves_the_error_for_the_read() {
    for config in random_and_pct(8) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let server = start_server();
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:7000").await.unwrap();
            let mut hello = [0u8; 5];
            stream.read_exact(&mut hello).await.unwrap();
            server.crash();
            poll_fn(|context| stream.poll_read_ready(context))
                .await
                .unwrap();
            poll_fn(|context| stream.poll_write_ready(context))
                .await
                .unwrap();
            stream.try_write_ready().unwrap();
            let mut got = vec![call(&mut stream, 'r').await];
            got.push(call(&mut stream, 'r').await);
            got
        });
        assert_eq!(
            run.result.unwrap(),
            [Err(ErrorKind::ConnectionReset), Ok(0)]
        );
    }
}

/// The reset of the peer's close with bytes unread: a write that meets it
/// first takes it; the reads still get the bytes sent before it, then EOF.
#[test]
fn a_close_reset_taken_by_a_write_leaves_the_reads_their_bytes_then_eof() {
    for config in random_and_pct(8) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            node::Builder::new("server").start(|| async {
                let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
                let (mut stream, _) = listener.accept().await.unwrap();
                // The request arrives unread; the reply goes, then the drop
                // resets.
                asyncsim::time::sleep(Duration::from_millis(10)).await;
                stream.write_all(b"reply").await.unwrap();
                drop(stream);
                std::future::pending::<()>().await;
                drop(listener);
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:7000").await.unwrap();
            stream.write_all(b"request").await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(30)).await;
            let mut got = Vec::new();
            for what in "wwrr".chars() {
                got.push(call(&mut stream, what).await);
            }
            got
        });
        assert_eq!(
            run.result.unwrap(),
            [
                Err(ErrorKind::ConnectionReset),
                Err(ErrorKind::BrokenPipe),
                Ok(5),
                Ok(0)
            ]
        );
    }
}

/// A zero `SO_LINGER` close: the peer's read gets the reset once, then EOF.
#[test]
fn a_zero_linger_reset_is_read_once_then_eof() {
    for config in random_and_pct(8) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            let mut client = TcpStream::connect("127.0.0.1:7000").await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            server.set_linger(Some(Duration::ZERO)).unwrap();
            drop(server);
            asyncsim::time::sleep(Duration::from_millis(10)).await;
            let mut got = Vec::new();
            for what in "rrw".chars() {
                got.push(call(&mut client, what).await);
            }
            got
        });
        assert_eq!(
            run.result.unwrap(),
            [
                Err(ErrorKind::ConnectionReset),
                Ok(0),
                Err(ErrorKind::BrokenPipe)
            ]
        );
    }
}

/// A timeout (a cut that outlived `tcp_timeout`): the first write gets
/// `TimedOut` and takes it; a read after it is EOF, a write `BrokenPipe`.
#[test]
fn a_timeout_is_returned_once_then_reads_are_eof_and_writes_broken_pipe() {
    for config in random_and_pct(8) {
        let link = fixed(2).tcp_timeout(Duration::from_millis(50));
        let run = Sim::new(config.net(link)).run(async {
            let _server = start_server();
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:7000").await.unwrap();
            let mut hello = [0u8; 5];
            stream.read_exact(&mut hello).await.unwrap();
            net::partition("main", "server");
            stream.write_all(b"held").await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(100)).await;
            let mut got = Vec::new();
            for what in "wrw".chars() {
                got.push(call(&mut stream, what).await);
            }
            got
        });
        assert_eq!(
            run.result.unwrap(),
            [Err(ErrorKind::TimedOut), Ok(0), Err(ErrorKind::BrokenPipe)]
        );
    }
}

/// A stream reset by its peer's crash is closed, as Linux's (`TCP_CLOSE`):
/// a shutdown is `NotConnected` (`ENOTCONN`, what tokio's `shutdown`
/// returns), before the error was taken and after, and sends nothing; the
/// read between them takes the reset. Its drop sends nothing either (no
/// FIN to a peer gone): the run draws no more `net` latencies than one that
/// keeps the stream past its end.
#[test]
fn a_shutdown_after_a_reset_is_not_connected_and_a_drop_sends_nothing() {
    let not_connected = Err(ErrorKind::NotConnected);
    for config in random_and_pct(8) {
        let run = Sim::new(config.net(fixed(2))).run(after_a_crash("srs"));
        assert_eq!(
            run.result.unwrap(),
            [
                not_connected,
                Err(ErrorKind::ConnectionReset),
                not_connected
            ]
        );
    }
    let ranged = NetConfig::new().latency(Duration::from_millis(1), Duration::from_millis(3));
    for config in random_and_pct(8) {
        let net_draws = |drop_it: bool| {
            let run = Sim::new(config.clone().net(ranged.clone())).run(async move {
                let server = start_server();
                asyncsim::time::sleep(Duration::from_millis(1)).await;
                let mut stream = TcpStream::connect("server:7000").await.unwrap();
                let mut hello = [0u8; 5];
                stream.read_exact(&mut hello).await.unwrap();
                server.crash();
                asyncsim::time::sleep(Duration::from_millis(20)).await;
                let kept = if drop_it {
                    drop(stream);
                    None
                } else {
                    Some(stream)
                };
                asyncsim::time::sleep(Duration::from_millis(20)).await;
                kept
            });
            run.tape
                .draws()
                .iter()
                .filter(|draw| draw.label == DrawLabel::Net)
                .count()
        };
        assert_eq!(net_draws(true), net_draws(false));
    }
}

/// A timeout closes the end too: a shutdown is `NotConnected` before the
/// write that takes the timeout and after it.
#[test]
fn a_shutdown_after_a_timeout_is_not_connected() {
    for config in random_and_pct(8) {
        let link = fixed(2).tcp_timeout(Duration::from_millis(50));
        let run = Sim::new(config.net(link)).run(async {
            let _server = start_server();
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:7000").await.unwrap();
            let mut hello = [0u8; 5];
            stream.read_exact(&mut hello).await.unwrap();
            net::partition("main", "server");
            stream.write_all(b"held").await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(100)).await;
            let mut got = Vec::new();
            for what in "swrs".chars() {
                got.push(call(&mut stream, what).await);
            }
            got
        });
        assert_eq!(
            run.result.unwrap(),
            [
                Err(ErrorKind::NotConnected),
                Err(ErrorKind::TimedOut),
                Ok(0),
                Err(ErrorKind::NotConnected)
            ]
        );
    }
}
