//! A file or socket belongs to one run and to one incarnation of its node.
//! Kept past its node's crash (or restart), or carried out of its run into
//! another, every use of it is a clear `io::Error`: never a panic, never a
//! hang, and never a silent success on the restarted node's disk.

use std::io::{ErrorKind, SeekFrom};

use asyncsim::net::{TcpListener, TcpStream, UdpSocket};
use asyncsim::{fs, node, Config, Explore, Sim};
use futures::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// Every operation of a `File`, each as its error's text (or "ok").
async fn every_file_operation(file: &mut fs::File) -> Vec<String> {
    let text = |result: std::io::Result<()>| match result {
        Ok(()) => "ok".to_string(),
        Err(error) => error.to_string(),
    };
    let mut buf = [0u8; 4];
    vec![
        text(file.write_all(b"late").await),
        text(file.read(&mut buf).await.map(drop)),
        text(file.seek(SeekFrom::Start(0)).await.map(drop)),
        text(file.sync_all().await),
        text(file.sync_data().await),
        text(file.set_len(0).await),
        text(file.metadata().await.map(drop)),
        text(file.try_clone().map(drop)),
    ]
}

#[test]
fn a_file_from_another_run_is_an_error_in_the_next_run_and_outside_any_run() {
    let mut sim = Sim::new(Config::new());
    let first = sim.run(async {
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .open("/f")
            .await
            .unwrap();
        file.write_all(b"first").await.unwrap();
        file
    });
    let mut file = first.result.unwrap();
    let second = sim.run(async move {
        let errors = every_file_operation(&mut file).await;
        // The second run's disk is a new one: the old handle wrote nothing.
        let on_disk = fs::read("/f").await.map_err(|error| error.kind());
        (errors, on_disk, file)
    });
    let (errors, on_disk, mut file) = second.result.unwrap();
    for error in &errors {
        assert!(error.contains("another run"), "{errors:?}");
    }
    assert_eq!(on_disk, Err(ErrorKind::NotFound));
    // Outside any run, the same.
    let outside = futures::executor::block_on(every_file_operation(&mut file));
    for error in &outside {
        assert!(error.contains("another run"), "{outside:?}");
    }
}

#[test]
fn a_file_kept_past_its_nodes_crash_fails_and_never_writes_to_the_restarted_disk() {
    asyncsim::check(Explore::new().runs(100), || async {
        let db = node::Builder::new("db").start(|| async {});
        // A file of `db`, handed to a task of `main`.
        let mut file = db
            .spawn(async {
                let mut file = fs::File::create("/f").await.unwrap();
                file.write_all(b"synced").await.unwrap();
                file.sync_all().await.unwrap();
                file
            })
            .await
            .unwrap();
        // Before the crash, another node's task may use it.
        file.write_all(b"+").await.unwrap();
        db.crash();
        let down = every_file_operation(&mut file).await;
        db.restart();
        let restarted = every_file_operation(&mut file).await;
        for error in down.iter().chain(&restarted) {
            assert!(
                error.contains("node `db`, which crashed"),
                "{down:?} {restarted:?}"
            );
        }
        let after = db
            .spawn(async { fs::read("/f").await.unwrap() })
            .await
            .unwrap();
        assert!(
            after == b"synced" || after == b"synced+",
            "{:?}",
            String::from_utf8_lossy(&after)
        );
    });
}

#[test]
fn sockets_kept_past_their_nodes_crash_fail_and_their_ports_are_free_again() {
    asyncsim::check(Explore::new().runs(100), || async {
        let db = node::Builder::new("db").start(|| async {});
        let (udp, listener) = db
            .spawn(async {
                let udp = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
                let listener = TcpListener::bind("0.0.0.0:6000").await.unwrap();
                (udp, listener)
            })
            .await
            .unwrap();
        db.crash();
        db.restart();
        let mut buf = [0u8; 4];
        let errors = [
            udp.send_to(b"x", "main:1").await.unwrap_err(),
            udp.recv_from(&mut buf).await.unwrap_err(),
            listener.accept().await.unwrap_err(),
        ];
        for error in &errors {
            assert_eq!(error.kind(), ErrorKind::NotConnected, "{error}");
            assert!(error.to_string().contains("`db`, which crashed"), "{error}");
        }
        // The new incarnation binds the same ports; the old handles stay dead.
        db.spawn(async {
            UdpSocket::bind("0.0.0.0:5000").await.unwrap();
            TcpListener::bind("0.0.0.0:6000").await.unwrap();
        })
        .await
        .unwrap();
        assert!(udp.send_to(b"x", "main:1").await.is_err());
    });
}

#[test]
fn a_stream_kept_past_its_nodes_crash_fails_on_every_use() {
    let run = Sim::new(Config::new()).run(async {
        let db = node::Builder::new("db").start(|| async {});
        let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
        // A stream of `db`, handed out to `main`.
        let mut outbound = db
            .spawn(async { TcpStream::connect("main:7000").await.unwrap() })
            .await
            .unwrap();
        let (_inbound, _) = listener.accept().await.unwrap();
        db.crash();
        db.restart();
        let mut buf = [0u8; 4];
        let write = outbound.write_all(b"x").await.unwrap_err();
        let read = outbound.read(&mut buf).await.unwrap_err();
        (write.to_string(), read.to_string())
    });
    let (write, read) = run.result.unwrap();
    for error in [&write, &read] {
        assert!(error.contains("`db`, which crashed"), "{error}");
    }
}

#[test]
fn a_udp_socket_from_another_run_is_an_error() {
    let mut sim = Sim::new(Config::new());
    let socket = sim
        .run(async { UdpSocket::bind("0.0.0.0:5000").await.unwrap() })
        .result
        .unwrap();
    let second = sim.run(async move {
        let mut buf = [0u8; 4];
        let send = socket.send_to(b"x", "main:5000").await.unwrap_err();
        let recv = socket.recv_from(&mut buf).await.unwrap_err();
        // The port is free in this run's world.
        UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        (send.to_string(), recv.to_string())
    });
    let (send, recv) = second.result.unwrap();
    assert!(send.contains("another run"), "{send}");
    assert!(recv.contains("another run"), "{recv}");
}

#[test]
fn a_node_handle_from_another_run_is_a_clear_panic_never_a_task_on_a_stranger() {
    let mut sim = Sim::new(Config::new());
    let db = sim
        .run(async { node::Builder::new("db").start(|| async {}) })
        .result
        .unwrap();
    let db = std::rc::Rc::new(db);
    type Use = fn(&node::Node);
    let uses: [(&str, Use); 3] = [
        ("Node::spawn", |db| drop(db.spawn(async {}))),
        ("Node::crash", |db| db.crash()),
        ("Node::restart", |db| db.restart()),
    ];
    for (what, use_it) in uses {
        let db = db.clone();
        let run = sim.run(async move {
            // This run's own node of the same name: the stale handle must
            // not reach it.
            let here = node::Builder::new("db").start(|| async {});
            use_it(&db);
            here.is_running()
        });
        let message = run.result.unwrap_err().message;
        assert!(
            message.contains(&format!("{what} on node `db` of another run")),
            "{message}"
        );
        assert!(
            message.contains("world_handles_from_another_run"),
            "{message}"
        );
    }
}

/// A task of a node that crashes in its own poll (the one time a task of a
/// crashed node runs: it is dropped at the end of the step) and then binds,
/// listens, connects or touches the disk gets one error for all of them: a
/// bad use's (`Other`, as a handle from another run's), naming the node and
/// its crash. (`UdpSocket::bind` said `NotConnected`, `TcpListener::bind`
/// and `TcpStream::connect` that the call "belongs to" the node, the disk
/// only "which crashed"; `fs::write`, `File::create` and `File::open` named
/// `OpenOptions::open`, which they call.) Nothing of the task runs after
/// that poll.
#[test]
fn binds_connects_and_disk_operations_of_a_crashed_nodes_task_fail_alike() {
    let run = Sim::new(Config::new()).run(async {
        let errors = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let into = errors.clone();
        node::Builder::new("db").start(move || {
            let into = into.clone();
            async move {
                node::current().crash();
                let mut got = vec![
                    TcpListener::bind("0.0.0.0:6000").await.map(drop),
                    UdpSocket::bind("0.0.0.0:5000").await.map(drop),
                    TcpStream::connect("main:7000").await.map(drop),
                    fs::write("/f", b"x").await,
                    fs::File::create("/f").await.map(drop),
                    fs::File::open("/f").await.map(drop),
                ];
                into.borrow_mut().append(&mut got);
                // Dropped at the end of the step: never here.
                asyncsim::yield_now().await;
                into.borrow_mut().push(Ok(()));
            }
        });
        let _listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
        asyncsim::time::sleep(std::time::Duration::from_millis(10)).await;
        let errors = errors.borrow_mut().drain(..).collect::<Vec<_>>();
        errors
    });
    let errors = run.result.unwrap();
    let words: Vec<_> = errors
        .iter()
        .map(|result| match result {
            Ok(()) => "ok".to_string(),
            Err(error) => format!("{:?}: {error}", error.kind()),
        })
        .collect();
    let tail = "on node `db`, which crashed: a task of a crashed node runs no further (it is \
                dropped at the end of this step)";
    assert_eq!(
        words,
        [
            format!("Other: asyncsim::net::TcpListener::bind {tail}"),
            format!("Other: asyncsim::net::UdpSocket::bind {tail}"),
            format!("Other: asyncsim::net::TcpStream::connect {tail}"),
            // (Each names the call made, not `OpenOptions::open`, which
            // opens the file for each.)
            format!("Other: asyncsim::fs::write {tail}"),
            format!("Other: asyncsim::fs::File::create {tail}"),
            format!("Other: asyncsim::fs::File::open {tail}"),
        ]
    );
}
