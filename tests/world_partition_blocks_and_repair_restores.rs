//! A partition holds messages back; `repair` lets them through, in order; a
//! cut that lasts past `tcp_timeout` breaks the stream on the end whose
//! bytes it holds (the idle end notices nothing until it sends: then a
//! reset from the end that gave up, once the cut is repaired, or its own
//! timeout); connecting across a cut times out; datagrams across it are
//! lost.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use asyncsim::net::{self, NetConfig, TcpListener, TcpStream, UdpSocket};
use asyncsim::{node, Explore};
use futures::{AsyncReadExt, AsyncWriteExt};

/// Starts node `server`, which appends everything it reads on port 7000 to
/// the returned buffer.
fn recording_server() -> Rc<RefCell<Vec<u8>>> {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let record = seen.clone();
    node::Builder::new("server").start(move || {
        let record = record.clone();
        async move {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 16];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => record.borrow_mut().extend_from_slice(&buf[..n]),
                }
            }
        }
    });
    seen
}

#[test]
fn a_partition_holds_segments_back_and_repair_delivers_them_in_order() {
    asyncsim::check(Explore::new().runs(300), || async {
        let seen = recording_server();
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let mut stream = TcpStream::connect("server:7000").await.unwrap();
        stream.write_all(b"ab").await.unwrap();
        asyncsim::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(*seen.borrow(), b"ab");
        net::partition("main", "server");
        stream.write_all(b"cd").await.unwrap();
        stream.write_all(b"ef").await.unwrap();
        asyncsim::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(*seen.borrow(), b"ab", "bytes crossed a partition");
        net::repair("main", "server");
        stream.write_all(b"gh").await.unwrap();
        asyncsim::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(*seen.borrow(), b"abcdefgh");
    });
}

#[test]
fn isolate_blocks_like_a_partition_and_rejoin_restores() {
    asyncsim::check(Explore::new().runs(200), || async {
        let seen = recording_server();
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let mut stream = TcpStream::connect("server:7000").await.unwrap();
        net::isolate("server");
        stream.write_all(b"xy").await.unwrap();
        asyncsim::time::sleep(Duration::from_secs(1)).await;
        assert!(seen.borrow().is_empty());
        net::rejoin("server");
        asyncsim::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(*seen.borrow(), b"xy");
    });
}

/// As Linux's `tcp_write_err`: only the end with bytes nobody acknowledges
/// gives up (`TimedOut`), and it sends no reset: the server's end, reading
/// and sending nothing, is not told.
#[test]
fn a_cut_longer_than_tcp_timeout_breaks_the_sending_end_with_timed_out() {
    asyncsim::check(Explore::new().runs(200), || async {
        let server_error = Rc::new(RefCell::new(None));
        let record = server_error.clone();
        node::Builder::new("server").start(move || {
            let record = record.clone();
            async move {
                let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 16];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) => return,
                        Ok(_) => {}
                        Err(error) => {
                            *record.borrow_mut() = Some(error.kind());
                            return;
                        }
                    }
                }
            }
        });
        net::set_link(
            "main",
            "server",
            NetConfig::new().tcp_timeout(Duration::from_secs(2)),
        );
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let mut stream = TcpStream::connect("server:7000").await.unwrap();
        net::partition("main", "server");
        stream.write_all(b"lost in the cut").await.unwrap();
        let mut buf = [0u8; 4];
        let error = stream.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
        assert!(asyncsim::time::Instant::now().since_start() >= Duration::from_secs(2));
        asyncsim::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(*server_error.borrow(), None, "the idle end was told");
        // The read took the timeout (reported once, as Linux's `sk_err`):
        // the socket is closed now, so a write is `BrokenPipe`.
        let again = stream.write_all(b"more").await.unwrap_err();
        assert_eq!(again.kind(), std::io::ErrorKind::BrokenPipe, "{again}");
    });
}

/// Past the timeout of main's end, whose bytes the cut held, the server's
/// end has been told nothing (no byte, no EOF, no error), whether main
/// keeps its end, shuts it down or drops it (a socket closed by its
/// timeout sends no FIN). When the server then sends: after a repair, its segment
/// reaches an end that no longer exists and is answered with a reset
/// (`ConnectionReset` a round trip after its write, which was accepted);
/// across the cut still, its own bytes time it out, `tcp_timeout` after.
#[test]
fn the_idle_end_learns_from_its_next_send_a_reset_after_the_repair_or_its_timeout() {
    for (repair, then) in [
        (true, "keep"),
        (true, "close"),
        (true, "drop"),
        (false, "keep"),
    ] {
        let summary = asyncsim::explore(Explore::new().runs(100), move || async move {
            let told = Rc::new(RefCell::new(None));
            let record = told.clone();
            node::Builder::new("server").start(move || {
                let record = record.clone();
                async move {
                    let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
                    let (mut stream, _) = listener.accept().await.unwrap();
                    let mut buf = [0u8; 16];
                    let heard =
                        asyncsim::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
                            .await;
                    assert!(heard.is_err(), "the idle end heard {heard:?}");
                    let wrote_at = asyncsim::time::Instant::now();
                    stream.write_all(b"late").await.unwrap();
                    let error = stream.read(&mut buf).await.unwrap_err();
                    *record.borrow_mut() = Some((error.kind(), wrote_at.elapsed()));
                }
            });
            net::set_link(
                "main",
                "server",
                NetConfig::new().tcp_timeout(Duration::from_secs(2)),
            );
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:7000").await.unwrap();
            net::partition("main", "server");
            stream.write_all(b"lost in the cut").await.unwrap();
            let mut buf = [0u8; 4];
            let error = stream.read(&mut buf).await.unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
            match then {
                // (Closed by its timeout: Linux's shutdown says ENOTCONN.)
                "close" => assert_eq!(
                    stream.close().await.unwrap_err().kind(),
                    std::io::ErrorKind::NotConnected
                ),
                "drop" => drop(stream),
                _ => {}
            }
            asyncsim::time::sleep(Duration::from_secs(1)).await;
            if repair {
                net::repair("main", "server");
            }
            asyncsim::time::sleep(Duration::from_secs(20)).await;
            let told = told.borrow_mut().take();
            let (kind, after) = told.expect("the server's end was never told");
            if repair {
                assert_eq!(kind, std::io::ErrorKind::ConnectionReset);
                assert!(
                    after > Duration::ZERO && after < Duration::from_secs(1),
                    "{after:?}"
                );
            } else {
                assert_eq!(kind, std::io::ErrorKind::TimedOut);
                assert_eq!(after, Duration::from_secs(2));
            }
        });
        if let Some(failure) = summary.first_failure {
            panic!("repair {repair}, then {then}: {failure}");
        }
    }
}

/// Both ends send across a cut, main first: main's end times out first
/// (`tcp_timeout` after its bytes were held) and gives up on them. The
/// server's bytes, held since later, are retransmitted until a repair
/// that comes before the server's own timeout: they reach an end that no
/// longer exists and are answered with a reset (`ConnectionReset` a round
/// trip after the repair, not `TimedOut`); main's bytes never arrive.
#[test]
fn a_retransmission_reaching_the_end_that_gave_up_is_answered_with_a_reset() {
    asyncsim::check(Explore::new().runs(100), || async {
        let told = Rc::new(RefCell::new(None));
        let record = told.clone();
        node::Builder::new("server").start(move || {
            let record = record.clone();
            async move {
                let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
                let (mut stream, _) = listener.accept().await.unwrap();
                asyncsim::time::sleep(Duration::from_secs(1)).await;
                stream.write_all(b"late").await.unwrap();
                let mut buf = [0u8; 16];
                let read = stream.read(&mut buf).await;
                let at = asyncsim::time::Instant::now();
                *record.borrow_mut() = Some((read.map_err(|error| error.kind()), at));
            }
        });
        net::set_link(
            "main",
            "server",
            NetConfig::new().tcp_timeout(Duration::from_secs(2)),
        );
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let mut stream = TcpStream::connect("server:7000").await.unwrap();
        net::partition("main", "server");
        stream.write_all(b"early").await.unwrap();
        let mut buf = [0u8; 4];
        let error = stream.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
        asyncsim::time::sleep(Duration::from_millis(500)).await;
        let repaired = asyncsim::time::Instant::now();
        net::repair("main", "server");
        asyncsim::time::sleep(Duration::from_secs(10)).await;
        let (read, at) = told.borrow_mut().take().expect("the server never read");
        assert_eq!(read, Err(std::io::ErrorKind::ConnectionReset));
        assert!(at > repaired && at - repaired < Duration::from_secs(1));
    });
}

#[test]
fn connecting_across_a_cut_times_out_and_datagrams_across_it_are_lost() {
    asyncsim::check(Explore::new().runs(100), || async {
        node::Builder::new("server").start(|| async {
            let _listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            let socket = UdpSocket::bind("0.0.0.0:7000").await.unwrap();
            let mut buf = [0u8; 8];
            let (n, from) = socket.recv_from(&mut buf).await.unwrap();
            socket.send_to(&buf[..n], from).await.unwrap();
            std::future::pending::<()>().await;
        });
        net::set_link(
            "main",
            "server",
            NetConfig::new().tcp_timeout(Duration::from_secs(3)),
        );
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        net::partition_oneway("main", "server");
        let error = TcpStream::connect("server:7000").await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
        let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        socket.send_to(b"lost", "server:7000").await.unwrap();
        let mut buf = [0u8; 8];
        let nothing =
            asyncsim::time::timeout(Duration::from_secs(1), socket.recv_from(&mut buf)).await;
        assert!(nothing.is_err(), "a datagram crossed a cut");
        net::repair("main", "server");
        socket.send_to(b"ping", "server:7000").await.unwrap();
        let (n, _) = socket.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
    });
}

/// An end that gave up across a cut (timed out) is a closed socket: its
/// node's crash later sends its peer nothing (Linux resets only sockets
/// that exist), so the idle peer, repaired to it, hears nothing until it
/// sends; its next segment is then answered with a reset.
#[test]
fn a_crash_after_an_end_gave_up_tells_the_idle_peer_only_when_it_sends() {
    asyncsim::check(Explore::new().runs(100), || async {
        let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
        let writer = node::Builder::new("writer").start(|| async {
            let mut stream = TcpStream::connect("main:7000").await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(100)).await;
            stream.write_all(b"lost in the cut").await.unwrap();
            let mut buf = [0u8; 4];
            let error = stream.read(&mut buf).await.unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
            // Keeps its end (not dropped) until the crash.
            std::future::pending::<()>().await;
        });
        net::set_link(
            "main",
            "writer",
            NetConfig::new().tcp_timeout(Duration::from_secs(2)),
        );
        let (mut stream, _) = listener.accept().await.unwrap();
        net::partition("main", "writer");
        asyncsim::time::sleep(Duration::from_secs(5)).await;
        net::repair("main", "writer");
        writer.crash();
        let mut buf = [0u8; 16];
        let heard = asyncsim::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await;
        assert!(
            heard.is_err(),
            "the idle end heard {heard:?} from a closed socket's crash"
        );
        stream.write_all(b"late").await.unwrap();
        let error = stream.read(&mut buf).await.unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
    });
}
