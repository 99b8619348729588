//! What a program inside a run calls: tasks, virtual time, blocking and the
//! pool, random data, asyncio's combinators and the sync primitives. Built
//! on [`crate::cx`] alone (and `raw`'s safe task cells for join handles):
//! nothing here reaches the kernel's state. Each module is re-exported at
//! the crate root (`asyncsim_sim::time`, …).

pub mod blocking;
pub mod combinators;
pub mod coop;
pub mod random;
pub mod sync;
pub mod task;
pub mod time;
