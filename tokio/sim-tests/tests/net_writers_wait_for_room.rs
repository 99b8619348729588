//! A `tokio::net::TcpStream`'s writer waits when its peer has not read
//! what fills the window (its send buffer and the peer's receive buffer):
//! `try_write` takes what fits and is `WouldBlock` when nothing does,
//! `writable` and `ready(WRITABLE)` wait until the peer reads, and
//! `TcpSocket::set_send_buffer_size`/`set_recv_buffer_size` move where
//! the writer stops, as Linux's sizes do (doubled, as `getsockopt` says),
//! from the connection's first byte.

#[path = "../../../tests/schedule_support/mod.rs"]
mod schedule_support;

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use asyncsim::{Explore, Sim};
use schedule_support::random_and_pct;
use tokio::io::{AsyncReadExt, Interest};

fn explore() -> Explore {
    Explore::new().runs(150).persist(false)
}

/// A server on 7000 (its accepted streams' receive buffer set to 1000,
/// 2,304 bytes on Linux) that reads nothing until 50 ms, then reads
/// `wanted` bytes and keeps the stream.
fn late_reader(wanted: usize) {
    asyncsim::node::Builder::new("server").start(move || async move {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(1000).unwrap();
        assert_eq!(socket.recv_buffer_size().unwrap(), 2_304);
        socket.bind("0.0.0.0:7000".parse().unwrap()).unwrap();
        let listener = socket.listen(8).unwrap();
        let (mut stream, _) = listener.accept().await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut buf = vec![0u8; wanted];
        stream.read_exact(&mut buf).await.unwrap();
        std::future::pending::<()>().await;
    });
}

/// Connects with a send buffer of `send` (as set, before doubling).
async fn connect_with(send: u32) -> tokio::net::TcpStream {
    tokio::time::sleep(Duration::from_millis(1)).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_send_buffer_size(send).unwrap();
    let server = tokio::net::lookup_host("server:7000")
        .await
        .unwrap()
        .next()
        .unwrap();
    socket.connect(server).await.unwrap()
}

/// Writes with `try_write` until it would block: what was taken.
fn fill(stream: &tokio::net::TcpStream) -> usize {
    let block = [7u8; 1_500];
    let mut taken = 0;
    loop {
        match stream.try_write(&block) {
            Ok(n) => {
                assert!(n > 0, "try_write took nothing without blocking");
                taken += n;
                // (Without flow control the loop would never end.)
                assert!(taken < 1 << 20, "try_write never blocked");
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return taken,
            Err(error) => panic!("{error}"),
        }
    }
}

/// The writer's send buffer moves where it stops: 2 x 3000 + 2,304 with
/// `set_send_buffer_size(3000)`, 2 x 6000 + 2,304 with 6000 (a smaller
/// size than Linux's least, 4,608, is that least).
#[test]
fn set_send_buffer_size_moves_where_the_writer_stops() {
    for (send, window) in [(3_000u32, 8_304usize), (6_000, 14_304), (10, 6_912)] {
        asyncsim::check(explore(), move || async move {
            late_reader(1);
            let stream = connect_with(send).await;
            assert_eq!(stream.peer_addr().unwrap().port(), 7000);
            assert_eq!(fill(&stream), window, "send buffer {send}");
            // Not writable (nor readable) until the server reads, at 50 ms.
            let ready = stream.ready(Interest::READABLE | Interest::WRITABLE);
            let ready = tokio::time::timeout(Duration::from_millis(20), ready).await;
            assert!(ready.is_err(), "ready while full: {ready:?}");
            assert_eq!(
                stream.ready(Interest::WRITABLE).await.unwrap(),
                tokio::io::Ready::WRITABLE
            );
        });
    }
}

/// A writer that filled the window waits in `writable` until the peer
/// reads (at 50 ms), then writes what the read made room for.
#[test]
fn writable_waits_until_the_peer_reads() {
    asyncsim::check(explore(), || async {
        late_reader(1_000);
        let stream = connect_with(1_000).await;
        assert_eq!(fill(&stream), 6_912);
        let full = tokio::time::Instant::now();
        stream.writable().await.unwrap();
        assert!(
            full.elapsed() >= Duration::from_millis(45),
            "writable after {:?}, before the server read",
            full.elapsed()
        );
        assert_eq!(
            fill(&stream),
            1_000,
            "the read made room for its 1000 bytes"
        );
        let ready = stream.ready(Interest::WRITABLE);
        let ready = tokio::time::timeout(Duration::from_secs(1), ready).await;
        assert!(ready.is_err(), "writable with the window full again");
    });
}

/// A writer waiting for room is woken by the peer's read though a wait on
/// the stream's other side, in the same task, gave up meanwhile (a
/// `readable` under a `timeout`): dropping that wait leaves its own side's
/// waiters, not the writer's.
#[test]
fn a_dropped_readable_leaves_the_writer_of_its_task_waiting() {
    asyncsim::check(explore(), || async {
        late_reader(20_000);
        let stream = connect_with(1_000).await;
        let (mut reader, mut writer) = stream.into_split();
        let write = async {
            use tokio::io::AsyncWriteExt;
            writer.write_all(&[7u8; 20_000]).await.unwrap();
        };
        let look = async {
            let readable = tokio::time::timeout(Duration::from_millis(5), reader.readable());
            assert!(readable.await.is_err(), "readable with nothing sent");
        };
        tokio::join!(write, look);
        let _ = &mut reader;
    });
}

/// A writer that waited for room across a cut and gave up waiting (a
/// `writable` under a `timeout`) leaves no timeout behind once the link
/// heals: the connection lives on past `tcp_timeout` (30 s).
#[test]
fn a_wait_for_room_given_up_across_a_healed_cut_leaves_no_timeout() {
    asyncsim::check(explore(), || async {
        late_reader(1_000);
        let _cutter = tokio::spawn(async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            asyncsim::net::partition("main", "server");
            tokio::time::sleep(Duration::from_millis(10)).await;
            asyncsim::net::repair("main", "server");
        });
        let stream = connect_with(1_000).await;
        assert_eq!(fill(&stream), 6_912);
        let writable = tokio::time::timeout(Duration::from_millis(25), stream.writable());
        assert!(writable.await.is_err(), "writable with the window full");
        tokio::time::sleep(Duration::from_secs(31)).await;
        assert_eq!(fill(&stream), 1_000, "the read at 50 ms made room");
    });
}

/// A `TcpSocket`'s buffer sizes set before it connects are the
/// connection's from its first byte, as Linux's SYN carries the window its
/// receive buffer gives: a server that writes as soon as it accepts (before
/// the client's connect has returned) fills its send buffer plus the
/// client's receive buffer of `set_recv_buffer_size(1000)` (16,384 +
/// 2,304), not the default window; and the client's own writes stop at its
/// send buffer of `set_send_buffer_size(3000)` plus the server's receive
/// buffer, inherited from its listener (6,000 + 2,304).
#[test]
fn tcp_socket_buffers_set_before_connect_bound_the_first_bytes() {
    for config in random_and_pct(24) {
        let taken = Rc::new(Cell::new(0usize));
        let server_took = taken.clone();
        let run = Sim::new(config).run(async move {
            asyncsim::node::Builder::new("server").start(move || {
                let server_took = server_took.clone();
                async move {
                    let socket = tokio::net::TcpSocket::new_v4().unwrap();
                    socket.set_recv_buffer_size(1000).unwrap();
                    socket.bind("0.0.0.0:7000".parse().unwrap()).unwrap();
                    let listener = socket.listen(8).unwrap();
                    let (stream, _) = listener.accept().await.unwrap();
                    server_took.set(fill(&stream));
                    std::future::pending::<()>().await;
                }
            });
            tokio::time::sleep(Duration::from_millis(1)).await;
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.set_recv_buffer_size(1000).unwrap();
            socket.set_send_buffer_size(3000).unwrap();
            let server = tokio::net::lookup_host("server:7000")
                .await
                .unwrap()
                .next()
                .unwrap();
            let stream = socket.connect(server).await.unwrap();
            fill(&stream)
        });
        let client_took = run.result.unwrap();
        assert_eq!((taken.get(), client_took), (18_688, 8_304));
    }
}
