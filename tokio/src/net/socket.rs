//! `TcpSocket`: a socket configured before it becomes a listener or a
//! connection. The send and receive buffer sizes are modelled (they bound
//! what a writer may have sent and its peer not read: a write past that
//! waits); every other option is kept as set (its getter returns it, or
//! Linux's default) and changes nothing; `bind` is remembered and made by
//! `listen` (a port taken is `AddrInUse` there, not at `bind`); a
//! connection's own local address is the world's pick, whatever was bound.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::{TcpListener, TcpStream};

/// A TCP socket not yet listening or connected (tokio's `TcpSocket`).
///
/// ```
/// use asyncsim_tokio as tokio;
///
/// let runtime = tokio::runtime::Runtime::new().unwrap();
/// let port = runtime.block_on(async {
///     let socket = tokio::net::TcpSocket::new_v4().unwrap();
///     socket.set_reuseaddr(true).unwrap();
///     socket.bind("127.0.0.1:7000".parse().unwrap()).unwrap();
///     let listener = socket.listen(128).unwrap();
///     listener.local_addr().unwrap().port()
/// });
/// assert_eq!(port, 7000);
/// ```
#[derive(Debug)]
pub struct TcpSocket {
    v6: bool,
    options: Mutex<Options>,
}

/// What was set on a [`TcpSocket`].
#[derive(Debug, Default)]
struct Options {
    bound: Option<SocketAddr>,
    reuseaddr: bool,
    reuseport: bool,
    keepalive: bool,
    nodelay: bool,
    linger: Option<Duration>,
    send_buffer_size: Option<u32>,
    recv_buffer_size: Option<u32>,
    tos_v4: u32,
    tclass_v6: u32,
    device: Option<Vec<u8>>,
}

use asyncsim::net::{buffer_set_to, DEFAULT_RECV_BUFFER, DEFAULT_SEND_BUFFER};

macro_rules! flag {
    ($($(#[$doc:meta])* $set:ident, $get:ident, $field:ident: $type:ty;)*) => {
        $(
            $(#[$doc])*
            pub fn $set(&self, value: $type) -> io::Result<()> {
                self.options().$field = value;
                Ok(())
            }

            /// What was set (kept, not modelled).
            pub fn $get(&self) -> io::Result<$type> {
                Ok(self.options().$field.clone())
            }
        )*
    };
}

impl TcpSocket {
    /// Refused: a `std::net::TcpStream` is the real OS's.
    ///
    /// # Panics
    ///
    /// Always, naming what to use instead (tokio's signature has no error
    /// to return).
    #[track_caller]
    pub fn from_std_stream(_std_stream: std::net::TcpStream) -> TcpSocket {
        panic!(
            "tokio::net::TcpSocket::from_std_stream cannot be simulated: a std socket is the real \
             OS's, outside asyncsim's control; make the socket with TcpSocket::new_v4 or new_v6"
        )
    }

    /// An IPv4 socket.
    pub fn new_v4() -> io::Result<TcpSocket> {
        Ok(TcpSocket::new(false))
    }

    /// An IPv6 socket.
    pub fn new_v6() -> io::Result<TcpSocket> {
        Ok(TcpSocket::new(true))
    }

    fn new(v6: bool) -> TcpSocket {
        TcpSocket {
            v6,
            options: Mutex::new(Options::default()),
        }
    }

    fn options(&self) -> std::sync::MutexGuard<'_, Options> {
        self.options.lock().unwrap_or_else(PoisonError::into_inner)
    }

    flag! {
        /// Accepted and kept (a simulated port is free again as soon as
        /// its socket is closed: there is no `TIME_WAIT`).
        set_reuseaddr, reuseaddr, reuseaddr: bool;
        /// Accepted and kept (two listeners never share a port here).
        set_reuseport, reuseport, reuseport: bool;
        /// Accepted and kept (a connection fails by the link's
        /// `tcp_timeout`, not by keepalive probes).
        set_keepalive, keepalive, keepalive: bool;
        /// Accepted and kept (segments are never delayed for coalescing).
        set_nodelay, nodelay, nodelay: bool;
        /// Kept, and set on the stream `connect` makes, or on the streams
        /// the listener `listen` makes accepts (inherited, as on Linux): a
        /// zero time makes a stream's drop a reset (`TcpStream::set_linger`).
        set_linger, linger, linger: Option<Duration>;
        /// Accepted and kept (the type of service is not modelled).
        set_tos_v4, tos_v4, tos_v4: u32;
        /// Accepted and kept (the traffic class is not modelled).
        set_tclass_v6, tclass_v6, tclass_v6: u32;
    }

    /// `set_linger(Some(Duration::ZERO))`.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.set_linger(Some(Duration::ZERO))
    }

    /// Sets the send buffer (`SO_SNDBUF`) of the stream `connect` makes,
    /// or of the streams the listener `listen` makes accepts, as Linux
    /// does: `size` (at most 212,992) doubled, at least 4,608 bytes. With
    /// the peer's receive buffer it bounds what the stream's writer may
    /// have sent and the peer not read: a write past that takes what fits,
    /// or waits until the peer reads.
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.options().send_buffer_size = Some(size);
        Ok(())
    }

    /// Linux's default (16 KiB), or what `set_send_buffer_size` made of
    /// its size (doubled, as `getsockopt` says on Linux).
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        Ok(self
            .options()
            .send_buffer_size
            .map_or(DEFAULT_SEND_BUFFER, |size| buffer_set_to(size, true)))
    }

    /// Sets the receive buffer (`SO_RCVBUF`) as Linux does: `size` (at
    /// most 212,992) doubled, at least 2,304 bytes. With the peer's send
    /// buffer it bounds what the peer may have sent and this end not read.
    /// A stream `connect` makes has it from its first byte (as Linux's SYN
    /// carries the window it gives); the streams a listener `listen` makes
    /// accepts inherit it, as on Linux.
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.options().recv_buffer_size = Some(size);
        Ok(())
    }

    /// Linux's default (128 KiB), or what `set_recv_buffer_size` made of
    /// its size (doubled, as `getsockopt` says on Linux).
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        Ok(self
            .options()
            .recv_buffer_size
            .map_or(DEFAULT_RECV_BUFFER, |size| buffer_set_to(size, false)))
    }

    /// Accepted and kept (a node has one interface).
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        self.options().device = interface.map(<[u8]>::to_vec);
        Ok(())
    }

    /// What `bind_device` set.
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        Ok(self.options().device.clone())
    }

    /// Remembers `address` for `listen` (which binds it on the calling
    /// task's node). A connection's local address is the world's pick.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an address of the other family than the socket's.
    pub fn bind(&self, address: SocketAddr) -> io::Result<()> {
        if address.is_ipv6() != self.v6 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "TcpSocket::bind: the address is not of the socket's family (new_v4 or new_v6)",
            ));
        }
        self.options().bound = Some(address);
        Ok(())
    }

    /// The address given to `bind`; unbound, the family's unspecified
    /// address and port 0, as an unbound socket's is.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.options().bound.unwrap_or_else(|| self.unspecified()))
    }

    fn unspecified(&self) -> SocketAddr {
        if self.v6 {
            SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0))
        } else {
            SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))
        }
    }

    /// Always `Ok(None)`: errors come to the listener's or stream's
    /// operations.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        Ok(None)
    }

    /// Connects from the calling task's node, as `TcpStream::connect`.
    ///
    /// # Errors
    ///
    /// As `TcpStream::connect`.
    pub async fn connect(self, address: SocketAddr) -> io::Result<TcpStream> {
        let (send, recv, linger) = {
            let options = self.options();
            (
                options.send_buffer_size,
                options.recv_buffer_size,
                options.linger,
            )
        };
        let stream = TcpStream::connect_with_buffers(address, send, recv).await?;
        if linger.is_some() {
            stream.set_linger(linger)?;
        }
        Ok(stream)
    }

    /// Listens on the bound address (unbound: a free port), on the calling
    /// task's node; the backlog is the world's own.
    ///
    /// # Errors
    ///
    /// As `TcpListener::bind`: `AddrInUse`, `AddrNotAvailable`.
    pub fn listen(self, _backlog: u32) -> io::Result<TcpListener> {
        let address = self.local_addr()?;
        let listener = TcpListener::bind_now(address)?;
        let options = self.options();
        let (send, recv) = (options.send_buffer_size, options.recv_buffer_size);
        listener.set_buffers(send, recv)?;
        if options.linger.is_some() {
            listener.set_accepted_linger(options.linger)?;
        }
        Ok(listener)
    }
}
