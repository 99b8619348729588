//! Addresses: what a socket address names ([`ToAddress`], [`Address`]),
//! and the world's side of it: resolving a node name or IP to a node,
//! binding and claiming ports.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};

use super::Protocol;
use crate::world::World;

/// A socket address to resolve: `"name:port"`, `"10.0.0.2:port"`, a
/// `SocketAddr`, or `(host, port)`.
pub trait ToAddress {
    /// The host (a node name, `localhost`, or an IP in text) and port.
    fn to_address(&self) -> io::Result<Address>;

    /// The host name and port `to_address` would give as
    /// `Address::Host`, borrowed, when it would give one: a send looks the
    /// name up without making the `Address` (no allocation a datagram).
    /// `None` otherwise; then `to_address` is used.
    #[doc(hidden)]
    fn host_and_port(&self) -> Option<(&str, u16)> {
        None
    }

    /// The socket address `to_address` would give as `Address::Ip`, when
    /// it is one already (a `SocketAddr`): a send resolves it without
    /// making the `Address`. `None` otherwise.
    #[doc(hidden)]
    #[inline]
    fn socket_addr(&self) -> Option<SocketAddr> {
        None
    }
}

/// An unresolved address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// A host name and a port.
    Host(String, u16),
    /// An IP address and a port.
    Ip(SocketAddr),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Host(host, port) => write!(f, "{host}:{port}"),
            Address::Ip(addr) => write!(f, "{addr}"),
        }
    }
}

impl ToAddress for str {
    fn to_address(&self) -> io::Result<Address> {
        // `10.0.0.2:80` or `[::1]:80` (a host name starts with neither).
        if self.starts_with(|c: char| c.is_ascii_digit() || c == '[') {
            if let Ok(addr) = self.parse::<SocketAddr>() {
                return Ok(Address::Ip(addr));
            }
        }
        let Some((host, port)) = self.rsplit_once(':') else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid socket address `{self}`: expected `host:port`"),
            ));
        };
        let port: u16 = port.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid port in `{self}`"),
            )
        })?;
        (host, port).to_address()
    }

    fn host_and_port(&self) -> Option<(&str, u16)> {
        if self.starts_with(|c: char| c.is_ascii_digit() || c == '[') {
            return None;
        }
        let (host, port) = self.rsplit_once(':')?;
        let port = port.parse().ok()?;
        match parse_ip(host) {
            Some(_) => None,
            None => Some((host, port)),
        }
    }
}

impl ToAddress for &str {
    fn to_address(&self) -> io::Result<Address> {
        (**self).to_address()
    }

    fn host_and_port(&self) -> Option<(&str, u16)> {
        (**self).host_and_port()
    }
}

impl ToAddress for String {
    fn to_address(&self) -> io::Result<Address> {
        self.as_str().to_address()
    }

    fn host_and_port(&self) -> Option<(&str, u16)> {
        self.as_str().host_and_port()
    }
}

impl ToAddress for &String {
    fn to_address(&self) -> io::Result<Address> {
        self.as_str().to_address()
    }

    fn host_and_port(&self) -> Option<(&str, u16)> {
        self.as_str().host_and_port()
    }
}

impl ToAddress for SocketAddr {
    fn to_address(&self) -> io::Result<Address> {
        Ok(Address::Ip(*self))
    }

    #[inline]
    fn socket_addr(&self) -> Option<SocketAddr> {
        Some(*self)
    }
}

impl ToAddress for SocketAddrV4 {
    fn to_address(&self) -> io::Result<Address> {
        Ok(Address::Ip(SocketAddr::V4(*self)))
    }
}

impl ToAddress for (IpAddr, u16) {
    fn to_address(&self) -> io::Result<Address> {
        Ok(Address::Ip(SocketAddr::new(self.0, self.1)))
    }
}

impl ToAddress for (Ipv4Addr, u16) {
    fn to_address(&self) -> io::Result<Address> {
        Ok(Address::Ip(SocketAddr::new(IpAddr::V4(self.0), self.1)))
    }
}

impl ToAddress for (&str, u16) {
    fn to_address(&self) -> io::Result<Address> {
        match parse_ip(self.0) {
            Some(ip) => Ok(Address::Ip(SocketAddr::new(ip, self.1))),
            None => Ok(Address::Host(self.0.to_string(), self.1)),
        }
    }

    // Always: a send to a node's name goes through it, and left to the
    // compiler it became a call when the send grew (its budget look).
    #[inline(always)]
    fn host_and_port(&self) -> Option<(&str, u16)> {
        match parse_ip(self.0) {
            Some(_) => None,
            None => Some((self.0, self.1)),
        }
    }
}

/// `host` as an IP address, if it is one. (Most hosts are node names: one
/// look at the text tells, before parsing: an IPv4 address starts with a
/// digit, an IPv6 one has a `:`.)
#[inline]
fn parse_ip(host: &str) -> Option<IpAddr> {
    match host {
        // The two every server and client write, without the parser.
        "0.0.0.0" => Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        "127.0.0.1" => Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        _ if host.starts_with(|c: char| c.is_ascii_digit())
            || host.bytes().any(|byte| byte == b':') =>
        {
            parse_ip_text(host)
        }
        _ => None,
    }
}

#[inline(never)]
fn parse_ip_text(host: &str) -> Option<IpAddr> {
    host.parse().ok()
}

impl ToAddress for Address {
    fn to_address(&self) -> io::Result<Address> {
        Ok(self.clone())
    }
}

impl<T: ToAddress + ?Sized> ToAddress for &&T {
    fn to_address(&self) -> io::Result<Address> {
        (**self).to_address()
    }

    fn host_and_port(&self) -> Option<(&str, u16)> {
        (**self).host_and_port()
    }

    #[inline]
    fn socket_addr(&self) -> Option<SocketAddr> {
        (**self).socket_addr()
    }
}

impl World {
    /// The node (index) and port `address` names, seen from node `from`.
    pub(crate) fn resolve(&self, address: &Address, from: usize) -> io::Result<(usize, u16)> {
        match address {
            Address::Host(host, port) => self.resolve_host(host, *port, from),
            Address::Ip(addr) => self.resolve_ip(*addr, from),
        }
    }

    /// [`World::resolve`] of `Address::Ip(addr)`.
    #[inline]
    pub(crate) fn resolve_ip(&self, addr: SocketAddr, from: usize) -> io::Result<(usize, u16)> {
        let ip = addr.ip();
        if ip.is_loopback() || ip.is_unspecified() {
            return Ok((from, addr.port()));
        }
        match self.node_by_ip(ip) {
            Some(node) => Ok((node, addr.port())),
            None => Err(self.no_node_has(ip)),
        }
    }

    #[cold]
    #[inline(never)]
    fn no_node_has(&self, ip: IpAddr) -> io::Error {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "no node has the address {ip} (nodes: {})",
                self.node_names()
            ),
        )
    }

    /// [`World::resolve`] of `Address::Host(host, port)`.
    pub(crate) fn resolve_host(
        &self,
        host: &str,
        port: u16,
        from: usize,
    ) -> io::Result<(usize, u16)> {
        match parse_ip(host) {
            Some(ip) => self.resolve_ip(SocketAddr::new(ip, port), from),
            None => self.resolve_name(host, port, from),
        }
    }

    /// [`World::resolve_host`] of a host that is not an IP address (as
    /// `ToAddress::host_and_port` gives).
    pub(crate) fn resolve_name(
        &self,
        host: &str,
        port: u16,
        from: usize,
    ) -> io::Result<(usize, u16)> {
        if host == "localhost" {
            return Ok((from, port));
        }
        match self.node_by_name(host) {
            Some(node) => Ok((node, port)),
            None => Err(self.unresolved(host, port)),
        }
    }

    /// [`World::resolve_name`]'s `NotFound` (out of line: a test's hosts are
    /// its nodes).
    #[cold]
    #[inline(never)]
    fn unresolved(&self, host: &str, port: u16) -> io::Error {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "failed to resolve `{host}:{port}`: no node is called `{host}` (nodes: {})",
                self.node_names()
            ),
        )
    }

    /// Where a socket of node `node` binds for `address`: the port, or
    /// `AddrNotAvailable` for another node's address.
    pub(crate) fn bind_port(&self, address: &Address, node: usize) -> io::Result<u16> {
        let (target, port) = match address {
            Address::Ip(addr) if addr.ip().is_unspecified() => (node, addr.port()),
            _ => self.resolve(address, node).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::AddrNotAvailable,
                    format!(
                        "cannot bind {address} on node `{}`: not one of its addresses",
                        self.nodes[node].name
                    ),
                )
            })?,
        };
        if target != node {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!(
                    "cannot bind {address} on node `{}`: that address is node `{}`'s",
                    self.nodes[node].name, self.nodes[target].name
                ),
            ));
        }
        Ok(port)
    }

    /// Claims `port` (0: an ephemeral one) for a socket of `node`.
    pub(crate) fn claim_port(
        &mut self,
        node: usize,
        protocol: Protocol,
        port: u16,
        socket: usize,
    ) -> io::Result<u16> {
        // One search for both the check and the insert.
        let (port, at) = match port {
            0 => self.ephemeral_port(node, protocol)?,
            port => match self.net.bound.find(&(node as u32, protocol, port)) {
                Err(at) => (port, at),
                Ok(_) => return Err(self.port_in_use(node, protocol, port)),
            },
        };
        self.net
            .bound
            .0
            .insert(at, ((node as u32, protocol, port), socket));
        Ok(port)
    }

    /// `AddrInUse` for `port` of `node`.
    #[cold]
    fn port_in_use(&self, node: usize, protocol: Protocol, port: u16) -> io::Error {
        io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "address in use: {}:{port} ({protocol:?}) is already bound on node `{}`",
                self.nodes[node].ip, self.nodes[node].name
            ),
        )
    }

    /// The next free ephemeral port of `node`, and where its key goes in
    /// `bound`.
    fn ephemeral_port(&mut self, node: usize, protocol: Protocol) -> io::Result<(u16, usize)> {
        for _ in 0..=(u16::MAX - crate::world::EPHEMERAL_FIRST) {
            let port = self.nodes[node].next_port;
            self.nodes[node].next_port = if port == u16::MAX {
                crate::world::EPHEMERAL_FIRST
            } else {
                port + 1
            };
            if let Err(at) = self.net.bound.find(&(node as u32, protocol, port)) {
                return Ok((port, at));
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "node `{}` has no free ephemeral port",
                self.nodes[node].name
            ),
        ))
    }

    pub(crate) fn node_names(&self) -> String {
        let names: Vec<&str> = self.nodes.iter().map(|node| &*node.name).collect();
        names.join(", ")
    }

    pub(crate) fn socket_addr(&self, node: usize, port: u16) -> SocketAddr {
        SocketAddr::new(self.nodes[node].ip, port)
    }
}
