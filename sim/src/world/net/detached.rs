//! A socket as a `Send + Sync` value, for wrappers whose handles must be
//! `Send` (the tokio face's `tokio::net` types): no reference to the run,
//! only the run's id and the socket's place in the run's world.

use std::fmt;
use std::io;
use std::marker::PhantomData;

use super::{TcpListener, TcpStream, UdpSocket};
use crate::world::world_of_run;

/// A socket of a run ([`TcpStream`], [`TcpListener`], [`UdpSocket`]) as a
/// `Send + Sync` value: the run's id and the socket's place in the run's
/// world, no reference to the run. [`Detached::with`] lends the socket for
/// one operation where its run's world is the thread's world: on the run's
/// own thread (past the run, its operations fail as a kept socket's do).
/// On another thread, or once a later run made its world, it is an error,
/// never a data race (no thread id is read: another thread simply does not
/// have that world). Dropping it closes the socket as dropping the socket
/// does.
///
/// ```
/// use asyncsim_sim::net::{Detached, TcpListener};
/// use asyncsim_sim::{Config, Sim};
///
/// fn assert_send_sync<T: Send + Sync>(_: &T) {}
/// let run = Sim::new(Config::new()).run(async {
///     let listener = Detached::new(TcpListener::bind("0.0.0.0:7000").await.unwrap());
///     assert_send_sync(&listener);
///     let port = listener.with(|listener| listener.local_addr().unwrap().port()).unwrap();
///     // On another thread the socket is not there to lend.
///     let elsewhere = std::thread::scope(|s| s.spawn(|| listener.with(|_| ()).is_err()).join().unwrap());
///     (port, elsewhere)
/// });
/// assert_eq!(run.result.unwrap(), (7000, true));
/// ```
pub struct Detached<S: Detachable> {
    run_id: u64,
    place: S::Place,
    _socket: PhantomData<fn() -> S>,
}

/// The sockets a [`Detached`] can hold.
pub trait Detachable: sealed::Lend {}

impl Detachable for TcpStream {}
impl Detachable for TcpListener {}
impl Detachable for UdpSocket {}

pub(crate) mod sealed {
    /// How a socket is taken apart and lent again.
    pub trait Lend: Sized {
        /// Where the socket is in its world.
        type Place: Copy + Send + Sync + 'static;
        /// What it is called in errors.
        const NAME: &'static str;
        /// Its run's id and its place; from now on dropping it only lets
        /// go of the world.
        fn detach(&mut self) -> (u64, Self::Place);
        /// The socket at `place` in run `run_id`'s world, lent (`lent`:
        /// its drop does nothing but let go of the world) or owned again;
        /// `None` unless that run is the thread's current one.
        fn lend(run_id: u64, place: Self::Place, lent: bool) -> Option<Self>;
    }
}

impl sealed::Lend for TcpStream {
    type Place = (usize, usize);
    const NAME: &'static str = "TcpStream";

    fn detach(&mut self) -> (u64, (usize, usize)) {
        self.lent = true;
        (self.world.borrow().run_id, (self.connection, self.side))
    }

    #[inline]
    fn lend(run_id: u64, (connection, side): (usize, usize), lent: bool) -> Option<TcpStream> {
        world_of_run(run_id).map(|world| TcpStream {
            world,
            connection,
            side,
            lent,
        })
    }
}

impl sealed::Lend for TcpListener {
    type Place = usize;
    const NAME: &'static str = "TcpListener";

    fn detach(&mut self) -> (u64, usize) {
        self.lent = true;
        (self.world.borrow().run_id, self.listener)
    }

    #[inline]
    fn lend(run_id: u64, listener: usize, lent: bool) -> Option<TcpListener> {
        world_of_run(run_id).map(|world| TcpListener {
            world,
            listener,
            lent,
        })
    }
}

impl sealed::Lend for UdpSocket {
    type Place = usize;
    const NAME: &'static str = "UdpSocket";

    fn detach(&mut self) -> (u64, usize) {
        self.lent = true;
        (self.world.borrow().run_id, self.socket)
    }

    #[inline]
    fn lend(run_id: u64, socket: usize, lent: bool) -> Option<UdpSocket> {
        world_of_run(run_id).map(|world| UdpSocket {
            world,
            socket,
            lent,
        })
    }
}

impl<S: Detachable> Detached<S> {
    /// `socket`, detached from the run's `Rc`s.
    pub fn new(mut socket: S) -> Detached<S> {
        let (run_id, place) = socket.detach();
        Detached {
            run_id,
            place,
            _socket: PhantomData,
        }
    }

    /// Lends the socket to `f` for one operation.
    ///
    /// # Errors
    ///
    /// On another thread, or once a later run made its world: the socket is
    /// not there to lend.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&mut S) -> R) -> io::Result<R> {
        match S::lend(self.run_id, self.place, true) {
            Some(mut socket) => Ok(f(&mut socket)),
            None => Err(elsewhere(S::NAME)),
        }
    }

    /// True when both hold the same socket.
    pub fn same_socket(&self, other: &Detached<S>) -> bool
    where
        S::Place: PartialEq,
    {
        self.run_id == other.run_id && self.place == other.place
    }
}

#[cold]
fn elsewhere(name: &str) -> io::Error {
    io::Error::other(format!(
        "{name} used outside the asyncsim run that made it (on another thread, or after the run): \
         a simulated run is single-threaded and its sockets live only as long as it"
    ))
}

impl<S: Detachable> Drop for Detached<S> {
    fn drop(&mut self) {
        // The socket again, owned, so dropping it closes it. Where its world
        // is not the thread's there is nothing to close (its run is over, or
        // this is another thread, where its world is not to be touched).
        drop(S::lend(self.run_id, self.place, false));
    }
}

impl<S: Detachable + fmt::Debug> fmt::Debug for Detached<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.with(|socket| format!("{socket:?}")) {
            Ok(text) => f.write_str(&text),
            Err(_) => f.debug_struct(S::NAME).finish_non_exhaustive(),
        }
    }
}
