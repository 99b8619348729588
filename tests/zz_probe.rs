use asyncsim::net::{self, NetConfig, TcpListener, TcpStream, UdpSocket};
use asyncsim::{fault, fs, node, Config, Sim};
use futures::{AsyncReadExt, AsyncWriteExt};
use std::time::Duration;

fn probe<T: std::fmt::Debug + 'static>(
    what: &str,
    f: impl std::future::Future<Output = T> + 'static,
) {
    let run = Sim::new(Config::new()).run(f);
    match run.result {
        Ok(v) => println!("{what}: ok {v:?}"),
        Err(e) => println!(
            "{what}: FAIL {:?}: {}",
            e.kind,
            e.message.lines().next().unwrap_or("")
        ),
    }
}

#[test]
fn probes() {
    probe("udp send_to unknown host", async {
        let s = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        s.send_to(b"x", "nosuch:1")
            .await
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("tcp bind unknown host", async {
        TcpListener::bind("nosuch:1")
            .await
            .map(|_| ())
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("tcp connect garbage", async {
        TcpStream::connect("::::")
            .await
            .map(|_| ())
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("tcp connect no port", async {
        TcpStream::connect("main")
            .await
            .map(|_| ())
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("partition unknown", async {
        net::partition("nosuch", "main");
        "returned"
    });
    probe("set_link unknown", async {
        net::set_link("nosuch", "main", NetConfig::new());
        "returned"
    });
    probe("isolate unknown", async {
        net::isolate("nosuch");
        "returned"
    });
    probe("node empty name", async {
        node::Builder::new("")
            .try_start(|| async {})
            .map(|n| n.name())
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("node name with colon", async {
        node::Builder::new("a:b")
            .try_start(|| async {})
            .map(|n| n.name())
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("node called main", async {
        node::Builder::new("main")
            .try_start(|| async {})
            .map(|n| n.name())
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("node called localhost", async {
        node::Builder::new("localhost")
            .try_start(|| async {})
            .map(|n| n.name())
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("node named like an ip", async {
        node::Builder::new("10.0.0.1")
            .try_start(|| async {})
            .map(|n| n.name())
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("node ip loopback", async {
        node::Builder::new("x")
            .ip("127.0.0.1".parse().unwrap())
            .try_start(|| async {})
            .map(|n| n.name())
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("nemesis unknown node", async {
        fault::Nemesis::new()
            .crash(&["nosuch"])
            .rounds(2)
            .interval(Duration::from_millis(1), Duration::from_millis(2))
            .spawn()
            .await
            .map_err(|e| e.to_string())
    });
    probe("nemesis crash main", async {
        fault::Nemesis::new()
            .crash(&["main"])
            .rounds(2)
            .interval(Duration::from_millis(1), Duration::from_millis(2))
            .spawn()
            .await
            .map_err(|e| e.to_string())
    });
    probe("nemesis interval reversed", async {
        node::Builder::new("db").start(|| async {});
        fault::Nemesis::new()
            .crash(&["db"])
            .rounds(2)
            .interval(Duration::from_millis(5), Duration::from_millis(1))
            .spawn()
            .await
            .map_err(|e| e.to_string())
    });
    probe("netconfig latency reversed", async {
        node::Builder::new("db").start(|| async {});
        net::set_link(
            "main",
            "db",
            NetConfig::new().latency(Duration::from_millis(5), Duration::from_millis(1)),
        );
        "set"
    });
    probe("netconfig loss 2.0", async {
        node::Builder::new("db").start(|| async {});
        net::set_link("main", "db", NetConfig::new().loss(2.0));
        "set"
    });
    probe("netconfig loss NaN", async {
        node::Builder::new("db").start(|| async {});
        net::set_link("main", "db", NetConfig::new().loss(f64::NAN));
        "set"
    });
    probe("udp huge datagram", async {
        let s = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        s.send_to(&vec![0u8; 70000], "main:9")
            .await
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("udp recv on zero buf", async {
        let a = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        a.send_to(b"abc", "main:5000").await.unwrap();
        let mut b = [0u8; 0];
        a.recv_from(&mut b)
            .await
            .map(|(n, _)| n)
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("write after close", async {
        node::Builder::new("db").start(|| async {
            let l = TcpListener::bind("0.0.0.0:1").await.unwrap();
            let (_s, _) = l.accept().await.unwrap();
            std::future::pending::<()>().await;
        });
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let mut s = TcpStream::connect("db:1").await.unwrap();
        s.close().await.unwrap();
        s.write_all(b"x")
            .await
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("fs relative path", async {
        fs::write("rel", b"x")
            .await
            .map_err(|e| (e.kind(), e.to_string()))?;
        fs::read("/rel")
            .await
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("fs dotdot", async {
        fs::write("/../x", b"x")
            .await
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("fs empty path", async {
        fs::write("", b"x")
            .await
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("fs write to dir", async {
        fs::create_dir_all("/d").await.unwrap();
        fs::write("/d", b"x")
            .await
            .map_err(|e| (e.kind(), e.to_string()))
    });
    probe("restart running node", async {
        let n = node::Builder::new("db").start(|| async {});
        n.restart();
        n.is_running()
    });
    probe("crash twice", async {
        let n = node::Builder::new("db").start(|| async {});
        n.crash();
        n.crash();
        n.is_running()
    });
    probe("node current outside node ok", async {
        node::current().name()
    });
    probe("random_range empty", async {
        asyncsim::random_range(5..5u32)
    });
    probe("connect to self", async {
        let l = TcpListener::bind("0.0.0.0:80").await.unwrap();
        let c = TcpStream::connect("127.0.0.1:80");
        let (a, b) = futures::join!(c, l.accept());
        (a.is_ok(), b.is_ok())
    });
    probe("deadlock read", async {
        node::Builder::new("db").start(|| async {
            let l = TcpListener::bind("0.0.0.0:1").await.unwrap();
            let (_s, _) = l.accept().await.unwrap();
            std::future::pending::<()>().await;
        });
        asyncsim::time::sleep(Duration::from_millis(1)).await;
        let mut s = TcpStream::connect("db:1").await.unwrap();
        let mut b = [0u8; 1];
        s.read(&mut b).await.map_err(|e| e.to_string())
    });
}
