//! `tokio::net::{UnixListener, UnixStream}` on the face: a path names a
//! listener of the calling task's node, and a connection to it is the
//! simulated network's own (its bytes in order, EOF at a drop); the errors
//! are Linux's (`AddrInUse`, `NotFound` for a path never bound,
//! `ConnectionRefused` once its listener is closed); paths are per node;
//! what cannot be simulated (`pair`, `peer_cred`) is refused by name.

use std::io;

use asyncsim::Explore;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

fn explore() -> Explore {
    Explore::new().runs(150).persist(false)
}

#[test]
fn lines_echo_over_a_unix_socket_in_order_in_every_schedule() {
    asyncsim::check(explore(), || async {
        let listener = tokio::net::UnixListener::bind("/run/echo.sock").unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(std::path::Path::new("/run/echo.sock"))
        );
        let server = tokio::spawn(async move {
            for _ in 0..2 {
                let (stream, peer) = listener.accept().await.unwrap();
                assert!(peer.is_unnamed());
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    while let Some(line) = lines.next_line().await.unwrap() {
                        write
                            .write_all(format!("{line}!\n").as_bytes())
                            .await
                            .unwrap();
                    }
                });
            }
        });
        let clients: Vec<_> = (0..2)
            .map(|client| {
                tokio::spawn(async move {
                    let mut stream = tokio::net::UnixStream::connect("/run/echo.sock")
                        .await
                        .unwrap();
                    assert_eq!(
                        stream.peer_addr().unwrap().as_pathname(),
                        Some(std::path::Path::new("/run/echo.sock"))
                    );
                    let (read, mut write) = stream.split();
                    let mut lines = BufReader::new(read).lines();
                    let mut echoed = Vec::new();
                    for n in 0..3 {
                        write
                            .write_all(format!("{client}.{n}\n").as_bytes())
                            .await
                            .unwrap();
                        echoed.push(lines.next_line().await.unwrap().unwrap());
                    }
                    echoed
                })
            })
            .collect();
        for (client, handle) in clients.into_iter().enumerate() {
            let expected: Vec<String> = (0..3).map(|n| format!("{client}.{n}!")).collect();
            assert_eq!(handle.await.unwrap(), expected);
        }
        server.await.unwrap();
    });
}

#[test]
fn try_read_and_readable_work_on_a_unix_stream() {
    asyncsim::check(explore(), || async {
        let listener = tokio::net::UnixListener::bind("/tmp/s").unwrap();
        let writer = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.write_all(b"abc").await.unwrap();
        });
        let stream = tokio::net::UnixStream::connect("/tmp/s").await.unwrap();
        let mut buf = [0u8; 8];
        loop {
            stream.readable().await.unwrap();
            match stream.try_read(&mut buf) {
                Ok(count) => {
                    assert_eq!(&buf[..count], b"abc");
                    break;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => panic!("{error}"),
            }
        }
        writer.await.unwrap();
        let mut rest = Vec::new();
        let mut stream = stream;
        stream.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty(), "EOF after the writer's drop");
    });
}

#[test]
fn paths_give_linuxs_errors_and_belong_to_their_node() {
    asyncsim::check(explore(), || async {
        let never = tokio::net::UnixStream::connect("/nothing")
            .await
            .unwrap_err();
        assert_eq!(never.kind(), io::ErrorKind::NotFound, "{never}");
        let listener = tokio::net::UnixListener::bind("/s").unwrap();
        let taken = tokio::net::UnixListener::bind("/s").unwrap_err();
        assert_eq!(taken.kind(), io::ErrorKind::AddrInUse, "{taken}");
        asyncsim::node::Builder::new("other").start(|| async {
            let elsewhere = tokio::net::UnixStream::connect("/s").await.unwrap_err();
            assert_eq!(
                elsewhere.kind(),
                io::ErrorKind::NotFound,
                "another node's path"
            );
            let _own = tokio::net::UnixListener::bind("/s").unwrap();
        });
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        drop(listener);
        let closed = tokio::net::UnixStream::connect("/s").await.unwrap_err();
        assert_eq!(closed.kind(), io::ErrorKind::ConnectionRefused, "{closed}");
        let _again = tokio::net::UnixListener::bind("/s").unwrap();
        let pair = tokio::net::UnixStream::pair().unwrap_err();
        assert_eq!(pair.kind(), io::ErrorKind::Unsupported);
        assert!(pair.to_string().contains("tokio::io::duplex"), "{pair}");
    });
}

/// Writes with `try_write` until it would block: what was taken.
fn fill_unix(stream: &tokio::net::UnixStream) -> usize {
    let block = [7u8; 4_096];
    let mut taken = 0;
    loop {
        match stream.try_write(&block) {
            Ok(n) => {
                taken += n;
                assert!(taken < 1 << 20, "try_write never blocked");
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return taken,
            Err(error) => panic!("{error}"),
        }
    }
}

/// A Unix stream's writer whose peer does not read stops at AF_UNIX's
/// window, its send buffer (`net.core.wmem_default`, 212,992 bytes), both
/// ways, not at TCP's (16 KiB + 128 KiB); it goes on once the peer reads.
#[test]
fn a_unix_stream_writer_stops_at_af_unix_s_window_not_tcp_s() {
    asyncsim::check(explore(), || async {
        let listener = tokio::net::UnixListener::bind("/run/w.sock").unwrap();
        let client = tokio::net::UnixStream::connect("/run/w.sock")
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        assert_eq!(fill_unix(&client), 212_992);
        assert_eq!(fill_unix(&server), 212_992);
        let mut buf = vec![0u8; 10_000];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(fill_unix(&client), 10_000);
    });
}

/// A write to a `UnixStream` whose peer closed fails at once with
/// `BrokenPipe`, as Linux's `EPIPE` on a Unix socket (its peer is local:
/// no reset to wait for), from either end: the connecting one and the
/// accepted one. (It was accepted and lost, and failed only a latency
/// later, as TCP's.)
#[test]
fn a_write_to_a_unix_stream_whose_peer_closed_is_broken_pipe_at_once() {
    for accepted_writes in [false, true] {
        asyncsim::check(explore(), move || async move {
            let listener = tokio::net::UnixListener::bind("/tmp/s").unwrap();
            let client = tokio::net::UnixStream::connect("/tmp/s").await.unwrap();
            let (accepted, _) = listener.accept().await.unwrap();
            let (mut writer, closed) = if accepted_writes {
                (accepted, client)
            } else {
                (client, accepted)
            };
            drop(closed);
            let at = tokio::time::Instant::now();
            let error = writer.write_all(b"lost").await.unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::BrokenPipe, "{error}");
            assert_eq!(at.elapsed(), std::time::Duration::ZERO);
            // The reads see the close as ever: EOF.
            let mut rest = Vec::new();
            assert_eq!(writer.read_to_end(&mut rest).await.unwrap(), 0);
        });
    }
}
