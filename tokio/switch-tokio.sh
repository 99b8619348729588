#!/usr/bin/env bash
# Unpacks a published crate built on tokio with its `tokio` dependency lines
# switched to the face, so that its tokio calls (spawns, sleeps, sockets, the
# types its API takes: axum::serve's listener) are the face's in a simulated
# run. Nothing else of the crate changes.
#
#   bash tokio/switch-tokio.sh CRATE VERSION DIR [FACE]
#
# unpacks CRATE-VERSION under DIR (DIR/CRATE-VERSION) and prints the
# `[patch.crates-io]` line that makes every crate of your build use it.
# FACE is what the switched lines depend on. Unless given, it is where this
# script is: in a checkout of asyncsim, `path = "<the checkout>/tokio"`; in
# the face as cargo unpacked it from crates.io (the script ships in the
# package: `~/.cargo/registry/src/*/asyncsim-tokio-<version>/switch-tokio.sh`,
# the path a real-tokio panic names), `version = "<that version>"`, the
# crates.io face your own lines use. The lines keep their features and
# `optional`; they never turn on `simulation`: your own dev-dependency line
# does, in tests only, so `cargo build` of the switched crate is real tokio.
#
# The crate comes from crates.io through cargo itself: a throwaway manifest
# that depends on it, then `cargo fetch`.
set -euo pipefail
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
    echo "usage: bash $0 CRATE VERSION DIR [FACE]" >&2
    echo "  e.g. bash $0 axum 0.8.9 vendor" >&2
    exit 2
fi
crate="$1"
version="$2"
mkdir -p "$3"
dir="$(cd "$3" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
if [ -f "$here/../Cargo.toml" ] && [ -d "$here/sim-tests" ]; then
    # A checkout: the face is this folder.
    default_face="path = \"$here\""
else
    # The published package (no sim-tests/: cargo packs no nested package):
    # the face from crates.io, at this package's version.
    face_version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/Cargo.toml" | head -n 1)"
    if [ -z "$face_version" ]; then
        echo "switch-tokio: cannot read asyncsim-tokio's version from $here/Cargo.toml; give FACE, as in 'version = \"0.1\"'" >&2
        exit 1
    fi
    default_face="version = \"$face_version\""
fi
face="${4:-$default_face}"

# 1. Let cargo download the published crate.
fetch="$(mktemp -d)"
trap 'rm -rf "$fetch"' EXIT
mkdir -p "$fetch/src"
cat > "$fetch/Cargo.toml" <<MANIFEST
[package]
name = "fetch-$crate"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
$crate = "=$version"
MANIFEST
: > "$fetch/src/lib.rs"
cargo fetch --quiet --manifest-path "$fetch/Cargo.toml"
crate_file="$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$crate-$version.crate" | head -n 1)"

# 2. Unpack it and switch its tokio lines, normal and dev (cargo refuses a
#    dependency whose source differs between the two): `version` and
#    `package` give way to the face's package and FACE; features, `optional`
#    and `default-features` stay.
rm -rf "${dir:?}/$crate-$version"
tar -xzf "$crate_file" -C "$dir"
manifest="$dir/$crate-$version/Cargo.toml"
awk -v face="$face" '
    /^\[(target\.[^]]*\.)?(dev-|build-)?dependencies\.tokio\]$/ {
        print
        print "package = \"asyncsim-tokio\""
        print face
        switching = 1
        switched++
        next
    }
    /^\[/ { switching = 0 }
    switching && /^(version|package|path|git|branch|tag|rev|registry) *=/ { next }
    { print }
    END { if (!switched) exit 1 }
' "$manifest" > "$manifest.switched" || {
    echo "switch-tokio: $crate $version has no [dependencies.tokio] section in its Cargo.toml: nothing to switch" >&2
    rm -rf "${dir:?}/$crate-$version"
    exit 1
}
mv "$manifest.switched" "$manifest"

# The path as given (a relative one is what a user commits).
echo "switched $crate $version's tokio lines to the face: $dir/$crate-$version"
echo "add to your Cargo.toml:"
echo "    [patch.crates-io]"
echo "    $crate = { path = \"${3%/}/$crate-$version\" }"
