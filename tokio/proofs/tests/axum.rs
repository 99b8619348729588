//! axum, unmodified: its published crate with only its `tokio` lines
//! switched to the face (`../switch-tokio.sh`, the README's way for a crate
//! built on tokio). `axum::serve` takes the face's `TcpListener` and runs on
//! node `web`; hyper's client calls it from other nodes over the simulated
//! network, with every interleaving and latency a draw.

use std::sync::Arc;
use std::time::Duration;

use asyncsim::Explore;
use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;

/// The hit count, shared by the handlers.
type Hits = Arc<tokio::sync::Mutex<u64>>;

/// `POST /hit`: adds one and answers the new count, after recording it (a
/// virtual millisecond, with the count locked).
async fn hit(State(hits): State<Hits>) -> String {
    let mut hits = hits.lock().await;
    tokio::time::sleep(Duration::from_millis(1)).await; // record it
    *hits += 1;
    hits.to_string()
}

/// `GET /count`.
async fn count(State(hits): State<Hits>) -> String {
    hits.lock().await.to_string()
}

/// `GET /slow`: answers after 50 virtual milliseconds.
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_millis(50)).await;
    "done"
}

fn app() -> Router {
    Router::new()
        .route("/hit", post(hit))
        .route("/count", get(count))
        .route("/slow", get(slow))
        .with_state(Hits::default())
}

/// One request on a fresh connection to `web:80` (retried while the node
/// does not listen yet): its status and body.
async fn call(method: &str, path: &str) -> (u16, String) {
    let stream = loop {
        match tokio::net::TcpStream::connect("web:80").await {
            Ok(stream) => break stream,
            Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
        }
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "web")
        .body(Empty::<bytes::Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[test]
fn axum_serve_counts_every_hit_from_two_nodes_in_every_schedule() {
    asyncsim::check(Explore::new().runs(100).persist(false), || async {
        asyncsim::node::Builder::new("web").start(|| async {
            let listener = tokio::net::TcpListener::bind("0.0.0.0:80").await.unwrap();
            axum::serve(listener, app()).await.unwrap();
        });
        let clients: Vec<_> = ["alice", "bob"]
            .into_iter()
            .map(|name| {
                let node = asyncsim::node::Builder::new(name).start(|| async {});
                node.spawn(async { call("POST", "/hit").await })
            })
            .collect();
        let mut answers = Vec::new();
        for client in clients {
            let (status, body) = client.await.unwrap();
            assert_eq!(status, 200);
            answers.push(body);
        }
        answers.sort();
        assert_eq!(answers, ["1", "2"], "each hit saw its own count");
        assert_eq!(call("GET", "/count").await, (200, "2".to_string()));
        assert_eq!(call("GET", "/nowhere").await.0, 404);
    });
}

#[test]
fn graceful_shutdown_finishes_the_request_in_flight() {
    asyncsim::check(Explore::new().runs(100).persist(false), || async {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let web = asyncsim::node::Builder::new("web").start(|| async {});
        let server = web.spawn(async move {
            let listener = tokio::net::TcpListener::bind("0.0.0.0:80").await.unwrap();
            axum::serve(listener, app())
                .with_graceful_shutdown(async move {
                    stopped.await.ok();
                })
                .await
                .unwrap();
        });
        let slow = tokio::spawn(call("GET", "/slow"));
        // The request is in the handler's 50 ms sleep when the signal comes.
        tokio::time::sleep(Duration::from_millis(20)).await;
        stop.send(()).unwrap();
        assert_eq!(slow.await.unwrap(), (200, "done".to_string()));
        // serve returns once the connection it was serving is done.
        server.await.unwrap();
        let refused = tokio::net::TcpStream::connect("web:80").await;
        assert_eq!(
            refused.err().map(|error| error.kind()),
            Some(std::io::ErrorKind::ConnectionRefused),
            "after shutdown nothing listens"
        );
    });
}
