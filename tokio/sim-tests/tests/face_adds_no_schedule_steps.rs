//! The face is transparent to the schedule: an echo program written against
//! `tokio::net`/`tokio::spawn` (the face) and the same program written
//! against asyncsim's own `net`/`spawn` make the same runs — the same steps,
//! virtual time and trace — for every seed. So exploring tokio code costs
//! no extra schedules, and a token means the same run on either side.

use std::time::Duration;

use asyncsim::{Config, Sim, Strategy};

const MESSAGE: [u8; 8] = *b"ping1234";

async fn through_the_face() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    asyncsim::node::Builder::new("server").start(|| async {
        let listener = tokio::net::TcpListener::bind(("0.0.0.0", 7000))
            .await
            .unwrap();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            drop(tokio::spawn(async move {
                let mut buf = [0; 64];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    stream.write_all(&buf[..n]).await.unwrap();
                }
            }));
        }
    });
    tokio::time::sleep(Duration::from_millis(1)).await;
    let clients: Vec<_> = (0..3)
        .map(|_| {
            tokio::spawn(async {
                let mut stream = tokio::net::TcpStream::connect(("server", 7000))
                    .await
                    .unwrap();
                let mut buf = [0; 8];
                for _ in 0..5 {
                    stream.write_all(&MESSAGE).await.unwrap();
                    stream.read_exact(&mut buf).await.unwrap();
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
}

async fn through_asyncsim() {
    use futures_util_io::{AsyncReadExt, AsyncWriteExt};
    asyncsim::node::Builder::new("server").start(|| async {
        let listener = asyncsim::net::TcpListener::bind(("0.0.0.0", 7000))
            .await
            .unwrap();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            drop(asyncsim::spawn(async move {
                let mut buf = [0; 64];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    stream.write_all(&buf[..n]).await.unwrap();
                }
            }));
        }
    });
    asyncsim::time::sleep(Duration::from_millis(1)).await;
    let clients: Vec<_> = (0..3)
        .map(|_| {
            asyncsim::spawn(async {
                let mut stream = asyncsim::net::TcpStream::connect(("server", 7000))
                    .await
                    .unwrap();
                let mut buf = [0; 8];
                for _ in 0..5 {
                    stream.write_all(&MESSAGE).await.unwrap();
                    stream.read_exact(&mut buf).await.unwrap();
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
}

#[test]
fn the_same_program_through_the_face_makes_the_same_runs() {
    for seed in 0..100 {
        let config = || Config::new().seed(seed).strategy(Strategy::Random);
        let face = Sim::new(config()).run(through_the_face());
        let native = Sim::new(config()).run(through_asyncsim());
        face.result.as_ref().unwrap();
        native.result.as_ref().unwrap();
        assert_eq!(face.steps(), native.steps(), "seed {seed}: steps");
        assert_eq!(
            face.elapsed(),
            native.elapsed(),
            "seed {seed}: virtual time"
        );
        assert_eq!(face.tape, native.tape, "seed {seed}: draws");
        assert_eq!(
            face.trace.to_string(),
            native.trace.to_string(),
            "seed {seed}: trace"
        );
    }
}
