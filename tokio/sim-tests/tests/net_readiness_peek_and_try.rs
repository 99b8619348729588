//! `tokio::net`'s readiness, `peek` and `try_` methods on the face, as
//! tokio documents them: `try_read` is `WouldBlock` until bytes arrive and
//! 0 at EOF; `peek` leaves the bytes for the next read; `readable`/`ready`
//! wake on an arrival; `writable` is ready at once while the window has
//! room (`net_writers_wait_for_room` fills it);
//! the read and write halves have theirs; `TcpSocket` binds, listens and
//! connects; `UdpSocket`'s `peek_from`, `try_recv_from`, `try_send_to`,
//! `readable` and the connected forms (whose receives, before `connect`,
//! take anyone's datagram, as Linux's do); multicast is refused by name.

use std::io::{self, IoSlice, IoSliceMut};
use std::time::Duration;

use asyncsim::Explore;
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest, ReadBuf};

fn explore() -> Explore {
    Explore::new().runs(150).persist(false)
}

/// A server on node `server`, port 7000, that writes `hello` on each
/// connection after 5 ms, then reads until EOF and closes.
fn start_greeter() {
    asyncsim::node::Builder::new("server").start(|| async {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                stream.write_all(b"hello").await.unwrap();
                let mut rest = Vec::new();
                let _ = stream.read_to_end(&mut rest).await;
            });
        }
    });
}

async fn connect() -> tokio::net::TcpStream {
    tokio::time::sleep(Duration::from_millis(1)).await;
    tokio::net::TcpStream::connect("server:7000").await.unwrap()
}

#[test]
fn try_read_would_block_until_readable_and_peek_leaves_the_bytes() {
    asyncsim::check(explore(), || async {
        start_greeter();
        let stream = connect().await;
        let mut buf = [0u8; 16];
        let early = stream.try_read(&mut buf).unwrap_err();
        assert_eq!(early.kind(), io::ErrorKind::WouldBlock);
        stream.readable().await.unwrap();
        assert_eq!(stream.peek(&mut buf[..3]).await.unwrap(), 3);
        assert_eq!(&buf[..3], b"hel");
        let mut split = [0u8; 2];
        let mut more = [0u8; 8];
        let mut slices = [IoSliceMut::new(&mut split), IoSliceMut::new(&mut more)];
        assert_eq!(stream.try_read_vectored(&mut slices).unwrap(), 5);
        assert_eq!((&split, &more[..3]), (b"he", &b"llo"[..]));
        let again = stream.try_read(&mut buf).unwrap_err();
        assert_eq!(
            again.kind(),
            io::ErrorKind::WouldBlock,
            "read once, peeked once"
        );
    });
}

#[test]
fn ready_says_writable_at_once_and_read_closed_at_eof() {
    asyncsim::check(explore(), || async {
        asyncsim::node::Builder::new("server").start(|| async {
            let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
            drop(stream);
        });
        let stream = connect().await;
        let ready = stream
            .ready(Interest::READABLE | Interest::WRITABLE)
            .await
            .unwrap();
        assert!(ready.is_writable() && !ready.is_readable(), "{ready:?}");
        stream.writable().await.unwrap();
        let ready = stream.ready(Interest::READABLE).await.unwrap();
        assert!(ready.is_readable() && ready.is_read_closed(), "{ready:?}");
        assert_eq!(stream.try_read(&mut [0u8; 4]).unwrap(), 0, "EOF");
    });
}

#[test]
fn try_write_and_the_halves_try_forms_carry_bytes() {
    asyncsim::check(explore(), || async {
        asyncsim::node::Builder::new("server").start(|| async {
            let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            stream.read_to_end(&mut got).await.unwrap();
            stream.write_all(&got).await.unwrap();
        });
        let mut stream = connect().await;
        {
            let (read, write) = stream.split();
            write.writable().await.unwrap();
            assert_eq!(write.try_write(b"ab").unwrap(), 2);
            let parts = [IoSlice::new(b"cd"), IoSlice::new(b"ef")];
            assert_eq!(write.try_write_vectored(&parts).unwrap(), 4);
            assert_eq!(
                read.try_read(&mut [0u8; 4]).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
            assert!(read.ready(Interest::WRITABLE).await.is_ok());
        }
        let (mut read, mut write) = stream.into_split();
        let through_halves: [&tokio::net::TcpStream; 2] = [read.as_ref(), write.as_ref()];
        assert_eq!(
            through_halves[0].peer_addr().unwrap(),
            through_halves[1].peer_addr().unwrap()
        );
        write.shutdown().await.unwrap();
        read.readable().await.unwrap();
        let mut peeked = [0u8; 6];
        assert_eq!(read.peek(&mut peeked).await.unwrap(), 6);
        let mut all = Vec::with_capacity(16);
        assert_eq!(read.try_read_buf(&mut all).unwrap(), 6);
        assert_eq!((&peeked, &all[..]), (b"abcdef", &b"abcdef"[..]));
        assert_eq!(
            write.try_write(b"late").unwrap_err().kind(),
            io::ErrorKind::BrokenPipe,
            "a write after shutdown, as a write"
        );
    });
}

#[test]
fn tcp_socket_listens_on_its_bound_address_and_connects() {
    asyncsim::check(explore(), || async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.set_nodelay(true).unwrap();
        socket.set_send_buffer_size(1 << 20).unwrap();
        assert!(socket.reuseaddr().unwrap() && socket.nodelay().unwrap());
        assert_eq!(
            socket.send_buffer_size().unwrap(),
            2 * 212_992,
            "as Linux says: at most net.core.wmem_max, doubled"
        );
        assert_eq!(
            socket.recv_buffer_size().unwrap(),
            131_072,
            "Linux's default"
        );
        assert_eq!(socket.local_addr().unwrap().port(), 0, "unbound");
        socket.bind("127.0.0.1:7100".parse().unwrap()).unwrap();
        let listener = socket.listen(1024).unwrap();
        assert_eq!(listener.local_addr().unwrap().port(), 7100);
        let taken = tokio::net::TcpSocket::new_v4().unwrap();
        taken.bind("0.0.0.0:7100".parse().unwrap()).unwrap();
        assert_eq!(
            taken.listen(8).unwrap_err().kind(),
            io::ErrorKind::AddrInUse
        );
        let family = tokio::net::TcpSocket::new_v6().unwrap();
        assert_eq!(
            family
                .bind("127.0.0.1:1".parse().unwrap())
                .unwrap_err()
                .kind(),
            io::ErrorKind::InvalidInput
        );
        let accepted = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.write_all(b"hi").await.unwrap();
        });
        let client = tokio::net::TcpSocket::new_v4().unwrap();
        let mut stream = client
            .connect("127.0.0.1:7100".parse().unwrap())
            .await
            .unwrap();
        let mut buf = [0u8; 2];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
        accepted.await.unwrap();
        let refused = tokio::net::TcpSocket::new_v4()
            .unwrap()
            .connect("127.0.0.1:7101".parse().unwrap())
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn udp_peek_try_and_readiness_as_tokio_documents_them() {
    asyncsim::check(explore(), || async {
        asyncsim::node::Builder::new("peer").start(|| async {
            let socket = tokio::net::UdpSocket::bind("0.0.0.0:6000").await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
            let main = tokio::net::lookup_host("main:5000")
                .await
                .unwrap()
                .next()
                .unwrap();
            socket.try_send_to(b"ping", main).unwrap();
            let mut buf = [0u8; 8];
            let (count, from) = socket.recv_from(&mut buf).await.unwrap();
            socket.send_to(&buf[..count], from).await.unwrap();
        });
        let socket = tokio::net::UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(
            socket.try_recv_from(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert_eq!(
            socket.peer_addr().unwrap_err().kind(),
            io::ErrorKind::NotConnected
        );
        assert_eq!(
            socket.try_recv(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock,
            "not connected, it receives from anyone (Linux's recv(2))"
        );
        socket.writable().await.unwrap();
        socket.readable().await.unwrap();
        let from = socket.peek_sender().await.unwrap();
        assert_eq!(from.port(), 6000);
        let (count, _) = socket.peek_from(&mut buf[..2]).await.unwrap();
        assert_eq!(&buf[..count], b"pi", "truncated, as a receive is");
        let (count, again) = socket.try_recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..count], again), (&b"ping"[..], from));
        socket.connect(from).await.unwrap();
        assert_eq!(socket.peer_addr().unwrap(), from);
        assert_eq!(socket.try_send(b"pong").unwrap(), 4);
        socket.ready(Interest::READABLE).await.unwrap();
        assert_eq!(socket.peek(&mut buf).await.unwrap(), 4);
        let mut received = Vec::with_capacity(8);
        assert_eq!(socket.try_recv_buf(&mut received).unwrap(), 4);
        assert_eq!(received, b"pong");
        let refused = socket
            .join_multicast_v4("239.0.0.1".parse().unwrap(), "0.0.0.0".parse().unwrap())
            .unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::Unsupported);
        assert!(
            refused.to_string().contains("each member node's address"),
            "{refused}"
        );
    });
}

/// Starts node `name` with a UDP socket on `port` that sends two datagrams
/// to main's port 5000 over a 2 ms link, each after a drawn pause of
/// 1–3 ms: datagram `n` holds `tag`, `n` and its send's time
/// (nanoseconds, little-endian).
fn udp_sender(name: &'static str, port: u16, tag: u8) {
    asyncsim::node::Builder::new(name).start(move || async move {
        let socket = tokio::net::UdpSocket::bind(("0.0.0.0", port))
            .await
            .unwrap();
        for n in 0..2u8 {
            let pause = asyncsim::random_range(1..4u64);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            let mut datagram = vec![tag, n];
            let now = asyncsim::time::Instant::now().as_nanos();
            datagram.extend_from_slice(&now.to_le_bytes());
            socket.send_to(&datagram, "main:5000").await.unwrap();
        }
        std::future::pending::<()>().await;
    });
    let link =
        asyncsim::net::NetConfig::new().latency(Duration::from_millis(2), Duration::from_millis(2));
    asyncsim::net::set_link("main", name, link);
}

/// A `UdpSocket` never connected receives with its connected forms from
/// any sender, as Linux's `recv(2)` does: `try_recv` and `try_peek` are
/// `WouldBlock` until a datagram arrives (not `NotConnected`); `peek` and
/// `try_peek` leave it for `recv` and `try_recv`; `recv`, `try_recv`,
/// `recv_buf` and `poll_recv` take two senders' four datagrams, each
/// sender's in its order, all in arrival order (send times never
/// decrease over the 2 ms links). Only the sends want a `connect`.
#[test]
fn udp_receives_before_connect_take_any_senders_datagrams() {
    asyncsim::check(explore(), || async {
        let socket = tokio::net::UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        udp_sender("alpha", 7000, b'a');
        udp_sender("beta", 7001, b'b');
        let mut buf = [0u8; 16];
        assert_eq!(
            socket.try_recv(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert_eq!(
            socket.try_peek(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        for refused in [
            socket.send(b"x").await.unwrap_err(),
            socket.try_send(b"x").unwrap_err(),
        ] {
            assert_eq!(refused.kind(), io::ErrorKind::NotConnected);
        }
        let mut got: Vec<Vec<u8>> = Vec::new();
        let count = socket.peek(&mut buf).await.unwrap();
        let peeked = buf[..count].to_vec();
        let count = socket.recv(&mut buf).await.unwrap();
        assert_eq!(buf[..count], peeked[..], "peek left it for recv");
        got.push(peeked);
        socket.readable().await.unwrap();
        let count = socket.try_peek(&mut buf).unwrap();
        let peeked = buf[..count].to_vec();
        let count = socket.try_recv(&mut buf).unwrap();
        assert_eq!(buf[..count], peeked[..], "try_peek left it for try_recv");
        got.push(peeked);
        let mut received = Vec::with_capacity(16);
        socket.recv_buf(&mut received).await.unwrap();
        got.push(received);
        let mut read = ReadBuf::new(&mut buf);
        std::future::poll_fn(|context| socket.poll_recv(context, &mut read))
            .await
            .unwrap();
        got.push(read.filled().to_vec());
        for tag in [b'a', b'b'] {
            let numbers: Vec<u8> = got.iter().filter(|d| d[0] == tag).map(|d| d[1]).collect();
            assert_eq!(numbers, [0, 1], "{got:?}");
        }
        let sent: Vec<u64> = got
            .iter()
            .map(|d| u64::from_le_bytes(d[2..10].try_into().unwrap()))
            .collect();
        assert!(sent.windows(2).all(|pair| pair[0] <= pair[1]), "{got:?}");
    });
}
