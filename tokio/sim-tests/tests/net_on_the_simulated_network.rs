//! `tokio::net` on the face: tokio's `AsyncRead`/`AsyncWrite` over the
//! simulated network between nodes, split halves, datagrams, name lookup,
//! and a crashed peer seen as an error.

use std::time::Duration;

use asyncsim::Explore;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

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

/// A connected socket keeps the datagram another sender's it held before
/// `connect` (Linux keeps its receive queue), then hears only its peer:
/// another's sent after is dropped at its arrival, never received.
#[test]
fn a_connected_socket_keeps_what_it_held_then_hears_only_its_peer() {
    asyncsim::check(Explore::new().runs(50).persist(false), || async {
        let socket = tokio::net::UdpSocket::bind("0.0.0.0:5400").await.unwrap();
        let peer = tokio::net::UdpSocket::bind("0.0.0.0:5401").await.unwrap();
        let other = tokio::net::UdpSocket::bind("0.0.0.0:5402").await.unwrap();
        other.send_to(b"early", "127.0.0.1:5400").await.unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        socket.connect("127.0.0.1:5401").await.unwrap();
        assert_eq!(socket.peer_addr().unwrap().port(), 5401);
        other.send_to(b"late", "127.0.0.1:5400").await.unwrap();
        peer.send_to(b"hello", "127.0.0.1:5400").await.unwrap();
        let mut buf = [0u8; 16];
        let length = socket.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..length], b"early");
        let length = socket.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..length], b"hello");
        let more = tokio::time::timeout(Duration::from_millis(10), socket.recv(&mut buf)).await;
        assert!(more.is_err(), "another sender's datagram was received");
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

/// A connected pair on nodes `main` and `server` (port 7100): the server's
/// end is returned through a oneshot.
async fn connected_pair() -> (tokio::net::TcpStream, tokio::net::TcpStream) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    asyncsim::node::Builder::new("server").start(move || {
        let tx = tx.lock().unwrap().take();
        async move {
            let listener = tokio::net::TcpListener::bind("0.0.0.0:7100").await.unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            if let Some(tx) = tx {
                let _ = tx.send(stream);
            }
            std::future::pending::<()>().await;
        }
    });
    tokio::time::sleep(Duration::from_millis(1)).await;
    let client = tokio::net::TcpStream::connect("server:7100").await.unwrap();
    (client, rx.await.unwrap())
}

#[test]
fn a_read_into_uninitialised_memory_fills_it_without_zeroing_it_first() {
    let run = asyncsim::Sim::new(asyncsim::Config::new()).run(async {
        let (mut client, mut server) = connected_pair().await;
        client.write_all(b"hello").await.unwrap();
        let mut memory = [std::mem::MaybeUninit::<u8>::uninit(); 64];
        let mut buf = tokio::io::ReadBuf::uninit(&mut memory);
        std::future::poll_fn(|context| {
            tokio::io::AsyncRead::poll_read(std::pin::Pin::new(&mut server), context, &mut buf)
        })
        .await
        .unwrap();
        // The bytes went straight into the unfilled part: nothing past them
        // was initialised (zeroed) on the way.
        let answer = (buf.filled().to_vec(), buf.initialized().len());
        // `read_buf` into a `Vec`'s spare capacity, as codecs read.
        client.write_all(b" world").await.unwrap();
        let mut vec = Vec::with_capacity(32);
        server.read_buf(&mut vec).await.unwrap();
        (answer, vec)
    });
    let ((filled, initialised), vec) = run.result.unwrap();
    assert_eq!(filled, b"hello");
    assert_eq!(initialised, 5);
    assert_eq!(vec, b" world");
}

/// As tokio's (a derived `Debug`), a half shows the stream it is of: the
/// connection's name, the same for `TcpStream` and its halves.
#[test]
fn halves_debug_as_the_stream_they_are_of() {
    let run = asyncsim::Sim::new(asyncsim::Config::new()).run(async {
        let (mut client, server) = connected_pair().await;
        let streams = [format!("{client:?}"), format!("{server:?}")];
        let (read, write) = client.split();
        let borrowed = [format!("{read:?}"), format!("{write:?}")];
        let (read, write) = server.into_split();
        let owned = [format!("{read:?}"), format!("{write:?}")];
        (streams, borrowed, owned)
    });
    let ([client, server], borrowed, owned) = run.result.unwrap();
    assert_eq!(
        borrowed,
        [
            format!("ReadHalf {{ stream: {client} }}"),
            format!("WriteHalf {{ stream: {client} }}"),
        ]
    );
    assert_eq!(
        owned,
        [
            format!("OwnedReadHalf {{ stream: {server} }}"),
            format!("OwnedWriteHalf {{ stream: {server}, shutdown_on_drop: true }}"),
        ]
    );
}

#[test]
fn a_socket_moved_to_another_thread_is_an_error_there_and_works_again_at_home() {
    let run = asyncsim::Sim::new(asyncsim::Config::new()).run(async {
        let (mut client, mut server) = connected_pair().await;
        let (client, elsewhere) = std::thread::spawn(move || {
            let mut context = std::task::Context::from_waker(std::task::Waker::noop());
            let written = std::pin::Pin::new(&mut client).poll_write(&mut context, b"x");
            let address = client.peer_addr();
            (client, (written, address))
        })
        .join()
        .unwrap();
        let (written, address) = elsewhere;
        let mut client = client;
        client.write_all(b"back home").await.unwrap();
        let mut buf = [0u8; 9];
        server.read_exact(&mut buf).await.unwrap();
        (
            written.map(|result| result.map_err(|error| error.to_string())),
            address.map_err(|error| error.to_string()),
            buf,
        )
    });
    let (written, address, buf) = run.result.unwrap();
    let std::task::Poll::Ready(Err(written)) = written else {
        panic!("a write on another thread must fail: {written:?}");
    };
    assert!(written.contains("used on another thread"), "{written}");
    assert!(address.unwrap_err().contains("on another thread"));
    assert_eq!(&buf, b"back home");
}

#[test]
fn a_socket_kept_past_its_run_is_an_error() {
    let mut sim = asyncsim::Sim::new(asyncsim::Config::new());
    let kept = sim.run(async { connected_pair().await.0 }).result.unwrap();
    // In a later run that has no world of its own yet, and in one that has.
    let later = sim.run(async move {
        let mut kept = kept;
        let before = kept
            .write_all(b"x")
            .await
            .map_err(|error| error.to_string());
        let _own = tokio::net::UdpSocket::bind("0.0.0.0:9").await.unwrap();
        let after = kept
            .write_all(b"x")
            .await
            .map_err(|error| error.to_string());
        (before, after)
    });
    let (before, after) = later.result.unwrap();
    let before = before.unwrap_err();
    assert!(before.contains("belongs to another run"), "{before}");
    let after = after.unwrap_err();
    assert!(after.contains("belongs to another run"), "{after}");
}

/// `tokio::time::timeout` giving up on a connect while its SYN-ACK is on its
/// way abandons it as on Linux: the trace says `net connect aborted`, and
/// the server's end of the stream it accepted is reset, not closed.
#[test]
fn a_connect_given_up_by_a_timeout_is_aborted_and_resets_the_server_end() {
    use std::cell::RefCell;
    use std::rc::Rc;
    let link =
        asyncsim::net::NetConfig::new().latency(Duration::from_millis(2), Duration::from_millis(2));
    let run = asyncsim::Sim::new(asyncsim::Config::new().net(link)).run(async {
        let read = Rc::new(RefCell::new(None));
        let record = read.clone();
        let _server = asyncsim::node::Builder::new("server").start(move || {
            let record = record.clone();
            async move {
                let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 8];
                *record.borrow_mut() = Some(stream.read(&mut buf).await.map_err(|e| e.kind()));
            }
        });
        tokio::time::sleep(Duration::from_millis(1)).await;
        let connect = tokio::net::TcpStream::connect("server:7000");
        let gave_up = tokio::time::timeout(Duration::from_millis(3), connect).await;
        assert!(gave_up.is_err(), "the connect returned first");
        tokio::time::sleep(Duration::from_millis(20)).await;
        let read = read.borrow_mut().take();
        read
    });
    assert_eq!(
        run.result.unwrap(),
        Some(Err(std::io::ErrorKind::ConnectionReset))
    );
    let text = run.trace.to_string();
    assert!(
        text.contains("net connect aborted: TcpStream#0 from main:49152 to server:7000"),
        "{text}"
    );
}

#[test]
fn a_socket_s_address_is_its_node_s_ip_whatever_it_was_bound_to() {
    // As the README says: a node has one address and a socket listens on
    // all of it, so `local_addr` and the peer's `peer_addr` give the node's
    // IP (Linux would give back `127.0.0.1` or `0.0.0.0`).
    asyncsim::check(Explore::new().runs(5).persist(false), || async {
        let ip = asyncsim::node::current().ip();
        let loopback = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = loopback.local_addr().unwrap();
        assert_eq!(address.ip(), ip);
        let any = tokio::net::TcpListener::bind("0.0.0.0:7002").await.unwrap();
        assert_eq!(any.local_addr().unwrap(), (ip, 7002).into());
        let client = tokio::spawn(tokio::net::TcpStream::connect(("127.0.0.1", 7002)));
        let (_server_end, peer) = any.accept().await.unwrap();
        let client = client.await.unwrap().unwrap();
        assert_eq!(peer.ip(), ip);
        assert_eq!(client.local_addr().unwrap(), peer);
        assert_eq!(client.peer_addr().unwrap(), (ip, 7002).into());
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        assert_eq!(udp.local_addr().unwrap().ip(), ip);
    });
}
