//! "Fetch many pages concurrently", over real HTTP: hyper's HTTP/1 server on
//! node `web` and hyper's HTTP/1 client on node `main`, talking over the
//! simulated `TcpStream` through hyper-util's `TokioIo` (tokio's own
//! `AsyncRead`/`AsyncWrite`, which the face's sockets implement).
//!
//! Ten pages, each served after a different delay: fetched one after another
//! they take the sum of the delays; fetched concurrently (a `JoinSet`, as
//! `asyncio.gather` in the article) they take the longest, in every schedule.
//!
//! `cargo run --example fetch_many_pages` (from `tokio/proofs/`, after
//! `run.sh` unpacked mini-redis).

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

const PAGES: u64 = 10;

/// hyper's HTTP/1 server on node `web`, port 80: page `n` after `n * 10` ms.
fn start_web_server() -> asyncsim::node::Node {
    asyncsim::node::Builder::new("web").start(|| async {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:80").await.unwrap();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    |request: Request<hyper::body::Incoming>| async move {
                        let page: u64 = request
                            .uri()
                            .path()
                            .trim_start_matches("/page/")
                            .parse()
                            .unwrap_or(0);
                        tokio::time::sleep(Duration::from_millis(page * 10)).await;
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(format!(
                            "<h1>page {page}</h1>"
                        )))))
                    },
                );
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                    .unwrap();
            });
        }
    })
}

/// One GET over its own connection: hyper's HTTP/1 client.
async fn fetch(page: u64) -> String {
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
    let request = Request::get(format!("http://web/page/{page}"))
        .header("host", "web")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert!(response.status().is_success());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

async fn fetch_all(concurrently: bool) -> (Vec<String>, Duration) {
    let start = tokio::time::Instant::now();
    let mut pages = Vec::new();
    if concurrently {
        let mut set = tokio::task::JoinSet::new();
        for page in 1..=PAGES {
            set.spawn(async move { (page, fetch(page).await) });
        }
        let mut fetched = set.join_all().await;
        fetched.sort();
        pages.extend(fetched.into_iter().map(|(_, body)| body));
    } else {
        for page in 1..=PAGES {
            pages.push(fetch(page).await);
        }
    }
    (pages, start.elapsed())
}

fn main() {
    let expected: Vec<String> = (1..=PAGES)
        .map(|page| format!("<h1>page {page}</h1>"))
        .collect();
    let longest = Duration::from_millis(PAGES * 10);
    let sum = Duration::from_millis((1..=PAGES).sum::<u64>() * 10);
    let one_by_one = std::sync::Mutex::new(Duration::ZERO);
    let concurrent = std::sync::Mutex::new(Duration::ZERO);
    let summary = asyncsim::check(
        asyncsim::Explore::new().runs(100).persist(false),
        || async {
            let _web = start_web_server();
            let (pages, sequential) = fetch_all(false).await;
            assert_eq!(pages, expected);
            assert!(
                sequential >= sum,
                "one after another takes the sum: {sequential:?}"
            );
            let (pages, together) = fetch_all(true).await;
            assert_eq!(pages, expected);
            assert!(together >= longest, "{together:?}");
            assert!(
                together < longest * 2,
                "concurrently takes about the longest: {together:?}"
            );
            *one_by_one.lock().unwrap() = sequential;
            *concurrent.lock().unwrap() = together;
        },
    );
    println!(
        "fetched {PAGES} pages over hyper's HTTP/1 in {} schedules: one after another {:?}, concurrently {:?} (virtual time, last schedule)",
        summary.runs,
        one_by_one.lock().unwrap(),
        concurrent.lock().unwrap()
    );
}
