//! `AsCompleted` as a `futures::Stream` yields the same outputs, in the
//! same completion order, as its inherent `next()`: compared on 400 random
//! and PCT schedules, the same seed for both (six children with drawn
//! delays make too many schedules to enumerate).

use asyncsim::{as_completed, time, Sim};
use futures::StreamExt;
use std::time::Duration;

mod schedule_support;

use schedule_support::random_and_pct;

/// Six children that finish at drawn times (some at the same instant) after
/// a drawn number of yields; with the Stream or with `next()`.
async fn completion_order(as_stream: bool) -> Vec<u32> {
    let children = (0..6u32).map(|child| async move {
        for _ in 0..asyncsim::random_range(0..3u32) {
            asyncsim::yield_now().await;
        }
        time::sleep(Duration::from_millis(asyncsim::random_range(0..3u64))).await;
        child
    });
    let mut finished = as_completed(children);
    if as_stream {
        assert_eq!(futures::Stream::size_hint(&finished), (6, Some(6)));
        let order: Vec<u32> = finished.by_ref().collect().await;
        assert_eq!(futures::Stream::size_hint(&finished), (0, Some(0)));
        assert_eq!(StreamExt::next(&mut finished).await, None, "fused");
        order
    } else {
        let mut order = Vec::new();
        while let Some(child) = finished.next().await {
            order.push(child);
        }
        order
    }
}

#[test]
fn as_completed_stream_yields_the_same_order_as_next() {
    let mut orders = std::collections::BTreeSet::new();
    for config in random_and_pct(200) {
        let by_next = Sim::new(config.clone()).run(completion_order(false));
        let by_stream = Sim::new(config).run(completion_order(true));
        let seed = by_next.seed;
        let (by_next, by_stream) = (by_next.result.unwrap(), by_stream.result.unwrap());
        let mut sorted = by_stream.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 1, 2, 3, 4, 5], "seed {seed}: each child once");
        assert_eq!(by_stream, by_next, "seed {seed}");
        orders.insert(by_stream);
    }
    assert!(orders.len() > 10, "schedules vary the completion order");
}
