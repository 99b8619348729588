//! A crash drops every task of the node (their destructors run, nothing of
//! them runs again), resolves handles held elsewhere with a crash error,
//! resets the peers' streams, and frees the node's ports for its restart.

use std::cell::Cell;
use std::io::ErrorKind;
use std::rc::Rc;
use std::time::Duration;

use asyncsim::net::{TcpListener, TcpStream};
use asyncsim::{node, Explore};
use futures::{AsyncReadExt, AsyncWriteExt};

/// Counts drops of the values it guards.
struct DropCounter(Rc<Cell<u32>>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn a_crash_drops_the_nodes_tasks_runs_their_destructors_and_nothing_runs_again() {
    asyncsim::check(Explore::new().runs(300), || async {
        let dropped = Rc::new(Cell::new(0));
        let ticks = Rc::new(Cell::new(0u32));
        let (dropped_in, ticks_in) = (dropped.clone(), ticks.clone());
        let worker = node::Builder::new("worker").start(move || {
            let (dropped, ticks) = (dropped_in.clone(), ticks_in.clone());
            async move {
                let _guard = DropCounter(dropped.clone());
                // A child task on the same node, also dropped by the crash.
                let child_guard = DropCounter(dropped);
                let child_ticks = ticks.clone();
                drop(asyncsim::spawn(async move {
                    let _guard = child_guard;
                    loop {
                        asyncsim::time::sleep(Duration::from_millis(10)).await;
                        child_ticks.set(child_ticks.get() + 1);
                    }
                }));
                loop {
                    asyncsim::time::sleep(Duration::from_millis(10)).await;
                    ticks.set(ticks.get() + 1);
                }
            }
        });
        let spawned = worker.spawn(async {
            std::future::pending::<()>().await;
        });
        asyncsim::time::sleep(Duration::from_millis(55)).await;
        assert!(ticks.get() > 0);
        worker.crash();
        assert!(!worker.is_running());
        let error = spawned.await.unwrap_err();
        assert!(error.is_crashed(), "{error}");
        assert_eq!(error.crashed_node(), Some("worker"));
        assert!(
            error
                .to_string()
                .ends_with("was dropped because node `worker` crashed"),
            "the JoinError names the crash: {error}"
        );
        assert_eq!(
            dropped.get(),
            2,
            "the crashed tasks' destructors did not run"
        );
        let ticks_at_crash = ticks.get();
        asyncsim::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            ticks.get(),
            ticks_at_crash,
            "a task of the crashed node ran again"
        );
    });
}

#[test]
fn a_crash_resets_the_peers_streams_after_one_latency() {
    asyncsim::check(Explore::new().runs(300), || async {
        let server = node::Builder::new("server").start(|| async {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.write_all(b"hello").await.unwrap();
            std::future::pending::<()>().await;
        });
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let mut stream = TcpStream::connect("server:7000").await.unwrap();
        let mut hello = [0u8; 5];
        stream.read_exact(&mut hello).await.unwrap();
        server.crash();
        let crashed_at = asyncsim::time::Instant::now();
        let mut more = [0u8; 1];
        let error = stream.read(&mut more).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionReset);
        let waited = crashed_at.elapsed();
        assert!(
            waited >= Duration::from_millis(1) && waited <= Duration::from_millis(5),
            "{waited:?}"
        );
        // The read took the reset (Linux reports it once): the socket is
        // closed now, so a write is `BrokenPipe` (`EPIPE`), a read EOF.
        let write = stream.write_all(b"x").await.unwrap_err();
        assert_eq!(write.kind(), ErrorKind::BrokenPipe, "{write}");
        assert_eq!(stream.read(&mut more).await.unwrap(), 0);
        // Down: refused. Restarted: its init binds the port again.
        let refused = TcpStream::connect("server:7000").await.unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);
        server.restart();
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let mut again = TcpStream::connect("server:7000").await.unwrap();
        again.read_exact(&mut hello).await.unwrap();
        assert_eq!(&hello, b"hello");
    });
}

/// A stream its server never accepted (waiting in the listener's backlog,
/// its handshake done) is reset by the crash as an accepted one is: the
/// reset takes a drawn latency (1–5 ms) to reach the client, as Linux's
/// does, not the crash's instant.
#[test]
fn a_crash_resets_a_stream_in_the_backlog_after_one_latency() {
    asyncsim::check(Explore::new().runs(300), || async {
        let server = node::Builder::new("server").start(|| async {
            let _listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            std::future::pending::<()>().await;
        });
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let mut stream = TcpStream::connect("server:7000").await.unwrap();
        server.crash();
        let crashed_at = asyncsim::time::Instant::now();
        let error = stream.read(&mut [0u8; 1]).await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::ConnectionReset);
        let waited = crashed_at.elapsed();
        assert!(
            waited >= Duration::from_millis(1) && waited <= Duration::from_millis(5),
            "{waited:?}"
        );
    });
}

#[test]
fn a_node_name_or_address_used_twice_is_a_clear_panic_or_error() {
    let twice = asyncsim::Sim::new(asyncsim::Config::new()).run(async {
        node::Builder::new("a").start(|| async {});
        node::Builder::new("a").start(|| async {});
    });
    let message = twice.result.unwrap_err().message;
    assert!(
        message.contains("a node called `a` already exists"),
        "{message}"
    );
    let errors = asyncsim::Sim::new(asyncsim::Config::new()).run(async {
        node::Builder::new("a").start(|| async {});
        let name = node::Builder::new("a")
            .try_start(|| async {})
            .unwrap_err()
            .kind();
        let ip = node::lookup("a").unwrap().ip();
        let address = node::Builder::new("b")
            .ip(ip)
            .try_start(|| async {})
            .unwrap_err()
            .kind();
        (name, address)
    });
    assert_eq!(
        errors.result.unwrap(),
        (ErrorKind::AlreadyExists, ErrorKind::AddrInUse)
    );
}

#[test]
fn spawn_on_a_crashed_node_is_a_crash_error_and_the_task_never_runs() {
    asyncsim::check(Explore::new().runs(100), || async {
        let ran = Rc::new(Cell::new(false));
        let a = node::Builder::new("a").start(|| async {});
        a.crash();
        // Past the step boundary where the crash dropped the node's tasks.
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let flag = ran.clone();
        let error = a.spawn(async move { flag.set(true) }).await.unwrap_err();
        assert!(error.is_crashed(), "{error}");
        assert_eq!(error.crashed_node(), Some("a"));
        asyncsim::time::sleep(Duration::from_secs(1)).await;
        assert!(!ran.get(), "a task spawned on a crashed node ran");
        // Once restarted, the node runs what it is given.
        a.restart();
        let flag = ran.clone();
        a.spawn(async move { flag.set(true) }).await.unwrap();
        assert!(ran.get());
    });
}

#[test]
fn a_socket_kept_after_its_node_crashed_is_an_error() {
    let run = asyncsim::Sim::new(asyncsim::Config::new()).run(async {
        let kept = Rc::new(std::cell::RefCell::new(None));
        let slot = kept.clone();
        let server = node::Builder::new("server").start(move || {
            let slot = slot.clone();
            async move {
                let listener = TcpListener::bind("0.0.0.0:1").await.unwrap();
                *slot.borrow_mut() = Some(listener);
            }
        });
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        server.crash();
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let listener = kept.borrow_mut().take().unwrap();
        listener.accept().await.unwrap_err().to_string()
    });
    let message = run.result.unwrap();
    assert!(message.contains("crashed"), "{message}");
}

#[test]
fn a_node_whose_init_panicked_at_its_start_still_restarts_with_that_init() {
    let run = asyncsim::Sim::new(asyncsim::Config::new()).run(async {
        let calls = Rc::new(Cell::new(0u32));
        let ran = Rc::new(Cell::new(false));
        let (calls_in, ran_in) = (calls.clone(), ran.clone());
        let started = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            node::Builder::new("db").start(move || {
                calls_in.set(calls_in.get() + 1);
                assert!(calls_in.get() > 1, "the first start fails");
                let ran = ran_in.clone();
                async move { ran.set(true) }
            })
        }));
        assert!(started.is_err());
        node::lookup("db").expect("the node exists").restart();
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        (calls.get(), ran.get())
    });
    assert_eq!(run.result.unwrap(), (2, true));
}

/// A server's end that closed (its FIN read by the client: EOF) and whose
/// node then crashed sent no reset at the crash (a closed socket has none
/// to send): the client learns of it from its next write, as on Linux,
/// where that segment reaches a node with no such socket, crashed or
/// restarted, and is answered with a reset. The write is accepted (a drop:
/// its receiver's node crashed), and the reset, a round trip later, fails
/// the next with `BrokenPipe` (Linux's `EPIPE`: the FIN came first). Before,
/// every write was lost unsaid and none ever failed.
#[test]
fn a_crash_after_the_server_closed_is_learnt_from_the_reset_to_the_next_write() {
    for restart in [false, true] {
        let summary = asyncsim::explore(Explore::new().runs(200), move || async move {
            let server = node::Builder::new("server").start(|| async {
                let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
                let (stream, _) = listener.accept().await.unwrap();
                drop(stream);
                std::future::pending::<()>().await;
            });
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let mut stream = TcpStream::connect("server:7000").await.unwrap();
            let mut buf = [0u8; 4];
            assert_eq!(stream.read(&mut buf).await.unwrap(), 0, "no EOF");
            server.crash();
            if restart {
                server.restart();
            }
            asyncsim::time::sleep(Duration::from_millis(20)).await;
            stream.write_all(b"late").await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(20)).await;
            let error = stream.write_all(b"later").await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::BrokenPipe, "{error}");
        });
        if let Some(failure) = summary.first_failure {
            panic!("restart {restart}: {failure}");
        }
    }
}
