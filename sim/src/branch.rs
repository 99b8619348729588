//! Interleavings inside one task: the order in which a task polls its own
//! branches is a draw.
//!
//! A task that awaits several futures at once — [`select!`](crate::select!),
//! [`join!`](crate::join!), [`try_join!`](crate::try_join!), [`join_all`],
//! [`select`] — polls them one after the other inside one poll of the task.
//! Which branch goes first is a scheduling decision as real as which task
//! runs next: a consumer polled before its producer in the same poll sees a
//! different channel than one polled after it, and `tokio::select!` starts
//! at a random branch precisely so that no branch starves. Here every poll
//! of such a combinator with two or more live branches makes one draw
//! (label [`DrawLabel::Branch`]) that orders them:
//!
//! - value 0 is argument order, so FIFO runs poll branches as written and
//!   shrinking moves toward it;
//! - up to [`ORDERED_BRANCHES_MAX`] live branches, the draw picks any of
//!   their `n!` orders (one draw, whatever `n`); with more, it picks the
//!   branch to start from and goes on in argument order, wrapping around
//!   (`tokio::select!`'s own rotation), so a `join_all` of a hundred futures
//!   makes one draw of 100 options, not a storm;
//! - a poll with one live branch makes no draw, and `biased;` makes none.
//!
//! Branches that finished (or were disabled) are not polled again. Outside a
//! simulation the order is argument order. A poll in any other order than
//! argument order leaves an event in the trace ("select! at src/lib.rs:40
//! polled branch 2 before branch 1", by argument position; the macro's
//! file:line is words only, kept beside the trace and never hashed, so moving
//! a `select!` changes no hash or tape), and so in a failure's report; a FIFO
//! run's trace is the same as if the branches had no say. Random and PCT
//! draw the order uniformly, one draw per poll.
//!
//! For a combinator you cannot change — a `futures::join!` inside another
//! crate — wrap its future, or the futures you hand it, in
//! [`explore_polls`]: at each poll it draws whether to yield first.
//!
//! ```
//! use asyncsim_sim::{join, select, Config, Sim, Strategy};
//! use std::cell::RefCell;
//!
//! // Which branch of a `join!` runs its first poll first is a draw.
//! let firsts: Vec<&str> = (0..20)
//!     .map(|seed| {
//!         let run = Sim::new(Config::new().seed(seed).strategy(Strategy::Random)).run(async {
//!             let log = RefCell::new(Vec::new());
//!             let (a, b) = join!(
//!                 async { log.borrow_mut().push("a"); 1 },
//!                 async { log.borrow_mut().push("b"); 2 },
//!             );
//!             assert_eq!((a, b), (1, 2)); // outputs in argument order, whatever the poll order
//!             log.into_inner()[0]
//!         });
//!         run.result.unwrap()
//!     })
//!     .collect();
//! assert!(firsts.contains(&"a") && firsts.contains(&"b"));
//!
//! // `select!`: the first branch to finish wins; when several are ready,
//! // the drawn order decides. `biased;` polls in argument order and never draws.
//! let run = Sim::new(Config::new().seed(3)).run(async {
//!     select! {
//!         biased;
//!         value = async { 1 } => value,
//!         value = async { 2 } => value,
//!     }
//! });
//! assert_eq!(run.result.unwrap(), 1);
//! assert!(run.tape.is_empty());
//! ```

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::cx;
use crate::tape::DrawLabel;
use crate::trace::EventKind;

pub(crate) mod order;

use order::live_bits;
pub(crate) use order::Order;
pub use order::ORDERED_BRANCHES_MAX;

/// Draws the order of one poll over `count` live branches (no draw when
/// `count < 2`, when `biased`, or outside a run). `position` gives the
/// argument position of the k-th live branch: an order other than argument
/// order is recorded in the trace with them (`EventKind::BranchOrder`), so
/// the trace and a failure's report say which branch went first.
pub(crate) fn draw_order(
    count: usize,
    biased: bool,
    what: &'static str,
    site: Option<&'static Location<'static>>,
    position: impl Fn(usize) -> usize,
) -> Order {
    if count < 2 || biased || cx::current_run_id().is_none() {
        return Order::identity(count);
    }
    let value = cx::draw(DrawLabel::Branch, Order::options(count), what);
    if value != 0 {
        cx::record_branch_order(live_bits(count, position), value as u32, what, site);
    }
    Order::from_value(count, value)
}

// ---------------------------------------------------------------------------
// join_all and select: the function forms.
// ---------------------------------------------------------------------------

/// Polls every future inside the calling task, in a drawn order on each
/// poll, and resolves to their outputs in argument order.
///
/// The futures run concurrently *within* one task, like
/// `futures::future::join_all` (not as tasks of their own: see
/// [`gather`](crate::gather) for that). Each poll of the `JoinAll` polls the
/// futures that have not finished, in an order drawn from the tape (see the
/// [module docs](self)).
///
/// ```
/// use asyncsim_sim::{branch::join_all, yield_now, Config, Sim, Strategy};
///
/// let run = Sim::new(Config::new().seed(5).strategy(Strategy::Random)).run(async {
///     join_all((0..3).map(|index| async move {
///         yield_now().await;
///         index * 10
///     }))
///     .await
/// });
/// assert_eq!(run.result.unwrap(), [0, 10, 20]);
/// ```
pub fn join_all<I>(futures: I) -> JoinAll<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let branches: Vec<Pin<Box<I::Item>>> = futures.into_iter().map(Box::pin).collect();
    let count = branches.len();
    JoinAll {
        branches: branches.into_iter().map(Some).collect(),
        outputs: (0..count).map(|_| None).collect(),
        live: (0..count).collect(),
    }
}

/// The future of [`join_all`].
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAll<F: Future> {
    /// By argument index; `None` once finished (dropped at once).
    branches: Vec<Option<Pin<Box<F>>>>,
    /// By argument index.
    outputs: Vec<Option<F::Output>>,
    /// Argument indices of the branches not finished, ascending.
    live: Vec<usize>,
}

// The futures are pinned in their boxes; the outputs are never pinned.
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let this = self.get_mut();
        let live = &this.live;
        let order = draw_order(live.len(), false, "asyncsim::join_all", None, |k| live[k]);
        let mut finished = false;
        for position in order {
            let index = this.live[position];
            let branch = this.branches[index]
                .as_mut()
                .expect("asyncsim bug: a live join_all branch has no future");
            if let Poll::Ready(output) = branch.as_mut().poll(context) {
                this.outputs[index] = Some(output);
                this.branches[index] = None;
                finished = true;
            }
        }
        if finished {
            let branches = &this.branches;
            this.live.retain(|index| branches[*index].is_some());
        }
        if !this.live.is_empty() {
            return Poll::Pending;
        }
        Poll::Ready(
            this.outputs
                .iter_mut()
                .map(|output| output.take().expect("join_all polled after it finished"))
                .collect(),
        )
    }
}

/// Polls every future inside the calling task, in a drawn order on each
/// poll, and resolves to the first one to finish: its argument index and
/// output. The others are dropped then.
///
/// When several are ready in the same poll, the drawn order decides which
/// wins (argument order under FIFO). The form for a list of futures of one
/// type; [`select!`](crate::select!) takes any mix of futures, patterns and
/// preconditions.
///
/// ```
/// use asyncsim_sim::{branch::select, time, Config, Sim};
/// use std::time::Duration;
///
/// let run = Sim::new(Config::new().seed(2)).run(async {
///     select([3u64, 1, 2].map(|seconds| async move {
///         time::sleep(Duration::from_secs(seconds)).await;
///         seconds
///     }))
///     .await
/// });
/// assert_eq!(run.result.unwrap(), (1, 1)); // the second future, after 1 s
/// ```
///
/// # Panics
///
/// When the list is empty (there would be nothing to wait for).
pub fn select<I>(futures: I) -> Select<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let branches: Vec<Pin<Box<I::Item>>> = futures.into_iter().map(Box::pin).collect();
    assert!(
        !branches.is_empty(),
        "asyncsim::branch::select needs at least one future"
    );
    Select { branches }
}

/// The future of [`select`].
#[must_use = "futures do nothing unless awaited"]
pub struct Select<F> {
    /// By argument index; emptied when one finishes.
    branches: Vec<Pin<Box<F>>>,
}

impl<F: Future> Future for Select<F> {
    type Output = (usize, F::Output);

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<(usize, F::Output)> {
        let this = self.get_mut();
        assert!(
            !this.branches.is_empty(),
            "asyncsim::branch::select polled after it finished"
        );
        for index in draw_order(this.branches.len(), false, "asyncsim::select", None, |k| k) {
            if let Poll::Ready(output) = this.branches[index].as_mut().poll(context) {
                this.branches.clear();
                return Poll::Ready((index, output));
            }
        }
        Poll::Pending
    }
}

// ---------------------------------------------------------------------------
// explore_polls: for combinators a user cannot change.
// ---------------------------------------------------------------------------

/// Wraps a future so that, at each poll, a draw decides whether it yields
/// first (wakes its task and returns `Pending` without polling the inner
/// future): value 0 polls at once, the canonical choice.
///
/// Use it where the interleaving lives in code you cannot change: around
/// the future of a third-party combinator (everything else in the run may
/// then go between two of its polls), or around the futures you hand to
/// one (`futures::join!(explore_polls(producer), explore_polls(consumer))`:
/// a branch that yields lets the next branch go first in that poll, which
/// reorders the combinator's branches from outside). A poll right after a
/// yield never yields again, so every wrapped future makes progress and a
/// yield costs at most one extra poll. Outside a simulation it only polls.
///
/// ```
/// use asyncsim_sim::{explore_polls, Config, Sim, Strategy};
///
/// let polls: Vec<u64> = (0..10)
///     .map(|seed| {
///         let run = Sim::new(Config::new().seed(seed).strategy(Strategy::Random))
///             .run(explore_polls(async { 7 }));
///         let steps = run.steps();
///         assert_eq!(run.result.unwrap(), 7);
///         steps
///     })
///     .collect();
/// assert!(polls.contains(&1) && polls.contains(&2)); // polled at once, or after one yield
/// ```
pub fn explore_polls<F: Future>(future: F) -> ExplorePolls<F> {
    ExplorePolls {
        future: Box::pin(future),
        just_yielded: false,
    }
}

/// The future of [`explore_polls`].
#[must_use = "futures do nothing unless awaited"]
pub struct ExplorePolls<F> {
    future: Pin<Box<F>>,
    /// The last poll yielded: this one polls.
    just_yielded: bool,
}

impl<F: Future> Future for ExplorePolls<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        if !this.just_yielded
            && cx::current_run_id().is_some()
            && cx::draw(DrawLabel::Branch, 2, "asyncsim::explore_polls") == 1
        {
            this.just_yielded = true;
            cx::record(EventKind::PollYield);
            context.waker().wake_by_ref();
            return Poll::Pending;
        }
        this.just_yielded = false;
        this.future.as_mut().poll(context)
    }
}

// ---------------------------------------------------------------------------
// What the macros expand to call.
// ---------------------------------------------------------------------------

/// Support for the macros' expansions; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use std::future::{poll_fn, Future};
    pub use std::pin::pin;
    pub use std::task::Poll;

    /// `select!`'s look at the cooperative budget before a poll's branches
    /// (and before its order is drawn): when the running task's budget is
    /// spent, the task is woken and `Pending` returned (a yield), as tokio's
    /// `select!` does, so a loop over a `select!` with an always-ready
    /// branch that spends nothing yields as its budgeted branches would.
    /// Spends nothing; `Ready` outside a run.
    #[inline]
    pub fn poll_budget(context: &std::task::Context<'_>) -> Poll<()> {
        if crate::cx::has_budget() {
            Poll::Ready(())
        } else {
            context.waker().wake_by_ref();
            Poll::Pending
        }
    }

    /// An empty output slot (the macros' tuples of outputs start as these).
    #[inline]
    pub fn empty<T>(_branch: usize) -> Option<T> {
        None
    }

    /// The order of one poll over the branches whose bits are set in
    /// `live` (bit `i` = branch `i`): their indices, each once. The
    /// caller's location (the macro's invocation, as a macro expansion's
    /// call reports it) names the macro in the trace's words.
    #[inline]
    #[track_caller]
    pub fn order(live: u64, biased: bool, what: &'static str) -> MaskOrder {
        let site = Some(std::panic::Location::caller());
        MaskOrder {
            order: super::draw_order(live.count_ones() as usize, biased, what, site, |k| {
                nth_set_bit(live, k)
            }),
            live,
        }
    }

    /// Branch indices in a drawn order (see [`order`]).
    pub struct MaskOrder {
        order: super::Order,
        live: u64,
    }

    impl Iterator for MaskOrder {
        type Item = usize;

        #[inline]
        fn next(&mut self) -> Option<usize> {
            let position = self.order.next()?;
            Some(nth_set_bit(self.live, position))
        }
    }

    /// The index of the `n`-th (0-based) set bit of `bits`.
    fn nth_set_bit(mut bits: u64, n: usize) -> usize {
        for _ in 0..n {
            bits &= bits - 1;
        }
        bits.trailing_zeros() as usize
    }

    /// `select!` with every branch disabled and no `else`.
    #[cold]
    #[track_caller]
    pub fn all_branches_disabled() -> ! {
        panic!("asyncsim::select!: all branches are disabled and there is no `else` branch")
    }
}

mod macros;

#[cfg(test)]
mod tests {
    use super::*;

    fn orders(count: usize) -> Vec<Vec<usize>> {
        (0..Order::options(count))
            .map(|value| Order::from_value(count, value).collect())
            .collect()
    }

    #[test]
    fn value_zero_is_argument_order() {
        for count in 0..9 {
            let order: Vec<usize> = Order::from_value(count, 0).collect();
            assert_eq!(order, (0..count).collect::<Vec<_>>());
        }
    }

    #[test]
    fn every_value_is_a_distinct_order_and_every_order_has_a_value() {
        for count in 1..=ORDERED_BRANCHES_MAX {
            let mut all = orders(count);
            for order in &all {
                let mut sorted = order.clone();
                sorted.sort_unstable();
                assert_eq!(sorted, (0..count).collect::<Vec<_>>(), "{order:?}");
            }
            all.sort();
            all.dedup();
            assert_eq!(all.len() as u64, Order::options(count));
        }
    }

    #[test]
    fn more_branches_than_the_maximum_rotate() {
        let count = ORDERED_BRANCHES_MAX + 2;
        assert_eq!(Order::options(count), count as u64);
        let order: Vec<usize> = Order::from_value(count, 3).collect();
        assert_eq!(order, [3, 4, 5, 6, 0, 1, 2]);
    }

    #[test]
    fn a_deviation_names_branches_by_argument_position() {
        assert_eq!(
            Order::from_value(2, 1).describe(|position| position),
            "polled branch 2 before branch 1"
        );
        assert_eq!(
            Order::from_value(3, 5).describe(|position| [0, 2, 4][position]),
            "polled its branches in the order 5, 3, 1"
        );
    }

    #[test]
    fn mask_order_maps_positions_to_live_branches() {
        let live = 0b1011_0100u64;
        let indices: Vec<usize> = __private::order(live, true, "test").collect();
        assert_eq!(indices, [2, 4, 5, 7]);
    }
}
