//! A stream's read side looked at without waiting or without taking:
//! `peek` (std's and tokio's name: the bytes stay to be read again),
//! `try_read` (a read that never waits: `WouldBlock` instead), and read
//! readiness (tokio's `readable`). Written apart from the read itself,
//! which stays as it is (the hot path); a read that does happen here is
//! that very read, with its step and its trace event.

use std::io;
use std::task::{Context, Poll};

use super::error;
use super::TcpStream;
use crate::trace::{SocketWait, WaitOn};
use crate::world::net::noop_context;
use crate::world::{cx, World};

/// What a read would find now.
enum Arrived {
    /// This many bytes (at least one) to read.
    Bytes(usize),
    /// The peer's FIN: a read returns 0.
    Eof,
    /// The stream's error (its reset, its timeout): a read returns it.
    Failed(io::Error),
}

impl TcpStream {
    /// Polls for bytes as [`TcpStream::poll_read_with`] does, but leaves
    /// them in the stream: the next read (or peek) gets them again. Hands
    /// `put` at most `max` of the bytes arrived (in one piece); ready with
    /// the count (0 at EOF). Waits, as a read does, when nothing has
    /// arrived; records nothing in the trace (nothing was delivered).
    ///
    /// Under the cooperative budget as a read is (tokio's `poll_peek` and
    /// `peek`): yields instead when the task's budget is spent, and spends
    /// a unit when ready.
    ///
    /// # Errors
    ///
    /// As a read: the stream's reset or timeout once it has come, and a
    /// stream of another run or of a crashed node.
    pub fn poll_peek_with(
        &self,
        context: &mut Context<'_>,
        max: usize,
        put: impl FnMut(&[u8]),
    ) -> Poll<io::Result<usize>> {
        // Under the task's budget, as a read: a yield when it is spent, and
        // a unit spent when the peek completes (it has no event), so a loop
        // peeking until enough has arrived yields.
        std::task::ready!(crate::world::net::poll_budget(context));
        let peeked = self.peek::<true>(Some(context), max, put);
        if peeked.is_ready() {
            cx::spend_on_completion();
        }
        peeked
    }

    /// [`TcpStream::poll_peek_with`] as a readiness look (the tokio face's
    /// `ready`): yields when the budget is spent, as
    /// [`TcpStream::poll_read_ready`] does, but spends nothing, and takes
    /// no error (the read it announces does).
    #[doc(hidden)]
    pub fn poll_peek_readiness(
        &self,
        context: &mut Context<'_>,
        max: usize,
        put: impl FnMut(&[u8]),
    ) -> Poll<io::Result<usize>> {
        std::task::ready!(crate::world::net::poll_budget(context));
        self.peek::<false>(Some(context), max, put)
    }

    /// [`TcpStream::try_peek_with`] as a readiness look (the tokio face's
    /// `ready`, asked for more than reading): it takes no error (a read
    /// returns it).
    #[doc(hidden)]
    pub fn try_peek_readiness(&self, max: usize, put: impl FnMut(&[u8])) -> io::Result<usize> {
        match self.peek::<false>(None, max, put) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// Peeks at what has arrived, without waiting: as
    /// [`TcpStream::poll_peek_with`], or `WouldBlock` when it would wait
    /// (and then nothing is parked: a task waiting to read stays the one
    /// woken).
    ///
    /// # Errors
    ///
    /// `WouldBlock` when nothing has arrived; otherwise as a read.
    pub fn try_peek_with(&self, max: usize, put: impl FnMut(&[u8])) -> io::Result<usize> {
        match self.peek::<true>(None, max, put) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// [`TcpStream::poll_peek_with`], parking only when given a `context`;
    /// `TAKE`: a peek that returns the stream's error takes it, as Linux's
    /// `MSG_PEEK` read does (a readiness look does not).
    fn peek<const TAKE: bool>(
        &self,
        context: Option<&mut Context<'_>>,
        max: usize,
        mut put: impl FnMut(&[u8]),
    ) -> Poll<io::Result<usize>> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        self.arrived::<TAKE>(world, context)?
            .map(|arrived| match arrived {
                Arrived::Bytes(arrived) => {
                    let pipe = &world.net.connections[self.connection].pipes[self.side];
                    let count = arrived.min(max);
                    put(&pipe.bytes[pipe.read_at..pipe.read_at + count]);
                    Ok(count)
                }
                Arrived::Eof => Ok(0),
                Arrived::Failed(error) => Err(error),
            })
    }

    /// Reads what has arrived, without waiting: the read
    /// [`TcpStream::poll_read_with`] makes (its step, its `net deliver`
    /// event), or `WouldBlock` when it would wait. 0 at EOF.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when nothing has arrived; otherwise as a read.
    ///
    /// ```
    /// use asyncsim_sim::net::{TcpListener, TcpStream};
    /// use asyncsim_sim::{Config, Sim};
    /// use futures::AsyncWriteExt;
    /// use std::future::poll_fn;
    ///
    /// let run = Sim::new(Config::new()).run(async {
    ///     let listener = TcpListener::bind("0.0.0.0:7000").await.unwrap();
    ///     let mut client = TcpStream::connect("127.0.0.1:7000").await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     let mut got = Vec::new();
    ///     let early = server.try_read_with(8, |bytes| got.extend_from_slice(bytes));
    ///     client.write_all(b"hi").await.unwrap();
    ///     poll_fn(|context| server.poll_read_ready(context)).await.unwrap();
    ///     let mut peeked = Vec::new();
    ///     server.try_peek_with(8, |bytes| peeked.extend_from_slice(bytes)).unwrap();
    ///     let count = server.try_read_with(8, |bytes| got.extend_from_slice(bytes)).unwrap();
    ///     (early.unwrap_err().kind(), peeked, count, got)
    /// });
    /// let (early, peeked, count, got) = run.result.unwrap();
    /// assert_eq!(early, std::io::ErrorKind::WouldBlock);
    /// assert_eq!((peeked, count, got), (b"hi".to_vec(), 2, b"hi".to_vec()));
    /// ```
    pub fn try_read_with(&self, max: usize, put: impl FnMut(&[u8])) -> io::Result<usize> {
        if self
            .arrived::<false>(&mut self.world.borrow_mut(), None)?
            .is_pending()
        {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        // Something is there (bytes, EOF, an error): the read does not wait,
        // so the context's waker is never kept.
        match self.read_with::<false>(&mut noop_context(), max, put) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// Polls until a read would not wait: bytes have arrived, or the
    /// peer's EOF, or the stream's error (which the read then returns).
    /// Waits as a read does.
    ///
    /// Under the cooperative budget as tokio's `poll_read_ready` is:
    /// yields instead when the task's budget is spent, and spends a unit
    /// when ready (a loop of it alone yields).
    ///
    /// # Errors
    ///
    /// A stream of another run or of a crashed node.
    pub fn poll_read_ready(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        let ready = self.poll_read_readiness(context);
        if let Poll::Ready(Ok(())) = ready {
            cx::spend_on_completion();
        }
        ready
    }

    /// [`TcpStream::poll_read_ready`] spending nothing (the tokio face's
    /// `readable`, whose wait spends nothing on tokio either): it yields
    /// first when the task's budget is spent, as a write's readiness.
    #[doc(hidden)]
    pub fn poll_read_readiness(&self, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(crate::world::net::poll_budget(context));
        // An error that has come makes the stream readable (the read
        // returns it), as a socket's error does.
        let arrived = self.arrived::<false>(&mut self.world.borrow_mut(), Some(context))?;
        arrived.map(|_| Ok(()))
    }

    /// Polls until the read side is closed, as epoll's `EPOLLERR` and
    /// `EPOLLRDHUP` tell (tokio's `Ready::ERROR` and `READ_CLOSED`): ready
    /// with the stream's error kind once its error (a reset, a timeout) has
    /// come, or, when `eof` is asked, `None` once the peer's FIN has (bytes
    /// before it unread or not). Given a `context`, waits (parked as a read
    /// is, woken at each arrival, its timer set for the error's arrival or
    /// the FIN's) when neither has; without one, `Pending` then.
    ///
    /// The error is not taken (as Linux's `poll` leaves `sk_err`): the next
    /// read, peek or write returns it and takes it (reads are EOF after
    /// that, writes `BrokenPipe`); this look still says it came.
    ///
    /// # Errors
    ///
    /// A stream of another run or of a crashed node.
    #[doc(hidden)]
    pub fn poll_read_closed(
        &self,
        context: Option<&mut Context<'_>>,
        eof: bool,
    ) -> Poll<io::Result<Option<io::ErrorKind>>> {
        let mut world = self.world.borrow_mut();
        let world = &mut *world;
        let now = self.check_now(world)?;
        let c = &mut world.net.connections[self.connection];
        if let Some(kind) = c.error_at(self.side, now) {
            c.pipes[self.side].reader.ready_by(context.as_deref());
            // Recorded once, when it came (or now, if this look is first).
            if !c.quiet[self.side] {
                error::say_error(world, self.connection, self.side, kind);
            }
            return Poll::Ready(Ok(Some(kind)));
        }
        // The reset of the peer's close: an error from its arrival (a read
        // gets it only after the bytes and a FIN before it).
        let reset_ns = c.reset_ns[self.side];
        if matches!(reset_ns, Some(at) if at <= now) {
            c.pipes[self.side].reader.ready_by(context.as_deref());
            let kind = c.close_reset_kind(self.side);
            error::say_close_reset(world, self.connection, self.side);
            return Poll::Ready(Ok(Some(kind)));
        }
        let error_ns = c.errors[self.side].map(|(at, _)| at);
        let pipe = &mut c.pipes[self.side];
        if eof && matches!(pipe.fin_ns, Some(fin) if fin <= now) {
            pipe.reader.ready_by(context.as_deref());
            return Poll::Ready(Ok(None));
        }
        if let Some(context) = context {
            let next = [error_ns, pipe.fin_ns.filter(|_| eof), reset_ns]
                .into_iter()
                .flatten()
                .min();
            pipe.reader.park(context.waker(), next);
            let socket = world.stream_label(self.connection, self.side);
            cx::set_waiting_on(WaitOn::Socket {
                op: SocketWait::Read,
                socket,
            });
        }
        Poll::Pending
    }

    /// What a read would find now; `Pending` when it would wait, and then
    /// (given a `context`) parked as the read parks. An error that has
    /// come is said as a read says it (once, in the trace), and taken when
    /// `TAKE` says (a peek's); once taken, a read finds EOF.
    ///
    /// # Errors
    ///
    /// A stream of another run or of a crashed node.
    fn arrived<const TAKE: bool>(
        &self,
        world: &mut World,
        context: Option<&mut Context<'_>>,
    ) -> io::Result<Poll<Arrived>> {
        let now = self.check_now(world)?;
        let c = &mut world.net.connections[self.connection];
        if let Some(kind) = c.error_at(self.side, now) {
            c.pipes[self.side].reader.ready_by(context.as_deref());
            if c.taken[self.side] {
                return Ok(Poll::Ready(Arrived::Eof));
            }
            c.taken[self.side] = TAKE;
            if !c.quiet[self.side] {
                error::say_error(world, self.connection, self.side, kind);
            }
            return Ok(Poll::Ready(Arrived::Failed(self.error(world, kind))));
        }
        let error_ns = c.errors[self.side].map(|(at, _)| at);
        let pipe = &mut c.pipes[self.side];
        let mut arrived = 0;
        let mut offset = pipe.offset;
        for segment in &pipe.segments {
            if segment.arrival_ns > now {
                break;
            }
            arrived += segment.len - offset;
            offset = 0;
        }
        if arrived > 0 {
            pipe.reader.ready_by(context.as_deref());
            return Ok(Poll::Ready(Arrived::Bytes(arrived)));
        }
        if pipe.segments.is_empty() && matches!(pipe.fin_ns, Some(fin) if fin <= now) {
            pipe.reader.ready_by(context.as_deref());
            if pipe.fin_resets && !world.net.connections[self.connection].taken[self.side] {
                // The reset of the peer's close, as a read gets it.
                if !TAKE {
                    // (Said as a read says it, but left for the read.)
                    error::say_close_reset_or_spend(world, self.connection, self.side);
                    let error = self.error(world, io::ErrorKind::ConnectionReset);
                    return Ok(Poll::Ready(Arrived::Failed(error)));
                }
                // (Not taken yet: the reset, taken now.)
                if let Err(error) = self.read_reset(world) {
                    return Ok(Poll::Ready(Arrived::Failed(error)));
                }
            }
            return Ok(Poll::Ready(Arrived::Eof));
        }
        if let Some(context) = context {
            self.wait_to_read(world, error_ns, context);
        }
        Ok(Poll::Pending)
    }
}
