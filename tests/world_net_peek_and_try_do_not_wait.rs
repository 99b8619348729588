//! A stream's and a datagram socket's read side looked at without taking
//! (`peek`: the next read gets the same bytes) or without waiting
//! (`try_read`/`try_recv_from`: `WouldBlock`, as a non-blocking socket
//! says), and readiness (`poll_read_ready`/`poll_recv_ready`) woken by an
//! arrival; a look that does not wait parks nothing, so a task waiting to
//! read elsewhere is still the one woken, in every schedule.

use std::future::poll_fn;
use std::io;
use std::time::Duration;

use asyncsim::net::{TcpListener, TcpStream, UdpSocket};
use asyncsim::{node, Explore, Strategy};
use futures::{AsyncReadExt, AsyncWriteExt};

fn explore() -> impl Iterator<Item = Explore> {
    [Strategy::Random, Strategy::Pct { depth: 3 }]
        .into_iter()
        .map(|strategy| Explore::new().runs(150).strategy(strategy).persist(false))
}

/// A server on node `server` that writes `hello` on each connection after
/// `delay_ms` and then closes it.
fn start_greeter(delay_ms: u64) {
    node::Builder::new("server").start(move || async move {
        let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            drop(asyncsim::spawn(async move {
                asyncsim::time::sleep(Duration::from_millis(delay_ms)).await;
                stream.write_all(b"hello").await.unwrap();
            }));
        }
    });
}

fn try_read(stream: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    let mut at = 0;
    stream.try_read_with(buf.len(), |bytes| {
        buf[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    })
}

#[test]
fn tcp_peek_leaves_the_bytes_and_try_read_would_block_until_they_arrive() {
    for explore in explore() {
        asyncsim::check(explore, || async {
            start_greeter(5);
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:7000").await.unwrap();
            let mut buf = [0u8; 16];
            let early = try_read(&stream, &mut buf).unwrap_err();
            assert_eq!(early.kind(), io::ErrorKind::WouldBlock);
            let peeked = stream.try_peek_with(16, |_| ()).unwrap_err();
            assert_eq!(peeked.kind(), io::ErrorKind::WouldBlock);

            poll_fn(|context| stream.poll_read_ready(context))
                .await
                .unwrap();
            let mut seen = Vec::new();
            let count = poll_fn(|context| {
                stream.poll_peek_with(context, 3, |bytes| seen.extend_from_slice(bytes))
            })
            .await
            .unwrap();
            assert_eq!(
                (count, &seen[..]),
                (3, &b"hel"[..]),
                "a peek takes at most max"
            );
            // The same bytes again, all of them: a peek took nothing.
            assert_eq!(stream.try_peek_with(16, |_| ()).unwrap(), 5);
            assert_eq!(try_read(&stream, &mut buf).unwrap(), 5);
            assert_eq!(&buf[..5], b"hello");
            // Nothing more yet: the server closes when its task ends.
            let mut rest = Vec::new();
            stream.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty());
            assert_eq!(
                try_read(&stream, &mut buf).unwrap(),
                0,
                "EOF is 0, not WouldBlock"
            );
        });
    }
}

#[test]
fn a_look_that_does_not_wait_leaves_a_waiting_reader_to_be_woken() {
    for explore in explore() {
        asyncsim::check(explore, || async {
            start_greeter(5);
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let stream = std::rc::Rc::new(TcpStream::connect("server:7000").await.unwrap());
            let reader = {
                let stream = stream.clone();
                asyncsim::spawn(async move {
                    poll_fn(|context| stream.poll_read_ready(context))
                        .await
                        .unwrap();
                    let mut buf = [0u8; 5];
                    try_read(&stream, &mut buf).unwrap();
                    buf
                })
            };
            // Looks while the reader may be parked: none of them parks.
            for _ in 0..3 {
                let _ = stream.try_peek_with(8, |_| ());
                let _ = try_read(&stream, &mut []);
                asyncsim::yield_now().await;
            }
            assert_eq!(&reader.await.unwrap(), b"hello");
        });
    }
}

#[test]
fn udp_peek_leaves_the_datagram_and_try_recv_would_block_until_it_arrives() {
    for explore in explore() {
        asyncsim::check(explore, || async {
            node::Builder::new("peer").start(|| async {
                let socket = UdpSocket::bind("0.0.0.0:6000").await.unwrap();
                asyncsim::time::sleep(Duration::from_millis(5)).await;
                socket.send_to(b"ping", "main:5000").await.unwrap();
            });
            let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
            let not_yet = socket.peer_addr().unwrap_err();
            assert_eq!(not_yet.kind(), io::ErrorKind::NotConnected);
            let mut buf = [0u8; 16];
            assert_eq!(
                socket.try_recv_from(&mut buf).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
            assert_eq!(
                socket.try_peek_from(&mut buf).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
            poll_fn(|context| socket.poll_recv_ready(context))
                .await
                .unwrap();
            let mut short = [0u8; 2];
            let (count, from) = poll_fn(|context| socket.poll_peek_from(context, &mut short))
                .await
                .unwrap();
            assert_eq!((count, &short, from.port()), (2, b"pi", 6000));
            assert_eq!(socket.try_peek_from(&mut buf).unwrap().0, 4);
            let (count, from) = socket.try_recv_from(&mut buf).unwrap();
            assert_eq!((&buf[..count], from.port()), (&b"ping"[..], 6000));
            assert_eq!(
                socket.try_recv_from(&mut buf).unwrap_err().kind(),
                io::ErrorKind::WouldBlock,
                "received once, peeked twice"
            );
            socket.connect(from).await.unwrap();
            assert_eq!(socket.peer_addr().unwrap(), from);
        });
    }
}
