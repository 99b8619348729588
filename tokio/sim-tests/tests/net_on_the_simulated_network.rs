//! `tokio::net` on the face: tokio's `AsyncRead`/`AsyncWrite` over the
//! simulated network between nodes, split halves, datagrams, name lookup,
//! and a crashed peer seen as an error.

use std::time::Duration;

use asyncsim::Explore;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// An echo server of lines on node `server`, port 7000.
fn start_line_echo() -> asyncsim::node::Node {
    asyncsim::node::Builder::new("server").start(|| async {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    write
                        .write_all(format!("{line}\n").as_bytes())
                        .await
                        .unwrap();
                }
            });
        }
    })
}

#[test]
fn lines_echo_across_nodes_in_order_in_every_schedule() {
    asyncsim::check(Explore::new().runs(200).persist(false), || async {
        let _server = start_line_echo();
        tokio::time::sleep(Duration::from_millis(1)).await;
        let clients: Vec<_> = (0..2)
            .map(|client| {
                tokio::spawn(async move {
                    let mut stream = tokio::net::TcpStream::connect("server:7000").await.unwrap();
                    let (read, mut write) = stream.split();
                    let mut lines = BufReader::new(read).lines();
                    let mut echoed = Vec::new();
                    for n in 0..3 {
                        write
                            .write_all(format!("client {client} line {n}\n").as_bytes())
                            .await
                            .unwrap();
                        echoed.push(lines.next_line().await.unwrap().unwrap());
                    }
                    echoed
                })
            })
            .collect();
        for (client, handle) in clients.into_iter().enumerate() {
            let echoed = handle.await.unwrap();
            let expected: Vec<String> = (0..3)
                .map(|n| format!("client {client} line {n}"))
                .collect();
            assert_eq!(echoed, expected);
        }
    });
}

#[test]
fn a_crashed_server_is_an_error_for_the_client() {
    asyncsim::check(Explore::new().runs(100).persist(false), || async {
        let server = start_line_echo();
        tokio::time::sleep(Duration::from_millis(1)).await;
        let mut stream = tokio::net::TcpStream::connect("server:7000").await.unwrap();
        stream.write_all(b"before\n").await.unwrap();
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"before\n");
        server.crash();
        let _ = stream.write_all(b"after\n").await;
        let mut rest = Vec::new();
        let outcome = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut rest))
            .await
            .expect("a crash is seen well before the timeout");
        let error = outcome.expect_err("the peer's crash resets the connection");
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}");
        assert!(rest.is_empty(), "no data after the crash: {rest:?}");
    });
}

#[test]
fn datagrams_and_lookup_host() {
    asyncsim::check(Explore::new().runs(100).persist(false), || async {
        let _echo = asyncsim::node::Builder::new("udp-echo").start(|| async {
            let socket = tokio::net::UdpSocket::bind("0.0.0.0:5300").await.unwrap();
            let mut buf = [0u8; 64];
            loop {
                let (length, from) = socket.recv_from(&mut buf).await.unwrap();
                socket.send_to(&buf[..length], from).await.unwrap();
            }
        });
        tokio::time::sleep(Duration::from_millis(1)).await;
        let resolved: Vec<_> = tokio::net::lookup_host("udp-echo:5300")
            .await
            .unwrap()
            .collect();
        assert_eq!(resolved.len(), 1);
        assert_eq!(resolved[0].port(), 5300);
        let socket = tokio::net::UdpSocket::bind("0.0.0.0:0").await.unwrap();
        socket.connect(resolved[0]).await.unwrap();
        socket.send(b"hello").await.unwrap();
        let mut buf = [0u8; 64];
        let length = socket.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..length], b"hello");
        assert!(tokio::net::lookup_host("nowhere:1").await.is_err());
    });
}

#[test]
fn connecting_where_nobody_listens_is_refused() {
    asyncsim::check(Explore::new().runs(20).persist(false), || async {
        let error = tokio::net::TcpStream::connect("127.0.0.1:9")
            .await
            .unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn sockets_are_send_like_tokios() {
    fn send<T: Send + Sync>() {}
    send::<tokio::net::TcpStream>();
    send::<tokio::net::TcpListener>();
    send::<tokio::net::UdpSocket>();
    send::<tokio::net::tcp::OwnedReadHalf>();
    send::<tokio::net::tcp::OwnedWriteHalf>();
}
