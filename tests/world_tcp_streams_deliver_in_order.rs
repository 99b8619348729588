//! A TCP stream delivers every byte, in order, whatever the latency and the
//! loss on its link (a lost segment is a retransmission delay, never lost
//! bytes); half-close gives the reader EOF; nothing listening is refused.

use std::time::Duration;

use asyncsim::net::{NetConfig, TcpListener, TcpStream};
use asyncsim::{node, Config, Explore, Sim, Strategy};
use futures::{AsyncReadExt, AsyncWriteExt};

fn lossy() -> NetConfig {
    NetConfig::new()
        .latency(Duration::from_millis(1), Duration::from_millis(40))
        .loss(0.3)
}

/// The client's chunks: sizes drawn from the tape.
fn chunks() -> Vec<Vec<u8>> {
    let count = asyncsim::random_range(1..12usize);
    let mut next = 0u8;
    (0..count)
        .map(|_| {
            let size = asyncsim::random_range(1..300usize);
            (0..size)
                .map(|_| {
                    next = next.wrapping_add(1);
                    next
                })
                .collect()
        })
        .collect()
}

#[test]
fn stream_bytes_arrive_complete_and_in_order_under_any_latency_and_loss() {
    for strategy in [Strategy::Random, Strategy::Pct { depth: 2 }] {
        asyncsim::check(Explore::new().runs(300).strategy(strategy), || async {
            let received = asyncsim::sync::oneshot::channel();
            let (tell, heard) = received;
            let tell = std::rc::Rc::new(std::cell::RefCell::new(Some(tell)));
            node::Builder::new("server").start(move || {
                let tell = tell.clone();
                async move {
                    let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
                    let (mut stream, _) = listener.accept().await.unwrap();
                    let mut all = Vec::new();
                    stream.read_to_end(&mut all).await.unwrap();
                    if let Some(tell) = tell.borrow_mut().take() {
                        let _ = tell.send(all);
                    }
                }
            });
            asyncsim::net::set_link("main", "server", lossy());
            asyncsim::time::sleep(Duration::from_millis(1)).await;
            let sent = chunks();
            let mut stream = TcpStream::connect("server:7000").await.unwrap();
            for chunk in &sent {
                stream.write_all(chunk).await.unwrap();
                if asyncsim::random_range(0..3u8) == 0 {
                    asyncsim::yield_now().await;
                }
            }
            stream.close().await.unwrap();
            let all = heard.await.unwrap();
            assert_eq!(
                all,
                sent.concat(),
                "the server read other bytes than were sent"
            );
        });
    }
}

/// A reader slower than its writer: tens of kilobytes wait unread while the
/// bytes already read pile up before them (the pipe drops those now and
/// then, moving the unread to its buffer's front); every byte still arrives,
/// in order.
#[test]
fn a_slow_reader_gets_every_byte_of_a_fast_writer_in_order() {
    asyncsim::check(Explore::new().runs(20), || async {
        let (tell, heard) = asyncsim::sync::oneshot::channel();
        let tell = std::rc::Rc::new(std::cell::RefCell::new(Some(tell)));
        node::Builder::new("server").start(move || {
            let tell = tell.clone();
            async move {
                let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut all = Vec::new();
                let mut buf = [0u8; 400];
                loop {
                    let n = stream.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    all.extend_from_slice(&buf[..n]);
                    asyncsim::time::sleep(Duration::from_millis(1)).await;
                }
                if let Some(tell) = tell.borrow_mut().take() {
                    let _ = tell.send(all);
                }
            }
        });
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let sent: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
        let mut stream = TcpStream::connect("server:7000").await.unwrap();
        for chunk in sent.chunks(500) {
            stream.write_all(chunk).await.unwrap();
            asyncsim::time::sleep(Duration::from_millis(1)).await;
        }
        stream.close().await.unwrap();
        let all = heard.await.unwrap();
        assert!(all == sent, "the server read other bytes than were sent");
    });
}

#[test]
fn both_directions_are_independent_and_ordered() {
    asyncsim::check(Explore::new().runs(200), || async {
        node::Builder::new("echo").start(|| async {
            let listener = TcpListener::bind("0.0.0.0:9").await.unwrap();
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                drop(asyncsim::spawn(async move {
                    let mut buf = [0u8; 64];
                    loop {
                        let n = stream.read(&mut buf).await.unwrap();
                        if n == 0 {
                            return;
                        }
                        stream.write_all(&buf[..n]).await.unwrap();
                    }
                }));
            }
        });
        asyncsim::net::set_link("main", "echo", lossy());
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let stream = TcpStream::connect("echo:9").await.unwrap();
        let sent: Vec<u8> = (0..200u8).collect();
        let (mut reader, mut writer) = stream.split();
        let write = async {
            for piece in sent.chunks(7) {
                writer.write_all(piece).await.unwrap();
            }
            writer.close().await.unwrap();
        };
        let read = async {
            let mut back = Vec::new();
            reader.read_to_end(&mut back).await.unwrap();
            back
        };
        let ((), back) = futures::join!(write, read);
        assert_eq!(back, sent);
    });
}

#[test]
fn connect_to_a_port_nobody_listens_on_is_refused_and_an_unknown_host_is_not_found() {
    asyncsim::check(Explore::new().runs(50), || async {
        node::Builder::new("quiet").start(|| async {});
        let refused = TcpStream::connect("quiet:80").await.unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
        let unknown = TcpStream::connect("nowhere:80").await.unwrap_err();
        assert_eq!(unknown.kind(), std::io::ErrorKind::NotFound);
        assert!(unknown.to_string().contains("nowhere"), "{unknown}");
    });
}

#[test]
fn binding_a_port_in_use_is_addr_in_use_and_another_nodes_address_is_not_available() {
    let run = asyncsim::Sim::new(asyncsim::Config::new()).run(async {
        let _first = TcpListener::bind("0.0.0.0:7000").await.unwrap();
        let again = TcpListener::bind("127.0.0.1:7000").await.unwrap_err();
        assert_eq!(again.kind(), std::io::ErrorKind::AddrInUse);
        node::Builder::new("other").start(|| async {});
        let foreign = TcpListener::bind("other:7001").await.unwrap_err();
        assert_eq!(foreign.kind(), std::io::ErrorKind::AddrNotAvailable);
        // UDP ports are another space.
        asyncsim::net::UdpSocket::bind("0.0.0.0:7000")
            .await
            .unwrap();
    });
    run.result.unwrap();
}

#[test]
fn loopback_streams_work_inside_one_node() {
    asyncsim::check(Explore::new().runs(100), || async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = asyncsim::spawn(async move {
            let (mut stream, peer) = listener.accept().await.unwrap();
            assert_eq!(peer.ip(), asyncsim::node::current().ip());
            let mut text = String::new();
            stream.read_to_string(&mut text).await.unwrap();
            text
        });
        let mut client = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        client.write_all(b"hello ").await.unwrap();
        client.write_all(b"world").await.unwrap();
        drop(client); // EOF
        assert_eq!(server.await.unwrap(), "hello world");
    });
}

#[test]
fn a_stream_from_another_run_is_an_error_not_a_hang() {
    let mut sim = asyncsim::Sim::new(asyncsim::Config::new());
    let first = sim.run(async {
        let listener = TcpListener::bind("0.0.0.0:1").await.unwrap();
        let client = TcpStream::connect("main:1").await.unwrap();
        (listener, client)
    });
    let (listener, mut client) = first.result.unwrap();
    let second = sim.run(async move {
        let write = client.write_all(b"x").await.unwrap_err();
        let accept = listener.accept().await.unwrap_err();
        (write.to_string(), accept.to_string())
    });
    let (write, accept) = second.result.unwrap();
    assert!(write.contains("another run"), "{write}");
    assert!(accept.contains("another run"), "{accept}");
}

#[test]
fn socket_events_are_in_the_trace_and_a_blocked_read_is_named_in_the_deadlock_report() {
    let run = asyncsim::Sim::new(asyncsim::Config::new()).run(async {
        node::Builder::new("server").start(|| async {
            let listener = TcpListener::bind("0.0.0.0:6379").await.unwrap();
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.write_all(b"hi").await.unwrap();
            // Keeps the stream open and never writes again.
            std::future::pending::<()>().await;
        });
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let mut stream = TcpStream::connect("server:6379").await.unwrap();
        let mut hi = [0u8; 2];
        stream.read_exact(&mut hi).await.unwrap();
        let mut more = [0u8; 1];
        let _ = stream.read(&mut more).await; // nothing comes: a deadlock
    });
    let text = run.trace.to_string();
    for line in [
        // Every arrow reads from sender to receiver.
        "net accept TcpStream#1 from main:49152 to server:6379",
        "net connect TcpStream#0 from main:49152 to server:6379",
        "net send 2 bytes on TcpStream#1 from server:6379 to main:49152",
        "net deliver 2 bytes on TcpStream#0 from server:6379 to main:49152",
    ] {
        assert!(text.contains(line), "no `{line}` in\n{text}");
    }
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, asyncsim::FailureKind::Deadlock);
    let blocked: Vec<String> = failure
        .blocked
        .iter()
        .map(|task| task.waiting_on.clone())
        .collect();
    assert!(
        blocked.contains(&"read of TcpStream#0 from server:6379 to main:49152".to_string()),
        "{blocked:?}"
    );
}

#[test]
fn a_node_is_reached_by_its_name_or_by_its_ip_address() {
    asyncsim::check(Explore::new().runs(50), || async {
        let echo = || async {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                drop(asyncsim::spawn(async move {
                    let mut byte = [0u8; 1];
                    stream.read_exact(&mut byte).await.unwrap();
                    stream.write_all(&byte).await.unwrap();
                }));
            }
        };
        // The second node gets 10.0.0.2; `far` an address of its own.
        let db = node::Builder::new("db").start(echo);
        let far_ip: std::net::IpAddr = "192.168.7.9".parse().unwrap();
        let far = node::Builder::new("far").ip(far_ip).start(echo);
        assert_eq!(db.ip().to_string(), "10.0.0.2");
        assert_eq!(far.ip(), far_ip);
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let addresses = [
            "db:7000".to_string(),
            "10.0.0.2:7000".to_string(),
            "far:7000".to_string(),
            "192.168.7.9:7000".to_string(),
        ];
        for (index, address) in addresses.iter().enumerate() {
            let mut stream = TcpStream::connect(address.as_str()).await.unwrap();
            let expected = if index < 2 { db.ip() } else { far_ip };
            assert_eq!(stream.peer_addr().unwrap().ip(), expected, "{address}");
            stream.write_all(&[index as u8]).await.unwrap();
            let mut byte = [0u8; 1];
            stream.read_exact(&mut byte).await.unwrap();
            assert_eq!(byte[0], index as u8);
        }
        let by_socket_addr = std::net::SocketAddr::new(far_ip, 7000);
        TcpStream::connect(by_socket_addr).await.unwrap();
        let nobody = TcpStream::connect("10.9.9.9:7000").await.unwrap_err();
        assert_eq!(nobody.kind(), std::io::ErrorKind::NotFound);
    });
}

/// Whether anything listens is decided when the SYN arrives, as on a real
/// network: a client that connects in the same instant its server node
/// starts is accepted in every schedule (the server's `init` binds before
/// the SYN has crossed the link), and one whose server binds only after
/// the SYN arrived is refused, one round trip after it connected.
#[test]
fn a_listener_bound_before_the_syn_arrives_accepts_it_in_every_schedule() {
    asyncsim::check(Explore::new().runs(200).persist(false), || async {
        node::Builder::new("server").start(|| async {
            let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.write_all(b"hi").await.unwrap();
        });
        let mut stream = TcpStream::connect("server:7000").await.unwrap(); // no sleep first
        let mut hello = [0u8; 2];
        stream.read_exact(&mut hello).await.unwrap();
        assert_eq!(&hello, b"hi");
    });
    let run = Sim::new(Config::new()).run(async {
        node::Builder::new("late").start(|| async {
            asyncsim::time::sleep(Duration::from_secs(1)).await;
            let _listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
        });
        let start = asyncsim::time::Instant::now();
        let error = TcpStream::connect("late:7000").await.unwrap_err();
        (error.kind(), start.elapsed())
    });
    let (kind, took) = run.result.unwrap();
    assert_eq!(kind, std::io::ErrorKind::ConnectionRefused);
    assert!(took < Duration::from_secs(1), "refused after {took:?}");
}

/// `set_link` in the middle of a run applies to the link's next message,
/// in either direction (a stream asks for its link's config at every
/// segment; nothing kept from the old config).
#[test]
fn a_links_new_config_applies_to_its_next_message() {
    let run = Sim::new(Config::new()).run(async {
        node::Builder::new("echo").start(|| async {
            let listener = TcpListener::bind("0.0.0.0:9").await.unwrap();
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 8];
            loop {
                let n = stream.read(&mut buf).await.unwrap();
                if n == 0 {
                    return;
                }
                stream.write_all(&buf[..n]).await.unwrap();
            }
        });
        let fixed =
            |ms| NetConfig::new().latency(Duration::from_millis(ms), Duration::from_millis(ms));
        asyncsim::net::set_link("main", "echo", fixed(2));
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let mut stream = TcpStream::connect("echo:9").await.unwrap();
        let mut round_trips = Vec::new();
        for ms in [2, 10, 3] {
            asyncsim::net::set_link("echo", "main", fixed(ms));
            let start = asyncsim::time::Instant::now();
            stream.write_all(b"x").await.unwrap();
            let mut byte = [0u8; 1];
            stream.read_exact(&mut byte).await.unwrap();
            round_trips.push(start.elapsed());
        }
        assert_eq!(
            round_trips,
            [4, 20, 6].map(Duration::from_millis),
            "a round trip's time is twice its link's latency as set just before it"
        );
    });
    run.result.unwrap();
}
