//! The parts of tokio the face re-exports unchanged (`sync`, `io`) work in
//! a simulated run where they need no runtime of tokio's: channels, locks,
//! `Notify`, `broadcast`, `Semaphore`, `Barrier`, `duplex`, `split` and
//! `copy` (and the face's own `watch` beside them), over many schedules;
//! the standard streams, which
//! tokio runs on its blocking pool, are the face's (`stdout`/`stderr` write
//! through, `stdin` is refused by name); and `mpsc::Sender::send_timeout`,
//! which waits on tokio's own timer inside tokio, fails with a message that
//! says what to write instead.

use std::sync::Arc;
use std::time::Duration;

use asyncsim::{Config, Explore, FailureKind, Sim};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn tokios_sync_primitives_wake_the_face_s_tasks_in_every_schedule() {
    asyncsim::check(Explore::new().runs(200).persist(false), || async {
        let (watch_tx, mut watch_rx) = tokio::sync::watch::channel(0);
        let (broadcast_tx, mut broadcast_rx) = tokio::sync::broadcast::channel(4);
        let (mpsc_tx, mut mpsc_rx) = tokio::sync::mpsc::channel(1);
        let notify = Arc::new(tokio::sync::Notify::new());
        let semaphore = Arc::new(tokio::sync::Semaphore::new(1));
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let lock = Arc::new(tokio::sync::RwLock::new(0));
        let permit = semaphore.clone().acquire_owned().await.unwrap();
        let other = {
            let (notify, semaphore, barrier, lock) = (
                notify.clone(),
                semaphore.clone(),
                barrier.clone(),
                lock.clone(),
            );
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                watch_tx.send(1).unwrap();
                broadcast_tx.send(2).unwrap();
                mpsc_tx.send(3).await.unwrap();
                mpsc_tx.send(4).await.unwrap();
                notify.notify_one();
                let _permit = semaphore.acquire().await.unwrap();
                *lock.write().await += 1;
                barrier.wait().await;
            })
        };
        watch_rx.changed().await.unwrap();
        assert_eq!(*watch_rx.borrow(), 1);
        assert_eq!(broadcast_rx.recv().await.unwrap(), 2);
        assert_eq!(mpsc_rx.recv().await.unwrap(), 3);
        assert_eq!(mpsc_rx.recv().await.unwrap(), 4);
        notify.notified().await;
        drop(permit);
        barrier.wait().await;
        other.await.unwrap();
        assert_eq!(*lock.read().await, 1);
    });
}

#[test]
fn duplex_split_and_copy_carry_bytes_between_tasks() {
    asyncsim::check(Explore::new().runs(200).persist(false), || async {
        let (near, far) = tokio::io::duplex(4);
        let (mut far_read, mut far_write) = tokio::io::split(far);
        let echo = tokio::spawn(async move {
            tokio::io::copy(&mut far_read, &mut far_write)
                .await
                .unwrap()
        });
        let (mut read, mut write) = tokio::io::split(near);
        let writer = tokio::spawn(async move {
            write.write_all(b"across a small pipe").await.unwrap();
            write.shutdown().await.unwrap();
        });
        let mut echoed = vec![0u8; 19];
        read.read_exact(&mut echoed).await.unwrap();
        assert_eq!(echoed, b"across a small pipe");
        writer.await.unwrap();
        drop(read);
        assert_eq!(echo.await.unwrap(), 19);
    });
}

#[test]
fn stdout_and_stderr_write_through_and_stdin_is_refused_by_name() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let refused = runtime.block_on(async {
        let mut out = tokio::io::stdout();
        out.write_all(b"").await.unwrap();
        out.flush().await.unwrap();
        let mut err = tokio::io::stderr();
        err.write_all(b"").await.unwrap();
        err.shutdown().await.unwrap();
        let mut input = tokio::io::stdin();
        input.read(&mut [0u8; 1]).await.unwrap_err()
    });
    assert_eq!(refused.kind(), std::io::ErrorKind::Unsupported);
    let message = refused.to_string();
    for needle in ["tokio::io::stdin cannot be simulated", "tokio::io::duplex"] {
        assert!(message.contains(needle), "no {needle:?} in: {message}");
    }
}

#[test]
fn stdout_takes_a_whole_write_whatever_its_line_buffer_holds() {
    // std's line-buffered stdout takes, of a write with a newline, the lines
    // and only what of the tail fits its buffer (1 KiB): a count that
    // depends on what the process wrote before. tokio's takes all of it.
    let mut line = b"\n".to_vec();
    line.extend([b' '; 2000]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let written = runtime.block_on(async {
        let mut out = tokio::io::stdout();
        let written = out.write(&line).await.unwrap();
        out.write_all(b"\n").await.unwrap();
        out.flush().await.unwrap();
        written
    });
    assert_eq!(written, line.len());
}

#[test]
fn send_timeout_inside_tokio_says_to_wrap_send_in_the_face_s_timeout() {
    let run = Sim::new(Config::new()).run(async {
        tokio::spawn(async {
            let (sender, _receiver) = tokio::sync::mpsc::channel::<u8>(1);
            let _ = sender.send_timeout(1, Duration::from_millis(5)).await;
        })
        .await
        .unwrap();
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Panic);
    for needle in [
        "inside tokio's own code",
        "send_timeout",
        "tokio::time::timeout(duration, sender.send(value))",
    ] {
        assert!(
            failure.message.contains(needle),
            "no {needle:?} in: {}",
            failure.message
        );
    }
}
