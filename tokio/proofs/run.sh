#!/usr/bin/env bash
# The tokio face's proofs on code nobody here wrote, run by .ci/run after
# `cargo test`:
#   - mini-redis, from its published crate: cargo downloads the .crate, this
#     script unpacks it under target/proofs/ and switches its two `tokio`
#     dependency lines to the face; nothing of mini-redis is committed here;
#   - hyper (HTTP/1 server and client) over the simulated TcpStream.
# This crate is its own workspace (excluded from the root one), so the root's
# `cargo test` never needs mini-redis or hyper.
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"
version="0.4.1"
proofs="$root/target/proofs"
export CARGO_TARGET_DIR="$root/target"

# 1. Let cargo download the published crate: a throwaway manifest that
#    depends on it, then `cargo fetch`.
mkdir -p "$proofs/fetch/src"
cat > "$proofs/fetch/Cargo.toml" <<MANIFEST
[package]
name = "fetch-mini-redis"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
mini-redis = "=$version"
MANIFEST
: > "$proofs/fetch/src/lib.rs"
cargo fetch --manifest-path "$proofs/fetch/Cargo.toml"
crate_file="$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"mini-redis-$version.crate" | head -n 1)"

# 2. Unpack it and switch its tokio lines (normal and dev) to the face.
rm -rf "$proofs/mini-redis-$version"
tar -xzf "$crate_file" -C "$proofs"
manifest="$proofs/mini-redis-$version/Cargo.toml"
awk -v face="$root/tokio" '
    /^\[(dev-)?dependencies\.tokio\]$/ {
        print
        print "package = \"asyncsim-tokio\""
        print "path = \"" face "\""
        print "features = [\"full\", \"simulation\"]"
        skipping = 1
        next
    }
    /^\[/ { skipping = 0 }
    !skipping { print }
' "$manifest" > "$manifest.switched"
mv "$manifest.switched" "$manifest"
grep -q 'package = "asyncsim-tokio"' "$manifest"

# 3. Lints, the mini-redis properties, the hyper example.
cargo fmt --manifest-path Cargo.toml -- --check
cargo clippy --manifest-path Cargo.toml --all-targets -- -D warnings
cargo test --manifest-path Cargo.toml
cargo run --manifest-path Cargo.toml --example fetch_many_pages
