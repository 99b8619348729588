//! A bug that needs exactly one fault: `exhaustive(1)` over a program with a
//! nemesis finds it (every single-fault run is visited), and the shrunk
//! schedule keeps that one fault. The same seed replays the same world.

use std::time::Duration;

use asyncsim::net::{TcpListener, TcpStream};
use asyncsim::{fault, fs, node, Config, Explore, Sim, Strategy};
use futures::{AsyncReadExt, AsyncWriteExt};

/// A key-value server on node `db` that acknowledges a write before it is
/// durable (no sync): a crash after the acknowledgement loses it.
fn start_forgetful_db() {
    node::Builder::new("db").start(|| async {
        let listener = TcpListener::bind("0.0.0.0:5432").await.unwrap();
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            drop(asyncsim::spawn(async move {
                let mut request = [0u8; 2];
                if stream.read_exact(&mut request).await.is_err() {
                    return;
                }
                let reply = if request[0] == b'w' {
                    fs::write("/value", [request[1]]).await.unwrap(); // BUG: no sync
                    b"ok".to_vec()
                } else {
                    // A crash may keep the file's name but not its byte.
                    match fs::read("/value").await {
                        Ok(value) if !value.is_empty() => value,
                        _ => b"-".to_vec(),
                    }
                };
                let _ = stream.write_all(&reply).await;
            }));
        }
    });
}

/// One request, retried until the server answers.
async fn request(bytes: [u8; 2]) -> Vec<u8> {
    loop {
        if let Ok(mut stream) = TcpStream::connect("db:5432").await {
            let mut reply = Vec::new();
            if stream.write_all(&bytes).await.is_ok() {
                stream.close().await.ok();
                if stream.read_to_end(&mut reply).await.is_ok() && !reply.is_empty() {
                    return reply;
                }
            }
        }
        asyncsim::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn body() {
    start_forgetful_db();
    asyncsim::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(request(*b"w7").await, b"ok");
    fault::Nemesis::new()
        .crash(&["db"])
        .interval(Duration::from_millis(100), Duration::from_millis(100))
        .rounds(2)
        .spawn()
        .await
        .unwrap();
    let value = request(*b"r?").await;
    assert_eq!(value, b"7", "an acknowledged write was lost");
}

#[test]
fn exhaustive_one_finds_the_bug_that_needs_one_crash_and_shrinks_to_that_crash() {
    let summary = asyncsim::explore(Explore::new().exhaustive(1).runs(20_000), body);
    let found = summary
        .first_failure
        .expect("exhaustive(1) visited no run with the crash");
    assert!(
        found
            .failure
            .message
            .contains("an acknowledged write was lost"),
        "{}",
        found.failure.message
    );
    assert_eq!(found.deviations, 1, "shrunk to more than the one fault");
    assert!(
        found.to_string().contains("FIFO except:\n    at 0.1")
            && found.to_string().contains("the nemesis: crash node `db`"),
        "{found}"
    );
    let replay = Sim::new(Config::new().strategy(Strategy::Replay(found.tape.clone()))).run(body());
    assert!(replay.result.is_err());
    assert!(
        replay
            .trace
            .marks()
            .any(|mark| mark == "nemesis: crash node `db`"),
        "{:?}",
        replay.trace.marks().collect::<Vec<_>>()
    );
}

#[test]
fn without_faults_the_forgetful_db_passes_every_schedule() {
    // Delay bound 0 is the canonical world: the nemesis draws no fault.
    let summary = asyncsim::explore(Explore::new().exhaustive(0), body);
    assert!(summary.first_failure.is_none());
}

#[test]
fn the_same_seed_gives_the_same_trace_hash_with_network_and_disk_in_play() {
    for seed in 0..20 {
        let first = Sim::new(Config::new().seed(seed)).run(body());
        let second = Sim::new(Config::new().seed(seed)).run(body());
        assert_eq!(first.trace.hash(), second.trace.hash(), "seed {seed}");
        assert_eq!(first.tape, second.tape, "seed {seed}");
        assert_eq!(first.trace.to_string(), second.trace.to_string());
        let replay =
            Sim::new(Config::new().strategy(Strategy::Replay(first.tape.clone()))).run(body());
        assert_eq!(
            replay.trace.hash(),
            first.trace.hash(),
            "seed {seed} replayed"
        );
    }
}
