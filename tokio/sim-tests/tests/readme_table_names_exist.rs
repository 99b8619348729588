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
use tokio::sync::watch::error::{RecvError, SendError};
use tokio::sync::watch::{channel, Receiver, Ref, Sender};
use tokio::task::coop::{
    consume_budget as coop_consume_budget, cooperative, has_budget_remaining, poll_proceed,
    unconstrained as coop_unconstrained, Coop, RestoreOnPending, Unconstrained,
};
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

/// The `net` rows' methods beyond the first table's: the readiness, peek,
/// `try_` and `poll_` forms, the Unix sockets and pipes, and what is refused
/// by name (`from_std`, `into_std`, `try_io`, `async_io`).
#[allow(clippy::too_many_arguments)]
async fn net_rows(
    context: &mut std::task::Context<'_>,
    mut stream: TcpStream,
    socket: UdpSocket,
    unix_stream: UnixStream,
    datagram: tokio::net::UnixDatagram,
    sender: tokio::net::unix::pipe::Sender,
    receiver: tokio::net::unix::pipe::Receiver,
    interest: tokio::io::Interest,
) {
    use std::io::Result;
    use std::net::SocketAddr;
    use std::task::Poll;
    let mut bytes = [0u8; 4];
    let mut read_buf = tokio::io::ReadBuf::new(&mut bytes);
    let _: Poll<Result<usize>> = stream.poll_peek(context, &mut read_buf);
    let _: Poll<Result<()>> = stream.poll_read_ready(context);
    let _: Poll<Result<()>> = stream.poll_write_ready(context);
    let _: Result<usize> = stream.try_write(&[]);
    let _: Result<usize> = stream.try_write_vectored(&[]);
    let _: Result<Option<std::io::Error>> = stream.take_error();
    let (mut read, write): (ReadHalf<'_>, WriteHalf<'_>) = stream.split();
    let _: Result<usize> = read.peek(&mut []).await;
    let _: Result<usize> = write.try_write(&[]);
    let _: Result<()> = socket.connect("1.2.3.4:5").await;
    let _: Result<SocketAddr> = socket.peer_addr();
    let _: Result<usize> = socket.peek(&mut []).await;
    let _: Result<usize> = socket.try_send(&[]);
    let _: Result<usize> = socket.try_recv(&mut []);
    let _: Result<usize> = socket.try_recv_buf(&mut Vec::new());
    let _: Result<(usize, SocketAddr)> = socket.try_recv_buf_from(&mut Vec::new());
    let _: Result<usize> = socket.try_peek(&mut []);
    let _: Result<(usize, SocketAddr)> = socket.try_peek_from(&mut []);
    let _: Result<SocketAddr> = socket.try_peek_sender();
    let _: Result<usize> = socket.recv_buf(&mut Vec::new()).await;
    let _: Poll<Result<()>> = socket.poll_recv(context, &mut read_buf);
    let _: Poll<Result<SocketAddr>> = socket.poll_recv_from(context, &mut read_buf);
    let _: Poll<Result<usize>> = socket.poll_send(context, &[]);
    let _: Poll<Result<usize>> = socket.poll_send_to(context, &[], "1.2.3.4:5".parse().unwrap());
    let _: Poll<Result<()>> = socket.poll_peek(context, &mut read_buf);
    let _: Poll<Result<SocketAddr>> = socket.poll_peek_from(context, &mut read_buf);
    let _: Poll<Result<SocketAddr>> = socket.poll_peek_sender(context);
    let _: Poll<Result<()>> = socket.poll_recv_ready(context);
    let _: Poll<Result<()>> = socket.poll_send_ready(context);
    let _: Result<()> = socket.readable().await;
    let _: Result<()> = socket.writable().await;
    let _: Result<tokio::io::Ready> = socket.ready(interest).await;
    let _: Result<()> = socket.set_broadcast(true);
    let _: Result<u32> = socket.multicast_ttl_v4();
    let _: Result<Option<Vec<u8>>> = socket.device();
    let _: Result<UnixListener> = UnixListener::bind("/p");
    let address: UnixSocketAddr = unix_stream.local_addr().unwrap();
    let _: Result<UnixListener> = UnixListener::bind_addr(&address);
    let _: Result<UnixStream> = UnixStream::connect_addr(&address).await;
    let _: Result<(UnixStream, UnixStream)> = UnixStream::pair();
    let _: Result<UCred> = unix_stream.peer_cred();
    let _: Result<usize> = unix_stream.try_read(&mut []);
    let _: Result<tokio::io::Ready> = unix_stream.ready(interest).await;
    let (read, write): (UnixOwnedReadHalf, tokio::net::unix::OwnedWriteHalf) =
        unix_stream.into_split();
    let _: std::result::Result<UnixStream, tokio::net::unix::ReuniteError> = read.reunite(write);
    let _: Result<tokio::net::UnixDatagram> = tokio::net::UnixDatagram::bind("/d");
    let _: Result<tokio::net::UnixDatagram> = tokio::net::UnixDatagram::unbound();
    let _: Result<(tokio::net::UnixDatagram, tokio::net::UnixDatagram)> =
        tokio::net::UnixDatagram::pair();
    let _: Result<()> = datagram.connect("/d");
    let _: Result<usize> = datagram.send(&[]).await;
    let _: Result<usize> = datagram.send_to(&[], "/d").await;
    let _: Result<(usize, UnixSocketAddr)> = datagram.recv_from(&mut []).await;
    let _: Result<usize> = datagram.try_send_to(&[], "/d");
    let _: Result<usize> = datagram.try_recv(&mut []);
    let _: Poll<Result<usize>> = datagram.poll_send(context, &[]);
    let _: Poll<Result<UnixSocketAddr>> = datagram.poll_recv_from(context, &mut read_buf);
    let _: Result<(usize, UnixSocketAddr)> = datagram.recv_buf_from(&mut Vec::new()).await;
    let _: Result<UnixSocketAddr> = datagram.peer_addr();
    let _: Result<()> = datagram.shutdown(std::net::Shutdown::Both);
    let unix_socket: tokio::net::UnixSocket = tokio::net::UnixSocket::new_stream().unwrap();
    let _: Result<()> = unix_socket.bind("/u");
    let _: Result<UnixListener> = unix_socket.listen(1);
    let _: Result<UnixStream> = tokio::net::UnixSocket::new_stream()
        .unwrap()
        .connect("/u")
        .await;
    let _: Result<tokio::net::UnixDatagram> =
        tokio::net::UnixSocket::new_datagram().unwrap().datagram();
    let _: Result<tokio::net::unix::pipe::Receiver> =
        tokio::net::unix::pipe::OpenOptions::new().open_receiver("/f");
    let _: Result<tokio::net::unix::pipe::Sender> =
        tokio::net::unix::pipe::OpenOptions::new().open_sender("/f");
    let _: Result<tokio::io::Ready> = sender.ready(interest).await;
    let _: Result<usize> = sender.try_write(&[]);
    let _: Result<usize> = receiver.try_read(&mut []);
    let _: Result<()> = receiver.readable().await;
    let _: Result<tokio::net::unix::pipe::Sender> =
        tokio::net::unix::pipe::Sender::from_file(std::fs::File::open("/f").unwrap());
    let _: Result<tokio::net::unix::pipe::Receiver> =
        tokio::net::unix::pipe::Receiver::from_owned_fd(std::os::fd::OwnedFd::from(
            std::fs::File::open("/f").unwrap(),
        ));
    let _: Result<std::os::fd::OwnedFd> = sender.into_blocking_fd();
    let _: Result<std::os::fd::OwnedFd> = receiver.into_nonblocking_fd();
    let _: Result<TcpListener> = TcpListener::from_std(std::net::TcpListener::bind("0:0").unwrap());
    let _: Result<TcpStream> = TcpStream::from_std(std::net::TcpStream::connect("0:0").unwrap());
    let _: Result<UdpSocket> = UdpSocket::from_std(std::net::UdpSocket::bind("0:0").unwrap());
    let _: Result<std::net::UdpSocket> = socket.into_std();
    let _: Result<()> = datagram.try_io(interest, || Ok(()));
    let _: Result<()> = datagram.async_io(interest, || Ok(())).await;
    let _: TcpSocket = TcpSocket::from_std_stream(std::net::TcpStream::connect("0:0").unwrap());
}

/// The `fs` and `runtime` rows' items beyond the first table's.
async fn fs_and_runtime_rows(mut file: File, entry: tokio::fs::DirEntry) {
    let _: u64 = entry.ino();
    let _: usize = file.max_buf_size();
    file.set_max_buf_size(1);
    let _: std::io::Result<()> = file.set_modified(std::time::SystemTime::UNIX_EPOCH).await;
    let times: tokio::fs::FileTimes = tokio::fs::FileTimes::new()
        .set_accessed(std::time::SystemTime::UNIX_EPOCH)
        .set_modified(std::time::SystemTime::UNIX_EPOCH);
    let _: std::io::Result<()> = file.set_times(times).await;
    let metadata = tokio::fs::metadata("/f").await.unwrap();
    let _: std::io::Result<std::time::SystemTime> = metadata.accessed();
    let _: std::io::Result<std::time::SystemTime> = metadata.created();
    let _: std::time::SystemTime = tokio::asyncsim::time::system_now();
    let _: &mut OpenOptions = OpenOptions::new().custom_flags(0);
    let _: std::result::Result<std::fs::File, File> = file.try_into_std();
    let _: File = File::from_std(std::fs::File::open("/f").unwrap());
    let local = tokio::runtime::LocalRuntime::new().unwrap();
    let _: tokio::runtime::RuntimeMetrics = local.metrics();
    let _: JoinHandle<()> = local.spawn_local(async {});
    let _: tokio::runtime::RuntimeMetrics = Runtime::new().unwrap().metrics();
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
