//! A counter server with a write-ahead log on its node's disk, written the
//! way a tokio user writes one (`tokio::fs`, `sync_data` before each
//! answer), crashed and restarted by the test: every increment it answered
//! must survive. Created without syncing its directory, the log itself is
//! lost at the crash (Linux's rule: a new file's name is durable once its
//! directory is synced); the face finds it, and says so in the report.

use std::time::Duration;

use tokio::asyncsim::{Explore, FailureKind};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

async fn counter_server(sync_the_directory: bool) {
    // Recovery: one line of the log is one increment.
    let mut count = match tokio::fs::read_to_string("counter.log").await {
        Ok(text) => text.lines().count(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => 0,
        Err(error) => panic!("reading the log: {error}"),
    };
    let mut log = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open("counter.log")
        .await
        .unwrap();
    if sync_the_directory {
        tokio::fs::File::open(".")
            .await
            .unwrap()
            .sync_all()
            .await
            .unwrap();
    }
    let listener = TcpListener::bind("0.0.0.0:9000").await.unwrap();
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if line == "INCR" {
                log.write_all(b"+\n").await.unwrap();
                log.sync_data().await.unwrap();
                count += 1;
            }
            if write
                .write_all(format!("{count}\n").as_bytes())
                .await
                .is_err()
            {
                break;
            }
        }
    }
}

/// Increments until a reply is late, crashes and restarts the server, and
/// checks it still counts every answered increment.
async fn answered_increments_survive_a_crash(sync_the_directory: bool) {
    let server = tokio::asyncsim::node::Builder::new("counter")
        .start(move || counter_server(sync_the_directory));
    tokio::time::sleep(Duration::from_millis(1)).await;
    let mut answered = 0;
    let stream = TcpStream::connect("counter:9000").await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    for _ in 0..3 {
        write.write_all(b"INCR\n").await.unwrap();
        match tokio::time::timeout(Duration::from_millis(50), lines.next_line()).await {
            Ok(Ok(Some(count))) => answered = count.parse().unwrap(),
            _ => break,
        }
    }
    server.crash();
    server.restart();
    tokio::time::sleep(Duration::from_millis(1)).await;
    let stream = TcpStream::connect("counter:9000").await.unwrap();
    let (read, mut write) = stream.into_split();
    write.write_all(b"GET\n").await.unwrap();
    let reply = BufReader::new(read).lines().next_line().await.unwrap();
    let count: usize = reply.expect("a reply").parse().unwrap();
    assert!(
        count >= answered,
        "{answered} increments answered, {count} after the restart"
    );
}

#[tokio::test(runs = 200)]
async fn every_answered_increment_survives_a_crash() {
    answered_increments_survive_a_crash(true).await;
}

#[test]
fn a_log_whose_directory_was_never_synced_is_lost_and_the_report_says_so() {
    let summary = tokio::asyncsim::explore(
        Explore::new()
            .runs(50)
            .persist(false)
            .trace_file(false)
            .progress(false),
        || answered_increments_survive_a_crash(false),
    );
    let failure = summary.first_failure.expect("the crash loses the log");
    assert_eq!(failure.failure.kind, FailureKind::Panic, "{failure}");
    let report = failure.to_string();
    assert!(
        report.contains("lost 1 of 1 unsynced change: create /counter.log"),
        "{report}"
    );
}
