//! The calling thread and `jobs - 1` scoped threads, each running one part.

/// Runs `work(t)` for `t` in `0..jobs`, `work(0)` on the calling thread (one
/// thread fewer to start, and its caches are warm), and returns the results
/// in `t` order; a worker's panic resumes here.
pub(crate) fn on_workers<T: Send>(jobs: usize, work: impl Fn(u64) -> T + Sync) -> Vec<T> {
    if jobs <= 1 {
        return vec![work(0)];
    }
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = (1..jobs as u64)
            .map(|thread| scope.spawn(move || work(thread)))
            .collect();
        let mut results = vec![work(0)];
        for handle in handles {
            match handle.join() {
                Ok(result) => results.push(result),
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
        results
    })
}
