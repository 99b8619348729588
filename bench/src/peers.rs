//! The peers' versions, as locked in `Cargo.lock` (read by `build.rs` at
//! build time), for the tables' headers and runner names.

include!(concat!(env!("OUT_DIR"), "/peers.rs"));

/// The locked version of peer `name`, or `?` when the bench does not depend
/// on it.
pub fn version(name: &str) -> &'static str {
    PEERS
        .iter()
        .find(|(peer, _)| *peer == name)
        .map_or("?", |(_, version)| version)
}

/// A runner's name with its peer's version after the crate name:
/// `shuttle random` → `shuttle 0.9.10 random`; asyncsim's runners unchanged.
pub fn label(runner: &str) -> String {
    let (first, rest) = runner.split_once(' ').unwrap_or((runner, ""));
    match PEERS.iter().find(|(peer, _)| *peer == first) {
        Some((peer, version)) if rest.is_empty() => format!("{peer} {version}"),
        Some((peer, version)) => format!("{peer} {version} {rest}"),
        None => runner.to_string(),
    }
}

/// One line naming every peer and its version, for a table's header.
pub fn header() -> String {
    let peers: Vec<String> = PEERS
        .iter()
        .map(|(peer, version)| format!("{peer} {version}"))
        .collect();
    format!("Peers (as locked in Cargo.lock): {}.", peers.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each peer's locked version fits the requirement `bench/Cargo.toml`
    /// states for it, and every peer the manifest names is listed: the
    /// build script read the lockfile, not a stale copy.
    #[test]
    fn every_peer_in_the_manifest_has_its_locked_version() {
        let manifest = include_str!("../Cargo.toml");
        let dependencies = manifest
            .split("[dependencies]")
            .nth(1)
            .expect("a [dependencies] table");
        let mut checked = 0;
        for line in dependencies
            .lines()
            .take_while(|line| !line.starts_with('['))
        {
            let Some((name, spec)) = line.split_once('=') else {
                continue;
            };
            let name = name.trim();
            // asyncsim's own crates (path dependencies) are not peers.
            if name.is_empty() || name.starts_with('#') || spec.contains("path =") {
                continue;
            }
            let requirement = match name.strip_suffix(".workspace") {
                Some(_) => workspace_requirement(name.trim_end_matches(".workspace")),
                None if spec.contains("workspace") => workspace_requirement(name),
                None => spec.split('"').nth(1).expect("a version").to_string(),
            };
            let name = name.trim_end_matches(".workspace");
            let locked = version(name);
            assert_ne!(locked, "?", "{name} is a dependency without a version");
            assert!(
                locked == requirement || locked.starts_with(&format!("{requirement}.")),
                "{name}: locked {locked}, required {requirement}"
            );
            checked += 1;
        }
        assert_eq!(checked, PEERS.len(), "{PEERS:?}");
        assert_eq!(
            label("shuttle random"),
            format!("shuttle {} random", version("shuttle"))
        );
        assert_eq!(label("asyncsim (reused Sim)"), "asyncsim (reused Sim)");
    }

    fn workspace_requirement(name: &str) -> String {
        let root = include_str!("../../Cargo.toml");
        root.lines()
            .find_map(|line| {
                let (key, value) = line.split_once('=')?;
                (key.trim() == name).then(|| value.trim().trim_matches('"').to_string())
            })
            .unwrap_or_else(|| panic!("{name} in [workspace.dependencies]"))
    }
}
