//! A run's connections and listeners: kept for the next run's reuse, their
//! waiters listed for a report, and forgotten with a node.

use std::collections::VecDeque;

use super::pipe::{Connection, DEFAULT_RECV_BUFFER, DEFAULT_SEND_BUFFER, SPARE_MAX};
use super::ListenerState;
use crate::cx::NodeId;
use crate::trace::{SocketWait, TaskId, WaitOn};
use crate::world::net::Parked;

/// A run's connections or listeners, by id (`0..len()`), and after them the
/// emptied ones of earlier runs in this world, kept for reuse: a new one
/// takes the next and is filled in place (its buffers kept, so it allocates
/// nothing in a run after the first, and nothing of it is moved: a
/// connection, ~500 bytes, was taken from a list of spares and pushed here,
/// copied twice).
pub(crate) struct Reused<T> {
    list: Vec<T>,
    /// The run's are `list[..live]`.
    live: usize,
}

/// What [`Reused`] needs of what it keeps.
pub(crate) trait Reuse {
    /// A new one, to be filled in when it opens.
    fn empty() -> Self;
    /// Empties one of a run that ended, keeping its buffers.
    fn clear(&mut self);
}

/// The run's connections.
pub(crate) type Connections = Reused<Connection>;

/// The run's listeners.
pub(crate) type Listeners = Reused<ListenerState>;

impl<T> Default for Reused<T> {
    fn default() -> Self {
        Reused {
            list: Vec::new(),
            live: 0,
        }
    }
}

impl<T: Reuse> Reused<T> {
    /// The run's so far (the next one's id).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// The next one (id [`Reused::len`]), to be filled in by the caller:
    /// an emptied one kept from an earlier run (`Reuse::clear`ed, every
    /// other field the caller's to write), or a new one.
    #[inline]
    pub(super) fn open(&mut self) -> &mut T {
        if self.live == self.list.len() {
            self.list.push(T::empty());
        }
        self.live += 1;
        &mut self.list[self.live - 1]
    }

    /// Empties the run's for the next run's (their buffers kept), at most
    /// [`SPARE_MAX`] of all kept.
    pub(crate) fn keep(&mut self) {
        self.list.truncate(SPARE_MAX);
        let used = self.live.min(self.list.len());
        for each in &mut self.list[..used] {
            each.clear();
        }
        self.live = 0;
    }

    /// This run's, by id.
    pub(crate) fn of_run(&self) -> &[T] {
        &self.list[..self.live]
    }

    /// This run's `id`, if it has one.
    pub(crate) fn get_mut(&mut self, id: usize) -> Option<&mut T> {
        self.list[..self.live].get_mut(id)
    }
}

impl<T> std::ops::Index<usize> for Reused<T> {
    type Output = T;

    #[inline]
    fn index(&self, id: usize) -> &T {
        debug_assert!(
            id < self.live,
            "asyncsim bug: socket {id} is not this run's"
        );
        &self.list[id]
    }
}

impl<T> std::ops::IndexMut<usize> for Reused<T> {
    #[inline]
    fn index_mut(&mut self, id: usize) -> &mut T {
        debug_assert!(
            id < self.live,
            "asyncsim bug: socket {id} is not this run's"
        );
        &mut self.list[id]
    }
}

impl Reuse for Connection {
    fn empty() -> Connection {
        Connection::empty()
    }

    fn clear(&mut self) {
        self.pipes[0].clear();
        self.pipes[1].clear();
    }
}

/// The tasks waiting on the run's streams and listeners, with what each
/// waits for, for a failure's report: each connection by id, its ends in
/// order, each end's read then its write; then each listener's accept.
pub(crate) fn socket_waits(
    connections: &Connections,
    listeners: &Listeners,
    out: &mut Vec<(TaskId, WaitOn)>,
) {
    for c in connections.of_run() {
        for side in 0..2 {
            // (An end a task waited on has its label: the park made it.)
            let Some(socket) = c.labels[side] else {
                continue;
            };
            let sides = [
                (&c.pipes[side].reader, SocketWait::Read),
                (&c.pipes[1 - side].writer, SocketWait::Write),
            ];
            for (parked, op) in sides {
                out.extend(
                    parked
                        .waiting_tasks()
                        .map(|task| (task, WaitOn::Socket { op, socket })),
                );
            }
        }
    }
    for listener in listeners.of_run() {
        let Some(socket) = listener.label else {
            continue;
        };
        let op = SocketWait::Accept;
        out.extend(
            listener
                .acceptor
                .waiting_tasks()
                .map(|task| (task, WaitOn::Socket { op, socket })),
        );
    }
}

/// [`crate::world::net::Network::forget_node`] for the run's streams and
/// listeners.
pub(crate) fn forget_node(
    connections: &mut Connections,
    listeners: &mut Listeners,
    incarnation: NodeId,
) {
    for id in 0..connections.len() {
        for pipe in &mut connections[id].pipes {
            pipe.reader.forget_node(incarnation);
            pipe.writer.forget_node(incarnation);
        }
    }
    for id in 0..listeners.len() {
        listeners[id].acceptor.forget_node(incarnation);
    }
}

impl Reuse for ListenerState {
    fn empty() -> ListenerState {
        ListenerState {
            node: 0,
            incarnation: NodeId::MAIN,
            port: 0,
            backlog: VecDeque::new(),
            acceptor: Parked::default(),
            open: false,
            label: None,
            buffers: [DEFAULT_SEND_BUFFER, DEFAULT_RECV_BUFFER],
            linger_ns: u64::MAX,
        }
    }

    #[inline]
    fn clear(&mut self) {
        self.backlog.clear();
        self.acceptor.clear();
    }
}
