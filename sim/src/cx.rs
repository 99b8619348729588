//! The narrow handle: everything user-facing code (`task`, `time`,
//! `blocking`, `random`, the combinators, `sync`) and the world (nodes,
//! network, disk, faults) may ask of the run in progress.
//!
//! Each function finds the thread's current run and does one thing through
//! the kernel; none hands out the run's state. Code outside the kernel
//! reaches the engine only through these names, so the kernel does not grow
//! when the world does, and the names stay put while the kernel's insides
//! move.
//!
//! Functions that make sense only inside a run panic outside one with a
//! message naming the caller's API (`what`); the others do nothing (or
//! answer `None`) outside a run, since destructors may run anywhere.
//!
//! | need | functions |
//! |---|---|
//! | the run and the task | [`current_run_id`], [`current_task`], [`current_run_and_task`], [`task_name`] |
//! | tasks | [`spawn_task`], [`spawn_on`], [`abort_task`], [`set_waiting_on`], [`set_socket_waits`] (what a failure's report asks the world) |
//! | virtual time | [`now_ns`], [`now_in_run`], [`register_timer`], [`register_timer_for`], [`update_timer`], [`cancel_timer`], [`call_at`] (the world acting at a time) |
//! | the pool and blocking | [`spawn_blocking_job`], [`blocking_sleep`], [`slow_polls_so_far`] |
//! | draws | [`draw`], [`draw_weighted`], [`draw_described`] (a nonzero value explained in words), or [`draw_noted`] then [`describe_deviation`] (the words made only for a deviation noted) |
//! | the trace | [`record`], [`mark`], [`marks_so_far`], [`intern_label`], [`add_label`] |
//! | sync primitives | [`register_resource`], [`share_resource_holder`], [`HolderCell`] |
//! | nodes | [`NodeId`], [`current_node`], [`new_node`], [`spawn_on`], [`crash_node`], [`task_node`] |
//! | between steps | [`at_step_boundary`] |
//! | the cooperative budget | [`poll_proceed`] (spend a unit, or yield), [`poll_proceed_from`] (and say how many there were); for the world, [`has_budget`] or [`now_in_run_checking`] (a look before an operation; [`record_net`] spends the unit at its completion); [`budget`], [`set_budget`] |
//!
//! **Step boundaries.** Work that must not happen inside a poll (a node
//! crash, the world delivering what its clock says is due) runs at the next
//! step boundary: after the poll in progress ends, before timers fire and
//! the next task is drawn, outside every borrow of the run's state. A run
//! that queues none pays nothing for it: the step's one test for "anything
//! but a pick" covers failures and boundary work alike.

pub(crate) use crate::clock::TimerKey;
pub(crate) use crate::kernel::{
    abort_task, add_label, blocking_sleep, call_at, cancel_timer, crash_node, current_node,
    current_run_and_task, current_run_id, current_task, describe_deviation, draw, draw_described,
    draw_noted, mark, marks_so_far, new_node, now_in_run, now_ns, record_branch_order, record_net,
    register_resource, register_timer, register_timer_for, set_socket_waits, set_waiting_on,
    share_resource_holder, slow_polls_so_far, spawn_blocking_job, spawn_on, spawn_task,
    spawn_task_named, task_counts, task_name, task_node, update_timer, with_config, HolderCell,
    NodeId, TaskName,
};
pub(crate) use crate::kernel::{
    budget, has_budget, now_in_run_checking, poll_proceed, poll_proceed_from, set_budget,
    spend_on_completion, BudgetSpent, UNCONSTRAINED,
};
// Part of the handle the world asked for and does not call yet.
#[allow(unused_imports)]
pub(crate) use crate::kernel::{
    at_step_boundary, draw_weighted, intern_label, intern_label_known, record,
};
