//! A seed or a replay token of a run with nodes, sockets and disks must mean
//! the same run after the world's code changes, as one without them must
//! (`engine_schedules_stable_across_versions`). This pins, for a spread of
//! world programs (a small simulation, a fan-out over a lossy link, UDP with
//! loss and duplication, crashes, partitions, clogs and disk writes under a
//! nemesis, a socket kept past its run, streams reset by a crash and a
//! timeout that nobody reads again) under several strategies and many
//! seeds, a digest of what each run did — its rendered trace (every label's
//! words), its tape token, steps, virtual time and outcome — and, on its
//! own, its trace hash. The programs take turns in one `Sim` (as `check`
//! runs them), and once more each in a new `Sim` with a hash-only trace:
//! what one run leaves in the world must not change the next.

use std::cell::RefCell;
use std::time::Duration;

use asyncsim::net::{self, NetConfig, TcpListener, TcpStream, UdpSocket};
use asyncsim::{fault, fs, node, Config, Run, Sim, Strategy, TraceMode};
use futures::{AsyncReadExt, AsyncWriteExt};

const SEEDS: u64 = 12;
const PORT: u16 = 7000;

fn strategies() -> Vec<Strategy> {
    vec![Strategy::Fifo, Strategy::Random, Strategy::Pct { depth: 3 }]
}

/// FNV-1a over bytes, folded into a running digest.
fn fold(digest: &mut u64, bytes: &[u8]) {
    for byte in bytes {
        *digest ^= u64::from(*byte);
        *digest = digest.wrapping_mul(0x0100_0000_01b3);
    }
}

fn digest_run<T: std::fmt::Debug>(digest: &mut u64, hashes: &mut u64, run: &Run<T>) {
    fold(hashes, &run.trace.hash().to_le_bytes());
    fold(digest, run.trace.to_string().as_bytes());
    fold(digest, run.tape.to_string().as_bytes());
    fold(digest, &run.steps().to_le_bytes());
    fold(digest, &run.elapsed_ns().to_le_bytes());
    let outcome = match &run.result {
        Ok(value) => format!("ok {value:?}"),
        Err(failure) => format!("{:?}: {}", failure.kind, failure.message),
    };
    fold(digest, outcome.as_bytes());
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

fn start_echo_server() {
    node::Builder::new("server").start(|| async {
        let listener = TcpListener::bind(("0.0.0.0", PORT)).await.expect("bind");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            drop(asyncsim::spawn(echo(stream)));
        }
    });
}

async fn client(round_trips: usize) -> usize {
    let Ok(mut stream) = TcpStream::connect(("server", PORT)).await else {
        return 0;
    };
    let mut buf = [0; 8];
    let mut done = 0;
    for _ in 0..round_trips {
        if stream.write_all(b"ping1234").await.is_err()
            || stream.read_exact(&mut buf).await.is_err()
        {
            break;
        }
        done += 1;
    }
    done
}

/// The bench's small simulation: two nodes, a connection, one round trip.
async fn small_simulation() -> usize {
    start_echo_server();
    net::set_link(
        "main",
        "server",
        NetConfig::new().latency(Duration::from_millis(1), Duration::from_millis(5)),
    );
    asyncsim::time::sleep(Duration::from_millis(1)).await;
    client(1).await
}

/// Four clients, three round trips each, over a link that loses segments.
async fn fan_out_over_a_lossy_link() -> Vec<usize> {
    start_echo_server();
    net::set_link("main", "server", NetConfig::new().loss(0.2));
    asyncsim::time::sleep(Duration::from_millis(1)).await;
    let clients: Vec<_> = (0..4).map(|_| asyncsim::spawn(client(3))).collect();
    let mut done = Vec::new();
    for client in clients {
        done.push(client.await.expect("client"));
    }
    done
}

/// Datagrams over a link that loses and duplicates them; what arrived.
async fn udp_with_loss_and_duplicates() -> Vec<u8> {
    let received = std::rc::Rc::new(RefCell::new(Vec::new()));
    let into = received.clone();
    node::Builder::new("server").start(move || {
        let into = into.clone();
        async move {
            let socket = UdpSocket::bind(("0.0.0.0", PORT)).await.expect("bind");
            let mut buf = [0; 16];
            loop {
                let (n, from) = socket.recv_from(&mut buf).await.expect("recv");
                into.borrow_mut().extend_from_slice(&buf[..n]);
                let _ = socket.send_to(&buf[..n], from).await;
            }
        }
    });
    net::set_link("main", "server", NetConfig::new().loss(0.2).duplicate(0.2));
    asyncsim::time::sleep(Duration::from_millis(1)).await;
    let socket = UdpSocket::bind(("0.0.0.0", 0)).await.expect("bind");
    for byte in 0..6u8 {
        socket
            .send_to(&[byte], ("server", PORT))
            .await
            .expect("send");
    }
    asyncsim::time::sleep(Duration::from_millis(50)).await;
    let received = received.borrow().clone();
    received
}

/// A write-ahead store on node `db` under a nemesis (crashes, partitions,
/// disk errors), with a partition, a clog and an isolation of its own. (Its
/// nemesis listed `.clog(&["db"])` too until that was refused: one node
/// alone clogs nothing, and dropping it moved nothing pinned here.)
async fn store_under_a_nemesis() -> Vec<u8> {
    node::Builder::new("db").start(|| async {
        let listener = TcpListener::bind("0.0.0.0:5432").await.unwrap();
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            drop(asyncsim::spawn(async move {
                let mut request = [0u8; 2];
                if stream.read_exact(&mut request).await.is_err() {
                    return;
                }
                let reply = if request[0] == b'w' {
                    if fs::write("/value", [request[1]]).await.is_err() {
                        return;
                    }
                    let _ = fs::sync_dir("/").await;
                    b"ok".to_vec()
                } else {
                    match fs::read("/value").await {
                        Ok(value) if !value.is_empty() => value,
                        _ => b"-".to_vec(),
                    }
                };
                let _ = stream.write_all(&reply).await;
            }));
        }
    });
    node::Builder::new("peer").start(|| async {});
    asyncsim::time::sleep(Duration::from_millis(1)).await;
    let nemesis = fault::Nemesis::new()
        .crash(&["db"])
        .partition(&["db", "peer"])
        .disk_errors(&["db"])
        .interval(Duration::from_millis(20), Duration::from_millis(60))
        .rounds(3)
        .spawn();
    net::partition("main", "peer");
    net::clog("peer", "db", Duration::from_millis(3));
    net::isolate("peer");
    let mut replies = Vec::new();
    for request in [*b"w7", *b"r?", *b"w8", *b"r?"] {
        if let Ok(mut stream) = TcpStream::connect("db:5432").await {
            let mut reply = Vec::new();
            if stream.write_all(&request).await.is_ok() {
                stream.close().await.ok();
                let _ = stream.read_to_end(&mut reply).await;
            }
            replies.extend_from_slice(&reply);
        }
        asyncsim::time::sleep(Duration::from_millis(30)).await;
    }
    net::rejoin("peer");
    net::unclog("peer", "db");
    net::repair("main", "peer");
    let _ = nemesis.await;
    replies
}

/// Streams reset by a crash and cut by a timeout, most never touched again:
/// each end's reset is in the trace at its arrival (and what it had not
/// read is dropped then); one end reads after it. The cut stream times out
/// on main's end, whose bytes the cut holds (they are dropped then); its
/// far end, idle, is not told (as on Linux).
async fn resets_nobody_reads() -> Vec<String> {
    start_echo_server();
    node::Builder::new("far").start(|| async {
        let listener = TcpListener::bind(("0.0.0.0", PORT)).await.expect("bind");
        let mut kept = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            kept.push(stream);
        }
    });
    net::set_link(
        "main",
        "far",
        NetConfig::new().tcp_timeout(Duration::from_millis(40)),
    );
    asyncsim::time::sleep(Duration::from_millis(1)).await;
    let mut errors = Vec::new();
    let (Ok(mut read), Ok(mut unread), Ok(mut cut)) = (
        TcpStream::connect(("server", PORT)).await,
        TcpStream::connect(("server", PORT)).await,
        TcpStream::connect(("far", PORT)).await,
    ) else {
        return errors;
    };
    let mut buf = [0; 4];
    if read.write_all(b"ping").await.is_ok() && read.read_exact(&mut buf).await.is_ok() {
        let _ = unread.write_all(b"left").await;
        net::partition("main", "far");
        let _ = cut.write_all(b"held").await;
        asyncsim::time::sleep(Duration::from_millis(10)).await;
        if let Some(server) = node::lookup("server") {
            server.crash();
        }
        asyncsim::time::sleep(Duration::from_millis(60)).await;
        errors.push(format!(
            "{:?}",
            read.read(&mut buf).await.map_err(|e| e.kind())
        ));
    }
    drop((unread, cut));
    errors
}

thread_local! {
    static KEPT: RefCell<Option<TcpStream>> = const { RefCell::new(None) };
}

/// Keeps its stream past the run when `keep` says (so the next run cannot
/// reuse this run's world), and drops the one kept before.
async fn a_stream_kept_past_its_run(keep: bool) -> usize {
    start_echo_server();
    asyncsim::time::sleep(Duration::from_millis(1)).await;
    let mut stream = TcpStream::connect(("server", PORT)).await.expect("connect");
    stream.write_all(b"kept").await.expect("write");
    let mut buf = [0; 4];
    stream.read_exact(&mut buf).await.expect("read");
    let old = KEPT.with(|kept| kept.borrow_mut().take());
    if keep {
        KEPT.with(|kept| *kept.borrow_mut() = Some(stream));
    }
    drop(old);
    buf.len()
}

/// One line a program: runs' digest and hashes, in the shared `Sim` and in
/// a new `Sim` a run (hash-only: its hashes must match the shared one's).
#[test]
fn world_programs_keep_their_schedules_and_hashes() {
    let mut text = String::new();
    for strategy in strategies() {
        let mut digests = [0xcbf2_9ce4_8422_2325u64; 6];
        let mut hashes = digests;
        let mut fresh_hashes = digests;
        let mut sim = Sim::new(Config::new());
        for seed in 0..SEEDS {
            let config = Config::new()
                .seed(seed)
                .strategy(strategy.clone())
                .faults(true);
            macro_rules! program {
                ($index:expr, $body:expr) => {{
                    *sim.config_mut() = config.clone();
                    let run = sim.run($body);
                    digest_run(&mut digests[$index], &mut hashes[$index], &run);
                    let fresh = Sim::new(config.clone().trace_mode(TraceMode::HashOnly)).run($body);
                    fold(&mut fresh_hashes[$index], &fresh.trace.hash().to_le_bytes());
                    // A run with no world between them.
                    *sim.config_mut() = config.clone();
                    sim.run(async { asyncsim::task::yield_now().await });
                }};
            }
            program!(0, small_simulation());
            program!(1, fan_out_over_a_lossy_link());
            program!(2, udp_with_loss_and_duplicates());
            program!(3, store_under_a_nemesis());
            program!(4, a_stream_kept_past_its_run(seed % 2 == 0));
            program!(5, resets_nobody_reads());
        }
        KEPT.with(|kept| kept.borrow_mut().take());
        for (index, name) in ["small", "fan-out", "udp", "nemesis", "kept", "resets"]
            .iter()
            .enumerate()
        {
            assert_eq!(
                hashes[index], fresh_hashes[index],
                "{strategy} {name}: a new Sim's hash-only runs hash differently"
            );
            text.push_str(&format!(
                "{strategy} {name} runs {:016x} hashes {:016x}\n",
                digests[index], hashes[index]
            ));
        }
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("stable_world_programs", text));
}
