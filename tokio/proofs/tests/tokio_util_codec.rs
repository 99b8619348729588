//! tokio-util's codecs, unmodified, over the face's simulated `TcpStream`:
//! `Framed` with `LinesCodec` between two nodes, in every schedule.

use std::time::Duration;

use asyncsim::Explore;
use futures::{SinkExt, StreamExt};
use tokio_util::codec::{Framed, LinesCodec};

#[test]
fn framed_lines_echo_between_nodes_in_every_schedule() {
    asyncsim::check(Explore::new().runs(100).persist(false), || async {
        asyncsim::node::Builder::new("echo").start(|| async {
            let listener = tokio::net::TcpListener::bind("0.0.0.0:4000").await.unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut lines = Framed::new(stream, LinesCodec::new());
                    while let Some(Ok(line)) = lines.next().await {
                        lines.send(line.to_uppercase()).await.unwrap();
                    }
                });
            }
        });
        tokio::time::sleep(Duration::from_millis(1)).await;
        let stream = tokio::net::TcpStream::connect("echo:4000").await.unwrap();
        let mut lines = Framed::new(stream, LinesCodec::new());
        for word in ["alpha", "beta", "gamma"] {
            lines.send(word).await.unwrap();
        }
        let mut replies = Vec::new();
        for _ in 0..3 {
            replies.push(lines.next().await.unwrap().unwrap());
        }
        assert_eq!(replies, ["ALPHA", "BETA", "GAMMA"]);
    });
}
