//! TEMPORARY: what the world still needs from the kernel beyond `cx`
//! (requested in STATUS.md): the run's `Config::net` and `Config::buggify`,
//! and label interning for trace events. Deleted when `cx` has them.

pub(crate) fn net_config() -> crate::world::net::NetConfig {
    crate::world::net::NetConfig::default()
}

pub(crate) fn buggify_rate() -> f64 {
    0.0
}
