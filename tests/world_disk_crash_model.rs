//! The disk's crash model: what a sync made durable always survives a crash;
//! what was written since survives as a drawn prefix (sometimes none of it);
//! a restart runs `init` again on the same disk.

use std::io::ErrorKind;

use asyncsim::{fs, node, Config, Explore, Sim};
use futures::AsyncWriteExt;

/// Writes, syncs some of it, crashes node `db`, restarts it, and reads back
/// what survived: (`/d/synced`, `/d/unsynced`).
async fn crash_and_read() -> (Vec<u8>, Option<Vec<u8>>) {
    let db = node::Builder::new("db").start(|| async {});
    db.spawn(async {
        fs::create_dir_all("/d").await.unwrap();
        let mut synced = fs::File::create("/d/synced").await.unwrap();
        synced.write_all(b"durable").await.unwrap();
        synced.sync_all().await.unwrap();
        synced.write_all(b"+tail").await.unwrap();
        let mut unsynced = fs::File::create("/d/unsynced").await.unwrap();
        unsynced.write_all(b"volatile").await.unwrap();
    })
    .await
    .unwrap();
    db.crash();
    db.restart();
    db.spawn(async {
        let synced = fs::read("/d/synced").await.unwrap();
        let unsynced = match fs::read("/d/unsynced").await {
            Ok(bytes) => Some(bytes),
            Err(error) if error.kind() == ErrorKind::NotFound => None,
            Err(error) => panic!("unexpected error {error}"),
        };
        (synced, unsynced)
    })
    .await
    .unwrap()
}

#[test]
fn synced_data_always_survives_a_crash() {
    asyncsim::check(Explore::new().runs(500), || async {
        let (synced, unsynced) = crash_and_read().await;
        assert!(
            synced == b"durable" || synced == b"durable+tail",
            "synced file after the crash: {:?}",
            String::from_utf8_lossy(&synced)
        );
        if let Some(unsynced) = unsynced {
            assert!(b"volatile".starts_with(&unsynced), "{unsynced:?}");
        }
    });
}

#[test]
fn unsynced_data_sometimes_does_not_survive_and_sometimes_does() {
    let outcomes = asyncsim::outcomes(Explore::new().runs(300), || async {
        let (synced, unsynced) = crash_and_read().await;
        (synced.len(), unsynced.map(|bytes| bytes.len()))
    });
    let values: Vec<(usize, Option<usize>)> = outcomes.distinct().into_iter().cloned().collect();
    assert!(
        values.contains(&(7, None)),
        "unsynced data always survived: {values:?}"
    );
    assert!(values.iter().any(|(synced, _)| *synced == 12), "{values:?}");
    assert!(
        values.iter().any(|(_, unsynced)| *unsynced == Some(8)),
        "{values:?}"
    );
}

#[test]
fn the_canonical_crash_keeps_exactly_what_was_synced() {
    let run = Sim::new(Config::new().strategy(asyncsim::Strategy::Fifo)).run(crash_and_read());
    assert_eq!(run.result.unwrap(), (b"durable".to_vec(), None));
}

#[test]
fn a_directory_sync_makes_a_rename_durable() {
    asyncsim::check(Explore::new().runs(300), || async {
        let db = node::Builder::new("db").start(|| async {});
        db.spawn(async {
            fs::create_dir_all("/d").await.unwrap();
            let mut temp = fs::File::create("/d/state.tmp").await.unwrap();
            temp.write_all(b"v2").await.unwrap();
            temp.sync_all().await.unwrap();
            fs::rename("/d/state.tmp", "/d/state").await.unwrap();
            fs::sync_dir("/d").await.unwrap();
        })
        .await
        .unwrap();
        db.crash();
        db.restart();
        let state = db
            .spawn(async { fs::read("/d/state").await })
            .await
            .unwrap();
        assert_eq!(state.unwrap(), b"v2");
    });
}

#[test]
fn errors_are_the_os_errors_and_a_path_outside_the_root_is_refused() {
    let run = Sim::new(Config::new()).run(async {
        assert_eq!(
            fs::read("/missing").await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        fs::write("/a", b"x").await.unwrap();
        let exists = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open("/a")
            .await
            .unwrap_err();
        assert_eq!(exists.kind(), ErrorKind::AlreadyExists);
        let no_parent = fs::write("/no/such/dir/file", b"x").await.unwrap_err();
        assert_eq!(no_parent.kind(), ErrorKind::NotFound);
        let outside = fs::read("/../etc/passwd").await.unwrap_err();
        assert_eq!(outside.kind(), ErrorKind::InvalidInput);
        assert!(
            outside.to_string().contains("outside the disk"),
            "{outside}"
        );
        assert!(fs::metadata("/").await.unwrap().is_dir());
        assert_eq!(fs::metadata("/a").await.unwrap().len(), 1);
    });
    run.result.unwrap();
}

#[test]
fn each_node_has_its_own_disk_that_survives_restarts() {
    asyncsim::check(Explore::new().runs(100), || async {
        let a = node::Builder::new("a").start(|| async {
            // Each start appends one line, durably.
            let mut log = fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open("/boots")
                .await
                .unwrap();
            log.write_all(b"boot\n").await.unwrap();
            log.sync_all().await.unwrap();
        });
        let b = node::Builder::new("b").start(|| async {});
        asyncsim::time::sleep(std::time::Duration::from_secs(1)).await;
        a.restart();
        asyncsim::time::sleep(std::time::Duration::from_secs(1)).await;
        let boots = a
            .spawn(async { fs::read("/boots").await.unwrap() })
            .await
            .unwrap();
        assert_eq!(boots, b"boot\nboot\n");
        let other = b.spawn(async { fs::read("/boots").await }).await.unwrap();
        assert_eq!(other.unwrap_err().kind(), ErrorKind::NotFound);
    });
}

/// On node `db`: runs `before` (namespace changes), crashes and restarts the
/// node, and reports which of `paths` exist afterwards.
async fn crash_then_look(
    before: impl std::future::Future<Output = ()> + 'static,
    paths: &'static [&'static str],
) -> Vec<bool> {
    let db = node::Builder::new("db").start(|| async {});
    db.spawn(before).await.unwrap();
    db.crash();
    db.restart();
    db.spawn(async move {
        let mut exists = Vec::new();
        for path in paths {
            exists.push(fs::metadata(path).await.is_ok());
        }
        exists
    })
    .await
    .unwrap()
}

fn seen(outcomes: asyncsim::Outcomes<Vec<bool>>) -> Vec<Vec<bool>> {
    outcomes.distinct().into_iter().cloned().collect()
}

#[test]
fn a_directory_created_without_a_sync_can_be_lost_in_a_crash_and_after_sync_dir_never_is() {
    let unsynced = seen(asyncsim::outcomes(Explore::new().runs(200), || {
        crash_then_look(
            async { fs::create_dir_all("/a/b").await.unwrap() },
            &["/a", "/a/b"],
        )
    }));
    // Lost (canonically), or kept as a prefix of the changes: never `b` without `a`.
    assert!(unsynced.contains(&vec![false, false]), "{unsynced:?}");
    assert!(unsynced.contains(&vec![true, true]), "{unsynced:?}");
    assert!(!unsynced.contains(&vec![false, true]), "{unsynced:?}");
    let canonical = Sim::new(Config::new().strategy(asyncsim::Strategy::Fifo)).run(
        crash_then_look(async { fs::create_dir_all("/a").await.unwrap() }, &["/a"]),
    );
    assert_eq!(canonical.result.unwrap(), [false]);
    for sync in ["/a/b", "/a"] {
        let synced = seen(asyncsim::outcomes(Explore::new().runs(200), move || {
            crash_then_look(
                async move {
                    fs::create_dir_all("/a/b").await.unwrap();
                    fs::sync_dir(sync).await.unwrap();
                },
                &["/a", "/a/b"],
            )
        }));
        assert_eq!(synced, [vec![true, true]], "after sync_dir({sync:?})");
    }
    // The root's sync makes `/a` durable, not `/a/b`.
    let root = seen(asyncsim::outcomes(Explore::new().runs(200), || {
        crash_then_look(
            async {
                fs::create_dir_all("/a/b").await.unwrap();
                fs::sync_dir("/").await.unwrap();
            },
            &["/a", "/a/b"],
        )
    }));
    assert!(root.contains(&vec![true, false]), "{root:?}");
    assert!(root.iter().all(|exists| exists[0]), "{root:?}");
}

#[test]
fn a_new_file_whose_bytes_were_synced_can_lose_its_entry_until_its_directory_is_synced() {
    let body = |sync_dir: bool| {
        move || {
            crash_then_look(
                async move {
                    fs::create_dir_all("/d").await.unwrap();
                    let mut file = fs::File::create("/d/f").await.unwrap();
                    file.write_all(b"bytes").await.unwrap();
                    file.sync_data().await.unwrap(); // the bytes, not the entry
                    if sync_dir {
                        fs::sync_dir("/d").await.unwrap();
                    }
                },
                &["/d", "/d/f"],
            )
        }
    };
    let before = seen(asyncsim::outcomes(Explore::new().runs(200), body(false)));
    assert!(before.contains(&vec![false, false]), "{before:?}");
    assert!(before.contains(&vec![true, false]), "{before:?}");
    assert!(before.contains(&vec![true, true]), "{before:?}");
    let after = seen(asyncsim::outcomes(Explore::new().runs(200), body(true)));
    assert_eq!(after, [vec![true, true]]);
}

#[test]
fn a_rename_before_its_directory_is_synced_sometimes_does_not_survive() {
    let outcomes = seen(asyncsim::outcomes(Explore::new().runs(200), || {
        crash_then_look(
            async {
                let mut file = fs::File::create("/state.tmp").await.unwrap();
                file.write_all(b"v2").await.unwrap();
                file.sync_all().await.unwrap();
                fs::rename("/state.tmp", "/state").await.unwrap();
            },
            &["/state.tmp", "/state"],
        )
    }));
    assert!(outcomes.contains(&vec![true, false]), "{outcomes:?}");
    assert!(outcomes.contains(&vec![false, true]), "{outcomes:?}");
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
}

#[test]
fn an_unsynced_write_may_be_torn_at_a_sector_boundary_and_never_elsewhere() {
    let write = vec![7u8; 4 * fs::SECTOR_BYTES];
    let outcomes = asyncsim::outcomes(Explore::new().runs(400), move || {
        let write = write.clone();
        async move {
            let db = node::Builder::new("db").start(|| async {});
            db.spawn(async move {
                let mut file = fs::File::create("/f").await.unwrap();
                file.write_all(b"head").await.unwrap();
                file.sync_all().await.unwrap();
                file.write_all(&write).await.unwrap();
            })
            .await
            .unwrap();
            db.crash();
            db.restart();
            let after = db
                .spawn(async { fs::read("/f").await.unwrap() })
                .await
                .unwrap();
            assert_eq!(&after[..4], b"head", "the synced part was lost");
            assert!(after[4..].iter().all(|byte| *byte == 7));
            after.len() - 4
        }
    });
    assert!(outcomes.failures.is_empty(), "{:?}", outcomes.failures);
    let mut kept: Vec<usize> = outcomes.distinct().into_iter().copied().collect();
    kept.sort_unstable();
    let sector = fs::SECTOR_BYTES;
    assert_eq!(kept, [0, sector, 2 * sector, 3 * sector, 4 * sector]);
}
