//! A connected `UdpSocket` takes datagrams from its peer only, as Linux's
//! does: another sender's is dropped at its arrival (one `net drop` event
//! then, by no task, saying its receiver is connected to another peer),
//! takes no room in the receive buffer and is never received. What the
//! buffer held when `connect` was called stays and is read; what is on its
//! way is judged at its arrival, by the peer of that time.

mod net_support;
mod schedule_support;

use std::net::SocketAddr;
use std::time::Duration;

use asyncsim::harness::render::TraceExt;
use asyncsim::net::UdpSocket;
use asyncsim::time::{sleep, sleep_until, timeout, Instant};
use asyncsim::trace::{DropWhy, EventKind, NetOp, TaskId, Trace};
use asyncsim::{node, random_range, Sim};
use net_support::{drops, fixed, MS};
use schedule_support::random_and_pct;

/// The times and sizes of the sends of the socket whose label ends with
/// `ending` (" (stranger:7001)"), in trace order.
fn sends_of(trace: &Trace, ending: &str) -> Vec<(u64, u32)> {
    trace
        .events()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::Net {
                op: NetOp::Send,
                socket,
                bytes,
            } if trace.label(socket).ends_with(ending) => Some((event.time_ns, bytes)),
            _ => None,
        })
        .collect()
}

/// Starts node `name` with a socket on `port` that sends `count` datagrams
/// to main's port 9000, datagram `n` holding `tag` and `n` (and `n` bytes
/// more), each after a drawn pause of 0–2 ms.
fn sender(name: &str, port: u16, tag: u8, count: u8) {
    node::Builder::new(name).start(move || async move {
        let socket = UdpSocket::bind(("0.0.0.0", port)).await.unwrap();
        for n in 0..count {
            sleep(Duration::from_millis(random_range(0..3u64))).await;
            let mut datagram = vec![tag, n];
            datagram.resize(2 + usize::from(n), 0);
            socket.send_to(&datagram, "main:9000").await.unwrap();
        }
        std::future::pending::<()>().await;
        drop(socket);
    });
}

/// Who sent from `from`: "friend" (port 7000 of node `friend`),
/// "stranger" (7001 of `stranger`), or "?".
fn who(from: SocketAddr) -> &'static str {
    for (name, port) in [("friend", 7000), ("stranger", 7001)] {
        if node::lookup(name).is_some_and(|node| node.ip() == from.ip()) && from.port() == port {
            return name;
        }
    }
    "?"
}

/// Reads what `socket` gets until nothing comes for 10 ms: each
/// datagram's first two bytes and who sent it.
async fn read_all(socket: &UdpSocket) -> Vec<(u8, u8, &'static str)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while let Ok(Ok((_, from))) =
        timeout(Duration::from_millis(10), socket.recv_from(&mut buf)).await
    {
        got.push((buf[0], buf[1], who(from)));
    }
    got
}

/// Three sockets of main: `inbox` on port 9000, connected to `friend` on
/// 9001, and `stranger` on 9002.
async fn connected_on_loopback() -> (UdpSocket, UdpSocket, UdpSocket) {
    let inbox = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
    let friend = UdpSocket::bind("0.0.0.0:9001").await.unwrap();
    let stranger = UdpSocket::bind("0.0.0.0:9002").await.unwrap();
    inbox.connect("127.0.0.1:9001").await.unwrap();
    (inbox, friend, stranger)
}

/// Main's socket, connected to `friend`, holds three datagrams; `friend`
/// sends three while `stranger` floods it with twelve, at drawn times,
/// all on a 2 ms link; main reads only once all have arrived. It gets
/// exactly the friend's three, in order (the stranger's took no room), and
/// each of the stranger's twelve is one drop, at its send's time + 2 ms,
/// by no task, of its size, saying why. (Before, the stranger's filled the
/// buffer and the friend's were dropped as "full".) With a buffer of two
/// and five of the friend's among five of the stranger's, one watch covers
/// both kinds of drop: the friend's after its first two find the buffer
/// full, each at its arrival, by no task, as the stranger's are not its
/// peer's.
#[test]
fn a_connected_socket_gets_all_its_peers_datagrams_while_another_floods_it() {
    for (buffer, friends, strangers) in [(3, 3, 12), (2, 5, 5)] {
        for config in random_and_pct(24) {
            let run = Sim::new(config.net(fixed(2))).run(async move {
                let inbox = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
                inbox.set_recv_buffer(buffer);
                sender("friend", 7000, b'f', friends);
                sender("stranger", 7001, b's', strangers);
                inbox.connect("friend:7000").await.unwrap();
                sleep(Duration::from_millis(100)).await;
                let got = read_all(&inbox).await;
                (got, inbox.dropped_full())
            });
            let trace = &run.trace;
            let (got, dropped_full) = run.result.unwrap();
            let kept = friends.min(buffer as u8);
            let expected: Vec<_> = (0..kept).map(|n| (b'f', n, "friend")).collect();
            assert_eq!(got, expected, "{trace}");
            assert_eq!(dropped_full, u64::from(friends - kept), "{trace}");
            let at_arrival = |ending, why| {
                sends_of(trace, ending)
                    .into_iter()
                    .map(move |(sent_ns, bytes)| (sent_ns + 2 * MS, None, why, bytes))
            };
            let mut expected: Vec<_> = at_arrival(" (stranger:7001)", DropWhy::NotPeer)
                .chain(at_arrival(" (friend:7000)", DropWhy::Full).skip(buffer))
                .collect();
            assert_eq!(
                expected.len(),
                usize::from(strangers + friends - kept),
                "{trace}"
            );
            // Two sent in one instant arrive in one: the trace has them in
            // send order too, but compare as sets of equal instants.
            let key = |drop: &(u64, _, DropWhy, u32)| (drop.0, drop.3, drop.2 == DropWhy::Full);
            expected.sort_by_key(key);
            let mut got_drops = drops(trace);
            got_drops.sort_by_key(key);
            assert_eq!(got_drops, expected, "{trace}");
        }
    }
}

/// At 3 ms main's socket holds one datagram from `stranger` and one from
/// `friend` (sent at 0, arriving at 2 ms) and connects to `stranger`; at
/// 3.5 ms each sends another (arriving at 5.5 ms); at 4 ms main connects
/// to `friend` instead. Linux keeps the two buffered (read as any other,
/// `recv_from` naming their sender) and judges those on their way at their
/// arrival by the peer of then: the friend's second arrives (sent while the
/// socket was the stranger's), the stranger's second is a drop at 5.5 ms.
#[test]
fn datagrams_buffered_at_the_connect_stay_and_those_on_their_way_meet_the_peer_at_arrival() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let inbox = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
            for (name, port, tag) in [("friend", 7000, b'f'), ("stranger", 7001, b's')] {
                node::Builder::new(name).start(move || async move {
                    let socket = UdpSocket::bind(("0.0.0.0", port)).await.unwrap();
                    socket.send_to(&[tag, 0], "main:9000").await.unwrap();
                    sleep_until(Instant::from_nanos(3 * MS + MS / 2)).await;
                    socket.send_to(&[tag, 1, 0], "main:9000").await.unwrap();
                    std::future::pending::<()>().await;
                    drop(socket);
                });
            }
            sleep_until(Instant::from_nanos(3 * MS)).await;
            inbox.connect("stranger:7001").await.unwrap();
            sleep_until(Instant::from_nanos(4 * MS)).await;
            inbox.connect("friend:7000").await.unwrap();
            sleep_until(Instant::from_nanos(10 * MS)).await;
            read_all(&inbox).await
        });
        let trace = &run.trace;
        let got = run.result.unwrap();
        // The two buffered in either order (they arrived in one instant).
        let mut buffered = got[..2.min(got.len())].to_vec();
        buffered.sort_by_key(|(tag, ..)| *tag);
        assert_eq!(
            buffered,
            [(b'f', 0, "friend"), (b's', 0, "stranger")],
            "{got:?}\n{trace}"
        );
        assert_eq!(got[2..], [(b'f', 1, "friend")], "{got:?}\n{trace}");
        assert_eq!(
            drops(trace),
            [(5 * MS + MS / 2, None, DropWhy::NotPeer, 3)],
            "{trace}"
        );
    }
}

/// `recv` (which tells no sender) reads a datagram buffered before the
/// connect from another sender, as Linux's does; the next, from the peer.
#[test]
fn recv_reads_another_senders_datagram_buffered_before_the_connect() {
    let run = Sim::new(asyncsim::Config::new().net(fixed(2))).run(async {
        let inbox = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        let friend = UdpSocket::bind("0.0.0.0:7000").await.unwrap();
        let stranger = UdpSocket::bind("0.0.0.0:7001").await.unwrap();
        stranger.send_to(b"early", "127.0.0.1:9000").await.unwrap();
        sleep(Duration::from_millis(1)).await;
        inbox.connect("127.0.0.1:7000").await.unwrap();
        friend.send_to(b"hello", "127.0.0.1:9000").await.unwrap();
        let mut buf = [0u8; 8];
        let first = inbox.recv(&mut buf).await.unwrap();
        let first = buf[..first].to_vec();
        let second = inbox.recv(&mut buf).await.unwrap();
        (first, buf[..second].to_vec())
    });
    let (first, second) = run.result.unwrap();
    assert_eq!((&first[..], &second[..]), (&b"early"[..], &b"hello"[..]));
    assert!(drops(&run.trace).is_empty(), "{}", run.trace);
}

/// Another sender's datagram to a connected socket is a `net drop` line at
/// its arrival, and a `D` in the timeline's fault lane in those words.
#[test]
fn another_senders_datagram_is_a_drop_line_and_in_the_fault_lane() {
    let run = Sim::new(asyncsim::Config::new().net(fixed(2))).run(async {
        let (inbox, friend, stranger) = connected_on_loopback().await;
        stranger.send_to(b"psst", "127.0.0.1:9000").await.unwrap();
        sleep(Duration::from_millis(5)).await;
        friend.send_to(b"hello", "127.0.0.1:9000").await.unwrap();
        let mut buf = [0u8; 8];
        let len = inbox.recv(&mut buf).await.unwrap();
        buf[..len].to_vec()
    });
    assert_eq!(run.result.unwrap(), b"hello");
    let words = "net drop 4 bytes from UdpSocket#2 (main:9002) to UdpSocket#0 (main:9000): \
                 its receiver is connected to another peer";
    let lines: Vec<_> = run
        .trace
        .to_string()
        .lines()
        .filter(|line| line.contains("net drop"))
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 1, "{}", run.trace);
    assert!(lines[0].ends_with(words), "{}", run.trace);
    // At the arrival (loopback: 10 µs after the send at 0), not at the
    // receive (5 ms later).
    assert_eq!(
        drops(&run.trace)
            .iter()
            .map(|drop| (drop.1, drop.2))
            .collect::<Vec<_>>(),
        [(None, DropWhy::NotPeer)]
    );
    assert!(drops(&run.trace)[0].0 < MS, "{}", run.trace);
    let timeline = run.trace.timeline(80);
    let row = timeline
        .lines()
        .find(|line| line.starts_with("faults "))
        .unwrap_or_else(|| panic!("no fault lane:\n{timeline}"));
    assert!(row.contains('D'), "{timeline}");
    assert!(timeline.contains(words), "{timeline}");
}

/// A task waits in `recv_from` while main connects the socket: at 2 ms
/// to `stranger`, whose datagram sent at 1 ms (while the socket was the
/// friend's) the task then gets at its arrival, 3 ms; at 4 ms to `friend`
/// again, whose datagram sent at 3.8 ms (while the socket was the
/// stranger's) it gets at 5.8 ms, and the next at 22 ms. The stranger's
/// datagram sent at 3.5 ms, on its way at that connect, is a drop at its
/// arrival, 5.5 ms, by no task, and wakes nobody (the task's timer set for
/// it at its send is gone).
#[test]
fn a_waiting_receive_meets_the_peer_a_connect_sets_while_it_waits() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let inbox = std::rc::Rc::new(UdpSocket::bind("0.0.0.0:9000").await.unwrap());
            for (name, port, tag, at) in [
                ("stranger", 7001, b's', [MS, 3 * MS + MS / 2]),
                ("friend", 7000, b'f', [3 * MS + 8 * MS / 10, 20 * MS]),
            ] {
                node::Builder::new(name).start(move || async move {
                    let socket = UdpSocket::bind(("0.0.0.0", port)).await.unwrap();
                    for (n, at) in at.into_iter().enumerate() {
                        sleep_until(Instant::from_nanos(at)).await;
                        socket.send_to(&[tag, n as u8], "main:9000").await.unwrap();
                    }
                    std::future::pending::<()>().await;
                    drop(socket);
                });
            }
            inbox.connect("friend:7000").await.unwrap();
            let reading = inbox.clone();
            let reader = asyncsim::task::spawn(async move {
                let mut got = Vec::new();
                let mut buf = [0u8; 8];
                for _ in 0..3 {
                    let (_, from) = reading.recv_from(&mut buf).await.unwrap();
                    got.push((Instant::now().as_nanos(), buf[0], buf[1], who(from)));
                }
                got
            });
            sleep_until(Instant::from_nanos(2 * MS)).await;
            inbox.connect("stranger:7001").await.unwrap();
            sleep_until(Instant::from_nanos(4 * MS)).await;
            inbox.connect("friend:7000").await.unwrap();
            timeout(Duration::from_millis(30), reader).await
        });
        let trace = &run.trace;
        let got = run
            .result
            .unwrap()
            .expect("the receive was not woken")
            .unwrap();
        assert_eq!(
            got,
            [
                (3 * MS, b's', 0, "stranger"),
                (5 * MS + 8 * MS / 10, b'f', 0, "friend"),
                (22 * MS, b'f', 1, "friend"),
            ],
            "{trace}"
        );
        assert_eq!(
            drops(trace),
            [(5 * MS + MS / 2, None, DropWhy::NotPeer, 2)],
            "{trace}"
        );
        // No timer fires at 5.5 ms: the drop wakes no one.
        let fired: Vec<_> = trace
            .events()
            .iter()
            .filter(|event| matches!(event.kind, EventKind::TimerFire { .. }))
            .map(|event| event.time_ns)
            .collect();
        assert!(!fired.contains(&(5 * MS + MS / 2)), "{fired:?}\n{trace}");
    }
}

/// A connected socket may still `send_to` another address (Linux allows it
/// on a UDP socket): the datagram goes there; that address's reply is
/// another sender's, dropped at its arrival.
#[test]
fn send_to_another_address_from_a_connected_socket_goes_and_its_reply_is_dropped() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let (inbox, friend, stranger) = connected_on_loopback().await;
            inbox.send_to(b"hi", "127.0.0.1:9002").await.unwrap();
            let mut buf = [0u8; 8];
            let (len, from) = stranger.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..len], from.port()), (&b"hi"[..], 9000));
            stranger.send_to(b"reply", from).await.unwrap();
            sleep(Duration::from_millis(1)).await;
            friend.send_to(b"hello", "127.0.0.1:9000").await.unwrap();
            let (len, from) = inbox.recv_from(&mut buf).await.unwrap();
            (buf[..len].to_vec(), from.port())
        });
        assert_eq!(run.result.unwrap(), (b"hello".to_vec(), 9001));
        let drops = drops(&run.trace);
        assert_eq!(drops.len(), 1, "{}", run.trace);
        assert_eq!(
            (drops[0].1, drops[0].2, drops[0].3),
            (None, DropWhy::NotPeer, 5)
        );
    }
}

/// A connected socket closed (dropped) with the peer's datagrams and
/// another sender's on their way loses them all at the close, as any
/// socket does: each a drop at the boundary after it, saying so, in the
/// order they would have arrived.
#[test]
fn a_connected_socket_closed_with_others_datagrams_on_their_way_records_them_at_the_close() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let (inbox, friend, stranger) = connected_on_loopback().await;
            for n in 1..=4u8 {
                let sender = if n % 2 == 0 { &friend } else { &stranger };
                sender
                    .send_to(&vec![n; usize::from(n)], "127.0.0.1:9000")
                    .await
                    .unwrap();
            }
            drop(inbox);
            sleep(Duration::from_millis(1)).await;
        });
        run.result.unwrap();
        let expected: Vec<_> = (1..=4).map(|n| (0, None, DropWhy::Closed, n)).collect();
        assert_eq!(drops(&run.trace), expected, "{}", run.trace);
    }
}

/// The node of a connected socket crashes with the peer's datagram
/// buffered and a datagram of each sender on its way: the stranger's that
/// arrived before was dropped then (not its peer's), and the rest are lost
/// at the crash, by the crashing task, in the order they would have
/// arrived, the stranger's too.
#[test]
fn a_crash_loses_a_connected_sockets_buffer_and_all_on_their_way_in_arrival_order() {
    for config in random_and_pct(24) {
        let run = Sim::new(config.net(fixed(2))).run(async {
            let inbox = node::Builder::new("inbox").start(|| async {
                let socket = UdpSocket::bind("0.0.0.0:9000").await.unwrap();
                socket.connect("friend:7000").await.unwrap();
                std::future::pending::<()>().await;
                drop(socket);
            });
            // (size, sent at): arriving 2 ms later.
            for (name, port, sends) in [
                ("friend", 7000, [(2, MS), (4, 3 * MS + MS / 2)]),
                ("stranger", 7001, [(1, MS), (3, 3 * MS + MS / 5)]),
            ] {
                node::Builder::new(name).start(move || async move {
                    let socket = UdpSocket::bind(("0.0.0.0", port)).await.unwrap();
                    for (size, at) in sends {
                        sleep_until(Instant::from_nanos(at)).await;
                        socket.send_to(&vec![0; size], "inbox:9000").await.unwrap();
                    }
                    std::future::pending::<()>().await;
                    drop(socket);
                });
            }
            sleep_until(Instant::from_nanos(4 * MS)).await;
            inbox.crash();
            sleep(Duration::from_millis(10)).await;
        });
        run.result.unwrap();
        let crashed = (4 * MS, Some(TaskId::MAIN), DropWhy::Crashed);
        assert_eq!(
            drops(&run.trace),
            [
                (3 * MS, None, DropWhy::NotPeer, 1),
                (crashed.0, crashed.1, crashed.2, 2),
                (crashed.0, crashed.1, crashed.2, 3),
                (crashed.0, crashed.1, crashed.2, 4),
            ],
            "{}",
            run.trace
        );
    }
}
