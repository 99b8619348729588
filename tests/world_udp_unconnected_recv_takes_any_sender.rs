//! `recv` on a `UdpSocket` never connected reads the next datagram from any
//! sender, as Linux's `recv(2)` does (std's and tokio's `recv` call it, so
//! a real program gets them): it is `recv_from` without the sender's
//! address. Only `send` needs a `connect` (Linux's `EDESTADDRREQ`, which
//! `std::io` names `NotConnected`).

mod net_support;
mod schedule_support;

use std::io;
use std::time::Duration;

use asyncsim::net::UdpSocket;
use asyncsim::time::{sleep, timeout, Instant};
use asyncsim::{node, random_range, Sim};
use net_support::fixed;
use schedule_support::random_and_pct;

const COUNT: u8 = 6;

/// Starts node `name` with a socket on `port` that sends `COUNT` datagrams
/// to main's port 9000, each after a drawn pause of 0–2 ms: datagram `n`
/// holds `tag`, `n` and its send's time (nanoseconds, little-endian).
fn sender(name: &str, port: u16, tag: u8) {
    node::Builder::new(name).start(move || async move {
        let socket = UdpSocket::bind(("0.0.0.0", port)).await.unwrap();
        for n in 0..COUNT {
            sleep(Duration::from_millis(random_range(0..3u64))).await;
            let mut datagram = vec![tag, n];
            datagram.extend_from_slice(&Instant::now().as_nanos().to_le_bytes());
            socket.send_to(&datagram, "main:9000").await.unwrap();
        }
        std::future::pending::<()>().await;
        drop(socket);
    });
}

/// What main's socket on port 9000, never connected, reads (with `recv`,
/// or with `recv_from` when `with_sender`) while `alpha` and `beta` send
/// to it, until nothing comes for 10 ms: each datagram's tag, number and
/// send time, in the order read. `send` on it is `NotConnected`.
async fn read_from_two(with_sender: bool) -> Vec<(u8, u8, u64)> {
    let inbox = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
    sender("alpha", 7000, b'a');
    sender("beta", 7001, b'b');
    let mut got = Vec::new();
    let mut buf = [0u8; 16];
    loop {
        let read = if with_sender {
            timeout(Duration::from_millis(10), inbox.recv_from(&mut buf))
                .await
                .map(|read| read.map(|(len, _)| len))
        } else {
            timeout(Duration::from_millis(10), inbox.recv(&mut buf)).await
        };
        let Ok(read) = read else { break };
        assert_eq!(read.unwrap(), 10);
        let sent = u64::from_le_bytes(buf[2..10].try_into().unwrap());
        got.push((buf[0], buf[1], sent));
    }
    let refused = inbox.send(b"x").await.unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::NotConnected);
    got
}

/// Over 2 ms links, an unconnected socket's `recv` gets all twelve of
/// two senders' datagrams, each sender's in its order, all in arrival
/// order (send times never decrease: every link takes 2 ms), exactly what
/// `recv_from` gets in the same schedule (a receive draws nothing, so the
/// traces hash the same); the two senders' datagrams interleave in some
/// schedules. Before, `recv` was `NotConnected`.
#[test]
fn recv_before_connect_reads_two_senders_datagrams_in_arrival_order() {
    let mut interleaved = 0;
    for config in random_and_pct(24) {
        let run = Sim::new(config.clone().net(fixed(2))).run(read_from_two(false));
        let trace = &run.trace;
        let got = run.result.unwrap();
        for tag in [b'a', b'b'] {
            let numbers: Vec<u8> = got
                .iter()
                .filter(|(from, _, _)| *from == tag)
                .map(|(_, n, _)| *n)
                .collect();
            assert_eq!(numbers, (0..COUNT).collect::<Vec<_>>(), "{trace}");
        }
        assert!(
            got.windows(2).all(|pair| pair[0].2 <= pair[1].2),
            "not in arrival order: {got:?}\n{trace}"
        );
        let named = Sim::new(config.net(fixed(2))).run(read_from_two(true));
        assert_eq!(named.result.unwrap(), got, "{trace}");
        assert_eq!(named.trace.hash(), trace.hash());
        let changes = got.windows(2).filter(|pair| pair[0].0 != pair[1].0).count();
        if changes > 1 {
            interleaved += 1;
        }
    }
    assert!(interleaved > 0, "no schedule interleaved the two senders");
}
