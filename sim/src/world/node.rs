//! Nodes: named machines with their own tasks, address, disk and `init`.
//!
//! The main future runs on node `main`. A task spawned from a task runs on
//! its parent's node; [`Node::spawn`] puts one on another node. A crash
//! drops every task of the node at the next step boundary (destructors run,
//! handles held elsewhere resolve with a `JoinError` naming the crash), kills
//! its timers and pool jobs, resets its connections and applies the disk's
//! crash model; a restart runs `init` again on the same disk.

use std::future::Future;
use std::io;
use std::net::IpAddr;

use super::{cx, default_ip, fs, net, world, Init, WorldRc};
use crate::task::JoinHandle;
use crate::trace::FaultOp;

/// Starts a node: `node::Builder::new("server").start(init)`.
#[derive(Debug)]
pub struct Builder {
    name: String,
    ip: Option<IpAddr>,
}

impl Builder {
    /// A node called `name` (its host name on the network).
    pub fn new(name: impl Into<String>) -> Builder {
        Builder {
            name: name.into(),
            ip: None,
        }
    }

    /// Gives the node this address instead of the next 10.0.0.x.
    pub fn ip(mut self, ip: IpAddr) -> Builder {
        self.ip = Some(ip);
        self
    }

    /// Creates the node and runs `init` on it now (and again at each
    /// restart).
    ///
    /// # Panics
    ///
    /// When the name or address is already a node's or cannot be one (see
    /// [`Builder::try_start`] for an error instead), or outside a run.
    #[track_caller]
    pub fn start<F, Fut>(self, init: F) -> Node
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        match self.try_start(init) {
            Ok(node) => node,
            Err(error) => panic!("node::Builder::start: {error}"),
        }
    }

    /// [`Builder::start`], with a name or address that is already a node's
    /// as an error (`AlreadyExists`, `AddrInUse`) rather than a panic, and
    /// one that no other node could reach it by as `InvalidInput`: an empty
    /// name, `localhost`, a name with a `:` or one that reads as an IP
    /// address; a loopback, unspecified or multicast address.
    ///
    /// ```
    /// use asyncsim_sim::{node, Config, Sim};
    /// let run = Sim::new(Config::new()).run(async {
    ///     node::Builder::new("db").start(|| async {});
    ///     node::Builder::new("db").try_start(|| async {}).unwrap_err().kind()
    /// });
    /// assert_eq!(run.result.unwrap(), std::io::ErrorKind::AlreadyExists);
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a run.
    pub fn try_start<F, Fut>(self, init: F) -> io::Result<Node>
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let world_rc = world("asyncsim::node::Builder::start");
        if let Some(why) = unreachable(&self.name, self.ip) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("a node cannot be called `{}`{why}", self.name),
            ));
        }
        let (index, incarnation) = {
            let mut world = world_rc.borrow_mut();
            if world.node_by_name(&self.name).is_some() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "a node called `{}` already exists in this run (node names are host names: each must be unique)",
                        self.name
                    ),
                ));
            }
            let index = world.nodes.len();
            let ip = self.ip.unwrap_or_else(|| default_ip(index));
            if let Some(other) = world.node_by_ip(ip) {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!(
                        "address {ip} of `{}` is already node `{}`'s",
                        self.name, world.nodes[other].name
                    ),
                ));
            }
            let state = world.spare_node(&self.name, ip);
            world.nodes.push(state);
            let incarnation = world.new_incarnation(index);
            (index, incarnation)
        };
        // The first incarnation's future from `init` itself (no `Box` for
        // it); `init` is kept, boxed, for restarts (also if it panics).
        let keep = KeepInit {
            world: &world_rc,
            index,
            init: Some(init),
        };
        let future = keep.init.as_ref().map(|init| init());
        drop(keep);
        if let Some(future) = future {
            drop(cx::spawn_on(incarnation, future, Some(self.name)));
        }
        Ok(Node {
            world: world_rc,
            index,
        })
    }
}

/// Keeps a node's `init`, boxed, in its state when dropped (after the
/// start's call of it, or while that call unwinds).
struct KeepInit<'a, F, Fut>
where
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    world: &'a WorldRc,
    index: usize,
    init: Option<F>,
}

impl<F, Fut> Drop for KeepInit<'_, F, Fut>
where
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    fn drop(&mut self) {
        let Some(init) = self.init.take() else {
            return;
        };
        // A `Box` of a closure that captures nothing allocates nothing.
        let init: Init = Box::new(move || Box::pin(init()));
        if let Ok(mut world) = self.world.try_borrow_mut() {
            world.nodes[self.index].init = Some(init);
        }
    }
}

/// Puts a restarted node's `init` back when dropped (after the call, or
/// while it unwinds).
struct PutBackInit<'a> {
    world: &'a WorldRc,
    index: usize,
    init: Option<Init>,
}

impl Drop for PutBackInit<'_> {
    fn drop(&mut self) {
        if let (Some(init), Ok(mut world)) = (self.init.take(), self.world.try_borrow_mut()) {
            world.nodes[self.index].init = Some(init);
        }
    }
}

/// Why no other node could reach a node by `name` or `ip`, if so: the
/// words after "a node cannot be called `name`".
#[inline]
fn unreachable(name: &str, ip: Option<IpAddr>) -> Option<String> {
    // The common case first, in one look at the bytes: a name that starts
    // with a letter, has no `:` and is not `localhost`, with no address
    // of its own. (Inline; the words out of line.)
    let bytes = name.as_bytes();
    if ip.is_none()
        && bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && !bytes.contains(&b':')
        && name != "localhost"
    {
        return None;
    }
    unreachable_why(name, ip)
}

/// [`unreachable`] past its common case.
#[cold]
#[inline(never)]
fn unreachable_why(name: &str, ip: Option<IpAddr>) -> Option<String> {
    let why = if name.is_empty() {
        ": a node's name is its host name, and it is empty"
    } else if name == "localhost" {
        ": `localhost` is each node's own loopback"
    } else if name.bytes().any(|byte| byte == b':') {
        ": a `:` separates the port in an address (`db:5432`)"
    } else if name.starts_with(|c: char| c.is_ascii_digit()) && name.parse::<IpAddr>().is_ok() {
        ": it reads as an IP address (give it one with `Builder::ip`)"
    } else {
        match ip {
            Some(ip) if ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() => {
                return Some(format!(
                    " with address {ip}: a loopback, unspecified or multicast address names no one node"
                ))
            }
            _ => return None,
        }
    };
    Some(why.to_string())
}

/// A handle to a node of the current run. Cheap to clone.
#[derive(Clone)]
pub struct Node {
    world: WorldRc,
    index: usize,
}

/// The node the calling task runs on (`main` for the main future).
///
/// ```
/// use asyncsim_sim::{node, Config, Sim};
/// let run = Sim::new(Config::new()).run(async { node::current().name() });
/// assert_eq!(run.result.unwrap(), "main");
/// ```
pub fn current() -> Node {
    let world_rc = world("asyncsim::node::current");
    let index = world_rc.borrow().current().0;
    Node {
        world: world_rc,
        index,
    }
}

/// The node called `name` in this run, if there is one.
pub fn lookup(name: &str) -> Option<Node> {
    let world_rc = world("asyncsim::node::lookup");
    let index = world_rc.borrow().node_by_name(name)?;
    Some(Node {
        world: world_rc,
        index,
    })
}

impl Node {
    /// Panics, naming `what`, when this handle was made in another run: its
    /// node (and its incarnation ids) mean nothing in this one.
    #[track_caller]
    fn check_run(&self, what: &str) {
        let world = self.world.borrow();
        if !super::same_run(world.run_id) {
            panic!(
                "{what} on node `{}` of another run: a node handle cannot outlive the simulation that made it (in this run, start the node or find it with node::lookup)",
                world.nodes[self.index].name
            );
        }
    }

    /// The node's name (its host name).
    pub fn name(&self) -> String {
        self.world.borrow().nodes[self.index].name.to_string()
    }

    /// The node's IP address.
    pub fn ip(&self) -> IpAddr {
        self.world.borrow().nodes[self.index].ip
    }

    /// True unless the node crashed and was not restarted.
    pub fn is_running(&self) -> bool {
        self.world.borrow().nodes[self.index].running
    }

    /// Spawns a task on this node.
    ///
    /// On a node that is down (crashed and not restarted) the task never
    /// runs: it is dropped at the next step boundary, as the node's crash
    /// would drop it, and its handle resolves with a `JoinError` that
    /// names the crash (`is_crashed()`).
    ///
    /// ```
    /// use asyncsim_sim::{node, Config, Sim};
    /// let run = Sim::new(Config::new()).run(async {
    ///     let db = node::Builder::new("db").start(|| async {});
    ///     db.crash();
    ///     db.spawn(async { unreachable!() }).await.unwrap_err()
    /// });
    /// let error = run.result.unwrap();
    /// assert!(error.is_crashed() && error.crashed_node() == Some("db"));
    /// ```
    ///
    /// # Panics
    ///
    /// When the handle was made in another run (as a sync primitive from
    /// another run does).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.check_run("Node::spawn");
        let (incarnation, down) = {
            let world = self.world.borrow();
            let node = &world.nodes[self.index];
            let down = (!node.running).then(|| {
                format!(
                    "Node::spawn on node `{}`, which is down (crashed and not restarted): the task never ran",
                    node.name
                )
            });
            (node.incarnation, down)
        };
        let handle = cx::spawn_on(incarnation, future, None);
        if let Some(reason) = down {
            // The crashed incarnation's id: the kernel drops the task at
            // the boundary, before any pick could poll it.
            cx::crash_node(incarnation, reason);
        }
        handle
    }

    /// Crashes the node: its tasks are dropped at the next step boundary,
    /// its connections reset, its listeners and sockets close, and its disk
    /// keeps what the crash model keeps. Crashing a node that is down does
    /// nothing.
    ///
    /// # Panics
    ///
    /// For node `main` (the main future cannot crash: use another node), or
    /// a handle made in another run.
    #[track_caller]
    pub fn crash(&self) {
        self.check_run("Node::crash");
        let incarnation = {
            let mut world = self.world.borrow_mut();
            let world = &mut *world;
            assert!(
                self.index != 0,
                "Node::crash on node `main`: the main future's node cannot crash; run the code to crash on a node of its own"
            );
            let node = &mut world.nodes[self.index];
            if !node.running {
                return;
            }
            node.running = false;
            let incarnation = node.incarnation;
            super::record_fault(FaultOp::Crash, format!("crashed node `{}`", node.name));
            let index = self.index as u32;
            net::tcp_crash(world, index, incarnation);
            net::udp_crash(world, index, incarnation);
            world.net.forget_node(incarnation);
            let node = &mut world.nodes[self.index];
            fs::crash(&mut node.disk, &node.name);
            incarnation
        };
        let name = self.name();
        cx::crash_node(incarnation, format!("node `{name}` crashed"));
    }

    /// Starts the node again (crashing it first if it runs): `init` runs
    /// on the same disk.
    ///
    /// # Panics
    ///
    /// For node `main`, which has no `init`, or a handle made in another run.
    #[track_caller]
    pub fn restart(&self) {
        self.check_run("Node::restart");
        if self.is_running() {
            self.crash();
        }
        let (incarnation, init, name) = {
            let mut world = self.world.borrow_mut();
            let init = world.nodes[self.index]
                .init
                .take()
                .expect("asyncsim bug: a node other than main without init");
            world.nodes[self.index].running = true;
            let incarnation = world.new_incarnation(self.index);
            (incarnation, init, world.nodes[self.index].name.to_string())
        };
        super::record_fault(FaultOp::Restart, format!("restarted node `{name}`"));
        // `init` runs outside the world's borrow (it is user code), and goes
        // back to the node's state after.
        let put_back = PutBackInit {
            world: &self.world,
            index: self.index,
            init: Some(init),
        };
        let future = put_back.init.as_ref().map(|init| init());
        drop(put_back);
        if let Some(future) = future {
            drop(cx::spawn_on(incarnation, future, Some(name)));
        }
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.world.try_borrow() {
            Ok(world) => {
                let node = &world.nodes[self.index];
                write!(f, "Node({} {})", node.name, node.ip)
            }
            Err(_) => f.write_str("Node"),
        }
    }
}
