//! The article's motivation for asyncio — fetching many web pages at once
//! (aiohttp) — on simulated machines: five HTTP-like servers on their own
//! nodes, fetched one after another and then all at once with `gather`.
//! Virtual time shows the point: the concurrent fetch takes as long as the
//! slowest page, not the sum.
//!
//! ```text
//! cargo run --example world_fetch_pages
//! ```

use std::time::Duration;

use asyncsim::net::{TcpListener, TcpStream};
use asyncsim::time::Instant;
use asyncsim::{node, Config, Sim};
use futures::{AsyncReadExt, AsyncWriteExt};

/// Each site takes this long to render its page.
pub const SITES: [(&str, u64); 5] = [
    ("python.org", 300),
    ("rust-lang.org", 120),
    ("example.com", 80),
    ("docs.rs", 450),
    ("crates.io", 200),
];

/// Starts one node per site serving `GET <path>` on port 80.
pub fn start_sites() {
    for (name, render_ms) in SITES {
        node::Builder::new(name).start(move || async move {
            let listener = TcpListener::bind("0.0.0.0:80").await.unwrap();
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                drop(asyncsim::spawn(async move {
                    let mut request = Vec::new();
                    let mut byte = [0u8; 1];
                    while stream.read(&mut byte).await.unwrap_or(0) == 1 && byte[0] != b'\n' {
                        request.push(byte[0]);
                    }
                    asyncsim::time::sleep(Duration::from_millis(render_ms)).await;
                    let body = format!(
                        "<h1>{name}</h1> you asked for {}",
                        String::from_utf8_lossy(&request)
                    );
                    let reply = format!("200 OK\ncontent-length: {}\n\n{body}", body.len());
                    let _ = stream.write_all(reply.as_bytes()).await;
                }));
            }
        });
    }
}

/// `GET /` from `site`: the page's body.
pub async fn fetch(site: &str) -> String {
    let mut stream = TcpStream::connect((site, 80)).await.unwrap();
    stream.write_all(b"GET /\n").await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    let (_, body) = reply.split_once("\n\n").expect("a reply has a header");
    body.to_string()
}

/// Fetches every site one after another, then all at once; returns the
/// two durations.
pub async fn compare() -> (Duration, Duration) {
    start_sites();
    asyncsim::time::sleep(Duration::from_millis(1)).await; // the servers bind
    let start = Instant::now();
    for (site, _) in SITES {
        fetch(site).await;
    }
    let one_by_one = start.elapsed();
    let start = Instant::now();
    let pages = asyncsim::gather(SITES.map(|(site, _)| fetch(site))).await;
    let at_once = start.elapsed();
    for ((site, _), page) in SITES.iter().zip(&pages) {
        assert!(page.contains(site), "{site} answered {page}");
    }
    (one_by_one, at_once)
}

#[allow(dead_code)]
fn main() {
    let run = Sim::new(Config::new().seed(1)).run(compare());
    let (steps, elapsed) = (run.steps(), run.elapsed());
    let (one_by_one, at_once) = run.result.unwrap();
    println!(
        "fetching {} pages (render times {:?} ms, 1-5 ms network latency)",
        SITES.len(),
        SITES.map(|(_, ms)| ms)
    );
    println!("  one after another: {one_by_one:?} of virtual time (about the sum)");
    println!("  with gather:       {at_once:?} of virtual time (about the slowest page)");
    println!(
        "  the whole run took {} polls and {:?} of virtual time",
        steps, elapsed
    );
}
