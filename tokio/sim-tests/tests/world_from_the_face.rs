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

/// A face `JoinError` of a task that panicked on another node names the node,
/// as the engine's does; on the main node it reads as tokio's own.
#[tokio::test(runs = 20)]
async fn a_panic_on_a_node_names_the_node_in_the_join_error() {
    let (sender, receiver) = tokio::sync::oneshot::channel::<(String, String)>();
    let sender = std::sync::Arc::new(std::sync::Mutex::new(Some(sender)));
    tokio::asyncsim::node::Builder::new("server").start(move || {
        let sender = sender.clone();
        async move {
            let error = tokio::spawn(async { panic!("boom") }).await.unwrap_err();
            assert!(error.is_panic());
            let words = (error.to_string(), format!("{error:?}"));
            if let Some(sender) = sender.lock().unwrap().take() {
                let _ = sender.send(words);
            }
        }
    });
    let (display, debug) = receiver.await.unwrap();
    assert!(
        display.contains("on node `server` panicked with message") && display.contains("boom"),
        "{display}"
    );
    assert!(debug.contains("node \"server\""), "{debug}");
    let here = tokio::spawn(async { panic!("here") })
        .await
        .unwrap_err()
        .to_string();
    assert!(
        here.contains("panicked with message") && !here.contains("on node"),
        "{here}"
    );
}
