#!/usr/bin/env bash
# The tokio face's proofs on code nobody here wrote, run by .ci/run after
# `cargo test`:
#   - mini-redis and axum, from their published crates: cargo downloads each
#     .crate, ../switch-tokio.sh (the README's way for any crate built on
#     tokio) unpacks it under target/proofs/ and switches its `tokio`
#     dependency lines to the face; nothing of either is committed here;
#   - hyper (HTTP/1 server and client) over the simulated TcpStream.
# This crate is its own workspace (excluded from the root one), so the root's
# `cargo test` never needs mini-redis, axum or hyper.
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"
proofs="$root/target/proofs"
export CARGO_TARGET_DIR="$root/target"

# 1. The published crates, unpacked under target/proofs/ with their tokio
#    lines (normal and dev) switched to the face, as a user does it.
bash "$root/tokio/switch-tokio.sh" mini-redis 0.4.1 "$proofs" > /dev/null
bash "$root/tokio/switch-tokio.sh" axum 0.8.9 "$proofs" > /dev/null
grep -q 'package = "asyncsim-tokio"' "$proofs/mini-redis-0.4.1/Cargo.toml"
grep -q 'package = "asyncsim-tokio"' "$proofs/axum-0.8.9/Cargo.toml"

# 2. Lints, the mini-redis and axum properties, the hyper example.
cargo fmt --manifest-path Cargo.toml -- --check
cargo clippy --manifest-path Cargo.toml --all-targets -- -D warnings
cargo test --manifest-path Cargo.toml
cargo run --manifest-path Cargo.toml --example fetch_many_pages
