//! Tests of the tokio face, in a crate that depends on it as `tokio`.
