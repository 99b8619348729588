//! A deadlock report names every socket wait of a blocked task, not only
//! the last one it parked: a task reading and writing one stream (its peer
//! neither writes nor reads) is named with both, a task accepting beside a
//! receive with both; in a fixed order (the last wait, then streams,
//! listeners and UDP sockets by id), the same in every schedule.

mod net_support;
mod schedule_support;

use asyncsim::net::{TcpListener, TcpStream, UdpSocket};
use asyncsim::trace::{SocketWait, WaitOn};
use asyncsim::{node, Failure, Sim};
use futures::{AsyncReadExt, AsyncWriteExt};
use net_support::fixed;
use schedule_support::random_and_pct;

/// Node `server`: accepts one connection on 7000 and neither reads nor
/// writes it.
fn start_silent_server() {
    node::Builder::new("server").start(|| async {
        let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
        let (_stream, _) = listener.accept().await.unwrap();
        std::future::pending::<()>().await;
    });
}

/// The socket waits the report names for the task `name`, as
/// (operation, words).
fn waits_of(failure: &Failure, name: &str) -> Vec<SocketWait> {
    let report = failure.to_string();
    let blocked = failure
        .blocked
        .iter()
        .find(|blocked| blocked.name == name)
        .unwrap_or_else(|| panic!("`{name}` is not named: {report}"));
    std::iter::once(blocked.wait)
        .chain(blocked.other_waits.iter().copied())
        .filter_map(|wait| match wait {
            WaitOn::Socket { op, .. } => Some(op),
            _ => None,
        })
        .collect()
}

#[test]
fn a_task_reading_and_writing_a_stream_is_named_with_both() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            start_silent_server();
            asyncsim::time::sleep(std::time::Duration::from_millis(1)).await;
            let stream = TcpStream::connect("server:7000").await.unwrap();
            let (mut reader, mut writer) = stream.split();
            futures::join!(
                async {
                    let mut buf = [0u8; 8];
                    reader.read_exact(&mut buf).await.unwrap();
                },
                async {
                    // More than the window: waits for room.
                    writer.write_all(&vec![7u8; 200_000]).await.unwrap();
                },
            );
        });
        let failure = run.result.expect_err("nothing is read or written");
        let report = failure.to_string();
        assert!(report.contains("deadlock"), "{report}");
        let mut waits = waits_of(&failure, "main");
        waits.sort_by_key(|wait| wait.name());
        assert_eq!(waits, [SocketWait::Read, SocketWait::Write], "{report}");
        let line = report
            .lines()
            .find(|line| line.contains("task `main`"))
            .unwrap();
        assert!(
            line.contains("read of TcpStream#0 from server:7000 to main:49152")
                && line.contains("; and on ")
                && line.contains("write of TcpStream#0 from main:49152 to server:7000"),
            "{report}"
        );
    }
}

#[test]
fn a_task_accepting_beside_a_receive_is_named_with_both_in_a_fixed_order() {
    let mut lines = std::collections::BTreeSet::new();
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            let socket = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
            let mut buf = [0u8; 8];
            let _ = asyncsim::join!(listener.accept(), socket.recv_from(&mut buf));
        });
        let failure = run.result.expect_err("nobody connects or sends");
        let report = failure.to_string();
        let mut waits = waits_of(&failure, "main");
        waits.sort_by_key(|wait| wait.name());
        assert_eq!(waits, [SocketWait::Accept, SocketWait::Recv], "{report}");
        lines.insert(
            report
                .lines()
                .find(|line| line.contains("task `main`"))
                .unwrap()
                .to_string(),
        );
    }
    // The last wait first (the branch `join!` polled last), then the other.
    let either = [
        "  task `main` (#0) waits on receive of UdpSocket#0 (main:9000); and on accept of TcpListener (main:7000)",
        "  task `main` (#0) waits on accept of TcpListener (main:7000); and on receive of UdpSocket#0 (main:9000)",
    ];
    assert!(
        lines.iter().all(|line| either.contains(&line.as_str())),
        "{lines:#?}"
    );
}
