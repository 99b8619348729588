//! Machine-readable summaries of sharded runs, and their merge.
//!
//! A CI matrix splits one test over `n` jobs with `ASYNCSIM_SHARD=i/n`. Each
//! job's exploration writes what it saw to
//! `target/asyncsim/shards/<test>.shard-<i>-of-<n>.json`: its runs, the
//! trace hash of every distinct schedule (so the merge counts schedules two
//! shards both met once), its failures with tokens, and for a bounded search
//! whether its part of the space was exhausted. [`merge`] folds the files of
//! all jobs into one report per test — what one machine running every shard
//! would have said — and names the shards that are missing.
//! `asyncsim-trace merge DIR…` prints it.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The format's version, written into every file.
pub const FORMAT: &str = "asyncsim-shard-summary/1";

/// What one shard of one test's exploration saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSummary {
    /// Always [`FORMAT`].
    pub format: String,
    /// The test's name.
    pub test: String,
    /// The strategy, as reports name it (`mix`, `exhaustive:2`, …).
    pub strategy: String,
    /// This shard, 1-based as in `ASYNCSIM_SHARD=i/n`.
    pub shard: u64,
    /// How many shards the test was split into.
    pub shards: u64,
    /// Schedules this shard ran.
    pub runs: u64,
    /// Of them, how many failed.
    pub failures: u64,
    /// The trace hash of each distinct schedule, as 16 hex digits, sorted.
    pub schedule_hashes: Vec<String>,
    /// A bounded search: whether this shard's part of the space ran to the
    /// end. None for sampled strategies.
    pub exhausted: Option<bool>,
    /// A bounded search stopped at its run cap with schedules left.
    pub stopped_at_run_cap: bool,
    /// The shard's first failure (lowest run index), if any.
    pub first_failure: Option<ShardFailure>,
    /// Each `asyncsim::sometimes` name the shard's runs reached, with the
    /// number of runs in which it held.
    #[serde(default)]
    pub sometimes: BTreeMap<String, u64>,
}

/// A failure as a shard summary records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardFailure {
    /// The run index in the whole exploration (shards interleave indices).
    pub run_index: u64,
    /// The seed of a sampled run (None for an exhaustive one).
    pub seed: Option<u64>,
    /// The shrunk schedule's replay token.
    pub token: String,
    /// The failure's kind (`Panic`, `Deadlock`, …).
    pub kind: String,
    /// The first line of its message.
    pub message: String,
}

impl ShardSummary {
    /// The file name this summary is written under.
    pub fn file_name(&self) -> String {
        format!(
            "{}.shard-{}-of-{}.json",
            crate::persist::file_stem(&self.test),
            self.shard,
            self.shards
        )
    }

    /// Writes the summary into `directory` (created if needed); returns the
    /// path.
    pub fn write(&self, directory: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(directory)?;
        let path = directory.join(self.file_name());
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&path, text + "\n")?;
        Ok(path)
    }

    /// Reads a summary file.
    pub fn load(path: &Path) -> Result<ShardSummary, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("`{}`: {error}", path.display()))?;
        let summary: ShardSummary = serde_json::from_str(&text)
            .map_err(|error| format!("`{}`: not a shard summary: {error}", path.display()))?;
        if summary.format != FORMAT {
            return Err(format!(
                "`{}`: format `{}`, this asyncsim reads `{FORMAT}`",
                path.display(),
                summary.format
            ));
        }
        Ok(summary)
    }
}

/// Every `*.json` shard summary in `directory`, in file-name order.
pub fn load_directory(directory: &Path) -> Result<Vec<ShardSummary>, String> {
    let entries = std::fs::read_dir(directory)
        .map_err(|error| format!("`{}`: {error}", directory.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    paths.sort();
    paths.iter().map(|path| ShardSummary::load(path)).collect()
}

/// One test's shards merged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergedTest {
    /// The test's name.
    pub test: String,
    /// The strategy (the shards' own; a mix of strategies is listed).
    pub strategy: String,
    /// How many shards the test was split into.
    pub shards: u64,
    /// The 1-based shards whose summaries were found.
    pub present: Vec<u64>,
    /// Schedules run over all present shards.
    pub runs: u64,
    /// Distinct schedules over all present shards (by trace hash: a
    /// schedule two shards both ran counts once).
    pub distinct_schedules: u64,
    /// Failed runs over all present shards.
    pub failures: u64,
    /// The failure with the lowest run index, over all shards: the one a
    /// single machine running every index would have reported first.
    pub first_failure: Option<ShardFailure>,
    /// A bounded search: every shard present and exhausted (the shards'
    /// parts are disjoint and together the whole space).
    pub exhausted: Option<bool>,
    /// Each `asyncsim::sometimes` name, with the runs it held in over all
    /// shards (0: reached but never held anywhere).
    pub sometimes: BTreeMap<String, u64>,
}

impl MergedTest {
    /// The shards (1-based) with no summary.
    pub fn missing(&self) -> Vec<u64> {
        (1..=self.shards)
            .filter(|shard| !self.present.contains(shard))
            .collect()
    }
}

/// The merge of many shard summaries: one entry per test, by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergedReport {
    /// The tests, sorted by name.
    pub tests: Vec<MergedTest>,
}

impl MergedReport {
    /// True when every test passed on every shard and no shard is missing.
    pub fn passed(&self) -> bool {
        self.tests
            .iter()
            .all(|test| test.failures == 0 && test.missing().is_empty())
    }
}

/// Merges shard summaries (of one or many tests, in any order).
///
/// ```
/// use asyncsim::harness::shard_summary::{merge, ShardSummary, FORMAT};
///
/// let shard = |shard: u64, hashes: &[&str]| ShardSummary {
///     format: FORMAT.to_string(),
///     test: "bank".to_string(),
///     strategy: "mix".to_string(),
///     shard,
///     shards: 2,
///     runs: 10,
///     failures: 0,
///     schedule_hashes: hashes.iter().map(|hash| hash.to_string()).collect(),
///     exhausted: None,
///     stopped_at_run_cap: false,
///     first_failure: None,
///     sometimes: Default::default(),
/// };
/// let report = merge(vec![shard(1, &["01", "02"]), shard(2, &["02", "03"])]);
/// assert_eq!(report.tests[0].runs, 20);
/// assert_eq!(report.tests[0].distinct_schedules, 3);
/// assert!(report.passed());
/// ```
pub fn merge(summaries: Vec<ShardSummary>) -> MergedReport {
    let mut by_test: BTreeMap<String, Vec<ShardSummary>> = BTreeMap::new();
    for summary in summaries {
        by_test
            .entry(summary.test.clone())
            .or_default()
            .push(summary);
    }
    let tests = by_test
        .into_iter()
        .map(|(test, shards)| {
            let strategies: BTreeSet<&str> =
                shards.iter().map(|shard| shard.strategy.as_str()).collect();
            let hashes: BTreeSet<&str> = shards
                .iter()
                .flat_map(|shard| shard.schedule_hashes.iter().map(String::as_str))
                .collect();
            let count = shards.iter().map(|shard| shard.shards).max().unwrap_or(0);
            let present: BTreeSet<u64> = shards.iter().map(|shard| shard.shard).collect();
            let first_failure = shards
                .iter()
                .filter_map(|shard| shard.first_failure.clone())
                .min_by_key(|failure| failure.run_index);
            let exhausted = if shards.iter().all(|shard| shard.exhausted.is_some()) {
                Some(
                    present.len() as u64 == count
                        && shards.iter().all(|shard| shard.exhausted == Some(true)),
                )
            } else {
                None
            };
            let mut sometimes: BTreeMap<String, u64> = BTreeMap::new();
            for shard in &shards {
                for (name, runs) in &shard.sometimes {
                    *sometimes.entry(name.clone()).or_default() += runs;
                }
            }
            MergedTest {
                sometimes,
                strategy: strategies.into_iter().collect::<Vec<_>>().join(", "),
                shards: count,
                present: present.into_iter().collect(),
                runs: shards.iter().map(|shard| shard.runs).sum(),
                distinct_schedules: hashes.len() as u64,
                failures: shards.iter().map(|shard| shard.failures).sum(),
                first_failure,
                exhausted,
                test,
            }
        })
        .collect();
    MergedReport { tests }
}

impl fmt::Display for MergedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for test in &self.tests {
            write!(
                f,
                "`{}`: {} runs ({}) over {} of {} shards, {} failed, {} distinct schedules",
                test.test,
                test.runs,
                test.strategy,
                test.present.len(),
                test.shards,
                test.failures,
                test.distinct_schedules
            )?;
            match test.exhausted {
                Some(true) => write!(f, "; bounded space exhausted")?,
                Some(false) => write!(f, "; bounded space NOT exhausted")?,
                None => {}
            }
            writeln!(f)?;
            let never: Vec<&str> = test
                .sometimes
                .iter()
                .filter(|(_, runs)| **runs == 0)
                .map(|(name, _)| name.as_str())
                .collect();
            if !never.is_empty() {
                writeln!(
                    f,
                    "  sometimes never held on any shard: {}",
                    never.join(", ")
                )?;
            }
            let missing = test.missing();
            if !missing.is_empty() {
                let list: Vec<String> = missing
                    .iter()
                    .map(|shard| format!("{shard}/{}", test.shards))
                    .collect();
                writeln!(f, "  missing shards: {}", list.join(", "))?;
            }
            if let Some(failure) = &test.first_failure {
                writeln!(
                    f,
                    "  first failure at run {}: {}: {}",
                    failure.run_index, failure.kind, failure.message
                )?;
                // A token too long to print is written to a file here.
                let token = crate::rerun::ShownToken::new(&test.test, failure.token.clone());
                writeln!(
                    f,
                    "    ASYNCSIM_REPLAY={token} cargo test {}{}",
                    test.test,
                    token.note()
                )?;
            }
        }
        let failed = self.tests.iter().filter(|test| test.failures > 0).count();
        write!(
            f,
            "{} test(s), {} failed{}",
            self.tests.len(),
            failed,
            if self.passed() { "" } else { " or incomplete" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(shard: u64, sometimes: &[(&str, u64)], failure_at: Option<u64>) -> ShardSummary {
        ShardSummary {
            format: FORMAT.to_string(),
            test: "lease".to_string(),
            strategy: "mix".to_string(),
            shard,
            shards: 3,
            runs: 100,
            failures: u64::from(failure_at.is_some()),
            schedule_hashes: vec![format!("{shard:016x}")],
            exhausted: None,
            stopped_at_run_cap: false,
            first_failure: failure_at.map(|run_index| ShardFailure {
                run_index,
                seed: Some(run_index),
                token: format!("as1..{run_index:08x}"),
                kind: "Panic".to_string(),
                message: "boom".to_string(),
            }),
            sometimes: sometimes
                .iter()
                .map(|(name, runs)| (name.to_string(), *runs))
                .collect(),
        }
    }

    #[test]
    fn sometimes_counts_add_up_and_the_lowest_failing_index_wins() {
        let report = merge(vec![
            shard(2, &[("renewed", 0), ("expired", 4)], Some(7)),
            shard(1, &[("renewed", 0)], Some(9)),
            shard(3, &[("expired", 1)], None),
        ]);
        let test = &report.tests[0];
        assert_eq!(test.sometimes["expired"], 5);
        assert_eq!(test.sometimes["renewed"], 0);
        assert_eq!(test.first_failure.as_ref().unwrap().run_index, 7);
        assert_eq!(test.distinct_schedules, 3);
        assert!(test.missing().is_empty());
        let text = report.to_string();
        assert!(
            text.contains("sometimes never held on any shard: renewed"),
            "{text}"
        );
        assert!(!report.passed());
    }

    #[test]
    fn a_summary_round_trips_through_its_file() {
        let directory =
            std::env::temp_dir().join(format!("asyncsim-shard-summary-{}", std::process::id()));
        let written = shard(2, &[("expired", 3)], Some(4));
        let path = written.write(&directory).unwrap();
        assert!(path.ends_with("lease.shard-2-of-3.json"));
        assert_eq!(ShardSummary::load(&path).unwrap(), written);
        assert_eq!(load_directory(&directory).unwrap(), [written]);
        let _ = std::fs::remove_dir_all(&directory);
    }
}
