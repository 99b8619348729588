//! Unit tests of the kernel through `cx`, for what the public API cannot
//! reach yet (nodes: the world's `node::Builder` builds on these).

mod addresses;
mod crash;
mod labels;
mod spare_core;
mod spawn_unwinding;
mod timers;
