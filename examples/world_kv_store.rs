//! A small key-value store with a write-ahead log, a nemesis that crashes
//! its node, and a planted durability bug: the store acknowledges a `SET`
//! before its log record is synced (a background task syncs every 50 ms).
//! The search finds the one crash that loses an acknowledged write, shrinks
//! the run to it, and prints the report; with the fix (sync, then
//! acknowledge) every run passes.
//!
//! ```text
//! cargo run --example world_kv_store           # finds the bug, prints the report
//! cargo run --example world_kv_store -- fixed  # the fixed store passes
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use asyncsim::net::{TcpListener, TcpStream};
use asyncsim::{fault, fs, node, Explore};
use futures::io::BufReader;
use futures::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

/// Replays the log: one `key=value` line a record; a torn last line (no
/// newline) was never acknowledged and is skipped.
async fn recover() -> BTreeMap<String, String> {
    let mut table = BTreeMap::new();
    if let Ok(log) = fs::read("/wal").await {
        let text = String::from_utf8_lossy(&log);
        for line in text
            .split_inclusive('\n')
            .filter(|line| line.ends_with('\n'))
        {
            if let Some((key, value)) = line.trim_end().split_once('=') {
                table.insert(key.to_string(), value.to_string());
            }
        }
    }
    table
}

/// Starts the store on node `kv`, port 6379. `fixed`: sync before the
/// acknowledgement.
pub fn start_store(fixed: bool) -> node::Node {
    node::Builder::new("kv").start(move || async move {
        let table = Rc::new(RefCell::new(recover().await));
        let log = fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open("/wal")
            .await
            .unwrap();
        log.sync_all().await.unwrap();
        if !fixed {
            // Group commit: a background task syncs the log now and then.
            let log = log.try_clone().unwrap();
            drop(asyncsim::spawn(async move {
                loop {
                    asyncsim::time::sleep(Duration::from_millis(50)).await;
                    let _ = log.sync_data().await;
                }
            }));
        }
        let log = Rc::new(asyncsim::sync::Mutex::new(log));
        let listener = TcpListener::bind("0.0.0.0:6379").await.unwrap();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (table, log) = (table.clone(), log.clone());
            drop(asyncsim::spawn(async move {
                let (reader, mut writer) = stream.split();
                let mut lines = BufReader::new(reader).lines();
                while let Some(Ok(line)) = futures::StreamExt::next(&mut lines).await {
                    let reply = match line.split_once(' ') {
                        Some(("SET", record)) => {
                            let Some((key, value)) = record.split_once('=') else {
                                break;
                            };
                            let mut file = log.lock().await;
                            file.write_all(format!("{key}={value}\n").as_bytes())
                                .await
                                .unwrap();
                            if fixed {
                                file.sync_data().await.unwrap();
                            }
                            drop(file);
                            table
                                .borrow_mut()
                                .insert(key.to_string(), value.to_string());
                            "OK".to_string()
                        }
                        Some(("GET", key)) => table
                            .borrow()
                            .get(key)
                            .cloned()
                            .unwrap_or("NIL".to_string()),
                        _ => break,
                    };
                    if writer
                        .write_all(format!("{reply}\n").as_bytes())
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }));
        }
    })
}

/// One command, retried on a fresh connection until it is answered.
async fn command(text: &str) -> String {
    loop {
        if let Ok(stream) = TcpStream::connect("kv:6379").await {
            let (reader, mut writer) = stream.split();
            if writer
                .write_all(format!("{text}\n").as_bytes())
                .await
                .is_ok()
            {
                let mut reply = String::new();
                if BufReader::new(reader).read_line(&mut reply).await.is_ok()
                    && reply.ends_with('\n')
                {
                    return reply.trim_end().to_string();
                }
            }
        }
        asyncsim::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The test: writes keys while a nemesis may crash the store; every
/// acknowledged write must be readable afterwards.
pub async fn scenario(fixed: bool) {
    start_store(fixed);
    asyncsim::time::sleep(Duration::from_millis(5)).await;
    let nemesis = fault::Nemesis::new()
        .crash(&["kv"])
        .interval(Duration::from_millis(10), Duration::from_millis(40))
        .rounds(3)
        .spawn();
    let mut acknowledged = Vec::new();
    for number in 0..6 {
        let (key, value) = (format!("k{number}"), format!("v{number}"));
        assert_eq!(command(&format!("SET {key}={value}")).await, "OK");
        acknowledged.push((key, value));
        asyncsim::time::sleep(Duration::from_millis(5)).await;
    }
    nemesis.await.unwrap();
    for (key, value) in acknowledged {
        let read = command(&format!("GET {key}")).await;
        asyncsim::always("acknowledged writes survive crashes", read == value);
    }
}

/// Explores the scenario; the first failure, shrunk.
pub fn search(fixed: bool) -> asyncsim::Summary {
    asyncsim::explore(Explore::new().runs(500).seed(0), move || scenario(fixed))
}

#[allow(dead_code)]
fn main() {
    let fixed = std::env::args().any(|argument| argument == "fixed");
    let summary = search(fixed);
    println!("{summary}");
    match summary.first_failure {
        Some(found) => {
            println!("\nthe store lost an acknowledged write:\n\n{found}");
            if fixed {
                std::process::exit(1);
            }
        }
        None => println!("every run kept every acknowledged write"),
    }
}
