//! Small generated programs for the engine's property tests: a program is the
//! main task's list of operations, where `Spawn` starts a named child task
//! running its own list. Every task awaits its children at its end.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use asyncsim::{task, time, trace, Config, Run, Sim};
use proptest::prelude::*;

/// One step of a generated task.
#[derive(Clone, Debug)]
pub enum Op {
    /// `yield_now().await`
    Yield,
    /// `sleep(ms).await` (0 is a plain yield).
    Sleep(u64),
    /// `trace::mark("<task>:<index>")`
    Mark,
    /// `random_range(0..3)`, marked with its value.
    Random,
    /// Spawns a named child running these ops (awaited at the end of the task).
    Spawn(Vec<Op>),
}

fn leaf() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Yield),
        3 => (0u64..4).prop_map(Op::Sleep),
        3 => Just(Op::Mark),
        1 => Just(Op::Random),
    ]
}

/// A task's ops: leaves, and spawns nested up to two levels deep.
pub fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = leaf().prop_recursive(2, 24, 5, |inner| {
        prop_oneof![
            4 => leaf(),
            2 => prop::collection::vec(inner, 0..5).prop_map(Op::Spawn),
        ]
    });
    prop::collection::vec(op, 0..7)
}

/// Runs `ops` as a task called `name`.
pub fn exec(ops: Vec<Op>, name: String) -> Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(async move {
        let mut children = Vec::new();
        for (index, op) in ops.into_iter().enumerate() {
            match op {
                Op::Yield => asyncsim::yield_now().await,
                Op::Sleep(ms) => time::sleep(Duration::from_millis(ms)).await,
                Op::Mark => trace::mark(format!("{name}:{index}")),
                Op::Random => {
                    let value = asyncsim::random_range(0..3u8);
                    trace::mark(format!("{name}:{index}:r{value}"));
                }
                Op::Spawn(child) => {
                    let child_name = format!("{name}.{index}");
                    children.push(
                        task::Builder::new()
                            .name(child_name.clone())
                            .spawn(exec(child, child_name)),
                    );
                }
            }
        }
        for child in children {
            child.await.expect("generated tasks never fail");
        }
    })
}

/// Runs a generated program as the main task.
pub fn run_program(ops: &[Op], config: Config) -> Run<()> {
    Sim::new(config).run(exec(ops.to_vec(), "main".to_string()))
}

/// Virtual time (ms) at which the task running `ops` from `start` and all
/// its descendants are done: the longest chain of sleeps, not their sum.
pub fn chain_ms(ops: &[Op], start: u64) -> u64 {
    let mut now = start;
    let mut end = start;
    for op in ops {
        match op {
            Op::Sleep(ms) => now += ms,
            Op::Spawn(child) => end = end.max(chain_ms(child, now)),
            _ => {}
        }
    }
    end.max(now)
}

/// The sum of every sleep in the program: what sequential execution would cost.
pub fn total_sleep_ms(ops: &[Op]) -> u64 {
    ops.iter()
        .map(|op| match op {
            Op::Sleep(ms) => *ms,
            Op::Spawn(child) => total_sleep_ms(child),
            _ => 0,
        })
        .sum()
}

/// The virtual time (ns) each `Mark` op must be recorded at, by label.
pub fn expected_mark_times(ops: &[Op]) -> BTreeMap<String, u64> {
    fn walk(ops: &[Op], name: &str, start: u64, out: &mut BTreeMap<String, u64>) {
        let mut now = start;
        for (index, op) in ops.iter().enumerate() {
            match op {
                Op::Sleep(ms) => now += ms,
                Op::Mark => {
                    out.insert(format!("{name}:{index}"), now * 1_000_000);
                }
                Op::Spawn(child) => walk(child, &format!("{name}.{index}"), now, out),
                _ => {}
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(ops, "main", 0, &mut out);
    out
}

/// How many tasks the program spawns (main excluded), in spawn order of a
/// depth-first walk.
pub fn spawn_count(ops: &[Op]) -> usize {
    ops.iter()
        .map(|op| match op {
            Op::Spawn(child) => 1 + spawn_count(child),
            _ => 0,
        })
        .sum()
}
