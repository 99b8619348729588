//! A wait polled by hand (`poll_accept`, `poll_recv_from`, a stream's
//! `AsyncRead`) has no guard of its own: nothing tells its socket when its
//! future goes. Beside it in one task, on the same socket, a wait asyncsim
//! made (`accept`, `recv_from`) may time out: that must not
//! take the by-hand wait's wake (the task would wait forever, a false
//! deadlock), in every schedule.

mod net_support;
mod schedule_support;

use std::future::poll_fn;
use std::time::Duration;

use asyncsim::net::{TcpListener, TcpStream, UdpSocket};
use asyncsim::{node, Sim};
use futures::{AsyncReadExt, AsyncWriteExt};
use net_support::{fixed, now_ns, MS};
use schedule_support::random_and_pct;

/// Node `client`: after 1 ms, connects to `main:7000` and writes `1`;
/// keeps the stream open.
fn start_client() {
    node::Builder::new("client").start(|| async {
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let mut stream = TcpStream::connect("main:7000").await.unwrap();
        stream.write_all(&[1]).await.unwrap();
        std::future::pending::<()>().await;
    });
}

#[test]
fn an_accept_polled_by_hand_keeps_its_wake_when_an_accept_beside_it_times_out() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            start_client();
            asyncsim::join!(
                async {
                    let (mut stream, _) = poll_fn(|context| listener.poll_accept(context))
                        .await
                        .unwrap();
                    let accepted_ns = now_ns();
                    let mut byte = [0u8; 1];
                    stream.read_exact(&mut byte).await.unwrap();
                    (accepted_ns, byte[0])
                },
                async {
                    asyncsim::time::timeout(Duration::from_millis(1), listener.accept())
                        .await
                        .is_err()
                },
            )
        });
        let got = run.result.unwrap_or_else(|failure| panic!("{failure}"));
        // Accepted at the SYN's arrival (1 ms + 2).
        assert_eq!(got, ((3 * MS, 1), true));
    }
}

#[test]
fn a_receive_polled_by_hand_keeps_its_wake_when_a_receive_beside_it_times_out() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let socket = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
            node::Builder::new("client").start(|| async {
                asyncsim::time::sleep(Duration::from_millis(10)).await;
                let socket = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
                socket.send_to(b"one", "main:9000").await.unwrap();
            });
            asyncsim::join!(
                async {
                    let mut buf = [0u8; 8];
                    let (count, _) = poll_fn(|context| socket.poll_recv_from(context, &mut buf))
                        .await
                        .unwrap();
                    (buf[..count].to_vec(), now_ns())
                },
                async {
                    let mut buf = [0u8; 8];
                    asyncsim::time::timeout(Duration::from_millis(1), socket.recv_from(&mut buf))
                        .await
                        .is_err()
                },
            )
        });
        let got = run.result.unwrap_or_else(|failure| panic!("{failure}"));
        assert_eq!(got, ((b"one".to_vec(), 12 * MS), true));
    }
}
