//! The settings of an exploration: how many schedules, which strategy, how
//! many threads, which shard; defaults from the environment.

use std::path::PathBuf;

use asyncsim_sim::{Config, Strategy, Tape};

/// How the schedules of an exploration are chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Search {
    /// One run per seed, each made by this strategy.
    Sampled(Strategy),
    /// Every schedule with at most this many deviations from FIFO, each once
    /// (delay bounding).
    Exhaustive {
        /// The most nonzero draws a schedule may have.
        max_deviations: u32,
    },
    /// Every schedule with at most this many preemptions, each once
    /// (preemption bounding, as in CHESS): the baseline keeps polling the
    /// task that ran last for as long as it is runnable — each task runs
    /// until it blocks or finishes — and a preemption is a decision to run
    /// another task instead. It reaches the orderings where one task runs
    /// far ahead of another, which delay bounding from FIFO reaches only
    /// with many deviations.
    Preemptions {
        /// The most decisions that differ from the baseline.
        max_preemptions: u32,
    },
}

impl std::fmt::Display for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Search::Sampled(strategy) => write!(f, "{strategy}"),
            Search::Exhaustive { max_deviations } => write!(f, "exhaustive:{max_deviations}"),
            Search::Preemptions { max_preemptions } => write!(f, "preemptions:{max_preemptions}"),
        }
    }
}

/// Parses `mix`, `fifo`, `random`, `pct:<depth>`, `exhaustive:<max deviations>`,
/// `preemptions:<max preemptions>` (and `replay:<token>`).
///
/// ```
/// use asyncsim::harness::{parse_search, Search};
/// assert_eq!(parse_search("exhaustive:2").unwrap(), Search::Exhaustive { max_deviations: 2 });
/// assert_eq!(parse_search("preemptions:1").unwrap(), Search::Preemptions { max_preemptions: 1 });
/// assert!(parse_search("sideways").is_err());
/// ```
pub fn parse_search(text: &str) -> Result<Search, String> {
    let lower = text.trim().to_ascii_lowercase();
    if let Some(bound) = lower.strip_prefix("exhaustive:") {
        let max_deviations = bound.parse().map_err(|_| {
            format!("`{text}`: the deviation bound must be a whole number, as in `exhaustive:2`")
        })?;
        return Ok(Search::Exhaustive { max_deviations });
    }
    if lower == "exhaustive" {
        return Ok(Search::Exhaustive { max_deviations: 2 });
    }
    if let Some(bound) = lower.strip_prefix("preemptions:") {
        let max_preemptions = bound.parse().map_err(|_| {
            format!("`{text}`: the preemption bound must be a whole number, as in `preemptions:2`")
        })?;
        return Ok(Search::Preemptions { max_preemptions });
    }
    if lower == "preemptions" {
        return Ok(Search::Preemptions { max_preemptions: 2 });
    }
    text.parse::<Strategy>()
        .map(Search::Sampled)
        .map_err(|error| {
            format!("{error} (or `exhaustive:<max deviations>`, `preemptions:<max preemptions>`)")
        })
}

/// The settings of an exploration: a builder.
///
/// `Explore::new()` takes its defaults from the environment where set, so a
/// failure printed by CI replays locally with one variable:
///
/// | variable | meaning |
/// |---|---|
/// | `ASYNCSIM_RUNS=n` | schedules to run (default 1000) |
/// | `ASYNCSIM_SEED=n` | run only this seed (overrides the code) |
/// | `ASYNCSIM_REPLAY=<token>` | run only this schedule, printing its full trace (overrides the code); or the path of a file holding the token (a report names one for a token too long to print) |
/// | `ASYNCSIM_STRATEGY=s` | `mix` (the default), `fifo`, `random`, `pct:3`, `exhaustive:2`, `preemptions:1` |
/// | `ASYNCSIM_JOBS=n` | threads (default 1) |
/// | `ASYNCSIM_SHARD=i/n` | run only the i-th (1-based) of n disjoint subsets of the run indices |
///
/// `ASYNCSIM_RUNS`, `ASYNCSIM_SEED`, `ASYNCSIM_REPLAY` and `ASYNCSIM_SHARD`
/// win over the code: they are how a person or a CI job replays, splits or
/// scales a test without editing it — a nightly job sets
/// `ASYNCSIM_RUNS=1000000` and every test runs that many schedules (and an
/// exhaustive search that many at most), whatever its `.runs(n)` says.
/// Builder methods override `ASYNCSIM_STRATEGY` and `ASYNCSIM_JOBS`, since a
/// test that chose a strategy usually chose it for its bug. A malformed
/// value panics, naming the variable.
///
/// ```
/// use asyncsim::Explore;
/// use asyncsim::Strategy;
///
/// let settings = Explore::new().runs(200).strategy(Strategy::Pct { depth: 2 }).jobs(2).seed(1000);
/// assert_eq!(settings.runs_max(), 200);
/// ```
#[derive(Clone, Debug)]
pub struct Explore {
    pub(crate) runs: u64,
    /// `ASYNCSIM_RUNS`, which `runs(n)` does not override.
    pub(crate) runs_from_environment: Option<u64>,
    pub(crate) search: Search,
    pub(crate) base_seed: u64,
    pub(crate) shrink: bool,
    pub(crate) shrink_runs_max: u64,
    pub(crate) jobs: usize,
    pub(crate) config: Config,
    pub(crate) check_determinism: Option<bool>,
    pub(crate) persist: bool,
    pub(crate) regressions_dir: Option<PathBuf>,
    pub(crate) name: Option<String>,
    pub(crate) replay_seed: Option<u64>,
    pub(crate) replay_tape: Option<Tape>,
    /// `(index, count)`, 0-based index.
    pub(crate) shard: Option<(u64, u64)>,
    pub(crate) progress: bool,
    /// Wall-clock time between progress lines.
    pub(crate) progress_every: std::time::Duration,
    pub(crate) write_trace_file: bool,
    pub(crate) require_sometimes: bool,
    /// Where a sharded exploration writes its summary; None: nowhere.
    pub(crate) shard_summary_dir: Option<Option<PathBuf>>,
    /// The words a report gives FIFO in (`__tokio_words`).
    pub(crate) order_words: crate::schedule_text::OrderWords,
}

/// Default number of schedules per exploration.
pub const DEFAULT_RUNS: u64 = 1000;

/// Default bound on the runs a shrink may make.
pub const DEFAULT_SHRINK_RUNS: u64 = 1000;

#[track_caller]
fn env_var(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Some(value),
        Ok(_) => None,
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => {
            panic!("{name} is not valid UTF-8: unset it or give it in UTF-8")
        }
    }
}

/// Variable `name` parsed, if set; a malformed value panics at the user's
/// line (`#[track_caller]` from `Explore::new`), naming the variable, its
/// value cut (sim's `config::quoted_cut`) and the forms it takes.
#[track_caller]
fn parse_env<T>(
    name: &str,
    what: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Option<T> {
    let value = env_var(name)?;
    match parse(value.trim()) {
        Ok(parsed) => Some(parsed),
        Err(error) => panic!(
            "{name}={} is malformed: expected {what}; {error}",
            asyncsim_sim::__quoted_cut(&value, 80)
        ),
    }
}

/// The path of the function a closure was written in:
/// `my_tool::main::{{closure}}` gives `my_tool::main`.
fn body_name<B>() -> String {
    let full = std::any::type_name::<B>();
    let mut name = full;
    while let Some(outer) = name.strip_suffix("::{{closure}}") {
        name = outer;
    }
    if name.is_empty() || name.contains('<') {
        "<body>".to_string()
    } else {
        name.to_string()
    }
}

/// Parses `i/n` (1-based) into a 0-based `(index, count)`.
pub(crate) fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let (index, count) = text
        .split_once('/')
        .ok_or_else(|| "no `/` (write `2/4` for the second of four shards)".to_string())?;
    let index: u64 = index
        .trim()
        .parse()
        .map_err(|_| format!("`{index}` is not a whole number"))?;
    let count: u64 = count
        .trim()
        .parse()
        .map_err(|_| format!("`{count}` is not a whole number"))?;
    if count == 0 || index == 0 || index > count {
        return Err(format!(
            "shard {index}/{count} is out of range: shards are numbered 1 to n"
        ));
    }
    Ok((index - 1, count))
}

impl Default for Explore {
    fn default() -> Explore {
        Explore::new()
    }
}

impl Explore {
    /// The defaults, overridden by the `ASYNCSIM_*` environment variables
    /// that are set (see the type docs).
    ///
    /// # Panics
    ///
    /// When a variable is set to something malformed: the message names it,
    /// its value and the forms it takes, at the line that called this.
    #[track_caller]
    pub fn new() -> Explore {
        let mut explore = Explore::without_environment();
        if let Some(runs) = parse_env("ASYNCSIM_RUNS", "a number of runs", |text| {
            text.parse::<u64>().map_err(|error| error.to_string())
        }) {
            explore.runs = runs;
            explore.runs_from_environment = Some(runs);
        }
        if let Some(search) = parse_env(
            "ASYNCSIM_STRATEGY",
            "`mix`, `fifo`, `random`, `pct:<depth>`, `exhaustive:<max deviations>` or `preemptions:<max preemptions>`",
            parse_search,
        ) {
            explore = explore.with_search(search);
        }
        if let Some(jobs) =
            parse_env(
                "ASYNCSIM_JOBS",
                "a number of threads (1 or more)",
                |text| match text.parse::<usize>() {
                    Ok(0) => Err("0 threads cannot run anything".to_string()),
                    Ok(jobs) => Ok(jobs),
                    Err(error) => Err(error.to_string()),
                },
            )
        {
            explore.jobs = jobs;
        }
        explore.replay_seed = parse_env("ASYNCSIM_SEED", "a seed (a whole number)", |text| {
            text.parse::<u64>().map_err(|error| error.to_string())
        });
        explore.replay_tape = parse_env(
            "ASYNCSIM_REPLAY",
            "a replay token from a failure report, or the file that holds one",
            crate::persist::replay_token,
        );
        explore.shard = parse_env("ASYNCSIM_SHARD", "`i/n` (1-based)", parse_shard);
        explore
    }

    /// The defaults, ignoring the environment (for tests of the harness
    /// itself, which must not change behaviour when a user sets a variable).
    #[track_caller]
    pub fn without_environment() -> Explore {
        Explore {
            runs: DEFAULT_RUNS,
            runs_from_environment: None,
            search: Search::Sampled(Strategy::Mix),
            base_seed: 0,
            shrink: true,
            shrink_runs_max: DEFAULT_SHRINK_RUNS,
            jobs: 1,
            config: Config::new(),
            check_determinism: None,
            persist: true,
            regressions_dir: None,
            name: None,
            replay_seed: None,
            replay_tape: None,
            shard: None,
            progress: true,
            progress_every: std::time::Duration::from_secs(3),
            write_trace_file: true,
            require_sometimes: false,
            shard_summary_dir: None,
            order_words: crate::schedule_text::OrderWords::Asyncio,
        }
    }

    /// How many schedules to run (also caps exhaustive mode), unless
    /// `ASYNCSIM_RUNS` is set: the environment wins, so one variable scales
    /// every test of a nightly job.
    ///
    /// ```
    /// use asyncsim::Explore;
    /// // Without ASYNCSIM_RUNS in the environment:
    /// assert_eq!(Explore::without_environment().runs(50).runs_max(), 50);
    /// ```
    pub fn runs(mut self, runs: u64) -> Explore {
        self.runs = self.runs_from_environment.unwrap_or(runs);
        self
    }

    /// The most schedules this exploration runs.
    pub fn runs_max(&self) -> u64 {
        self.runs
    }

    /// The strategy of every run. `Strategy::Replay(tape)` runs that one
    /// schedule. `strategy`, [`exhaustive`](Self::exhaustive) and
    /// [`preemptions`](Self::preemptions) each set the search: the last one
    /// called wins (`exhaustive(2).strategy(Strategy::Fifo)` samples FIFO).
    pub fn strategy(mut self, strategy: Strategy) -> Explore {
        match strategy {
            Strategy::Replay(tape) => self.replay_tape = Some(tape),
            strategy => self.search = Search::Sampled(strategy),
        }
        self
    }

    /// Enumerates every schedule with at most `max_deviations` non-FIFO
    /// decisions, each exactly once (delay bounding), up to `runs`. Replaces
    /// a [`strategy`](Self::strategy) set before it.
    pub fn exhaustive(mut self, max_deviations: u32) -> Explore {
        self.search = Search::Exhaustive { max_deviations };
        self
    }

    /// Enumerates every schedule with at most `max_preemptions` decisions
    /// that switch away from the task that ran last while it could go on,
    /// each exactly once (preemption bounding; see [`Search::Preemptions`]),
    /// up to `runs`. `preemptions(0)` runs every task until it blocks.
    /// Replaces a [`strategy`](Self::strategy) set before it.
    pub fn preemptions(mut self, max_preemptions: u32) -> Explore {
        self.search = Search::Preemptions { max_preemptions };
        self
    }

    /// Sets the search (a strategy or exhaustive enumeration), as parsed by
    /// [`parse_search`].
    pub fn with_search(mut self, search: Search) -> Explore {
        match search {
            // A replay is one schedule, not a strategy to sample with.
            Search::Sampled(Strategy::Replay(tape)) => self.replay_tape = Some(tape),
            search => self.search = search,
        }
        self
    }

    /// The search, as set.
    pub fn search(&self) -> &Search {
        &self.search
    }

    /// The base seed: run `i` uses seed `base + i`, for every run but the
    /// first, which is asyncio's own order (FIFO, every draw 0) whatever the
    /// seed: a bug that plain order shows is found first, as the simplest
    /// schedule.
    pub fn seed(mut self, base: u64) -> Explore {
        self.base_seed = base;
        self
    }

    /// Runs only this schedule (what `ASYNCSIM_REPLAY` does).
    pub fn replay(mut self, tape: Tape) -> Explore {
        self.replay_tape = Some(tape);
        self
    }

    /// Runs only this seed (what `ASYNCSIM_SEED` does).
    pub fn replay_seed(mut self, seed: u64) -> Explore {
        self.replay_seed = Some(seed);
        self
    }

    /// Shrink a failing schedule before reporting it (default on).
    pub fn shrink(mut self, shrink: bool) -> Explore {
        self.shrink = shrink;
        self
    }

    /// The most runs a shrink may make (default 1000).
    pub fn shrink_runs(mut self, runs: u64) -> Explore {
        self.shrink_runs_max = runs;
        self
    }

    /// Threads to spread runs over. Results are identical for every count
    /// (an exhaustive search is split by first deviation and merged back
    /// into its sequential order).
    ///
    /// # Panics
    ///
    /// On 0.
    pub fn jobs(mut self, jobs: usize) -> Explore {
        assert!(jobs > 0, "Explore::jobs(0): at least one thread is needed");
        self.jobs = jobs;
        self
    }

    /// Sets the virtual-time limit of every run ([`Config::time_limit`],
    /// on the settings' config): what the test macros' `time_limit = "2h"`
    /// calls.
    ///
    /// ```
    /// use std::time::Duration;
    /// let settings = asyncsim::Explore::without_environment().time_limit(Duration::from_secs(7200));
    /// let summary = asyncsim::explore(settings.runs(1), || async {
    ///     asyncsim::time::sleep(Duration::from_secs(5400)).await;
    /// });
    /// assert_eq!(summary.failures, 0);
    /// ```
    pub fn time_limit(mut self, limit: std::time::Duration) -> Explore {
        self.config = self.config.time_limit(limit);
        self
    }

    /// Limits, pool size and slow-poll threshold for every run. Its seed and
    /// strategy are replaced per run.
    pub fn config(mut self, config: Config) -> Explore {
        self.config = config;
        self
    }

    /// Run one schedule twice and compare the traces (default: on in
    /// `check`, off elsewhere): a sampled exploration's first seeded run
    /// (this shard's first seed; never run 0, FIFO, whose draws are all 0
    /// and so reach fewer orders), an exhaustive search's first (FIFO).
    pub fn check_determinism(mut self, check: bool) -> Explore {
        self.check_determinism = Some(check);
        self
    }

    /// Fail the exploration when a `asyncsim::sometimes`
    /// name some run reached never held in any run: `check` panics naming
    /// it, `explore` lists it in [`Summary::never_held`](crate::Summary::never_held).
    pub fn require_sometimes(mut self) -> Explore {
        self.require_sometimes = true;
        self
    }

    /// Append failing tokens to `asyncsim-regressions/<test>.txt` beside the
    /// crate and replay them first next time (default on; only `check` does
    /// this).
    pub fn persist(mut self, persist: bool) -> Explore {
        self.persist = persist;
        self
    }

    /// Keep regression files in this directory instead of
    /// `$CARGO_MANIFEST_DIR/asyncsim-regressions`.
    pub fn regressions_dir(mut self, directory: impl Into<PathBuf>) -> Explore {
        self.regressions_dir = Some(directory.into());
        self
    }

    /// The test's name for reports, summaries and regression files
    /// (default: the current thread's name, which is the test's path under
    /// `cargo test`; outside a test, the path of the function the body was
    /// written in, as in `my_tool::main`).
    pub fn name(mut self, name: impl Into<String>) -> Explore {
        self.name = Some(name.into());
        self
    }

    /// Runs only the `index`-th (0-based) of `count` disjoint subsets of the
    /// run indices (what `ASYNCSIM_SHARD=i/n` does, 1-based). An exhaustive
    /// search is split by first deviation instead: the shards' schedules are
    /// disjoint and together the whole bounded space.
    ///
    /// # Panics
    ///
    /// When `index >= count`.
    pub fn shard(mut self, index: u64, count: u64) -> Explore {
        assert!(
            index < count,
            "Explore::shard({index}, {count}): the index is 0-based and below the count"
        );
        self.shard = Some((index, count));
        self
    }

    /// Report progress on stderr during long explorations (default on).
    ///
    /// A progress line never splits a line of the program's own output:
    /// lines are written when stderr is a terminal or a different file from
    /// stdout, each as one write, and never when stderr is the same file or
    /// pipe as stdout (`> log 2>&1`), where a table row or a test's `test
    /// name ... ` still waiting for its end would be split for good. (Then
    /// the summary line each check prints at its end says what ran.)
    pub fn progress(mut self, progress: bool) -> Explore {
        self.progress = progress;
        self
    }

    /// How often progress lines are printed (wall-clock time, default 3 s):
    /// runs done, runs per second, distinct schedules by trace hash. Wall
    /// time decides only *when* a line is printed, never what runs.
    ///
    /// ```
    /// use asyncsim::Explore;
    /// let settings = Explore::new().progress_every(std::time::Duration::from_secs(10));
    /// # let _ = settings;
    /// ```
    pub fn progress_every(mut self, every: std::time::Duration) -> Explore {
        self.progress_every = every;
        self
    }

    /// Where a sharded exploration (`ASYNCSIM_SHARD=i/n` or
    /// [`shard`](Self::shard)) writes its machine-readable summary (default
    /// `target/asyncsim/shards/`; `None` writes none). `asyncsim-trace merge
    /// DIR` merges the shards' files into one report.
    pub fn shard_summaries(mut self, directory: Option<PathBuf>) -> Explore {
        self.shard_summary_dir = Some(directory);
        self
    }

    /// Reports give the ordinary order in tokio's words ("as tokio's
    /// current-thread runtime runs them") instead of asyncio's: what the
    /// tokio face's `#[tokio::test]` sets. Not public API.
    #[doc(hidden)]
    pub fn __tokio_words(mut self) -> Explore {
        self.order_words = crate::schedule_text::OrderWords::Tokio;
        self
    }

    pub(crate) fn shard_summary_directory(&self) -> Option<PathBuf> {
        match &self.shard_summary_dir {
            Some(directory) => directory.clone(),
            None => Some(crate::persist::trace_directory().join("shards")),
        }
    }

    /// Write the failing run's trace under `target/asyncsim/` (default on).
    pub fn trace_file(mut self, write: bool) -> Explore {
        self.write_trace_file = write;
        self
    }

    /// The name reports use: [`name`](Self::name), else the test's (the
    /// thread's name under `cargo test`), else — outside a test, as in an
    /// example's `main` — the function the body closure was written in.
    pub(crate) fn test_name_for<B>(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        match std::thread::current().name() {
            Some(name) if name != "main" => name.to_string(),
            _ => body_name::<B>(),
        }
    }

    /// The run indices this shard owns, in order: `0..runs`, or every n-th.
    pub(crate) fn run_index(&self, position: u64) -> u64 {
        match self.shard {
            Some((index, count)) => index + position * count,
            None => position,
        }
    }

    /// How many runs this shard makes.
    pub(crate) fn shard_runs(&self) -> u64 {
        match self.shard {
            Some((index, count)) => {
                let full = self.runs / count;
                full + u64::from(self.runs % count > index)
            }
            None => self.runs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_run_indices() {
        let runs = 10;
        let mut seen = Vec::new();
        for index in 0..3 {
            let explore = Explore::without_environment().runs(runs).shard(index, 3);
            for position in 0..explore.shard_runs() {
                seen.push(explore.run_index(position));
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..runs).collect::<Vec<_>>());
    }

    #[test]
    fn shard_text_is_one_based() {
        assert_eq!(parse_shard("1/4").unwrap(), (0, 4));
        assert_eq!(parse_shard("4/4").unwrap(), (3, 4));
        assert!(parse_shard("0/4").is_err());
        assert!(parse_shard("5/4").is_err());
        assert!(parse_shard("x").is_err());
    }
}
