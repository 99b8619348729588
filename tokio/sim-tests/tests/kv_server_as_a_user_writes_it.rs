//! A small line-based key-value server, written the way a tokio user writes
//! one (`TcpSocket`, `select!` over accept and a shutdown signal, a task per
//! connection with `into_split`, `BufReader::lines`, a `BufWriter` flushed
//! when the client's pipelined lines run out, idle clients timed out, a
//! `JoinSet` drained at shutdown, a write-ahead log on the node's disk), and
//! tested with the face the way the README says: `#[tokio::test]`, the
//! server on a node of its own, clients that connect, pipeline their
//! commands and disconnect, and a property checked over the schedules:
//! every command the server executed was answered, and the store equals a
//! sequential model.
//!
//! The server has two ordering bugs a user could write (`Planted`); the last
//! two tests check the face finds each, with a report that names it and a
//! token that replays it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::asyncsim::{Explore, FailureKind};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{broadcast, Mutex};
use tokio::task::JoinSet;

/// The ordering bugs the server can be built with.
#[derive(Clone, Copy, Default)]
struct Planted {
    /// `INCR` reads, awaits, then writes back: two clients lose an update.
    racy_incr: bool,
    /// A connection told to shut down returns with replies still in its
    /// `BufWriter`: commands executed, their answers never sent.
    unflushed_shutdown: bool,
}

#[derive(Default)]
struct Server {
    store: Mutex<BTreeMap<String, i64>>,
    /// The write-ahead log on the node's disk (opened by `serve`).
    log: Mutex<Option<tokio::fs::File>>,
    executed: AtomicUsize,
    planted: Planted,
}

const IDLE: Duration = Duration::from_secs(5);

/// Serves on `address` until `shutdown` fires, then lets each connection
/// finish; returns the store.
async fn serve(
    address: SocketAddr,
    shutdown: broadcast::Sender<()>,
    server: Arc<Server>,
) -> std::io::Result<BTreeMap<String, i64>> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.set_nodelay(true)?;
    socket.bind(address)?;
    let listener = socket.listen(1024)?;
    let log = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open("kv.log")
        .await?;
    *server.log.lock().await = Some(log);
    let mut stop = shutdown.subscribe();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer) = accepted?;
                connections.spawn(connection(stream, server.clone(), shutdown.subscribe()));
            }
            _ = stop.recv() => break,
        }
    }
    drop(listener);
    while let Some(done) = connections.join_next().await {
        done.expect("a connection task panicked")?;
    }
    let store = server.store.lock().await.clone();
    Ok(store)
}

async fn connection(
    stream: TcpStream,
    server: Arc<Server>,
    mut shutdown: broadcast::Receiver<()>,
) -> std::io::Result<()> {
    let (read, write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut write = BufWriter::new(write);
    loop {
        // Replies go out when the client's pipelined lines run out.
        if lines.get_ref().buffer().is_empty() {
            write.flush().await?;
        }
        let line = tokio::select! {
            line = tokio::time::timeout(IDLE, lines.next_line()) => match line {
                Ok(line) => line?,
                Err(_idle) => None,
            },
            _ = shutdown.recv() => None,
        };
        let Some(line) = line else {
            if !server.planted.unflushed_shutdown {
                write.flush().await?;
            }
            return Ok(());
        };
        let reply = execute(&line, &server).await?;
        server.executed.fetch_add(1, Ordering::SeqCst);
        write.write_all(reply.as_bytes()).await?;
        write.write_all(b"\n").await?;
    }
}

async fn execute(line: &str, server: &Server) -> std::io::Result<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    Ok(match words.as_slice() {
        ["GET", key] => match server.store.lock().await.get(*key) {
            Some(value) => value.to_string(),
            None => "NIL".to_string(),
        },
        ["SET", key, value] => match value.parse::<i64>() {
            Ok(value) => {
                let mut store = server.store.lock().await;
                append_to_log(server, line).await?;
                store.insert(key.to_string(), value);
                "OK".to_string()
            }
            Err(_) => "ERR not a number".to_string(),
        },
        ["INCR", key] if server.planted.racy_incr => {
            let old = server.store.lock().await.get(*key).copied().unwrap_or(0);
            append_to_log(server, line).await?;
            server.store.lock().await.insert(key.to_string(), old + 1);
            (old + 1).to_string()
        }
        ["INCR", key] => {
            let mut store = server.store.lock().await;
            append_to_log(server, line).await?;
            let value = store.entry(key.to_string()).or_insert(0);
            *value += 1;
            value.to_string()
        }
        _ => "ERR unknown command".to_string(),
    })
}

/// Appends the command to the log and makes it durable before it is
/// applied.
async fn append_to_log(server: &Server, line: &str) -> std::io::Result<()> {
    let mut log = server.log.lock().await;
    let log = log.as_mut().expect("serve opened the log");
    log.write_all(format!("{line}\n").as_bytes()).await?;
    log.sync_data().await
}

/// Sends every command at once, then reads replies until all are answered
/// or the server goes away (a connect refused once the server stopped
/// listening, the connection closed or reset at its shutdown): the replies
/// it got.
async fn client(address: &str, commands: &[&str]) -> Vec<String> {
    let mut replies = Vec::new();
    let Ok(stream) = TcpStream::connect(address).await else {
        return replies;
    };
    let (read, mut write) = stream.into_split();
    let mut request = String::new();
    for command in commands {
        request.push_str(command);
        request.push('\n');
    }
    if write.write_all(request.as_bytes()).await.is_err() {
        return replies;
    }
    let mut lines = BufReader::new(read).lines();
    while replies.len() < commands.len() {
        match lines.next_line().await {
            Ok(Some(reply)) => replies.push(reply),
            Ok(None) | Err(_) => break,
        }
    }
    replies
}

/// Three clients (two at once, one 2 ms later) increment one counter and set
/// a key each while the server is told to shut down; every executed command must have been answered, and
/// the store must be what some sequential order of the answered commands
/// gives.
async fn clients_and_a_shutdown(planted: Planted) {
    let (shutdown, _) = broadcast::channel(1);
    let server = Arc::new(Server {
        planted,
        ..Server::default()
    });
    let kv = tokio::asyncsim::node::Builder::new("kv").start(|| async {});
    let serving = kv.spawn(serve(
        "0.0.0.0:7000".parse().unwrap(),
        shutdown.clone(),
        server.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(1)).await; // the server binds

    let mut clients = JoinSet::new();
    for (name, arrives_after_ms) in [("a", 0), ("b", 0), ("c", 2)] {
        clients.spawn(async move {
            tokio::time::sleep(Duration::from_millis(arrives_after_ms)).await;
            let set = format!("SET {name} 1");
            client("kv:7000", &["INCR hits", set.as_str(), "INCR hits"]).await
        });
    }
    // Shutdown once one client is done, while the others may still talk:
    // whatever the server executed must still be answered.
    let mut replies = clients.join_next().await.unwrap().unwrap();
    shutdown.send(()).unwrap();
    while let Some(more) = clients.join_next().await {
        replies.extend(more.unwrap());
    }
    let store = serving.await.unwrap().unwrap();
    let executed = server.executed.load(Ordering::SeqCst);
    tokio::asyncsim::sometimes(
        "the shutdown cut a client short after the server executed its commands",
        executed > 0 && replies.len() < 9,
    );
    assert_eq!(
        server.executed.load(Ordering::SeqCst),
        replies.len(),
        "commands executed vs answered (store: {store:?}, replies: {replies:?})"
    );
    // The sequential model: the k INCRs answered saw 1, 2, …, k, and the
    // store holds k.
    let mut counts: Vec<i64> = replies
        .iter()
        .filter(|reply| *reply != "OK")
        .map(|reply| reply.parse().unwrap())
        .collect();
    counts.sort();
    let increments = counts.len() as i64;
    assert_eq!(
        counts,
        (1..=increments).collect::<Vec<_>>(),
        "the INCR answers (store: {store:?})"
    );
    assert_eq!(store.get("hits").copied().unwrap_or(0), increments);
}

// `require_sometimes`: the schedules must reach a shutdown in the middle of
// a conversation, or the property was never put to the test.
#[tokio::test(explore = Explore::new().require_sometimes())]
async fn every_executed_command_is_answered_and_counted() {
    clients_and_a_shutdown(Planted::default()).await;
}

#[tokio::test(runs = 100)]
async fn an_idle_client_is_let_go_after_the_idle_timeout() {
    let (shutdown, _) = broadcast::channel(1);
    let server = Arc::new(Server::default());
    let kv = tokio::asyncsim::node::Builder::new("kv").start(|| async {});
    let serving = kv.spawn(serve(
        "0.0.0.0:7000".parse().unwrap(),
        shutdown.clone(),
        server,
    ));
    tokio::time::sleep(Duration::from_millis(1)).await;
    // The server's idle clock starts at its accept, between the two.
    let connecting = tokio::time::Instant::now();
    let mut idle = TcpStream::connect("kv:7000").await.unwrap();
    let mut byte = [0u8; 1];
    let read = tokio::io::AsyncReadExt::read(&mut idle, &mut byte)
        .await
        .unwrap();
    assert_eq!(read, 0, "the server closed the connection");
    let waited = connecting.elapsed();
    assert!(
        waited >= IDLE && waited < IDLE + Duration::from_millis(20),
        "{waited:?}"
    );
    shutdown.send(()).unwrap();
    assert!(serving.await.unwrap().unwrap().is_empty());
}

/// The line of this file that ends with `marker`.
fn line_of(marker: &str) -> usize {
    let source = include_str!("kv_server_as_a_user_writes_it.rs");
    source
        .lines()
        .position(|line| line.ends_with(marker))
        .unwrap()
        + 1
}

/// Explores the test with a planted bug: the failure found, and its
/// report; the token replays the very failure.
fn found(planted: Planted) -> (String, String) {
    let settings = || {
        Explore::new()
            .runs(300)
            .persist(false)
            .trace_file(false)
            .progress(false)
    };
    let summary = tokio::asyncsim::explore(settings(), move || clients_and_a_shutdown(planted));
    let failure = summary.first_failure.expect("the planted bug is found");
    assert_eq!(failure.failure.kind, FailureKind::Panic, "{failure}");
    let replayed = tokio::asyncsim::explore(settings().replay(failure.tape.clone()), move || {
        clients_and_a_shutdown(planted)
    });
    let again = replayed
        .first_failure
        .expect("the token replays the failure");
    assert_eq!(again.failure.message, failure.failure.message);
    (failure.failure.message.clone(), failure.to_string())
}

#[test]
fn a_racy_increment_is_found_and_replayed() {
    let (message, _report) = found(Planted {
        racy_incr: true,
        ..Planted::default()
    });
    assert!(message.contains("the INCR answers"), "{message}");
}

#[test]
fn replies_dropped_at_shutdown_are_found_and_the_report_names_the_select() {
    let (message, report) = found(Planted {
        unflushed_shutdown: true,
        ..Planted::default()
    });
    assert!(
        message.contains("commands executed vs answered"),
        "{message}"
    );
    let select = format!(
        "select! at tokio/sim-tests/tests/kv_server_as_a_user_writes_it.rs:{} polled branch 2 before branch 1",
        line_of("let line = tokio::select! {")
    );
    assert!(report.contains(&select), "{report}");
}
