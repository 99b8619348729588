//! A datagram sent: `send_to`'s written-out future and `send`, the address
//! resolved, the drops at the send (no socket bound, a cut, a loss draw),
//! and the drawn copies put on their way, each with its drawn latency, into
//! the receiving socket's list (`buffer.rs`).

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::buffer::{label_of, record_drop, Datagram, Payload, INLINE};
use super::{budget_yield_if_spent, UdpSocket};
use crate::trace::{DropWhy, FaultOp, NetOp};
use crate::world::net::{Address, Carried, NetConfig, Protocol, ToAddress};
use crate::world::{cx, World};

/// Where a send goes: a host name and port not made into an `Address`
/// (see `ToAddress::host_and_port`), or an address.
enum Target<'a> {
    Host(&'a str, u16),
    Ip(SocketAddr),
    Address(&'a Address),
}

/// The largest datagram a send takes (IPv4's 65,535 bytes less its 20-byte
/// header and UDP's 8); a larger one is `EMSGSIZE`, as on Linux.
const MAX_DATAGRAM: usize = 65_507;

/// [`UdpSocket::send_to`]'s future: sends when first polled. (Not an
/// `async fn`: its state moved the address in and out of the future on
/// every send, and the narrow stores read back wide stalled; here the
/// address stays where the caller put it and is read in place.)
struct SendTo<'a, A> {
    socket: &'a UdpSocket,
    buf: &'a [u8],
    address: A,
    done: Cell<bool>,
}

impl<A: ToAddress> Future for SendTo<'_, A> {
    type Output = io::Result<usize>;

    #[inline]
    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let this = self.into_ref().get_ref();
        assert!(
            !this.done.get(),
            "UdpSocket::send_to's future polled after it completed"
        );
        // A send never waits: the cooperative budget is what makes a loop
        // of them yield (looked at in the send's look at the run; its
        // event spends the unit).
        let sent = this.socket.send_now::<_, true>(this.buf, &this.address);
        let poll = budget_yield_if_spent(sent, context);
        this.done.set(poll.is_ready());
        poll
    }
}

/// Linux's EMSGSIZE: a UDP datagram over IPv4 holds at most
/// [`MAX_DATAGRAM`] bytes. The failed send spends its unit of the task's
/// budget (no event): a loop retrying it yields. Out of line.
#[cold]
#[inline(never)]
fn too_long() -> io::Error {
    cx::spend_on_completion();
    io::Error::from_raw_os_error(90)
}

impl UdpSocket {
    /// Sends one datagram to `address`. A datagram to a port where nobody
    /// listens, across a cut, or lost is gone without an error, as UDP's
    /// are. One over 65,507 bytes is an error, `EMSGSIZE` (Linux's
    /// "Message too long"), and is not sent.
    pub fn send_to<'a, A: ToAddress + 'a>(
        &'a self,
        buf: &'a [u8],
        address: A,
    ) -> impl Future<Output = io::Result<usize>> + 'a {
        SendTo {
            socket: self,
            buf,
            address,
            done: Cell::new(false),
        }
    }

    /// [`UdpSocket::send_to`], which never waits (a `Detached` socket's
    /// too). `BUDGETED` (a poll): when the task's cooperative budget is
    /// spent, nothing is sent and the error is
    /// [`budget_spent`](super::budget_spent)'s, which
    /// the poll turns into a yield ([`budget_yield_if_spent`]).
    #[inline]
    pub(in crate::world::net) fn send_now<A: ToAddress + ?Sized, const BUDGETED: bool>(
        &self,
        buf: &[u8],
        address: &A,
    ) -> io::Result<usize> {
        if let Some(addr) = address.socket_addr() {
            return self.send_datagram::<BUDGETED>(buf, Target::Ip(addr));
        }
        if let Some((host, port)) = address.host_and_port() {
            return self.send_datagram::<BUDGETED>(buf, Target::Host(host, port));
        }
        let address = address.to_address()?;
        self.send_datagram::<BUDGETED>(buf, Target::Address(&address))
    }

    /// Sends to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let peer = self.world.borrow().net.udp[self.socket].peer();
        match peer {
            Some(peer) => {
                let target = Address::Ip(peer);
                std::future::poll_fn(|context| {
                    let sent = self.send_datagram::<true>(buf, Target::Address(&target));
                    budget_yield_if_spent(sent, context)
                })
                .await
            }
            None => Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "UdpSocket::send before connect",
            )),
        }
    }

    /// Records a datagram sent here dropped on its way to socket `target`
    /// (a loss draw, a cut).
    #[cold]
    #[inline(never)]
    fn drop_sent(&self, world: &mut World, why: DropWhy, target: usize, bytes: usize) {
        let from = self.label(world);
        let to = label_of(world, target);
        record_drop(why, from, to, bytes);
    }

    /// Records a datagram sent here to `node:port`, where no UDP socket is
    /// bound.
    #[cold]
    #[inline(never)]
    fn drop_unbound(&self, world: &mut World, node: u32, port: u16, bytes: usize) {
        let from = self.label(world);
        let to = cx::intern_label(format!("{}:{port}", world.nodes[node as usize].name));
        record_drop(DropWhy::Unbound, from, to, bytes);
    }

    fn send_datagram<const BUDGETED: bool>(
        &self,
        buf: &[u8],
        target: Target<'_>,
    ) -> io::Result<usize> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        let now = if BUDGETED {
            self.check_now_budgeted(world)?
        } else {
            self.check_now(world)?
        };
        if buf.len() > MAX_DATAGRAM {
            return Err(too_long());
        }
        self.record(world, NetOp::Send, buf.len());
        let (from_node, from_port) = {
            let state = &world.net.udp[self.socket];
            (state.node, state.port)
        };
        let (to_node, to_port) = match target {
            Target::Host(host, port) => world.resolve_name(host, port, from_node as usize)?,
            Target::Ip(addr) => world.resolve_ip(addr, from_node as usize)?,
            Target::Address(address) => world.resolve(address, from_node as usize)?,
        };
        let to_node = to_node as u32;
        let Some(&target) = world.net.bound.get(&(to_node, Protocol::Udp, to_port)) else {
            self.drop_unbound(world, to_node, to_port, buf.len());
            return Ok(buf.len());
        };
        if world.net.is_cut(from_node, to_node) {
            let why = if world.net.cuts.contains(&(from_node, to_node)) {
                DropWhy::Partition
            } else {
                DropWhy::Isolated
            };
            self.drop_sent(world, why, target, buf.len());
            return Ok(buf.len());
        }
        let config = world.net.config(from_node, to_node);
        // Worded only when a loss or a duplicate is drawn.
        let nodes = &world.nodes;
        // A drop says the datagram's size; a duplicate's words are as they
        // were (they enter the hash of runs that drop nothing).
        let describe = |what: &str| {
            let size = if what == "dropped" {
                format!(" of {} bytes", buf.len())
            } else {
                String::new()
            };
            format!(
                "{what} a datagram{size} {}:{} -> {}:{}",
                nodes[from_node as usize].name, from_port, nodes[to_node as usize].name, to_port
            )
        };
        if from_node != to_node
            && World::chance(
                config.loss,
                "asyncsim::net datagram loss",
                FaultOp::Lost,
                || describe("dropped"),
            )
        {
            self.drop_sent(world, DropWhy::Lost, target, buf.len());
            return Ok(buf.len());
        }
        let copies = if from_node != to_node
            && World::chance(
                config.duplicate,
                "asyncsim::net datagram duplicate",
                FaultOp::Duplicated,
                || describe("duplicated"),
            ) {
            2
        } else {
            1
        };
        let way = (from_node, from_port, to_node, target);
        if world.net.udp_connected && world.net.udp[target].connected.is_some() {
            self.place_on_connected(world, buf, &config, copies, way, now);
        } else {
            self.place::<false>(world, buf, &config, copies, way, now);
        }
        Ok(buf.len())
    }

    /// [`UdpSocket::place`] to a connected socket, which keeps another
    /// peer's datagrams apart (out of line: the path to a socket never
    /// connected does not test for them).
    #[cold]
    #[inline(never)]
    fn place_on_connected(
        &self,
        world: &mut World,
        buf: &[u8],
        config: &NetConfig,
        copies: u32,
        way: (u32, u16, u32, usize),
        now: u64,
    ) {
        self.place::<true>(world, buf, config, copies, way, now);
    }

    /// Puts the `copies` of a datagram sent (`buf`) at `now` on their way
    /// (`way`: from node and port, to node and socket), each with its drawn
    /// latency; `CONNECTED`: that socket is connected (another peer's go to
    /// its strays).
    #[inline(always)]
    fn place<const CONNECTED: bool>(
        &self,
        world: &mut World,
        buf: &[u8],
        config: &NetConfig,
        copies: u32,
        way: (u32, u16, u32, usize),
        now: u64,
    ) {
        let (from_node, from_port, to_node, target) = way;
        for _ in 0..copies {
            let carried = Carried::Datagram {
                socket: self.socket as u32,
                port: from_port,
                bytes: buf.len(),
            };
            let latency = if from_node == to_node {
                world.latency(from_node, to_node, carried)
            } else {
                world.latency_on(config, from_node, to_node, carried)
            };
            let arrival_ns = now + latency;
            world.net.datagrams_sent += 1;
            let sequence = world.net.datagrams_sent;
            let state = &mut world.net.udp[target];
            let key = (arrival_ns, sequence);
            if CONNECTED
                && state.hold_if_stray(&world.nodes, from_node, from_port, buf, key, target, now)
            {
                continue;
            }
            // A short datagram's bytes are copied in once it is in the
            // list: built first and moved in, its bytes (stored a byte
            // run at a time) were read back in wide pieces (a stall).
            let inline = buf.len() <= INLINE;
            let data = if inline {
                Payload::Inline {
                    len: buf.len() as u8,
                    bytes: [0; INLINE],
                }
            } else {
                let mut data = state.spare.pop().unwrap_or_default();
                data.extend_from_slice(buf);
                Payload::Buffer(data)
            };
            let datagram = Datagram {
                from_node,
                from_port,
                data,
            };
            // Most arrive after every datagram on its way (one at a time,
            // or a latency no shorter than the last's).
            let position = if state.in_flight.back().is_none_or(|(last, _)| *last < key) {
                state.in_flight.push_back((key, datagram));
                state.in_flight.len() - 1
            } else {
                let position = state.in_flight.partition_point(|(other, _)| *other < key);
                state.in_flight.insert(position, (key, datagram));
                position
            };
            if inline {
                if let Some((
                    _,
                    Datagram {
                        data: Payload::Inline { bytes, .. },
                        ..
                    },
                )) = state.in_flight.get_mut(position)
                {
                    bytes[..buf.len()].copy_from_slice(buf);
                }
            }
            state.reader.due_at_from(arrival_ns, now);
            if state.in_flight.len() > state.capacity {
                state.watch(target, now);
            }
        }
    }
}
