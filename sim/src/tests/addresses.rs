//! `ToAddress::host_and_port`, the allocation-free way a datagram's host is
//! looked up, says exactly what `to_address` says as `Address::Host`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::world::net::{Address, ToAddress};

fn agrees<A: ToAddress + ?Sized>(address: &A) {
    let slow = address.to_address().ok();
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
    agrees(&SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9));
    assert_eq!(("server", 9u16).host_and_port(), Some(("server", 9)));
    assert_eq!("server:9".host_and_port(), Some(("server", 9)));
    assert_eq!(("10.0.0.2", 9u16).host_and_port(), None);
}
