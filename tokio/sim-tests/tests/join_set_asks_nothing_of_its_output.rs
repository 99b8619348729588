//! `JoinSet::new`, `len`, `is_empty`, `Default` and `Debug` ask nothing of
//! the output type, as tokio's (`impl<T> JoinSet<T>`, `impl<T> Default`,
//! `impl<T> Debug`): a type generic over its tasks' output wraps a set with
//! no bound of its own. They asked `T: 'static` (the set's state lived in a
//! table of `dyn Any`), so such a wrapper failed to build against the face
//! (E0310 "the parameter type `T` may not live long enough"; found by a
//! new user's generic worker pool, session 15).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio::task::JoinSet;

/// A worker pool generic over its output, as a library writes it: only
/// spawning asks `'static` (as tokio's `spawn` does).
struct Workers<T> {
    set: JoinSet<T>,
}

impl<T> Workers<T> {
    fn new() -> Self {
        Workers {
            set: JoinSet::new(),
        }
    }

    fn len(&self) -> usize {
        self.set.len()
    }

    fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

impl<T> Default for Workers<T> {
    fn default() -> Self {
        Workers {
            set: JoinSet::default(),
        }
    }
}

impl<T> fmt::Debug for Workers<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workers").field("set", &self.set).finish()
    }
}

impl<T: Send + 'static> Workers<T> {
    fn spawn(&mut self, task: impl Future<Output = T> + Send + 'static) {
        self.set.spawn(task);
    }

    async fn next(&mut self) -> Option<T> {
        self.set.join_next().await.map(|result| result.unwrap())
    }
}

#[tokio::test]
async fn a_set_wrapper_generic_over_its_output_works() {
    let mut workers = Workers::new();
    assert!(workers.is_empty());
    for ms in [30u64, 10, 20] {
        workers.spawn(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            ms
        });
    }
    assert_eq!(workers.len(), 3);
    assert_eq!(
        format!("{workers:?}"),
        "Workers { set: JoinSet { len: 3 } }"
    );
    let mut finished = Vec::new();
    while let Some(ms) = workers.next().await {
        finished.push(ms);
    }
    assert_eq!(finished, [10, 20, 30]);
    assert!(workers.is_empty());

    // Dropping the set (its state, on the run's thread) still aborts what is
    // left in it, as tokio's does.
    let mut sleepers = Workers::<()>::default();
    sleepers.spawn(std::future::pending());
    let mut other = JoinSet::new();
    let abort = other.spawn(std::future::pending::<()>());
    drop(other);
    drop(sleepers);
    tokio::task::yield_now().await;
    assert!(abort.is_finished());
}
