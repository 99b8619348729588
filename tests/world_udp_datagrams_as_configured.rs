//! Datagrams may reorder, drop or duplicate exactly as their link is
//! configured — and with a configuration of no faults (a fixed latency, no
//! loss, no duplication) they never do. A full receive buffer drops.

use std::time::Duration;

use asyncsim::net::{NetConfig, UdpSocket};
use asyncsim::{node, Explore};

const COUNT: u8 = 20;

/// Sends `COUNT` numbered datagrams from node `sender` to main's socket on
/// port 9000 over a link configured `config`; returns what arrived, in
/// arrival order.
async fn exchange(config: NetConfig) -> Vec<u8> {
    let inbox = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
    node::Builder::new("sender").start(|| async {
        let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        for number in 0..COUNT {
            socket.send_to(&[number], "main:9000").await.unwrap();
            if asyncsim::random_range(0..2u8) == 0 {
                asyncsim::time::sleep(Duration::from_micros(500)).await;
            }
        }
    });
    asyncsim::net::set_link("main", "sender", config);
    let mut got = Vec::new();
    let mut buf = [0u8; 4];
    // Everything has arrived (or never will) well within a second.
    while let Ok(Ok((len, from))) =
        asyncsim::time::timeout(Duration::from_secs(1), inbox.recv_from(&mut buf)).await
    {
        assert_eq!(len, 1);
        assert_eq!(from.ip(), node::lookup("sender").unwrap().ip());
        got.push(buf[0]);
    }
    got
}

fn fixed() -> NetConfig {
    NetConfig::new().latency(Duration::from_millis(2), Duration::from_millis(2))
}

fn is_sorted_without_repeats(got: &[u8]) -> bool {
    got.windows(2).all(|pair| pair[0] < pair[1])
}

#[test]
fn with_no_faults_configured_datagrams_arrive_once_each_in_order() {
    asyncsim::check(Explore::new().runs(300), || async {
        let got = exchange(fixed()).await;
        assert_eq!(got, (0..COUNT).collect::<Vec<_>>());
    });
}

#[test]
fn a_latency_range_reorders_but_never_drops_or_duplicates() {
    let config = || NetConfig::new().latency(Duration::from_millis(1), Duration::from_millis(9));
    asyncsim::check(Explore::new().runs(300), move || async move {
        let mut got = exchange(config()).await;
        got.sort_unstable();
        assert_eq!(got, (0..COUNT).collect::<Vec<_>>());
    });
    let reordered = asyncsim::find(
        Explore::new().runs(300),
        move || async move { exchange(config()).await },
        |got| !is_sorted_without_repeats(got),
    );
    assert!(reordered.is_some(), "no schedule reordered datagrams");
}

#[test]
fn loss_drops_some_datagrams_and_never_duplicates_or_reorders() {
    let config = || fixed().loss(0.2);
    asyncsim::check(Explore::new().runs(300), move || async move {
        let got = exchange(config()).await;
        assert!(is_sorted_without_repeats(&got), "{got:?}");
    });
    let lost = asyncsim::find(
        Explore::new().runs(300),
        move || async move { exchange(config()).await },
        |got| got.len() < COUNT as usize,
    );
    assert!(lost.is_some(), "no schedule lost a datagram");
}

#[test]
fn duplication_repeats_some_datagrams_and_never_loses_one() {
    let config = || fixed().duplicate(0.2);
    asyncsim::check(Explore::new().runs(300), move || async move {
        let got = exchange(config()).await;
        let mut distinct = got.clone();
        distinct.dedup();
        assert_eq!(distinct, (0..COUNT).collect::<Vec<_>>(), "{got:?}");
    });
    let repeated = asyncsim::find(
        Explore::new().runs(300),
        move || async move { exchange(config()).await },
        |got| got.len() > COUNT as usize,
    );
    assert!(repeated.is_some(), "no schedule duplicated a datagram");
}

#[test]
fn a_full_receive_buffer_drops_what_does_not_fit() {
    asyncsim::check(Explore::new().runs(100), || async {
        let inbox = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        inbox.set_recv_buffer(3);
        let outbox = UdpSocket::bind("0.0.0.0:9001").await.unwrap();
        for number in 0..10u8 {
            outbox.send_to(&[number], "127.0.0.1:9000").await.unwrap();
        }
        // Nobody reads until all ten have arrived: three fit.
        asyncsim::time::sleep(Duration::from_millis(10)).await;
        let mut got = Vec::new();
        let mut buf = [0u8; 1];
        while let Ok(Ok(_)) =
            asyncsim::time::timeout(Duration::from_millis(10), inbox.recv_from(&mut buf)).await
        {
            got.push(buf[0]);
        }
        assert_eq!(got, [0, 1, 2]);
        assert_eq!(inbox.dropped_full(), 7);
    });
}

#[test]
fn with_faults_off_a_lossy_duplicating_link_delivers_each_datagram_once() {
    let config = || fixed().loss(0.5).duplicate(0.5);
    asyncsim::check(
        Explore::new()
            .runs(200)
            .config(asyncsim::Config::new().faults(false)),
        move || async move {
            let got = exchange(config()).await;
            assert_eq!(got, (0..COUNT).collect::<Vec<_>>());
        },
    );
}

#[test]
fn buggify_is_true_at_its_configured_rate_and_never_with_faults_off() {
    let body = || async {
        let mut hits = 0u32;
        for _ in 0..100 {
            hits += u32::from(asyncsim::fault::buggify());
        }
        hits
    };
    let on = asyncsim::Sim::new(asyncsim::Config::new().seed(3).buggify(0.2)).run(body());
    let hits = on.result.unwrap();
    assert!((5..40).contains(&hits), "{hits} of 100 at rate 0.2");
    let off =
        asyncsim::Sim::new(asyncsim::Config::new().seed(3).buggify(0.2).faults(false)).run(body());
    assert_eq!(off.result.unwrap(), 0);
    assert!(
        off.tape.draws().is_empty(),
        "faults off makes no fault draws"
    );
    let default = asyncsim::Sim::new(asyncsim::Config::new().seed(3)).run(body());
    assert_eq!(default.result.unwrap(), 0, "the default rate is 0");
}

#[test]
fn config_net_sets_every_links_default() {
    let config = asyncsim::Config::new().net(fixed().loss(1.0));
    let run = asyncsim::Sim::new(config).run(async {
        let inbox = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        node::Builder::new("sender").start(|| async {
            let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
            socket.send_to(b"x", "main:9000").await.unwrap();
        });
        let mut buf = [0u8; 1];
        asyncsim::time::timeout(Duration::from_secs(1), inbox.recv_from(&mut buf))
            .await
            .is_err()
    });
    assert!(
        run.result.unwrap(),
        "a datagram crossed a link configured to lose all"
    );
}
