//! Drawn disk errors: with `Config::disk_errors(rate)` and faults on, a disk
//! operation fails with `EIO` in some schedules (a weighted `disk` draw,
//! 0 = success); with faults off, or at the default rate 0, never. A bug
//! that needs one such error is found, and its shrunk report names it.

use std::io::ErrorKind;

use asyncsim::{fs, node, Config, Explore};
use futures::AsyncWriteExt;

/// A little of every kind of disk operation; how many failed, and whether
/// the first failure was `EIO` (later ones may follow from it: a file
/// whose write failed is not there to rename).
async fn disk_work() -> (u32, bool) {
    let results: Vec<std::io::Result<()>> = vec![
        fs::create_dir_all("/d").await,
        fs::write("/d/a", b"x").await,
        fs::read("/d/a").await.map(drop),
        fs::metadata("/d/a").await.map(drop),
        fs::rename("/d/a", "/d/b").await,
        fs::sync_dir("/d").await,
        async {
            let mut file = fs::File::create("/d/c").await?;
            file.write_all(b"y").await?;
            file.sync_all().await?;
            file.set_len(0).await?;
            file.sync_data().await
        }
        .await,
        fs::remove_file("/d/b").await,
    ];
    let errors: Vec<&std::io::Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let first_eio = errors
        .first()
        .is_none_or(|error| error.raw_os_error() == Some(5));
    (errors.len() as u32, first_eio)
}

fn explore(config: Config) -> Vec<(u32, bool)> {
    asyncsim::outcomes(Explore::new().runs(300).config(config), || async {
        // On a node of its own too: the rate is every node's.
        let db = node::Builder::new("db").start(|| async {});
        let (there, there_eio) = db.spawn(disk_work()).await.unwrap();
        let (here, here_eio) = disk_work().await;
        (there + here, there_eio && here_eio)
    })
    .distinct()
    .into_iter()
    .cloned()
    .collect()
}

#[test]
fn with_faults_on_disk_operations_sometimes_fail_with_eio_and_sometimes_not() {
    let seen = explore(Config::new().disk_errors(0.05));
    assert!(
        seen.contains(&(0, true)),
        "every run had an error: {seen:?}"
    );
    assert!(
        seen.iter().any(|(errors, _)| *errors > 0),
        "no run had an error: {seen:?}"
    );
    assert!(
        seen.iter().all(|(_, first_eio)| *first_eio),
        "an error that is not EIO: {seen:?}"
    );
}

#[test]
fn with_faults_off_or_at_the_default_rate_no_disk_operation_fails() {
    assert_eq!(
        explore(Config::new().disk_errors(0.5).faults(false)),
        [(0, true)]
    );
    assert_eq!(explore(Config::new()), [(0, true)]);
}

#[test]
fn a_bug_that_needs_one_disk_error_is_found_and_the_report_names_the_error() {
    let summary = asyncsim::explore(
        Explore::new()
            .runs(2_000)
            .config(Config::new().disk_errors(0.02)),
        || async {
            let db = node::Builder::new("db").start(|| async {});
            db.spawn(async {
                while fs::write("/config", b"v1").await.is_err() {}
                for _ in 0..10 {
                    // BUG: a failed read is taken for a missing file.
                    let value = match fs::read("/config").await {
                        Ok(value) => value,
                        Err(error) if error.kind() == ErrorKind::NotFound => Vec::new(),
                        Err(_) => Vec::new(), // should retry
                    };
                    asyncsim::always("the config is never empty", !value.is_empty());
                }
            })
            .await
            .unwrap();
        },
    );
    let found = summary
        .first_failure
        .expect("no schedule with a disk error failed");
    let report = found.to_string();
    assert!(report.contains("the config is never empty"), "{report}");
    assert_eq!(
        found.deviations, 1,
        "shrunk to more than one error: {report}"
    );
    assert!(
        report.contains("fs::read on `db` failed with EIO (a drawn disk error)"),
        "{report}"
    );
}

/// A drawn `EIO`'s words in the trace, and the disk latency draw's, name
/// the call the program made (`fs::write`, `File::create`, `File::open`),
/// not the `OpenOptions::open` each makes inside.
#[test]
fn a_drawn_error_names_the_call_made() {
    let run = asyncsim::Sim::new(Config::new().faults(true)).run(async {
        let db = node::Builder::new("db").start(|| async {});
        db.spawn(async {
            fs::set_error_rate("db", Some(1.0));
            let write = fs::write("/f", b"x").await.map(drop);
            let create = fs::File::create("/f").await.map(drop);
            let open = fs::File::open("/f").await.map(drop);
            [write, create, open].map(|result| result.map_err(|error| error.raw_os_error()))
        })
        .await
        .unwrap()
    });
    let eio = Err(Some(5));
    assert_eq!(run.result.unwrap(), [eio, eio, eio]);
    let text = run.trace.to_string();
    for call in ["fs::write", "fs::File::create", "fs::File::open"] {
        let words = format!("{call} on `db` failed with EIO (a drawn disk error)");
        assert!(text.contains(&words), "{words:?} missing:\n{text}");
    }
    assert!(!text.contains("OpenOptions"), "{text}");
}
