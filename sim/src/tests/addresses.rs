//! `ToAddress::host_and_port`, the allocation-free way a datagram's host is
//! looked up, says exactly what `to_address` says as `Address::Host`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::world::net::{Address, ToAddress};

fn agrees<A: ToAddress + ?Sized>(address: &A) {
    let slow = address.to_address().ok();
    // `socket_addr`, the way a send to a `SocketAddr` skips the `Address`.
    match (&slow, address.socket_addr()) {
        (Some(Address::Ip(ip)), Some(fast)) => assert_eq!(*ip, fast),
        (_, None) => {}
        (_, Some(fast)) => panic!("socket_addr gave {fast} where to_address gave {slow:?}"),
    }
    let fast = address.host_and_port();
    match (&slow, fast) {
        (Some(Address::Host(host, port)), Some((fast_host, fast_port))) => {
            assert_eq!((host.as_str(), *port), (fast_host, fast_port));
        }
        (Some(Address::Host(..)), None) | (Some(Address::Ip(_)) | None, None) => {}
        (_, Some(fast)) => panic!("host_and_port gave {fast:?} where to_address gave {slow:?}"),
    }
}

#[test]
fn host_and_port_names_a_host_only_where_to_address_would() {
    for text in [
        "server:9",
        "localhost:80",
        "db-1:65535",
        "10.0.0.2:80",
        "[::1]:80",
        "1abc:9",
        "server",
        "server:x",
        "server:70000",
        "a:b:9",
        ":9",
    ] {
        agrees(text);
        agrees(&text.to_string());
        agrees(&&text);
    }
    for host in ["server", "localhost", "10.0.0.2", "::1", "fe80::1", ""] {
        agrees(&(host, 9u16));
    }
    let local = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9);
    agrees(&local);
    assert_eq!(local.socket_addr(), Some(local));
    assert_eq!(("10.0.0.2", 9u16).socket_addr(), None);
    assert_eq!(("server", 9u16).host_and_port(), Some(("server", 9)));
    assert_eq!("server:9".host_and_port(), Some(("server", 9)));
    assert_eq!(("10.0.0.2", 9u16).host_and_port(), None);
}

/// Datagrams of every size around the inline limit (32 bytes) arrive whole,
/// and a short read truncates, whether the bytes were kept in place or in a
/// buffer.
#[test]
fn datagrams_short_and_long_arrive_whole() {
    use crate::{net::UdpSocket, Config, Sim};
    let run = Sim::new(Config::new()).run(async {
        let a = UdpSocket::bind("0.0.0.0:5000").await.unwrap();
        let b = UdpSocket::bind("0.0.0.0:5001").await.unwrap();
        let mut buf = [0u8; 100];
        for len in [0, 1, 31, 32, 33, 64, 100] {
            let sent: Vec<u8> = (0..len).map(|i| i as u8 ^ 0x5a).collect();
            a.send_to(&sent, "127.0.0.1:5001").await.unwrap();
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from.port()), (&sent[..], 5000));
        }
        for len in [8, 40] {
            let sent: Vec<u8> = (0..len).map(|i| i as u8).collect();
            a.send_to(&sent, ("localhost", 5001)).await.unwrap();
            let mut short = [0u8; 5];
            let (n, _) = b.recv_from(&mut short).await.unwrap();
            assert_eq!(&short[..n], &sent[..5]);
        }
    });
    run.result.unwrap();
}
