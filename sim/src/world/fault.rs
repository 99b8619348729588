//! Faults on the tape: [`buggify`] and the [`Nemesis`].
//!
//! Every fault is a weighted `fault` draw: 0 (no fault) canonically, a
//! fault with its configured probability under Random and PCT. The tape
//! records the value, so a replay repeats the faults, shrinking removes
//! them one by one, and exhaustive search enumerates them: `exhaustive(1)`
//! visits every run with exactly one fault.

use std::time::Duration;

use super::{cx, net, node, world};
use crate::clock::duration_to_ns;
use crate::tape::DrawLabel;
use crate::task::JoinHandle;
use crate::trace::FaultOp;

/// FoundationDB's BUGGIFY: `false` canonically, `true` with
/// `Config::buggify`'s rate (0 by default: never) while faults are on. Lets
/// code opt into a rare path (a slow reply, an early timeout) that search
/// then explores.
///
/// ```
/// use asyncsim_sim::{fault, Config, Sim};
/// let run = Sim::new(Config::new()).run(async { fault::buggify() });
/// assert!(!run.result.unwrap()); // the default rate is 0
/// ```
pub fn buggify() -> bool {
    let rate = cx::with_config("asyncsim::fault::buggify", |config| config.buggify);
    rate > 0.0
        && super::draw_fault(
            DrawLabel::Fault,
            2,
            rate,
            "asyncsim::fault::buggify",
            FaultOp::Buggify,
            |_| "buggify() was true".to_string(),
        ) == 1
}

/// One fault the nemesis can inject (and later heal).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Fault {
    Crash(String),
    Isolate(String, Vec<String>),
    Clog(String, String),
    DiskErrors(String),
}

impl Fault {
    fn inject(&self) {
        match self {
            Fault::Crash(name) => {
                if let Some(node) = node::lookup(name) {
                    node.crash();
                }
            }
            Fault::Isolate(name, others) => {
                for other in others {
                    net::partition(name, other);
                }
            }
            Fault::Clog(from, to) => net::clog(from, to, Duration::from_secs(1)),
            Fault::DiskErrors(name) => super::fs::set_error_rate(name, Some(0.5)),
        }
    }

    fn heal(&self) {
        match self {
            Fault::Crash(name) => {
                if let Some(node) = node::lookup(name) {
                    if !node.is_running() {
                        node.restart();
                    }
                }
            }
            Fault::Isolate(name, others) => {
                for other in others {
                    net::repair(name, other);
                }
            }
            Fault::Clog(from, to) => net::unclog(from, to),
            Fault::DiskErrors(name) => super::fs::set_error_rate(name, None),
        }
    }

    fn describe(&self) -> String {
        match self {
            Fault::Crash(name) => format!("crash node `{name}`"),
            Fault::Isolate(name, _) => format!("partition `{name}` from the others"),
            Fault::Clog(from, to) => format!("clog `{from}`->`{to}`"),
            Fault::DiskErrors(name) => format!("disk errors on `{name}`"),
        }
    }
}

/// Jepsen's nemesis: a task that, at drawn intervals, draws one fault from
/// its plan (crash a node, partition one off, clog a link, a burst of disk
/// errors), and heals it at the next interval (restart, repair, unclog).
///
/// ```
/// use asyncsim_sim::{fault, node, Config, Sim};
/// use std::time::Duration;
/// let run = Sim::new(Config::new().seed(3)).run(async {
///     node::Builder::new("server").start(|| async {});
///     fault::Nemesis::new()
///         .crash(&["server"])
///         .interval(Duration::from_millis(10), Duration::from_millis(50))
///         .rounds(4)
///         .spawn()
///         .await
///         .unwrap();
/// });
/// assert!(run.result.is_ok());
/// ```
#[derive(Clone, Debug)]
pub struct Nemesis {
    crash: Vec<String>,
    partition: Vec<String>,
    clog: Vec<String>,
    disk: Vec<String>,
    interval_ns: (u64, u64),
    rounds: u32,
    probability: f64,
}

impl Default for Nemesis {
    fn default() -> Nemesis {
        Nemesis {
            crash: Vec::new(),
            partition: Vec::new(),
            clog: Vec::new(),
            disk: Vec::new(),
            interval_ns: (100_000_000, 1_000_000_000),
            rounds: 8,
            probability: 0.25,
        }
    }
}

/// Interval buckets: value `k` of the draw is `min + k * (max - min) / 3`.
const INTERVAL_BUCKETS: u64 = 4;

impl Nemesis {
    /// A nemesis with an empty plan: 8 rounds at 0.1–1 s intervals, a
    /// fault in a round with probability 0.25.
    pub fn new() -> Nemesis {
        Nemesis::default()
    }

    /// It may crash (and later restart) these nodes.
    pub fn crash(mut self, nodes: &[&str]) -> Nemesis {
        self.crash.extend(nodes.iter().map(|name| name.to_string()));
        self
    }

    /// It may cut one of these nodes off from the other nodes listed here
    /// (so list at least two: `partition(&["server", "main"])` may cut
    /// `server` off from the main future's node, or `main` from `server`).
    pub fn partition(mut self, nodes: &[&str]) -> Nemesis {
        self.partition
            .extend(nodes.iter().map(|name| name.to_string()));
        self
    }

    /// It may clog the links between these nodes (1 s extra latency), so
    /// list at least two (one listed alone would clog nothing, and is
    /// refused at `spawn`).
    pub fn clog(mut self, nodes: &[&str]) -> Nemesis {
        self.clog.extend(nodes.iter().map(|name| name.to_string()));
        self
    }

    /// It may make these nodes' disks fail half their operations.
    pub fn disk_errors(mut self, nodes: &[&str]) -> Nemesis {
        self.disk.extend(nodes.iter().map(|name| name.to_string()));
        self
    }

    /// The range a round's length is drawn from.
    #[track_caller]
    pub fn interval(mut self, min: Duration, max: Duration) -> Nemesis {
        assert!(min <= max, "Nemesis::interval: min is more than max");
        self.interval_ns = (duration_to_ns(min), duration_to_ns(max));
        self
    }

    /// How many rounds it runs (then it heals and ends).
    pub fn rounds(mut self, rounds: u32) -> Nemesis {
        self.rounds = rounds;
        self
    }

    /// The probability of a fault in a round (under Random and PCT).
    #[track_caller]
    pub fn probability(mut self, probability: f64) -> Nemesis {
        assert!(
            (0.0..=1.0).contains(&probability),
            "Nemesis::probability: {probability} is not in [0, 1]"
        );
        self.probability = probability;
        self
    }

    fn plan(&self) -> Vec<Fault> {
        let mut plan = Vec::new();
        plan.extend(self.crash.iter().cloned().map(Fault::Crash));
        for name in &self.partition {
            let others = self
                .partition
                .iter()
                .filter(|other| *other != name)
                .cloned()
                .collect();
            plan.push(Fault::Isolate(name.clone(), others));
        }
        for from in &self.clog {
            for to in &self.clog {
                if from != to {
                    plan.push(Fault::Clog(from.clone(), to.clone()));
                }
            }
        }
        plan.extend(self.disk.iter().cloned().map(Fault::DiskErrors));
        plan
    }

    /// Spawns the nemesis on node `main` (so no crash of its own hits it).
    ///
    /// # Panics
    ///
    /// At the caller's line, when a node it names does not exist (yet),
    /// when it would crash `main`, or when `partition` or `clog` lists one
    /// node only (it would cut or clog nothing); outside a run.
    #[track_caller]
    pub fn spawn(self) -> JoinHandle<()> {
        let world = world("asyncsim::fault::Nemesis::spawn");
        // A name no node has would make its faults do nothing while the
        // report still lists them: refuse it here, at the caller's line.
        for (list, names) in [
            ("crash", &self.crash),
            ("partition", &self.partition),
            ("clog", &self.clog),
            ("disk_errors", &self.disk),
        ] {
            for name in names {
                let world = world.borrow();
                if world.node_by_name(name).is_none() {
                    panic!(
                        "Nemesis::{list}: no node is called `{name}` (nodes: {}); start the nodes before the nemesis",
                        world.node_names()
                    );
                }
                if list == "crash" && name == "main" {
                    panic!("Nemesis::crash: the main future's node `main` cannot crash; run the code to crash on a node of its own");
                }
            }
        }
        // A node listed alone has no other listed node to be cut off from,
        // nor a link to another listed node to clog: its partition or clog
        // would do nothing while the report and the fault lane still named
        // it (a partition) or the user expected it (a clog).
        for (list, names, does) in [
            (
                "partition",
                &self.partition,
                "cuts a listed node off from the other listed nodes",
            ),
            ("clog", &self.clog, "clogs the links between listed nodes"),
        ] {
            let mut listed: Vec<&String> = names.iter().collect();
            listed.sort();
            listed.dedup();
            if let [only] = listed[..] {
                let other = if only == "main" { "server" } else { "main" };
                panic!(
                    "Nemesis::{list}: `{only}` is the only node listed, and the nemesis {does}, so it would never \
                     do anything; list the other nodes too: `.{list}(&[\"{only}\", \"{other}\"])` (the main future \
                     runs on node `main`)"
                );
            }
        }
        drop(world);
        cx::spawn_on(cx::NodeId::MAIN, self.run(), Some("nemesis".to_string()))
    }

    async fn run(self) {
        let plan = self.plan();
        let (min, max) = self.interval_ns;
        let mut active: Option<Fault> = None;
        for _ in 0..self.rounds {
            let wait = if max > min {
                let step = (max - min) / (INTERVAL_BUCKETS - 1);
                let bucket = cx::draw_described(
                    DrawLabel::Fault,
                    INTERVAL_BUCKETS,
                    None,
                    "asyncsim::fault nemesis interval",
                    |bucket| {
                        format!(
                            "the nemesis waited {} for its next round",
                            crate::trace::format_ns(min + step * bucket)
                        )
                    },
                );
                min + step * bucket
            } else {
                min
            };
            crate::time::sleep(Duration::from_nanos(wait)).await;
            if let Some(fault) = active.take() {
                fault.heal();
                crate::trace::mark(format!("nemesis: heal {}", fault.describe()));
            }
            let choice = cx::draw_described(
                DrawLabel::Fault,
                plan.len() as u64 + 1,
                Some(self.probability),
                "asyncsim::fault nemesis",
                |choice| format!("the nemesis: {}", plan[choice as usize - 1].describe()),
            );
            if choice > 0 {
                let fault = plan[choice as usize - 1].clone();
                crate::trace::mark(format!("nemesis: {}", fault.describe()));
                fault.inject();
                active = Some(fault);
            }
        }
        if let Some(fault) = active.take() {
            fault.heal();
            crate::trace::mark(format!("nemesis: heal {}", fault.describe()));
        }
    }
}
