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
