//! The world's public names, exactly as the project's API page writes them
//! (section "The world": its example and every row of its table). Tests
//! outside the crates are written against these names, so this file is the
//! contract: it must compile as written, and the example must run.

use asyncsim::{fault, fs, net, node, Config, Explore, NetConfig, Sim, Summary};
use futures::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// The page's example, as written (inside a function that can use `?`).
#[allow(unused_must_use)]
async fn the_page_example() -> io::Result<bool> {
    let server = node::Builder::new("server").start(|| async {
        // `init`: runs now, and again on each restart
        let listener = net::TcpListener::bind("0.0.0.0:7000").await.unwrap();
        loop {
            let (mut stream, _peer) = listener.accept().await.unwrap();
            asyncsim::spawn(async move {
                // on `server`, like its parent
                let mut buf = [0u8; 8];
                while stream.read_exact(&mut buf).await.is_ok() {
                    let mut log = fs::OpenOptions::new()
                        .append(true)
                        .create(true)
                        .open("/log")
                        .await
                        .unwrap();
                    log.write_all(&buf).await.unwrap();
                    log.sync_all().await.unwrap(); // durable from here on
                    stream.write_all(&buf).await.unwrap();
                }
            });
        }
    });
    let mut conn = net::TcpStream::connect("server:7000").await?; // from node `main`
    conn.write_all(b"12345678").await?;
    let mut reply = [0u8; 8];
    conn.read_exact(&mut reply).await?;
    let got_reply = &reply == b"12345678";
    server.crash(); // its tasks dropped, connections reset
    server.restart(); // `init` again, on the same disk
    net::partition("main", "server");
    net::repair("main", "server");
    let nemesis: asyncsim::task::JoinHandle<()> = fault::Nemesis::new()
        .crash(&["server"])
        .partition(&["main", "server"])
        .spawn();
    drop(nemesis);
    asyncsim::sometimes("reply after a restart", got_reply); // counted across runs
    Ok(got_reply)
}

#[test]
fn the_page_example_runs() {
    let run = Sim::new(Config::new().seed(3)).run(the_page_example());
    assert!(run.result.unwrap().unwrap(), "the echo came back");
    asyncsim::check(Explore::new().runs(100).persist(false), || async {
        assert!(the_page_example().await.unwrap(), "the echo came back");
    });
}

/// Every row of the page's table, with the types it states.
#[allow(dead_code, unused_variables, unused_must_use)]
async fn every_row_of_the_table() -> io::Result<()> {
    // node::Builder::new(name).start(init) -> Node; .ip(IpAddr)
    let init = || async {};
    let a: node::Node = node::Builder::new("a")
        .ip(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9)))
        .start(init);
    // Node: .name(), .ip(), .spawn(fut) -> JoinHandle<T>, .crash(), .restart(), .is_running(); node::current() -> Node
    let _: String = a.name();
    let _: IpAddr = a.ip();
    let handle: asyncsim::task::JoinHandle<u8> = a.spawn(async { 7u8 });
    let _: Result<u8, asyncsim::task::JoinError> = handle.await;
    let _: bool = a.is_running();
    a.crash();
    a.restart();
    let here: node::Node = node::current();

    // net::TcpListener::{bind, accept, local_addr}
    let listener: net::TcpListener = net::TcpListener::bind("0.0.0.0:80").await?;
    let _: io::Result<SocketAddr> = listener.local_addr();
    let accepted: io::Result<(net::TcpStream, SocketAddr)> = listener.accept().await;
    // net::TcpStream::{connect, peer_addr, local_addr} (+ futures::io::AsyncRead/AsyncWrite)
    let mut stream: net::TcpStream = net::TcpStream::connect("a:80").await?;
    let _: io::Result<SocketAddr> = stream.peer_addr();
    let _: io::Result<SocketAddr> = stream.local_addr();
    fn is_async_io<T: futures::io::AsyncRead + futures::io::AsyncWrite>(_: &T) {}
    is_async_io(&stream);
    let mut four = [0u8; 4];
    let _: usize = stream.read(&mut four).await?;
    let _: usize = stream.write(b"x").await?;
    stream.close().await?;
    // net::UdpSocket::{bind, send_to, recv_from, connect, send, recv, local_addr}
    let udp: net::UdpSocket = net::UdpSocket::bind("0.0.0.0:53").await?;
    let _: usize = udp.send_to(b"q", "a:53").await?;
    let (_, _): (usize, SocketAddr) = udp.recv_from(&mut four).await?;
    udp.connect("a:53").await?;
    let _: usize = udp.send(b"q").await?;
    let _: usize = udp.recv(&mut four).await?;
    let _: io::Result<SocketAddr> = udp.local_addr();

    // net::partition(a, b), net::partition_oneway(from, to), net::repair(a, b), net::isolate(n), net::rejoin(n)
    net::partition("a", "b");
    net::partition_oneway("a", "b");
    net::repair("a", "b");
    net::isolate("a");
    net::rejoin("a");
    // Config::net(NetConfig); NetConfig::new().latency(min, max).loss(p).duplicate(p).tcp_timeout(d); net::set_link(a, b, NetConfig)
    let link: NetConfig = NetConfig::new()
        .latency(Duration::from_millis(1), Duration::from_millis(5))
        .loss(0.01)
        .duplicate(0.01)
        .tcp_timeout(Duration::from_secs(3));
    let _: Config = Config::new().net(link.clone());
    let _: NetConfig = net::NetConfig::new();
    net::set_link("a", "b", link);

    // fs::{read, write, rename, remove_file, create_dir_all, metadata, sync_dir}
    fs::create_dir_all("/d/e").await?;
    fs::write("/d/f", b"bytes").await?;
    let _: Vec<u8> = fs::read("/d/f").await?;
    fs::rename("/d/f", "/d/g").await?;
    let metadata = fs::metadata("/d/g").await?;
    let _: u64 = metadata.len();
    fs::sync_dir("/d").await?;
    fs::remove_file("/d/g").await?;
    // fs::File::{create, open, sync_all, sync_data}, fs::OpenOptions (+ AsyncRead/AsyncWrite/AsyncSeek)
    let mut file: fs::File = fs::File::create("/h").await?;
    file.write_all(b"abc").await?;
    file.sync_data().await?;
    file.sync_all().await?;
    file.seek(io::SeekFrom::Start(0)).await?;
    let mut text = Vec::new();
    file.read_to_end(&mut text).await?;
    let _: fs::File = fs::File::open("/h").await?;
    let _: fs::File = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/h")
        .await?;

    // fault::buggify() -> bool; Config::buggify(rate)
    let _: bool = fault::buggify();
    let _: Config = Config::new().buggify(0.05);
    // fault::Nemesis::new().crash(&[..]).partition(&[..]).interval(min, max).spawn() -> JoinHandle<()>
    let nemesis: asyncsim::JoinHandle<()> = fault::Nemesis::new()
        .crash(&["a"])
        .partition(&["a", "b"])
        .interval(Duration::from_millis(1), Duration::from_millis(9))
        .spawn();
    drop(nemesis);
    // asyncsim::always(name, cond), asyncsim::sometimes(name, cond)
    asyncsim::always("a name", true);
    asyncsim::sometimes("a name", true);
    // Config::faults(bool)
    let _: Config = Config::new().faults(false);
    Ok(())
}

/// `Summary::sometimes` (name -> runs where it held) and
/// `Explore::require_sometimes()`.
#[test]
fn summary_counts_sometimes_by_name() {
    let summary: Summary =
        asyncsim::explore(Explore::new().runs(8).require_sometimes(), || async {
            asyncsim::sometimes("held", true);
        });
    let counts: &BTreeMap<String, u64> = &summary.sometimes;
    assert_eq!(counts.get("held"), Some(&8), "{counts:?}");
    assert!(summary.first_failure.is_none());
}
