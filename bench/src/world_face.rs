//! The world rows through the tokio face (issue #13): the same workloads as
//! `world.rs`'s asyncsim rows, written against `tokio::net` / `tokio::spawn`
//! with `asyncsim-tokio` (feature `simulation`) as `tokio`, in the same kind
//! of `Sim` with the same seeds. The difference to the native row is what
//! the face costs (its target: at most 10 %).

use std::time::Duration;

use asyncsim::net::NetConfig;
use asyncsim::{node, Config, Sim, Strategy};
use tokio_face as tokio;
use tokio_face::io::{AsyncReadExt, AsyncWriteExt};
use tokio_face::net::{TcpListener, TcpStream, UdpSocket};

use crate::timing::{looped, Slicer};
use crate::world_workloads::{
    latency, Workload, CLIENTS, MESSAGE, PORT, ROUND_TRIPS_EACH, SEQUENTIAL,
};

pub fn runner(workload: Workload) -> Slicer<'static> {
    looped(move |seed| {
        let config = Config::new().seed(seed).strategy(Strategy::Random);
        run(workload, config);
    })
}

/// One run of `workload` in a new `Sim` (also `profile face:KEY`); its steps.
pub fn run(workload: Workload, config: Config) -> u64 {
    let seed = config.seed;
    let run = Sim::new(config.steps_max(u64::MAX)).run(one_run(workload));
    if let Err(failure) = run.result {
        panic!("tokio face {workload:?}, seed {seed}: {failure}");
    }
    run.steps()
}

async fn one_run(workload: Workload) {
    let (min, max) = latency();
    if workload == Workload::UdpSequential {
        node::Builder::new("server").start(|| async {
            let socket = UdpSocket::bind(("0.0.0.0", PORT)).await.expect("bind");
            let mut buf = [0; 64];
            loop {
                let (n, from) = socket.recv_from(&mut buf).await.expect("recv");
                socket.send_to(&buf[..n], from).await.expect("send");
            }
        });
    } else {
        node::Builder::new("server").start(|| async {
            let listener = TcpListener::bind(("0.0.0.0", PORT)).await.expect("bind");
            loop {
                let (stream, _) = listener.accept().await.expect("accept");
                drop(tokio::spawn(echo(stream)));
            }
        });
    }
    asyncsim::net::set_link("main", "server", NetConfig::new().latency(min, max));
    tokio::time::sleep(Duration::from_millis(1)).await;
    match workload {
        Workload::UdpSequential => {
            let socket = UdpSocket::bind(("0.0.0.0", 0)).await.expect("bind");
            let mut buf = [0; 64];
            for _ in 0..SEQUENTIAL {
                socket
                    .send_to(&MESSAGE, ("server", PORT))
                    .await
                    .expect("send");
                let (n, _) = socket.recv_from(&mut buf).await.expect("recv");
                assert_eq!(buf[..n], MESSAGE);
            }
        }
        Workload::TcpFanOut => {
            let clients: Vec<_> = (0..CLIENTS)
                .map(|_| tokio::spawn(client(ROUND_TRIPS_EACH)))
                .collect();
            for client in clients {
                client.await.expect("client");
            }
        }
        Workload::SmallSimulation => client(1).await,
        Workload::TcpSequential => client(SEQUENTIAL).await,
    }
}

async fn echo(mut stream: TcpStream) {
    let mut buf = [0; 64];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn client(round_trips: usize) {
    let mut stream = TcpStream::connect(("server", PORT)).await.expect("connect");
    let mut buf = [0; 8];
    for _ in 0..round_trips {
        stream.write_all(&MESSAGE).await.expect("write");
        stream.read_exact(&mut buf).await.expect("read");
        assert_eq!(buf, MESSAGE);
    }
}
