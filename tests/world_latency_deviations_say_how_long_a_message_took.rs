//! A latency drawn off the link's minimum is a deviation whose words say
//! which message took how long, in every run that explains itself, and the
//! same words whatever run made them.

use std::time::Duration;

use asyncsim::net::{self, NetConfig, TcpListener, TcpStream};
use asyncsim::{node, Config, DrawLabel, Sim, Strategy};
use futures::{AsyncReadExt, AsyncWriteExt};

async fn one_round_trip() {
    node::Builder::new("server").start(|| async {
        let listener = TcpListener::bind(("0.0.0.0", 7000)).await.expect("bind");
        loop {
            let (mut stream, _) = listener.accept().await.expect("accept");
            drop(asyncsim::spawn(async move {
                let mut buf = [0; 8];
                if stream.read_exact(&mut buf).await.is_ok() {
                    let _ = stream.write_all(&buf).await;
                }
            }));
        }
    });
    net::set_link(
        "main",
        "server",
        NetConfig::new().latency(Duration::from_millis(1), Duration::from_millis(4)),
    );
    let mut stream = TcpStream::connect(("server", 7000)).await.expect("connect");
    stream.write_all(b"ping1234").await.expect("write");
    let mut buf = [0; 8];
    stream.read_exact(&mut buf).await.expect("read");
}

#[test]
fn a_latency_off_the_minimum_says_which_message_took_how_long() {
    let mut seen = Vec::new();
    for seed in 0..16 {
        let config = Config::new()
            .seed(seed)
            .strategy(Strategy::Random)
            .record_deviations(true);
        let run = Sim::new(config).run(one_round_trip());
        run.result.as_ref().expect("the run");
        let drawn: Vec<_> = run
            .tape
            .draws()
            .iter()
            .filter(|draw| draw.label == DrawLabel::Net)
            .map(|draw| draw.value)
            .collect();
        let deviations: Vec<_> = run
            .deviations()
            .iter()
            .filter(|deviation| deviation.label == DrawLabel::Net)
            .collect();
        // Every nonzero latency draw, and only those, is a deviation with
        // its words: the bucket's time (1 ms apart, from the minimum).
        assert_eq!(
            deviations.len(),
            drawn.iter().filter(|&&value| value != 0).count(),
            "seed {seed}"
        );
        for deviation in deviations {
            let what = deviation.what.as_deref().expect("a latency's words");
            let took = format!("took 0.00{}s (not the minimum 0.001s)", 1 + deviation.value);
            assert!(what.ends_with(&took), "seed {seed}: {what}");
            seen.push(what.split(" took ").next().unwrap_or("").to_string());
        }
    }
    // Each kind of message is named, between the nodes it went between.
    for message in [
        "the SYN of a connect `main` -> `server`",
        "the SYN-ACK of a connect `server` -> `main`",
        "a 8-byte segment on TcpStream#0 `main` -> `server`",
        "a 8-byte segment on TcpStream#1 `server` -> `main`",
    ] {
        assert!(
            seen.iter().any(|what| what == message),
            "{message}: {seen:?}"
        );
    }
}
