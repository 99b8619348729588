//! The face is transparent to the schedule: an echo program written against
//! `tokio::net`/`tokio::spawn` (the face) and the same program written
//! against asyncsim's own `net`/`spawn` make the same runs — the same steps,
//! virtual time and trace — for every seed. So exploring tokio code costs
//! no extra schedules, and a token means the same run on either side.
//! Only the tasks' names differ: the face names a task by its spawn site
//! (`task-3@tests/face_adds_no_schedule_steps.rs:21`), asyncsim's `spawn` by its
//! number (`task-3`).

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

/// A UDP echo (datagrams delayed, lost and duplicated by draws) through the
/// face: its server on `send_to`/`recv_from`, its client on `send_to` and
/// the `poll_recv_from` that `UdpFramed`-style code calls.
async fn udp_through_the_face() {
    asyncsim::node::Builder::new("server").start(|| async {
        let socket = tokio::net::UdpSocket::bind(("0.0.0.0", 7000))
            .await
            .unwrap();
        let mut buf = [0; 64];
        loop {
            let (n, from) = socket.recv_from(&mut buf).await.unwrap();
            socket.send_to(&buf[..n], from).await.unwrap();
        }
    });
    lossy_link();
    tokio::time::sleep(Duration::from_millis(1)).await;
    let socket = tokio::net::UdpSocket::bind(("0.0.0.0", 0)).await.unwrap();
    let mut storage = [0; 8];
    for _ in 0..5 {
        let server = ("server", 7000);
        socket.send_to(&MESSAGE, server).await.unwrap();
        let mut buf = tokio::io::ReadBuf::new(&mut storage);
        std::future::poll_fn(|cx| socket.poll_recv_from(cx, &mut buf))
            .await
            .unwrap();
    }
}

fn lossy_link() {
    let lossy = asyncsim::net::NetConfig::new().loss(0.2).duplicate(0.2);
    asyncsim::net::set_link("main", "server", lossy);
}

async fn udp_through_asyncsim() {
    asyncsim::node::Builder::new("server").start(|| async {
        let socket = asyncsim::net::UdpSocket::bind(("0.0.0.0", 7000))
            .await
            .unwrap();
        let mut buf = [0; 64];
        loop {
            let (n, from) = socket.recv_from(&mut buf).await.unwrap();
            socket.send_to(&buf[..n], from).await.unwrap();
        }
    });
    lossy_link();
    asyncsim::time::sleep(Duration::from_millis(1)).await;
    let socket = asyncsim::net::UdpSocket::bind(("0.0.0.0", 0))
        .await
        .unwrap();
    let mut buf = [0; 8];
    for _ in 0..5 {
        socket.send_to(&MESSAGE, ("server", 7000)).await.unwrap();
        socket.recv_from(&mut buf).await.unwrap();
    }
}

#[test]
fn the_same_program_through_the_face_makes_the_same_runs() {
    for seed in 0..100 {
        let config = || Config::new().seed(seed).strategy(Strategy::Random);
        let face = Sim::new(config()).run(through_the_face());
        let native = Sim::new(config()).run(through_asyncsim());
        let face_text = face.trace.to_string();
        assert!(
            face_text.contains("@tests/face_adds_no_schedule_steps.rs:"),
            "seed {seed}: the face names tasks by spawn site: {face_text}"
        );
        same_runs(seed, &face, &native);
    }
}

#[test]
fn the_same_udp_program_through_the_face_makes_the_same_runs() {
    let (mut stuck, mut echoed) = (0, 0);
    for seed in 0..100 {
        let config = || Config::new().seed(seed).strategy(Strategy::Random);
        let face = Sim::new(config()).run(udp_through_the_face());
        let native = Sim::new(config()).run(udp_through_asyncsim());
        if native.result.is_err() {
            // A lost datagram leaves the client waiting: both sides must
            // agree on that too.
            stuck += 1;
            assert_eq!(face.steps(), native.steps(), "seed {seed}: steps");
            assert_eq!(face.tape, native.tape, "seed {seed}: draws");
            continue;
        }
        echoed += 1;
        same_runs(seed, &face, &native);
    }
    assert!(stuck > 0 && echoed > 0, "stuck {stuck}, echoed {echoed}");
}

fn same_runs<T: std::fmt::Debug>(seed: u64, face: &asyncsim::Run<T>, native: &asyncsim::Run<T>) {
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
        without_sites(&face.trace.to_string()),
        columns(&native.trace.to_string()),
        "seed {seed}: trace"
    );
}

/// `text` with each `@tests/face_adds_no_schedule_steps.rs:<line>` cut out of the
/// task names (and the name column's padding, which the longer names widen).
fn without_sites(text: &str) -> String {
    const SITE: &str = "@tests/face_adds_no_schedule_steps.rs:";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(SITE) {
        out.push_str(&rest[..at]);
        rest = rest[at + SITE.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    columns(&out)
}

/// Each line's words joined by one space.
fn columns(text: &str) -> String {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}
