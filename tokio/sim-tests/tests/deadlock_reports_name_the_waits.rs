//! A deadlock in code written against the face names what each task waits
//! on: a socket read (and every other socket wait of the task: its write
//! beside it), a UDP socket's `ready(Interest::ERROR)`, a `unix::pipe`'s read
//! or write, a `JoinHandle`, a timer where the face can see it, and tokio's
//! own `sync` primitives and the face's `watch` by where they registered the
//! task's waker.

use std::sync::Arc;
use std::time::Duration;

use asyncsim::{Config, Explore, FailureKind, Sim};
use tokio::io::AsyncReadExt;

#[test]
fn a_read_nobody_answers_and_a_join_on_it_are_named_in_the_report() {
    let run = Sim::new(Config::new()).run(async {
        asyncsim::node::Builder::new("server").start(|| async {
            let listener = tokio::net::TcpListener::bind("0.0.0.0:9000").await.unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            // Keeps the connection open and never writes.
            let (_keep, forever) = tokio::sync::oneshot::channel::<()>();
            let _ = forever.await;
            drop(stream);
        });
        tokio::time::sleep(Duration::from_millis(1)).await;
        let reader = tokio::spawn(async {
            let mut stream = tokio::net::TcpStream::connect("server:9000").await.unwrap();
            let mut buf = [0u8; 1];
            stream.read(&mut buf).await
        });
        reader.await.unwrap().unwrap()
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Deadlock, "{failure}");
    let report = failure.to_string();
    assert!(
        report.contains("TcpStream"),
        "the blocked read names its socket: {report}"
    );
    assert!(
        report.contains("JoinHandle"),
        "main's wait names the task it joins: {report}"
    );
}

/// The line of this file that ends with `marker`.
fn line_of(marker: &str) -> usize {
    let source = include_str!("deadlock_reports_name_the_waits.rs");
    source
        .lines()
        .position(|line| line.ends_with(marker))
        .unwrap()
        + 1
}

/// Two tasks take two `tokio::sync::Mutex`es in opposite orders.
async fn lock_order_inversion() {
    let first = Arc::new(tokio::sync::Mutex::new(()));
    let second = Arc::new(tokio::sync::Mutex::new(()));
    let (a, b) = (first.clone(), second.clone());
    let writer = tokio::spawn(async move {
        let _one = a.lock().await;
        tokio::task::yield_now().await;
        let _two = b.lock().await; // writer waits here
    });
    let reader = tokio::spawn(async move {
        let _two = second.lock().await;
        tokio::task::yield_now().await;
        let _one = first.lock().await; // reader waits here
    });
    writer.await.unwrap();
    reader.await.unwrap();
}

#[test]
fn a_tokio_mutex_deadlock_names_tokio_s_mutex_and_the_line() {
    // tokio's `Mutex` is tokio's own type (re-exported): the face cannot see
    // into it, so the harness names it from where it registered each task's
    // waker (a replay of the counterexample with `Config::waker_sites`).
    let summary = asyncsim::explore(Explore::new().runs(300), lock_order_inversion);
    let report = summary
        .first_failure
        .expect("the inversion deadlocks")
        .to_string();
    for task in ["writer", "reader"] {
        let expected = format!(
            "waits on tokio::sync::Mutex::lock at tests/deadlock_reports_name_the_waits.rs:{} (not an asyncsim primitive",
            line_of(&format!("// {task} waits here"))
        );
        assert!(report.contains(&expected), "{expected}\n{report}");
    }
}

#[tokio::test(runs = 300, persist = false)]
#[should_panic(
    expected = "waits on tokio::sync::Mutex::lock at tests/deadlock_reports_name_the_waits.rs:"
)]
async fn a_tokio_test_that_deadlocks_on_tokio_s_mutex_names_it() {
    lock_order_inversion().await;
}

#[test]
fn a_wait_on_notify_or_a_oneshot_names_the_primitive() {
    let run = Sim::new(Config::new().waker_sites(true)).run(async {
        let notify = Arc::new(tokio::sync::Notify::new());
        let (_keep, never) = tokio::sync::oneshot::channel::<()>();
        let waiter = {
            let notify = notify.clone();
            tokio::spawn(async move {
                notify.notified().await; // notified waits here
            })
        };
        let receiver = tokio::spawn(async move {
            let _ = never.await; // receiver waits here
        });
        waiter.await.unwrap();
        receiver.await.unwrap();
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Deadlock, "{failure}");
    let report = failure.to_string();
    for (primitive, marker) in [
        ("tokio::sync::notify::Notified", "// notified waits here"),
        ("tokio::sync::oneshot::Receiver", "// receiver waits here"),
    ] {
        let expected = format!(
            "waits on {primitive} at tests/deadlock_reports_name_the_waits.rs:{} (",
            line_of(marker)
        );
        assert!(report.contains(&expected), "{expected}\n{report}");
    }
}

#[test]
fn a_receiver_left_waiting_on_a_watch_is_named_with_its_line() {
    // The face's own `watch` (tokio's would draw its wake order): a sender
    // kept alive that never sends leaves both receivers waiting.
    let summary = asyncsim::explore(Explore::new().runs(50), || async {
        let (sender, receiver) = tokio::sync::watch::channel(0u32);
        let mut other = receiver.clone();
        let changed = tokio::spawn(async move {
            let mut receiver = receiver;
            receiver.changed().await.unwrap(); // changed waits here
        });
        let wait_for = tokio::spawn(async move {
            let _ = other.wait_for(|value| *value > 0).await; // wait_for waits here
        });
        changed.await.unwrap();
        wait_for.await.unwrap();
        drop(sender);
    });
    let report = summary.first_failure.expect("nobody sends").to_string();
    assert!(report.contains("deadlock"), "{report}");
    for (method, marker) in [
        ("changed", "// changed waits here"),
        ("wait_for", "// wait_for waits here"),
    ] {
        let expected = format!(
            "waits on tokio::sync::watch::Receiver::{method} at tests/deadlock_reports_name_the_waits.rs:{} (",
            line_of(marker)
        );
        assert!(report.contains(&expected), "{expected}\n{report}");
    }
}

/// The report's line for the task `name`.
fn line_for(report: &str, name: &str) -> String {
    let task = format!("task `{name}");
    report
        .lines()
        .find(|line| line.contains(&task))
        .unwrap_or_else(|| panic!("`{name}` is not named: {report}"))
        .to_string()
}

#[test]
fn a_task_reading_and_writing_one_stream_is_named_with_both_waits() {
    use tokio::io::AsyncWriteExt;
    let run = Sim::new(Config::new()).run(async {
        asyncsim::node::Builder::new("server").start(|| async {
            let listener = tokio::net::TcpListener::bind("0.0.0.0:9000").await.unwrap();
            // Accepts, then neither reads nor writes.
            let (_stream, _) = listener.accept().await.unwrap();
            std::future::pending::<()>().await;
        });
        tokio::time::sleep(Duration::from_millis(1)).await;
        let mut stream = tokio::net::TcpStream::connect("server:9000").await.unwrap();
        let (mut reader, mut writer) = stream.split();
        let mut buf = [0u8; 1];
        let _ = tokio::join!(
            reader.read(&mut buf),
            // More than the window: waits for room.
            writer.write_all(&[7u8; 200_000]),
        );
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Deadlock, "{failure}");
    let report = failure.to_string();
    let line = line_for(&report, "main");
    assert!(
        line.contains("read of TcpStream#0 from server:9000 to main:49152")
            && line.contains("write of TcpStream#0 from main:49152 to server:9000")
            && line.contains("; and on "),
        "{report}"
    );
}

#[test]
fn a_udp_ready_for_an_error_is_named_with_its_socket() {
    let run = Sim::new(Config::new()).run(async {
        let socket = tokio::net::UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        socket.ready(tokio::io::Interest::ERROR).await.unwrap();
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Deadlock, "{failure}");
    let report = failure.to_string();
    assert!(
        line_for(&report, "main").contains(
            "waits on an error on UdpSocket#0 (main:9000) (none comes: the simulated network sends no ICMP errors)"
        ),
        "{report}"
    );
}

#[test]
fn tasks_waiting_on_a_unix_pipe_are_named_with_the_pipe() {
    use tokio::io::AsyncWriteExt;
    let run = Sim::new(Config::new()).run(async {
        let (mut sender, _receiver) = tokio::net::unix::pipe::pipe().unwrap();
        let (_sender, mut receiver) = tokio::net::unix::pipe::pipe().unwrap();
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 1];
            receiver.read_exact(&mut buf).await.unwrap();
        });
        // More than the pipe holds (64 KiB), and nobody reads.
        sender.write_all(&[7u8; 100_000]).await.unwrap();
        reader.await.unwrap();
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Deadlock, "{failure}");
    let report = failure.to_string();
    assert!(
        line_for(&report, "main").contains(
            "waits on write of unix pipe#0 (made by `main`): the peer's receive buffer is full"
        ),
        "{report}"
    );
    assert!(
        line_for(&report, "task-1@").contains("waits on read of unix pipe#1 (made by `main`)"),
        "{report}"
    );
}

#[test]
fn a_foreign_wait_named_by_its_waker_keeps_the_tasks_socket_wait_beside_it() {
    use futures_util_io::StreamExt;
    let run = Sim::new(Config::new().waker_sites(true)).run(async {
        let socket = tokio::net::UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        let notify = tokio::sync::Notify::new();
        let mut both = futures_util_io::stream::FuturesUnordered::new();
        both.push(Box::pin(async {
            let mut buf = [0u8; 8];
            let _ = socket.recv_from(&mut buf).await;
        })
            as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>);
        both.push(Box::pin(async {
            // Polled again alone: the task's last poll waits on tokio's
            // `Notify` only, the receive parked a poll before.
            tokio::task::yield_now().await;
            notify.notified().await;
        }));
        both.next().await;
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Deadlock, "{failure}");
    let report = failure.to_string();
    // The task's last wait is on futures asyncsim cannot see (named by its
    // waker's clone); its receive, parked a poll before, is named after it.
    let line = line_for(&report, "main");
    assert!(
        line.contains(
            "(not an asyncsim primitive: named by where it registered the task's waker); and on receive of UdpSocket#0 (main:9000)"
        ),
        "{report}"
    );
}
