//! The world's node API reached through the face itself
//! (`tokio::asyncsim`), as the README shows: no `asyncsim` dependency of
//! the test's own is needed to start a server node.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(runs = 50)]
async fn a_node_started_through_the_face_serves_tokio_net() {
    tokio::asyncsim::node::Builder::new("server").start(|| async {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut byte = [0u8; 1];
                while stream.read_exact(&mut byte).await.is_ok() {
                    byte[0] += 1;
                    if stream.write_all(&byte).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    tokio::time::sleep(Duration::from_millis(1)).await;
    let mut stream = tokio::net::TcpStream::connect("server:7000").await.unwrap();
    stream.write_all(&[41]).await.unwrap();
    let mut reply = [0u8; 1];
    stream.read_exact(&mut reply).await.unwrap();
    assert_eq!(reply, [42]);
    assert_eq!(
        tokio::asyncsim::node::current().name(),
        "main",
        "the test body runs on node `main`"
    );
}
