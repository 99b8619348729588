//! `tokio::net` on asyncsim's simulated network: sockets live on the calling
//! task's node, addresses are node names or IPs (`"server:6379"`), and every
//! latency, loss and delivery order is a draw on the run's tape.
//!
//! The sockets implement tokio's own `AsyncRead`/`AsyncWrite`, so
//! `tokio::io` utilities, `tokio-util` codecs and hyper's `TokioIo` work on
//! them. Like tokio's, they are `Send + Sync`: each holds an
//! `asyncsim::net::Detached` socket (the run's id and the socket's place in
//! its world), lent for each operation on the run's thread; used outside its
//! run it is an `io::Error`, never a data race.
//!
//! ```
//! use asyncsim_tokio as tokio;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! let runtime = tokio::runtime::Runtime::new().unwrap();
//! let echoed = runtime.block_on(async {
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:7000").await.unwrap();
//!     tokio::spawn(async move {
//!         let (mut stream, _) = listener.accept().await.unwrap();
//!         let mut buf = [0u8; 4];
//!         stream.read_exact(&mut buf).await.unwrap();
//!         stream.write_all(&buf).await.unwrap();
//!     });
//!     let mut client = tokio::net::TcpStream::connect("127.0.0.1:7000").await.unwrap();
//!     client.write_all(b"ping").await.unwrap();
//!     let mut buf = [0u8; 4];
//!     client.read_exact(&mut buf).await.unwrap();
//!     buf
//! });
//! assert_eq!(&echoed, b"ping");
//! ```

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::panic::Location;

use asyncsim::net::{Address, ToAddress};

#[macro_use]
mod halves;
mod socket;
#[macro_use]
pub mod tcp;
mod udp;
#[cfg(all(unix, feature = "net"))]
pub mod unix;
#[cfg(all(unix, feature = "net"))]
mod unix_datagram;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};

use asyncsim::net::{Waitable, Waiting};

/// Polls `poll` until it is ready, as a wait on `socket` that many tasks
/// may make at once: dropped while it waits (a `select!` took another
/// branch, a `timeout` fired, the task was aborted), it leaves the
/// socket's waiters, so nothing stale wakes its task later.
async fn wait_on<S: Waitable + ?Sized, T>(
    socket: &S,
    mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>,
) -> T {
    let mut waiting = Waiting::new(socket);
    std::future::poll_fn(|context| {
        waiting.polling();
        let polled = poll(context);
        waiting.polled(context, polled)
    })
    .await
}

/// A stream's sides a wait parks on (`wait_on_sides`).
struct OnSides<'a, S: ?Sized> {
    socket: &'a S,
    read: bool,
    write: bool,
}

impl<S: Waitable + ?Sized> Waitable for OnSides<'_, S> {
    fn leave_waiters(&self, key: asyncsim::net::WaiterKey) {
        self.socket.leave_waiters_of(key, self.read, self.write);
    }
}

/// [`wait_on`] a stream's read side (`read`), its write side (`write`),
/// or both: dropped while it waits, it leaves those only (another future
/// of its task may wait on the other: a `write_all` waiting for room
/// beside a `readable` under a `timeout`). A wait on both is ready when
/// either side is, and leaves both then (`Waiting::either`).
async fn wait_on_sides<S: Waitable + ?Sized, T>(
    socket: &S,
    read: bool,
    write: bool,
    mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>,
) -> T {
    let sides = OnSides {
        socket,
        read,
        write,
    };
    if !(read && write) {
        return wait_on(&sides, poll).await;
    }
    let mut waiting = Waiting::either(&sides);
    std::future::poll_fn(|context| {
        waiting.polling();
        let polled = poll(context);
        waiting.polled(context, polled)
    })
    .await
}

/// Polls a future of the world once, in place: for the world's socket
/// operations that complete at once or are pure polls (they keep no state
/// between polls, so a fresh future each poll is the same future).
fn poll_now<F: Future>(future: F, context: &mut Context<'_>) -> Poll<F::Output> {
    pin!(future).poll(context)
}

/// The output of a world future that is ready at once (binding waits for
/// nothing), for tokio's operations that are not `async` (`TcpSocket::
/// listen`): polled once with a waker that does nothing.
fn ready_now<F: Future>(future: F) -> F::Output {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    let waker = std::task::Waker::from(std::sync::Arc::new(Noop));
    match poll_now(future, &mut Context::from_waker(&waker)) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("the world's bind is ready at once"),
    }
}

/// A poll of a lent socket, or the error of a socket used outside its run.
fn flatten<T>(lent: io::Result<Poll<io::Result<T>>>) -> Poll<io::Result<T>> {
    lent.unwrap_or_else(|error| Poll::Ready(Err(error)))
}

/// The face's addresses as the world's: resolved when the world asks, once
/// (a host name borrowed where the world's own calls borrow it, a `String`
/// where they make one).
struct Resolve<'a, A: ?Sized>(&'a A);

impl<A: ToAddressPrivate + ?Sized> ToAddress for Resolve<'_, A> {
    fn to_address(&self) -> io::Result<Address> {
        self.0.to_sim_address()
    }

    #[inline]
    fn host_and_port(&self) -> Option<(&str, u16)> {
        self.0.sim_host_and_port()
    }

    #[inline]
    fn socket_addr(&self) -> Option<SocketAddr> {
        self.0.sim_socket_addr()
    }
}

pub use socket::TcpSocket;
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
#[cfg(all(unix, feature = "net"))]
pub use unix::{UnixListener, UnixStream};
#[cfg(all(unix, feature = "net"))]
pub use unix_datagram::{UnixDatagram, UnixSocket};

/// Addresses the simulated network resolves: what tokio's trait of the same
/// name accepts (`"host:port"`, `(host, port)`, `SocketAddr`, …), where a
/// host is a node's name or IP.
pub trait ToSocketAddrs: sealed::ToAddressPrivate {}

pub(crate) mod sealed {
    use std::io;

    /// The face's resolution, kept out of the public trait (as tokio keeps
    /// its own).
    pub trait ToAddressPrivate {
        fn to_sim_address(&self) -> io::Result<asyncsim::net::Address>;

        /// The host name and port, borrowed, when `to_sim_address` would
        /// give a host name (`asyncsim::net::ToAddress::host_and_port`).
        fn sim_host_and_port(&self) -> Option<(&str, u16)> {
            None
        }

        /// The socket address, when `to_sim_address` would give it as
        /// `Address::Ip` already (`asyncsim::net::ToAddress::socket_addr`):
        /// a send then skips making the `Address`.
        #[inline]
        fn sim_socket_addr(&self) -> Option<std::net::SocketAddr> {
            None
        }
    }
}

use sealed::ToAddressPrivate;

macro_rules! via_world {
    ($($type:ty),* $(,)?) => {
        $(
            impl ToSocketAddrs for $type {}
            impl ToAddressPrivate for $type {
                #[inline]
                fn to_sim_address(&self) -> io::Result<Address> {
                    self.to_address()
                }

                // Inlined into the caller's crate, as the world's own
                // `host_and_port` is: there a literal host's IP check folds
                // away.
                #[inline]
                fn sim_host_and_port(&self) -> Option<(&str, u16)> {
                    self.host_and_port()
                }

                #[inline]
                fn sim_socket_addr(&self) -> Option<SocketAddr> {
                    self.socket_addr()
                }
            }
        )*
    };
}

via_world!(
    str,
    String,
    SocketAddr,
    SocketAddrV4,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (&str, u16)
);

impl ToSocketAddrs for SocketAddrV6 {}
impl ToAddressPrivate for SocketAddrV6 {
    fn to_sim_address(&self) -> io::Result<Address> {
        Ok(Address::Ip(SocketAddr::V6(*self)))
    }
}

impl ToSocketAddrs for (Ipv6Addr, u16) {}
impl ToAddressPrivate for (Ipv6Addr, u16) {
    fn to_sim_address(&self) -> io::Result<Address> {
        Ok(Address::Ip(SocketAddr::new(IpAddr::V6(self.0), self.1)))
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToAddressPrivate for (String, u16) {
    fn to_sim_address(&self) -> io::Result<Address> {
        (self.0.as_str(), self.1).to_address()
    }
}

impl ToSocketAddrs for &[SocketAddr] {}
impl ToAddressPrivate for &[SocketAddr] {
    fn to_sim_address(&self) -> io::Result<Address> {
        match self.first() {
            Some(address) => Ok(Address::Ip(*address)),
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "could not resolve to any address",
            )),
        }
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToAddressPrivate + ?Sized> ToAddressPrivate for &T {
    fn to_sim_address(&self) -> io::Result<Address> {
        (**self).to_sim_address()
    }

    fn sim_host_and_port(&self) -> Option<(&str, u16)> {
        (**self).sim_host_and_port()
    }

    #[inline]
    fn sim_socket_addr(&self) -> Option<SocketAddr> {
        (**self).sim_socket_addr()
    }
}

/// Resolves `host` on the simulated network: a node's name (or IP) and a
/// port, as `TcpStream::connect` would resolve it from the calling node.
///
/// # Errors
///
/// `NotFound` for a name no node has; `InvalidInput` for a malformed
/// address.
pub async fn lookup_host<T: ToSocketAddrs>(
    host: T,
) -> io::Result<impl Iterator<Item = SocketAddr>> {
    let address = host.to_sim_address()?;
    let resolved = asyncsim::net::lookup_host(address)?;
    Ok(std::iter::once(resolved))
}

// tokio's sockets are `UnwindSafe`, so code may hold one across
// `catch_unwind`; the face's hold a `Detached` (a thread-checked cell),
// which takes the marker away by default. After a caught panic they are as
// usable as tokio's (the marker is advisory: no unsafe code relies on it).
macro_rules! unwind_safe {
    ($($type:ty),*) => {
        $(
            impl std::panic::UnwindSafe for $type {}
            impl std::panic::RefUnwindSafe for $type {}
        )*
    };
}

unwind_safe!(
    TcpListener,
    TcpStream,
    UdpSocket,
    tcp::OwnedReadHalf,
    tcp::OwnedWriteHalf,
    tcp::ReuniteError,
    tcp::ReadHalf<'_>,
    tcp::WriteHalf<'_>
);

/// The refusal of a conversion from or to a real OS socket, or of raw I/O
/// on the descriptor a simulated socket does not have. It names the call's
/// line: the call is often in a dependency (redis 1.8's connect turns its
/// socket into a std one to set socket2 options), whose path names the crate.
/// `at` is `None` where no caller's line can reach (an `async fn`).
fn refused_real(what: &str, instead: &str, at: Option<&Location<'_>>) -> io::Error {
    let at = at.map_or_else(String::new, |at| {
        format!(" (called at {}:{})", at.file(), at.line())
    });
    crate::explain::unsupported(
        &format!("net::{what}"),
        &format!(
            "a std socket and a raw descriptor are the real OS's, outside asyncsim's control; \
             {instead}{at}"
        ),
    )
}

/// `from_std`, `into_std` (refused), and for the sockets that have them
/// `try_io` and `async_io` (refused: no descriptor to do I/O on).
macro_rules! refused_real {
    ($type:ident, $std:ty, $instead:literal) => {
        impl $type {
            /// Refused: a std socket is the real OS's.
            ///
            /// # Errors
            ///
            /// Always `Unsupported`, naming what to use instead.
            #[track_caller]
            pub fn from_std(_socket: $std) -> io::Result<$type> {
                Err(refused_real(
                    concat!(stringify!($type), "::from_std"),
                    $instead,
                    Some(Location::caller()),
                ))
            }

            /// Refused: a simulated socket has no std counterpart.
            ///
            /// # Errors
            ///
            /// Always `Unsupported`, naming what to use instead.
            #[track_caller]
            pub fn into_std(self) -> io::Result<$std> {
                Err(refused_real(
                    concat!(stringify!($type), "::into_std"),
                    $instead,
                    Some(Location::caller()),
                ))
            }
        }
    };
    ($type:ident, $std:ty, $instead:literal, raw_io) => {
        refused_real!($type, $std, $instead);

        #[cfg(feature = "net")]
        impl $type {
            /// Refused: `f` would do I/O on the socket's raw descriptor,
            /// which a simulated socket does not have.
            ///
            /// # Errors
            ///
            /// Always `Unsupported`, naming the socket's own methods.
            #[track_caller]
            pub fn try_io<R>(
                &self,
                _interest: tokio::io::Interest,
                _f: impl FnOnce() -> io::Result<R>,
            ) -> io::Result<R> {
                Err(refused_real(
                    concat!(stringify!($type), "::try_io"),
                    "use the socket's own try_ methods (try_read, try_write, …) and readiness",
                    Some(Location::caller()),
                ))
            }

            /// Refused, as `try_io`.
            ///
            /// # Errors
            ///
            /// Always `Unsupported`, naming the socket's own methods.
            pub async fn async_io<R>(
                &self,
                _interest: tokio::io::Interest,
                _f: impl FnMut() -> io::Result<R>,
            ) -> io::Result<R> {
                Err(refused_real(
                    concat!(stringify!($type), "::async_io"),
                    "use the socket's own methods (read, write, …) and readiness",
                    None,
                ))
            }
        }
    };
}

refused_real!(
    TcpListener,
    std::net::TcpListener,
    "bind with tokio::net::TcpListener::bind (or TcpSocket, for its options) instead"
);
refused_real!(
    TcpStream,
    std::net::TcpStream,
    "connect with tokio::net::TcpStream::connect (or TcpSocket) instead",
    raw_io
);
refused_real!(
    UdpSocket,
    std::net::UdpSocket,
    "bind with tokio::net::UdpSocket::bind instead",
    raw_io
);
#[cfg(all(unix, feature = "net"))]
refused_real!(
    UnixListener,
    std::os::unix::net::UnixListener,
    "bind with tokio::net::UnixListener::bind instead"
);
#[cfg(all(unix, feature = "net"))]
refused_real!(
    UnixStream,
    std::os::unix::net::UnixStream,
    "connect with tokio::net::UnixStream::connect instead",
    raw_io
);
#[cfg(all(unix, feature = "net"))]
refused_real!(
    UnixDatagram,
    std::os::unix::net::UnixDatagram,
    "bind with tokio::net::UnixDatagram::bind (or unbound) instead",
    raw_io
);
