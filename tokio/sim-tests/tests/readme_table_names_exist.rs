//! Every tokio name the README's face table lists as simulated, re-exported
//! or refused exists under `simulation` at the path it gives (this file
//! only has to compile; the behaviour is the other tests').

#![allow(unused_imports, dead_code, clippy::let_underscore_future)]

use tokio::fs::{
    canonicalize, copy, create_dir, create_dir_all, hard_link, metadata, read, read_dir, read_link,
    read_to_string, remove_dir, remove_dir_all, remove_file, rename, set_permissions, symlink,
    symlink_metadata, try_exists, write, DirBuilder, File, OpenOptions,
};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use tokio::net::unix::{OwnedReadHalf as UnixOwnedReadHalf, SocketAddr as UnixSocketAddr, UCred};
use tokio::net::{
    lookup_host, TcpListener, TcpSocket, TcpStream, ToSocketAddrs, UdpSocket, UnixListener,
    UnixStream,
};
use tokio::runtime::{Builder, Handle, Runtime};
use tokio::task::{
    block_in_place, consume_budget, id, spawn, spawn_blocking, spawn_local, try_id, unconstrained,
    yield_now, AbortHandle, JoinError, JoinHandle, JoinSet, LocalKey, LocalSet,
};
use tokio::time::error::Elapsed;
use tokio::time::{
    advance, interval, interval_at, pause, resume, sleep, sleep_until, timeout, timeout_at,
    Instant, Interval, MissedTickBehavior, Sleep,
};
use tokio::{join, pin, select, task_local, try_join};

tokio::task_local! {
    static NAME: u32;
}

/// The methods the table names, with the types they have.
async fn methods(file: File, metadata: tokio::fs::Metadata, stream: TcpStream, socket: UdpSocket) {
    let _: std::io::Result<usize> = stream.peek(&mut []).await;
    let _: std::io::Result<()> = stream.readable().await;
    let _: std::io::Result<tokio::io::Ready> = stream.ready(tokio::io::Interest::READABLE).await;
    let _: std::io::Result<usize> = stream.try_read(&mut []);
    let _: std::io::Result<usize> = stream.try_read_vectored(&mut []);
    let _: std::io::Result<usize> = stream.try_read_buf(&mut Vec::new());
    let _: std::io::Result<()> = stream.writable().await;
    let _: std::io::Result<(usize, std::net::SocketAddr)> = socket.peek_from(&mut []).await;
    let _: std::io::Result<std::net::SocketAddr> = socket.peek_sender().await;
    let _: std::io::Result<(usize, std::net::SocketAddr)> = socket.try_recv_from(&mut []);
    let _: std::io::Result<usize> = socket.try_send_to(&[], "1.2.3.4:5".parse().unwrap());
    let _: std::io::Result<(usize, std::net::SocketAddr)> =
        socket.recv_buf_from(&mut Vec::new()).await;
    let _: std::io::Result<()> = socket.join_multicast_v4(
        std::net::Ipv4Addr::LOCALHOST,
        std::net::Ipv4Addr::UNSPECIFIED,
    );
    let _: std::io::Result<TcpSocket> = TcpSocket::new_v4();
    let mut command = tokio::process::Command::new("true");
    command
        .env_clear()
        .env_remove("A")
        .arg0("t")
        .uid(0)
        .gid(0)
        .process_group(0);
    let _: bool = command.get_kill_on_drop();
    let _: &mut Builder = Builder::new_multi_thread()
        .name("runtime")
        .on_thread_park(|| {})
        .on_thread_unpark(|| {})
        .max_io_events_per_tick(1024)
        .max_io_events_per_busy_tick(1024);
    let _: tokio::io::Stdout = tokio::io::stdout();
    let _: tokio::io::Stderr = tokio::io::stderr();
    let _: tokio::io::Stdin = tokio::io::stdin();
    let _: std::io::Result<tokio::runtime::LocalRuntime> =
        Builder::new_current_thread().build_local(tokio::runtime::LocalOptions::default());
    let _: bool = tokio::runtime::is_rt_shutdown_err(&std::io::Error::other("x"));
    let _: Option<usize> = tokio::runtime::worker_index();
    let handle = Handle::current();
    let _: tokio::runtime::Id = handle.id();
    let _: Option<&str> = handle.name();
    let metrics: tokio::runtime::RuntimeMetrics = handle.metrics();
    let _: usize = metrics.num_workers() + metrics.num_alive_tasks() + metrics.global_queue_depth();
    let _: tokio::runtime::Id = LocalSet::new().id();
    let _: std::io::Result<(
        tokio::net::unix::pipe::Sender,
        tokio::net::unix::pipe::Receiver,
    )> = tokio::net::unix::pipe::pipe();
    let _: std::io::Result<File> = File::create_new("/x").await;
    let _: &std::process::Command = command.as_std();
    let _: &tokio::net::TcpStream = stream.as_ref();
    let _: std::io::Result<File> = file.try_clone().await;
    let _: tokio::fs::FileType = metadata.file_type();
    let _: std::fs::Permissions = metadata.permissions();
    let _: std::io::Result<std::time::SystemTime> = metadata.modified();
    let (_read, _write): (OwnedReadHalf, OwnedWriteHalf) = stream.into_split();
    let _ = tokio::signal::ctrl_c();
    let _ = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    let _ = tokio::process::Command::new("true").spawn();
    let _ = tokio::spawn(async {});
    let _ = tokio::sync::Mutex::new(0);
    let _ = tokio::io::duplex(8);
}

/// A child's pipes, as tokio's fields (no child is ever made).
fn child_pipes(child: &mut tokio::process::Child) {
    let _: Option<tokio::process::ChildStdin> = child.stdin.take();
    let _: Option<tokio::process::ChildStdout> = child.stdout.take();
    let _: Option<tokio::process::ChildStderr> = child.stderr.take();
    let _: std::io::Result<Option<std::process::ExitStatus>> = child.try_wait();
    let _: std::io::Result<()> = child.start_kill();
}

#[test]
fn the_tables_names_compile() {}
