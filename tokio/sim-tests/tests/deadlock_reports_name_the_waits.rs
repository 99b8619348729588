//! A deadlock in code written against the face names what each task waits
//! on where the face can see it: a socket read, a `JoinHandle`, a timer.

use std::time::Duration;

use asyncsim::{Config, FailureKind, Sim};
use tokio::io::AsyncReadExt;

#[test]
fn a_read_nobody_answers_and_a_join_on_it_are_named_in_the_report() {
    let run = Sim::new(Config::new()).run(async {
        asyncsim::node::Builder::new("server").start(|| async {
            let listener = tokio::net::TcpListener::bind("0.0.0.0:9000").await.unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            // Keeps the connection open and never writes.
            let (_keep, forever) = tokio::sync::oneshot::channel::<()>();
            let _ = forever.await;
            drop(stream);
        });
        tokio::time::sleep(Duration::from_millis(1)).await;
        let reader = tokio::spawn(async {
            let mut stream = tokio::net::TcpStream::connect("server:9000").await.unwrap();
            let mut buf = [0u8; 1];
            stream.read(&mut buf).await
        });
        reader.await.unwrap().unwrap()
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Deadlock, "{failure}");
    let report = failure.to_string();
    assert!(
        report.contains("TcpStream"),
        "the blocked read names its socket: {report}"
    );
    assert!(
        report.contains("JoinHandle"),
        "main's wait names the task it joins: {report}"
    );
}
