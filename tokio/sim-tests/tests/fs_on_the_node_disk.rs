//! `tokio::fs` on the face: the calling node's simulated disk, with tokio's
//! `AsyncRead`/`AsyncWrite`/`AsyncSeek` on `File`, and the disk's crash
//! model deciding what survives a crash.

use std::collections::BTreeSet;
use std::io::SeekFrom;

use asyncsim::Explore;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

#[test]
fn files_and_directories_behave_as_tokio_fs_in_every_schedule() {
    asyncsim::check(Explore::new().runs(100).persist(false), || async {
        tokio::fs::create_dir_all("/data/logs").await.unwrap();
        tokio::fs::write("/data/a.txt", b"alpha").await.unwrap();
        assert_eq!(
            tokio::fs::read_to_string("/data/a.txt").await.unwrap(),
            "alpha"
        );
        assert_eq!(
            tokio::fs::copy("/data/a.txt", "/data/b.txt").await.unwrap(),
            5
        );
        tokio::fs::rename("/data/b.txt", "/data/logs/b.txt")
            .await
            .unwrap();
        let mut names = Vec::new();
        let mut entries = tokio::fs::read_dir("/data").await.unwrap();
        while let Some(entry) = entries.next_entry().await.unwrap() {
            names.push(entry.file_name().into_string().unwrap());
        }
        assert_eq!(names, ["a.txt", "logs"]);
        assert!(tokio::fs::metadata("/data/logs").await.unwrap().is_dir());
        assert_eq!(
            tokio::fs::metadata("/data/logs/b.txt").await.unwrap().len(),
            5
        );
        assert_eq!(
            tokio::fs::create_dir("/data/logs")
                .await
                .unwrap_err()
                .kind(),
            std::io::ErrorKind::AlreadyExists
        );
        assert_eq!(
            tokio::fs::create_dir("/missing/child")
                .await
                .unwrap_err()
                .kind(),
            std::io::ErrorKind::NotFound
        );
        tokio::fs::remove_file("/data/a.txt").await.unwrap();
        assert!(!tokio::fs::try_exists("/data/a.txt").await.unwrap());
        assert_eq!(
            tokio::fs::read("/data/a.txt").await.unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
    });
}

#[test]
fn a_file_reads_writes_and_seeks_through_tokios_traits() {
    asyncsim::check(Explore::new().runs(50).persist(false), || async {
        let mut file = tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .open("/numbers")
            .await
            .unwrap();
        file.write_all(b"0123456789").await.unwrap();
        assert_eq!(file.seek(SeekFrom::Start(3)).await.unwrap(), 3);
        let mut three = [0u8; 3];
        file.read_exact(&mut three).await.unwrap();
        assert_eq!(&three, b"345");
        file.set_len(4).await.unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), 4);
        let mut again = String::new();
        tokio::fs::File::open("/numbers")
            .await
            .unwrap()
            .read_to_string(&mut again)
            .await
            .unwrap();
        assert_eq!(again, "0123");
    });
}

#[test]
fn synced_data_survives_a_crash_and_unsynced_data_may_not() {
    let census = asyncsim::outcomes(Explore::new().runs(300), || async {
        let db = asyncsim::node::Builder::new("db").start(|| async {});
        db.spawn(async {
            let mut file = tokio::fs::File::create("/wal").await.unwrap();
            file.write_all(b"durable;").await.unwrap();
            file.sync_all().await.unwrap();
            tokio::fs::sync_dir("/").await.unwrap();
            file.write_all(b"volatile;").await.unwrap();
        })
        .await
        .unwrap();
        db.crash();
        db.restart();
        let after = db
            .spawn(async { tokio::fs::read("/wal").await.unwrap() })
            .await
            .unwrap();
        String::from_utf8(after).unwrap()
    });
    assert!(census.failures.is_empty(), "{:?}", census.failures);
    let seen: BTreeSet<&str> = census.distinct().into_iter().map(String::as_str).collect();
    for after in &seen {
        assert!(
            after.starts_with("durable;"),
            "synced data was lost: {after:?}"
        );
        assert!(
            "durable;volatile;".starts_with(after),
            "not a prefix of what was written: {after:?}"
        );
    }
    assert!(
        seen.contains("durable;"),
        "the canonical crash keeps only the synced part: {seen:?}"
    );
    assert!(
        seen.len() > 1,
        "some schedules keep part of the unsynced write: {seen:?}"
    );
}

/// A step's result: a value in words, or the error's kind.
fn kind<T: std::fmt::Debug>(result: std::io::Result<T>) -> Result<String, std::io::ErrorKind> {
    result
        .map(|value| format!("{value:?}"))
        .map_err(|error| error.kind())
}

/// The same directory script against a `tokio::fs`-shaped module: `$fs` is
/// real tokio's or the face's, `$at` makes a path of a relative one.
macro_rules! directory_script {
    ($fs:ident, $at:expr) => {
        async move {
            let at = $at;
            vec![
                kind($fs::create_dir(at("a")).await),
                kind($fs::create_dir(at("a")).await),
                kind($fs::create_dir(at("missing/b")).await),
                kind($fs::DirBuilder::new().create(at("a/b/c")).await),
                kind(
                    $fs::DirBuilder::new()
                        .recursive(true)
                        .create(at("a/b/c"))
                        .await,
                ),
                kind(
                    $fs::DirBuilder::new()
                        .recursive(true)
                        .create(at("a/b/c"))
                        .await,
                ),
                kind($fs::write(at("a/f"), b"text").await),
                kind($fs::remove_dir(at("a")).await),
                kind($fs::remove_dir(at("a/f")).await),
                kind($fs::remove_dir(at("a/b/c")).await),
                kind($fs::remove_dir(at("a/b/c")).await),
                kind($fs::copy(at("a/f"), at("a/g")).await),
                kind($fs::copy(at("a"), at("x")).await),
                kind($fs::write(at("bad"), [0xc3u8, 0x28]).await),
                kind($fs::read_to_string(at("bad")).await),
                kind($fs::read_to_string(at("a/g")).await),
                kind($fs::try_exists(at("a/g")).await),
                kind($fs::try_exists(at("nope")).await),
                kind($fs::try_exists(at("a/g/x")).await),
                kind($fs::symlink_metadata(at("a")).await.map(|m| m.is_dir())),
                kind($fs::symlink_metadata(at("a/g")).await.map(|m| m.len())),
                kind($fs::metadata(at("a/g")).await.map(|m| {
                    let kind = m.file_type();
                    (
                        kind.is_file(),
                        kind.is_dir(),
                        kind.is_symlink(),
                        m.is_symlink(),
                    )
                })),
                kind(
                    $fs::metadata(at("a"))
                        .await
                        .map(|m| (m.file_type().is_dir(), m.permissions().readonly())),
                ),
                kind(
                    async {
                        let mut entries = $fs::read_dir(at("a")).await?;
                        let mut kinds = Vec::new();
                        while let Some(entry) = entries.next_entry().await? {
                            kinds.push((entry.file_name(), entry.file_type().await?.is_dir()));
                        }
                        kinds.sort();
                        Ok::<_, std::io::Error>(kinds)
                    }
                    .await,
                ),
                kind($fs::symlink_metadata(at("nope")).await.map(|m| m.is_dir())),
                kind($fs::read_link(at("a/g")).await),
                kind($fs::read_link(at("nope")).await),
                kind(
                    $fs::canonicalize(at("a/b/../g"))
                        .await
                        .map(|p| p.ends_with("a/g")),
                ),
                kind($fs::canonicalize(at("a/nope/../g")).await),
                kind($fs::rename(at("a"), at("moved")).await),
                kind($fs::read_to_string(at("moved/f")).await),
                kind($fs::remove_dir_all(at("moved/f")).await),
                kind($fs::remove_dir_all(at("moved")).await),
                kind($fs::try_exists(at("moved")).await),
                kind($fs::remove_dir_all(at("moved")).await),
            ]
        }
    };
}

#[test]
fn directory_operations_give_what_real_tokio_gives_on_linux() {
    use real_tokio::fs as real_fs;
    use tokio::fs as face_fs;
    let root = std::env::temp_dir().join(format!("asyncsim-face-fs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let within = root.clone();
    let real = real_tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(directory_script!(real_fs, move |path: &str| within.join(path)));
    std::fs::remove_dir_all(&root).unwrap();
    let face = asyncsim::outcomes(Explore::new().runs(20).persist(false), || {
        directory_script!(face_fs, |path: &str| std::path::Path::new("/").join(path))
    });
    assert!(face.failures.is_empty(), "{:?}", face.failures);
    let distinct = face.distinct();
    assert_eq!(distinct.len(), 1, "schedules disagree: {distinct:?}");
    let differences: Vec<String> = real
        .iter()
        .zip(distinct[0])
        .enumerate()
        .filter(|(_, (real, face))| real != face)
        .map(|(step, (real, face))| format!("step {step}: real tokio {real:?}, face {face:?}"))
        .collect();
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    assert_eq!(real.len(), 35);
}

#[test]
fn permissions_and_links_are_unsupported_errors_that_name_the_alternative() {
    use std::os::unix::fs::PermissionsExt;
    asyncsim::check(Explore::new().runs(3).persist(false), || async {
        tokio::fs::write("/f", b"x").await.unwrap();
        let errors = [
            (
                tokio::fs::set_permissions("/f", std::fs::Permissions::from_mode(0o600))
                    .await
                    .unwrap_err(),
                "no permissions",
            ),
            (
                tokio::fs::hard_link("/f", "/g").await.unwrap_err(),
                "tokio::fs::copy",
            ),
            (
                tokio::fs::symlink("/f", "/g").await.unwrap_err(),
                "the target's own path",
            ),
        ];
        for (error, alternative) in errors {
            assert_eq!(error.kind(), std::io::ErrorKind::Unsupported);
            let message = error.to_string();
            assert!(message.contains("cannot be simulated"), "{message}");
            assert!(message.contains(alternative), "{message}");
        }
        assert!(!tokio::fs::try_exists("/g").await.unwrap());
    });
}

/// `Metadata`'s times compile as std's do and are the virtual clock's:
/// the path's and the open file's alike (`fs_times_on_the_node_disk.rs`
/// has their properties).
#[test]
fn metadata_times_are_the_virtual_clocks() {
    asyncsim::check(Explore::new().runs(3).persist(false), || async {
        tokio::fs::write("/f", b"x").await.unwrap();
        let written = tokio::asyncsim::time::system_now();
        let metadata = tokio::fs::metadata("/f").await.unwrap();
        let file = tokio::fs::File::open("/f").await.unwrap();
        let of_file = file.metadata().await.unwrap();
        let times: [std::io::Result<std::time::SystemTime>; 4] = [
            metadata.modified(),
            metadata.accessed(),
            metadata.created(),
            of_file.modified(),
        ];
        for time in times {
            assert_eq!(time.unwrap(), written);
        }
    });
}

#[test]
fn a_directory_removed_or_renamed_through_the_face_may_come_back_in_a_crash_until_synced() {
    let body = |sync: bool| {
        move || async move {
            let db = asyncsim::node::Builder::new("db").start(|| async {});
            db.spawn(async move {
                tokio::fs::DirBuilder::new()
                    .recursive(true)
                    .create("/old/inner")
                    .await
                    .unwrap();
                tokio::fs::create_dir("/gone").await.unwrap();
                for dir in ["/", "/old"] {
                    tokio::fs::sync_dir(dir).await.unwrap();
                }
                tokio::fs::rename("/old", "/new").await.unwrap();
                tokio::fs::remove_dir_all("/gone").await.unwrap();
                if sync {
                    // As tokio code syncs a directory on Linux.
                    let root = tokio::fs::File::open("/").await.unwrap();
                    root.sync_all().await.unwrap();
                }
            })
            .await
            .unwrap();
            db.crash();
            db.restart();
            db.spawn(async {
                let mut exists = Vec::new();
                for path in ["/old/inner", "/new/inner", "/gone"] {
                    exists.push(tokio::fs::try_exists(path).await.unwrap());
                }
                exists
            })
            .await
            .unwrap()
        }
    };
    let census = asyncsim::outcomes(Explore::new().runs(200).persist(false), body(false));
    assert!(census.failures.is_empty(), "{:?}", census.failures);
    let before: BTreeSet<Vec<bool>> = census.distinct().into_iter().cloned().collect();
    // Canonically both changes are lost; a prefix of them may survive.
    let expected: BTreeSet<Vec<bool>> = [
        vec![true, false, true],
        vec![false, true, true],
        vec![false, true, false],
    ]
    .into_iter()
    .collect();
    assert_eq!(before, expected);
    let census = asyncsim::outcomes(Explore::new().runs(200).persist(false), body(true));
    let after: Vec<Vec<bool>> = census.distinct().into_iter().cloned().collect();
    assert_eq!(after, [vec![false, true, false]]);
}

#[test]
fn try_clone_gives_a_second_handle_to_the_same_file() {
    asyncsim::check(Explore::new().runs(20).persist(false), || async {
        let mut log = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open("/wal")
            .await
            .unwrap();
        let mut clone = log.try_clone().await.unwrap();
        log.write_all(b"a=1\n").await.unwrap();
        clone.write_all(b"b=2\n").await.unwrap();
        // Syncing the clone makes the original's writes durable too.
        clone.sync_all().await.unwrap();
        assert_eq!(
            tokio::fs::read_to_string("/wal").await.unwrap(),
            "a=1\nb=2\n"
        );
        drop(log);
        clone.write_all(b"c=3\n").await.unwrap();
        assert_eq!(clone.metadata().await.unwrap().len(), 12);
    });
}

#[test]
fn create_new_refuses_an_existing_file_and_its_times_can_be_set() {
    asyncsim::check(Explore::new().runs(50).persist(false), || async {
        let mut file = tokio::fs::File::create_new("/fresh").await.unwrap();
        file.write_all(b"new").await.unwrap();
        file.seek(SeekFrom::Start(0)).await.unwrap();
        let mut read = String::new();
        file.read_to_string(&mut read).await.unwrap();
        assert_eq!(read, "new", "create_new opens for reading and writing");
        let again = tokio::fs::File::create_new("/fresh").await.unwrap_err();
        assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(file.max_buf_size(), 2 * 1024 * 1024, "tokio's default");
        file.set_max_buf_size(4096);
        assert_eq!(file.max_buf_size(), 4096);
        let epoch = std::time::SystemTime::UNIX_EPOCH;
        let times = tokio::fs::FileTimes::new().set_modified(epoch);
        file.set_times(times).await.unwrap();
        assert_eq!(file.metadata().await.unwrap().modified().unwrap(), epoch);
        let later = epoch + std::time::Duration::from_secs(1);
        file.set_modified(later).await.unwrap();
        assert_eq!(file.metadata().await.unwrap().modified().unwrap(), later);
        let permissions = file.metadata().await.unwrap().permissions();
        let refused = file.set_permissions(permissions).await.unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::Unsupported);
        tokio::fs::write("/other", b"").await.unwrap();
        let mut numbers = Vec::new();
        for _ in 0..2 {
            let mut entries = tokio::fs::read_dir("/").await.unwrap();
            while let Some(entry) = entries.next_entry().await.unwrap() {
                numbers.push((entry.file_name(), entry.ino()));
            }
        }
        numbers.sort();
        assert_eq!(numbers.len(), 4);
        assert_eq!(numbers[0], numbers[1], "the same path, the same number");
        assert_ne!(numbers[1].1, numbers[2].1, "another path, another number");
        tokio::fs::OpenOptions::new()
            .read(true)
            .custom_flags(0o4000)
            .open("/fresh")
            .await
            .unwrap();
    });
}
