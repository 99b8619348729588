//! A `tokio::net::TcpStream` dropped with bytes arrived and unread resets
//! its peer, as Linux's `close` does: the peer reads what was sent before,
//! then gets `ConnectionReset` (not EOF), and its writes fail with it too:
//! once, as Linux reports a socket's error (the first read or write to get
//! it takes it; later reads are EOF, later writes `BrokenPipe`; `ready`
//! takes nothing).
//! `shutdown()` still sends a FIN (so do the halves of `into_split`, whose
//! write half shuts down when dropped): the peer reads EOF, and once the
//! whole stream is dropped with bytes unread, its writes fail with
//! `BrokenPipe` (a reset after the FIN: Linux's `EPIPE`). A zero linger
//! (`set_zero_linger`) makes a drop a reset whatever is unread. Once the
//! reset has come, `shutdown()` and `peer_addr()` fail with
//! `NotConnected`, as tokio's do on Linux (`ENOTCONN`: the reset closed the
//! socket).

#[path = "../../../tests/schedule_support/mod.rs"]
mod schedule_support;

use std::io::ErrorKind;
use std::time::Duration;

use asyncsim::Sim;
use schedule_support::random_and_pct;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How the server lets go of its stream, the client's request unread.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// Drops the stream.
    Drop,
    /// `shutdown()`, then drops it 20 ms later.
    ShutdownThenDrop,
    /// Splits it (`into_split`) and drops both halves.
    SplitHalvesDropped,
    /// Reads the request (nothing unread), sets a zero linger
    /// (`set_zero_linger`), drops the stream: an abortive close.
    ZeroLingerDrop,
}

/// Node `server`: accepts one connection, lets the client's request arrive
/// (unread), replies `reply` and lets go as told.
fn start_server(ending: Ending) {
    asyncsim::node::Builder::new("server").start(move || async move {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
        let (mut stream, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        if let Ending::ZeroLingerDrop = ending {
            let mut request = [0u8; 7];
            stream.read_exact(&mut request).await.unwrap();
            stream.set_zero_linger().unwrap();
            assert_eq!(stream.linger().unwrap(), Some(Duration::ZERO));
        }
        stream.write_all(b"reply").await.unwrap();
        match ending {
            Ending::Drop | Ending::ZeroLingerDrop => drop(stream),
            Ending::ShutdownThenDrop => {
                stream.shutdown().await.unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
                drop(stream);
            }
            Ending::SplitHalvesDropped => drop(stream.into_split()),
        }
        std::future::pending::<()>().await;
    });
}

/// The client: sends its request, reads to the end or an error; 50 ms
/// later writes and reads once more. What it read, how its reading ended
/// (`Ok(())` at EOF), and the write's and last read's results.
async fn client() -> (
    Vec<u8>,
    Result<(), ErrorKind>,
    Result<usize, ErrorKind>,
    Result<usize, ErrorKind>,
) {
    tokio::time::sleep(Duration::from_millis(1)).await;
    let mut stream = tokio::net::TcpStream::connect("server:7000").await.unwrap();
    stream.write_all(b"request").await.unwrap();
    let mut got = Vec::new();
    let ended = stream
        .read_to_end(&mut got)
        .await
        .map(|_| ())
        .map_err(|e| e.kind());
    tokio::time::sleep(Duration::from_millis(50)).await;
    let write = stream.write(b"more").await.map_err(|e| e.kind());
    let mut buf = [0u8; 8];
    let read = stream.read(&mut buf).await.map_err(|e| e.kind());
    (got, ended, write, read)
}

#[test]
fn a_face_stream_dropped_with_bytes_unread_resets_its_peer() {
    for ending in [
        Ending::Drop,
        Ending::ShutdownThenDrop,
        Ending::SplitHalvesDropped,
        Ending::ZeroLingerDrop,
    ] {
        for config in random_and_pct(24) {
            let run = Sim::new(config).run(async move {
                start_server(ending);
                client().await
            });
            let reset = ErrorKind::ConnectionReset;
            let expected = match ending {
                // (A zero linger's drop resets whatever is unread.) The
                // read that got the reset took it (Linux reports it once):
                // the write after it is `BrokenPipe`, the read EOF.
                Ending::Drop | Ending::ZeroLingerDrop => (
                    b"reply".to_vec(),
                    Err(reset),
                    Err(ErrorKind::BrokenPipe),
                    Ok(0),
                ),
                // A FIN first (the split's write half shuts down as it
                // drops): EOF, and reads stay at EOF; the reset after it
                // fails the write with `BrokenPipe` (Linux's `EPIPE`).
                Ending::ShutdownThenDrop | Ending::SplitHalvesDropped => {
                    (b"reply".to_vec(), Ok(()), Err(ErrorKind::BrokenPipe), Ok(0))
                }
            };
            assert_eq!(
                run.result.clone().unwrap(),
                expected,
                "{ending:?}\n{}",
                run.trace
            );
            assert!(
                run.trace.to_string().contains("net reset TcpStream#0"),
                "{ending:?}\n{}",
                run.trace
            );
        }
    }
}

/// A `TcpSocket`'s zero linger set before `listen` is inherited by the
/// streams the listener accepts, as on Linux: their drop resets the client
/// though the server read everything.
#[test]
fn a_listeners_zero_linger_is_inherited_by_the_streams_it_accepts() {
    for config in random_and_pct(24) {
        let run = Sim::new(config).run(async {
            asyncsim::node::Builder::new("server").start(|| async {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket.set_zero_linger().unwrap();
                socket.bind("0.0.0.0:7000".parse().unwrap()).unwrap();
                let listener = socket.listen(8).unwrap();
                let (mut stream, _) = listener.accept().await.unwrap();
                assert_eq!(stream.linger().unwrap(), Some(Duration::ZERO));
                let mut request = [0u8; 7];
                stream.read_exact(&mut request).await.unwrap();
                stream.write_all(b"reply").await.unwrap();
                drop(stream);
                std::future::pending::<()>().await;
            });
            let (got, ended, ..) = client().await;
            (got, ended)
        });
        assert_eq!(
            run.result.clone().unwrap(),
            (b"reply".to_vec(), Err(ErrorKind::ConnectionReset)),
            "{}",
            run.trace
        );
    }
}

/// `ready(Interest::ERROR)` resolves at the close's reset's arrival (epoll's
/// `EPOLLERR`), though bytes sent before it are still to read; a read then
/// takes them first.
#[test]
fn ready_error_resolves_at_a_close_reset_before_the_bytes_are_read() {
    for config in random_and_pct(24) {
        let run = Sim::new(config).run(async {
            start_server(Ending::Drop);
            tokio::time::sleep(Duration::from_millis(1)).await;
            let mut stream = tokio::net::TcpStream::connect("server:7000").await.unwrap();
            stream.write_all(b"request").await.unwrap();
            let ready = stream.ready(tokio::io::Interest::ERROR).await.unwrap();
            let mut buf = [0u8; 16];
            let first = stream.read(&mut buf).await.map(|n| buf[..n].to_vec());
            let second = stream.read(&mut buf).await.map_err(|e| e.kind());
            (ready.is_error(), first.unwrap(), second)
        });
        assert_eq!(
            run.result.clone().unwrap(),
            (true, b"reply".to_vec(), Err(ErrorKind::ConnectionReset)),
            "{}",
            run.trace
        );
    }
}

/// The reset is reported once, as Linux's `sk_err`: `ready(READABLE |
/// WRITABLE)` and `ready(ERROR)` take nothing, the read after the bytes gets
/// `ConnectionReset`, and from then on reads are EOF and writes
/// `BrokenPipe`; through a split's halves too.
#[test]
fn a_reset_is_returned_once_then_reads_are_eof_and_writes_broken_pipe() {
    for split in [false, true] {
        for config in random_and_pct(12) {
            let run = Sim::new(config).run(async move {
                start_server(Ending::Drop);
                tokio::time::sleep(Duration::from_millis(1)).await;
                let mut stream = tokio::net::TcpStream::connect("server:7000").await.unwrap();
                stream.write_all(b"request").await.unwrap();
                let mut buf = [0u8; 16];
                let mut got = vec![stream.read(&mut buf).await.map_err(|e| e.kind())];
                // Only the reset is left: the looks leave it to the read.
                let interest = tokio::io::Interest::READABLE | tokio::io::Interest::WRITABLE;
                stream.ready(tokio::io::Interest::ERROR).await.unwrap();
                stream.ready(interest).await.unwrap();
                stream.readable().await.unwrap();
                let (mut reader, mut writer) = stream.split();
                got.push(reader.read(&mut buf).await.map_err(|e| e.kind()));
                if split {
                    got.push(writer.write(b"more").await.map_err(|e| e.kind()));
                    got.push(reader.read(&mut buf).await.map_err(|e| e.kind()));
                } else {
                    got.push(stream.write(b"more").await.map_err(|e| e.kind()));
                    got.push(stream.read(&mut buf).await.map_err(|e| e.kind()));
                }
                got
            });
            assert_eq!(
                run.result.clone().unwrap(),
                [
                    Ok(5),
                    Err(ErrorKind::ConnectionReset),
                    Err(ErrorKind::BrokenPipe),
                    Ok(0)
                ],
                "{}",
                run.trace
            );
        }
    }
}

/// `take_error` takes the stream's error as Linux's `SO_ERROR` does: `None`
/// before it comes, `Some` of it once it has (the reset of the peer's
/// close, or of its node's crash), taken: `None` after, a read then EOF and
/// a write `BrokenPipe`, as after any taking.
#[test]
fn take_error_takes_the_error_once_as_so_error() {
    for crash in [false, true] {
        for config in random_and_pct(8) {
            let run = Sim::new(config).run(async move {
                let server = asyncsim::node::Builder::new("server").start(|| async {
                    let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
                    let (stream, _) = listener.accept().await.unwrap();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    drop(stream); // the client's request unread: a reset
                    std::future::pending::<()>().await;
                });
                tokio::time::sleep(Duration::from_millis(1)).await;
                let mut stream = tokio::net::TcpStream::connect("server:7000").await.unwrap();
                stream.write_all(b"request").await.unwrap();
                if crash {
                    server.crash();
                }
                let before = stream.take_error().unwrap().map(|error| error.kind());
                tokio::time::sleep(Duration::from_millis(50)).await;
                let taken = stream.take_error().unwrap().map(|error| error.kind());
                let again = stream.take_error().unwrap().map(|error| error.kind());
                let mut buf = [0u8; 8];
                let read = stream.read(&mut buf).await.map_err(|error| error.kind());
                let write = stream.write(b"x").await.map_err(|error| error.kind());
                (before, taken, again, read, write)
            });
            assert_eq!(
                run.result.unwrap(),
                (
                    None,
                    Some(ErrorKind::ConnectionReset),
                    None,
                    Ok(0),
                    Err(ErrorKind::BrokenPipe)
                ),
                "crash {crash}"
            );
        }
    }
}

/// `shutdown()` once the reset has come (of the peer's close, or of its
/// node's crash) returns `NotConnected`, as tokio's `TcpStream` returns
/// Linux's `ENOTCONN` for a socket a reset closed: whether a read took the
/// reset yet or not (the read after the first shutdown still gets it). So
/// does `peer_addr` (Linux's `getpeername`), `Ok` before the reset.
#[test]
fn shutdown_and_peer_addr_after_a_reset_are_not_connected() {
    for crash in [false, true] {
        for config in random_and_pct(8) {
            let run = Sim::new(config).run(async move {
                let server = asyncsim::node::Builder::new("server").start(|| async {
                    let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
                    let (stream, _) = listener.accept().await.unwrap();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    drop(stream); // the client's request unread: a reset
                    std::future::pending::<()>().await;
                });
                tokio::time::sleep(Duration::from_millis(1)).await;
                let mut stream = tokio::net::TcpStream::connect("server:7000").await.unwrap();
                stream.write_all(b"request").await.unwrap();
                let peer = stream
                    .peer_addr()
                    .map(|addr| addr.port())
                    .map_err(|error| error.kind());
                if crash {
                    server.crash();
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                let peer_after = stream.peer_addr().map_err(|error| error.kind());
                let first = stream.shutdown().await.map_err(|error| error.kind());
                let mut buf = [0u8; 8];
                let read = stream.read(&mut buf).await.map_err(|error| error.kind());
                let again = stream.shutdown().await.map_err(|error| error.kind());
                (peer, peer_after, first, read, again)
            });
            assert_eq!(
                run.result.unwrap(),
                (
                    Ok(7000),
                    Err(ErrorKind::NotConnected),
                    Err(ErrorKind::NotConnected),
                    Err(ErrorKind::ConnectionReset),
                    Err(ErrorKind::NotConnected)
                ),
                "crash {crash}"
            );
        }
    }
}
