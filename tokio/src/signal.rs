//! `tokio::signal` in a simulated run: a signal comes only when the test
//! sends one, with [`simulate::ctrl_c`] or [`simulate::signal`].
//!
//! No real signal reaches a run (a SIGINT sent to the test process would
//! end it, as it ends any process that never listened). A node of the
//! simulated world is a process: a signal sent to node `server` comes to
//! the listeners of tasks on that node, as `kill` sends one to a process.
//! A listener hears the signals sent after it began listening, as tokio's
//! does: [`ctrl_c`] from its first poll, a [`unix::Signal`] from
//! [`unix::signal`]; several sent before a listener looks again are heard as
//! one. A task left waiting when a run deadlocks is named by the report
//! ("waits on receive of signal SIGINT (ctrl-c) to node `main` …"), with the
//! call that sends it.
//!
//! ```
//! use asyncsim_tokio as tokio;
//!
//! let runtime = tokio::runtime::Runtime::new().unwrap();
//! let stopped = runtime.block_on(async {
//!     // The program: serves until ctrl-c, then says it stopped.
//!     let program = tokio::spawn(async {
//!         tokio::signal::ctrl_c().await.unwrap();
//!         "stopped"
//!     });
//!     // Let it start: nothing listens before its first poll.
//!     tokio::time::sleep(std::time::Duration::from_millis(1)).await;
//!     tokio::signal::simulate::ctrl_c("main").unwrap();
//!     program.await.unwrap()
//! });
//! assert_eq!(stopped, "stopped");
//! ```

use std::cell::RefCell;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};

/// Linux's number of SIGINT, the signal ctrl-c sends.
const SIGINT: i32 = 2;

/// Completes when ctrl-c (SIGINT) is sent to the calling task's node after
/// this future is first polled: in a simulated run, by
/// [`simulate::ctrl_c`] (outside a run, never).
pub async fn ctrl_c() -> io::Result<()> {
    let mut listener = None;
    std::future::poll_fn(|context| {
        let listener = listener.get_or_insert_with(|| Listener::listen(SIGINT));
        match listener.poll_recv(context) {
            Poll::Ready(_) => Poll::Ready(Ok(())),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// Unix signals: a stream of the signals of one kind sent to the node.
#[cfg(unix)]
pub mod unix {
    use std::task::{Context, Poll};

    /// tokio's signal kinds, re-exported.
    #[cfg(feature = "signal")]
    pub use tokio::signal::unix::SignalKind;

    /// A stream of one kind of signal sent to the node that made it (in a
    /// simulated run, by [`simulate::signal`](super::simulate::signal)).
    #[derive(Debug)]
    pub struct Signal {
        listener: super::Listener,
    }

    /// Listens for a kind of signal sent to the calling task's node from
    /// now on (outside a run, none ever comes).
    #[cfg(feature = "signal")]
    pub fn signal(kind: SignalKind) -> std::io::Result<Signal> {
        Ok(Signal {
            listener: super::Listener::listen(kind.as_raw_value()),
        })
    }

    impl Signal {
        /// The next signal: `Some(())` once one was sent since the last.
        pub async fn recv(&mut self) -> Option<()> {
            std::future::poll_fn(|context| self.poll_recv(context)).await
        }

        /// Polls for the next signal.
        pub fn poll_recv(&mut self, context: &mut Context<'_>) -> Poll<Option<()>> {
            self.listener.poll_recv(context)
        }
    }
}

/// Sending signals to the nodes of a simulated run (not tokio's: a test's
/// stand-in for `kill -INT`, which a simulated process cannot receive).
pub mod simulate {
    use std::io;

    /// Sends ctrl-c (SIGINT) to node `node` of this run (`"main"` for the
    /// test's own): every task there waiting in
    /// [`ctrl_c`](super::ctrl_c) (or holding a `signal(SignalKind::interrupt())`)
    /// hears it.
    ///
    /// # Errors
    ///
    /// `NotFound` when the run has no such node; an error when nothing on
    /// it listens for ctrl-c now (a real process would lose the signal, or
    /// die of it if it never listened): send it once the program waits.
    ///
    /// # Panics
    ///
    /// Outside a simulated run.
    #[track_caller]
    pub fn ctrl_c(node: &str) -> io::Result<()> {
        super::deliver(node, super::SIGINT, "tokio::signal::simulate::ctrl_c")
    }

    /// Sends a signal of `kind` to node `node` of this run: every
    /// [`Signal`](super::unix::Signal) of that kind made on it hears it (and
    /// every [`ctrl_c`](super::ctrl_c) waiting there, for
    /// `SignalKind::interrupt()`).
    ///
    /// # Errors
    ///
    /// As [`ctrl_c`]'s.
    ///
    /// # Panics
    ///
    /// Outside a simulated run.
    #[cfg(all(unix, feature = "signal"))]
    #[track_caller]
    pub fn signal(node: &str, kind: super::unix::SignalKind) -> io::Result<()> {
        super::deliver(node, kind.as_raw_value(), "tokio::signal::simulate::signal")
    }
}

/// One listener's state, shared with the run's table (which holds it
/// weakly: a listener dropped stops listening).
#[derive(Debug)]
struct Heard {
    /// A signal came since the listener last looked.
    pending: bool,
    waker: Option<Waker>,
    /// Its wait's label in the run's trace, once it waited.
    label: Option<u32>,
}

/// Where a listener listens: which run, node and signal.
#[derive(Debug, Clone)]
struct Place {
    run: u64,
    node: String,
    number: i32,
}

/// A listener of one signal on one node (none outside a run: it never
/// hears anything).
#[derive(Debug)]
struct Listener {
    place: Option<Place>,
    heard: Arc<Mutex<Heard>>,
}

/// The listeners of one run: the run, and each listener's place and state
/// in the order they began.
type Listeners = (u64, Vec<(Place, Weak<Mutex<Heard>>)>);

thread_local! {
    /// The listeners of the run on this thread: a signal wakes them in the
    /// order they began.
    static LISTENERS: RefCell<Listeners> = const { RefCell::new((0, Vec::new())) };
}

fn lock(heard: &Mutex<Heard>) -> MutexGuard<'_, Heard> {
    heard.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Listener {
    /// Begins listening for signal `number` on the calling task's node.
    fn listen(number: i32) -> Listener {
        let heard = Arc::new(Mutex::new(Heard {
            pending: false,
            waker: None,
            label: None,
        }));
        let place = asyncsim::task::run_id().map(|run| Place {
            run,
            node: asyncsim::node::current().name(),
            number,
        });
        if let Some(place) = &place {
            LISTENERS.with(|listeners| {
                let mut listeners = listeners.borrow_mut();
                if listeners.0 != place.run {
                    *listeners = (place.run, Vec::new());
                }
                listeners.1.retain(|(_, heard)| heard.strong_count() > 0);
                listeners.1.push((place.clone(), Arc::downgrade(&heard)));
            });
        }
        Listener { place, heard }
    }

    fn poll_recv(&mut self, context: &mut Context<'_>) -> Poll<Option<()>> {
        let mut heard = lock(&self.heard);
        if heard.pending {
            heard.pending = false;
            return Poll::Ready(Some(()));
        }
        match &mut heard.waker {
            Some(waker) => waker.clone_from(context.waker()),
            None => heard.waker = Some(context.waker().clone()),
        }
        if let Some(place) = &self.place {
            if asyncsim::task::run_id() == Some(place.run) {
                let label = *heard.label.get_or_insert_with(|| {
                    asyncsim::net::wait_label(format!(
                        "signal {} to node `{}` (in a simulated run only the test sends one: \
                         tokio::signal::simulate::{})",
                        name(place.number),
                        place.node,
                        sender(place.number, &place.node),
                    ))
                });
                asyncsim::net::waits_on(asyncsim::trace::SocketWait::Recv, label);
            }
        }
        Poll::Pending
    }
}

/// Sends signal `number` to node `node` of the current run; `what` names
/// the caller in a panic.
#[track_caller]
fn deliver(node: &str, number: i32, what: &str) -> io::Result<()> {
    let Some(run) = asyncsim::task::run_id() else {
        panic!(
            "{what} was called outside a simulated run: send a signal from inside the test \
             (#[tokio::test], #[tokio::main] or Runtime::block_on), to a node of its run"
        );
    };
    if asyncsim::node::lookup(node).is_none() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{what}: no node is called `{node}` in this run (the test's own is `main`; \
                 others are made by tokio::asyncsim::node::Builder)"
            ),
        ));
    }
    let listeners: Vec<Arc<Mutex<Heard>>> = LISTENERS.with(|listeners| {
        let listeners = listeners.borrow();
        if listeners.0 != run {
            return Vec::new();
        }
        listeners
            .1
            .iter()
            .filter(|(place, _)| place.node == node && place.number == number)
            .filter_map(|(_, heard)| heard.upgrade())
            .collect()
    });
    if listeners.is_empty() {
        return Err(io::Error::other(format!(
            "{what}: nothing on node `{node}` listens for {} now (no task there waits in \
             tokio::signal::ctrl_c() or holds a tokio::signal::unix::signal() of it): a real \
             process would lose the signal, or die of it if it never listened. Send it once the \
             program waits for it (after it said it is ready, or after a sleep)",
            name(number)
        )));
    }
    for heard in listeners {
        let waker = {
            let mut heard = lock(&heard);
            heard.pending = true;
            heard.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
    Ok(())
}

/// A signal's name, with what sends it for the common ones.
fn name(number: i32) -> String {
    match number {
        1 => "SIGHUP".to_string(),
        2 => "SIGINT (ctrl-c)".to_string(),
        3 => "SIGQUIT".to_string(),
        10 => "SIGUSR1".to_string(),
        12 => "SIGUSR2".to_string(),
        14 => "SIGALRM".to_string(),
        15 => "SIGTERM".to_string(),
        17 => "SIGCHLD".to_string(),
        28 => "SIGWINCH".to_string(),
        other => format!("number {other}"),
    }
}

/// The call that sends signal `number` to `node`.
fn sender(number: i32, node: &str) -> String {
    if number == SIGINT {
        format!("ctrl_c(\"{node}\")")
    } else {
        format!("signal(\"{node}\", SignalKind::from_raw({number}))")
    }
}
