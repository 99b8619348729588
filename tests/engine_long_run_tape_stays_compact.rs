//! A long soak run's memory is bounded by what it keeps, not by how long it
//! runs: in hash-only trace mode nothing grows with the steps but the tape,
//! and the tape keeps a long run's draws in about a byte each (#14.10).
//!
//! This binary has one test, and a counting global allocator: the peak of
//! live heap bytes over the whole run is what it asserts on. (One test per
//! binary, so no other test's allocations count.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use asyncsim::{Config, Sim, Strategy, TraceMode};

/// The system allocator, counting live bytes and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    LIVE.fetch_sub(bytes, Ordering::Relaxed);
}

// SAFETY: every call goes to `System` unchanged; the counters only watch.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System::alloc`'s.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System::alloc_zeroed`'s.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is `System::dealloc`'s.
        unsafe { System.dealloc(pointer, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract is `System::realloc`'s.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            // Counted as the new size only: a large block grows in place
            // (or by remapping), never holding both copies.
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const STEPS: u64 = 10_000_000;
const PEAK_MAX_BYTES: usize = 32 << 20;

#[test]
fn ten_million_steps_in_hash_only_mode_peak_under_32_mib() {
    // Two tasks yielding in turn: every step but a handful draws which of
    // the two runs next, so the tape holds about `STEPS` draws.
    let yields_each = STEPS / 2;
    let mut sim = Sim::new(
        Config::new()
            .seed(7)
            .strategy(Strategy::Random)
            .trace_mode(TraceMode::HashOnly)
            .steps_max(STEPS + 100),
    );
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let run = sim.run(async move {
        let spin = move || async move {
            for _ in 0..yields_each {
                asyncsim::yield_now().await;
            }
        };
        let a = asyncsim::spawn(spin());
        let b = asyncsim::spawn(spin());
        a.await.unwrap();
        b.await.unwrap();
    });
    let peak = PEAK.load(Ordering::Relaxed) - before;
    run.result.as_ref().expect("the run passes");
    assert!(run.steps() >= STEPS, "{} steps", run.steps());
    let draws = run.tape.len();
    assert!(draws as u64 >= STEPS / 100 * 99, "{draws} draws");
    let mib = peak as f64 / (1 << 20) as f64;
    let bytes_per_draw = peak as f64 / draws as f64;
    eprintln!("{draws} draws, peak {mib:.1} MiB, {bytes_per_draw:.2} bytes a draw");
    assert!(
        peak < PEAK_MAX_BYTES,
        "a {} step run in hash-only mode peaked at {mib:.1} MiB ({bytes_per_draw:.2} bytes a draw), over 32 MiB",
        run.steps()
    );
}
