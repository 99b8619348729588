//! TEMPORARY: the `cx` names the world builds on, until the kernel's
//! `sim/src/cx.rs` lands. Deleted then; nothing else may use it.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub(crate) use crate::executor::{
    cancel_timer, current_run_id, draw, now_ns, register_timer, set_waiting_on, spawn_task,
};
use crate::tape::DrawLabel;
use crate::task::JoinHandle;
use crate::trace::EventKind;

/// A node incarnation's id: the kernel stores it per task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct NodeId(pub(crate) u32);

impl NodeId {
    pub(crate) const MAIN: NodeId = NodeId(0);
}

thread_local! {
    static CURRENT_NODE: Cell<u32> = const { Cell::new(0) };
    static CRASHED: RefCell<(u64, Vec<u32>)> = const { RefCell::new((0, Vec::new())) };
}

pub(crate) fn current_node() -> NodeId {
    NodeId(CURRENT_NODE.with(Cell::get))
}

fn crashed(node: u32) -> bool {
    let run = current_run_id().unwrap_or(0);
    CRASHED.with(|c| {
        let c = c.borrow();
        c.0 == run && c.1.contains(&node)
    })
}

struct OnNode<F> {
    node: u32,
    future: Option<Pin<Box<F>>>,
}

impl<F: Future> Future for OnNode<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<F::Output> {
        if crashed(self.node) {
            self.future = None;
            return Poll::Pending;
        }
        struct Restore(u32);
        impl Drop for Restore {
            fn drop(&mut self) {
                CURRENT_NODE.with(|c| c.set(self.0));
            }
        }
        let _restore = Restore(CURRENT_NODE.with(|c| c.replace(self.node)));
        match self.future.as_mut() {
            Some(future) => future.as_mut().poll(context),
            None => Poll::Pending,
        }
    }
}

pub(crate) fn spawn_on<F>(node: NodeId, future: F, name: Option<String>) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_task(
        OnNode {
            node: node.0,
            future: Some(Box::pin(future)),
        },
        name,
    )
}

pub(crate) fn crash_node(node: NodeId, _reason: String) {
    let run = current_run_id().unwrap_or(0);
    CRASHED.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != run {
            *c = (run, Vec::new());
        }
        c.1.push(node.0);
    });
}

pub(crate) fn draw_weighted(
    label: DrawLabel,
    bound: u64,
    nonzero_probability: f64,
    what: &str,
) -> u64 {
    if bound <= 1 || nonzero_probability <= 0.0 {
        return 0;
    }
    let _ = label;
    draw(DrawLabel::Random, bound, what)
}

pub(crate) fn record(_kind: EventKind) {}

pub(crate) fn intern_label(_label: &str) -> u32 {
    0
}

pub(crate) fn faults_enabled() -> bool {
    true
}

pub(crate) fn net_config() -> crate::world::net::NetConfig {
    crate::world::net::NetConfig::default()
}

pub(crate) fn buggify_rate() -> f64 {
    0.0
}
