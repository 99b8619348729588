//! Reads the version of each peer the bench compares against from the
//! workspace's `Cargo.lock`, so the tables print the versions actually
//! built, and a stale pin shows in the output.
//!
//! Writes `$OUT_DIR/peers.rs`: `pub const PEERS: &[(&str, &str)]`, (crate,
//! version) for every direct dependency of `asyncsim-bench` that is a peer.

use std::fmt::Write as _;
use std::path::PathBuf;

/// The peers: crates the bench runs beside asyncsim. The one list of them.
const PEER_CRATES: &[&str] = &["tokio", "futures", "shuttle", "turmoil", "madsim"];

/// One `[[package]]` entry of a lockfile: name, version, dependencies.
struct Package {
    name: String,
    version: String,
    dependencies: Vec<String>,
}

fn packages(lock: &str) -> Vec<Package> {
    let mut packages = Vec::new();
    for block in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            block.lines().find_map(|line| {
                let value = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
                Some(value.trim().trim_matches('"').to_string())
            })
        };
        let dependencies = block
            .split_once("dependencies = [")
            .map(|(_, rest)| rest.split(']').next().unwrap_or(""))
            .unwrap_or("")
            .split(',')
            .map(|entry| entry.trim().trim_matches('"').to_string())
            .filter(|entry| !entry.is_empty())
            .collect();
        if let (Some(name), Some(version)) = (field("name"), field("version")) {
            packages.push(Package {
                name,
                version,
                dependencies,
            });
        }
    }
    packages
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let lock_path = manifest.join("..").join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock_path.display());
    let lock = std::fs::read_to_string(&lock_path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", lock_path.display()));
    let packages = packages(&lock);
    let bench = packages
        .iter()
        .find(|package| package.name == "asyncsim-bench")
        .expect("asyncsim-bench is in Cargo.lock");
    let mut out = String::from("/// (crate, version) of each peer, from Cargo.lock.\n");
    out.push_str("pub const PEERS: &[(&str, &str)] = &[\n");
    for &peer in PEER_CRATES {
        // A dependency is `name` when one version is locked, `name version`
        // when several are.
        let Some(dependency) = bench
            .dependencies
            .iter()
            .find(|entry| entry.split(' ').next() == Some(peer))
        else {
            continue;
        };
        let version = match dependency.split_once(' ') {
            Some((_, version)) => version.to_string(),
            None => packages
                .iter()
                .find(|package| package.name == peer)
                .map(|package| package.version.clone())
                .unwrap_or_else(|| panic!("{peer} is a dependency but not a package")),
        };
        writeln!(out, "    ({peer:?}, {version:?}),").unwrap();
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out_dir.join("peers.rs"), out).expect("writing peers.rs");
}
