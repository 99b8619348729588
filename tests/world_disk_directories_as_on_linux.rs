//! The disk's directory operations and `std::fs`'s other helpers
//! (`create_dir`, `remove_dir`, `remove_dir_all`, `rename` of directories,
//! `copy`, `read_to_string`, `try_exists`, `canonicalize`, `OpenOptions`'s
//! flag checks) give what `std::fs` gives on Linux: the same script runs on
//! a real directory under `std::env::temp_dir()` and on the simulated disk,
//! step by step, and their results must agree. Each draws its latency and
//! its disk error like the other operations, and each namespace change
//! follows the crash model: lost in some crash before its directory is
//! synced, never after.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use asyncsim::{fs, node, Config, DrawLabel, Explore, Sim, Strategy};
use futures::AsyncWriteExt;

/// One step of the script; paths are relative to the disk's root.
#[derive(Clone, Debug)]
enum Op {
    CreateDir(&'static str),
    CreateDirAll(&'static str),
    RemoveDir(&'static str),
    RemoveDirAll(&'static str),
    RemoveFile(&'static str),
    Rename(&'static str, &'static str),
    Write(&'static str, &'static [u8]),
    Read(&'static str),
    ReadToString(&'static str),
    Copy(&'static str, &'static str),
    TryExists(&'static str),
    IsDir(&'static str),
    ReadDir(&'static str),
    Canonicalize(&'static str),
    /// read, write, append, create, create_new, truncate.
    Open(&'static str, [bool; 6]),
    /// `File::open`, then read it all.
    ReadOpened(&'static str),
    /// `File::open`, then `sync_all` (a directory's sync on Linux).
    SyncOpened(&'static str),
}

/// What a step gave: a value in words, or the error's kind.
type Outcome = Result<String, ErrorKind>;

fn words<T: std::fmt::Debug>(result: std::io::Result<T>) -> Outcome {
    result
        .map(|value| format!("{value:?}"))
        .map_err(|error| error.kind())
}

const R: [bool; 6] = [true, false, false, false, false, false];
const NONE: [bool; 6] = [false; 6];
const READ_CREATE: [bool; 6] = [true, false, false, true, false, false];
const APPEND_TRUNCATE: [bool; 6] = [false, false, true, false, false, true];
const W_CREATE_NEW: [bool; 6] = [false, true, false, false, true, false];
const W: [bool; 6] = [false, true, false, false, false, false];

fn script() -> Vec<Op> {
    use Op::*;
    vec![
        CreateDir("a"),
        CreateDir("a"),
        CreateDir("missing/b"),
        CreateDirAll("a/b/c"),
        CreateDirAll("a/b/c"),
        Write("a/f", b"hello"),
        CreateDir("a/f"),
        CreateDir("a/f/x"),
        CreateDirAll("a/f"),
        CreateDirAll("a/f/x"),
        TryExists("a/f"),
        TryExists("nope"),
        TryExists("a/f/x"),
        RemoveDir("a"),
        RemoveDir("a/f"),
        RemoveDir("nope"),
        RemoveDir("a/b/c"),
        IsDir("a/b/c"),
        RemoveFile("a/b"),
        ReadToString("a/f"),
        Write("bin", &[0x66, 0xff, 0xfe]),
        ReadToString("bin"),
        ReadToString("a"),
        Read("a/f/x"),
        Copy("a/f", "a/g"),
        Read("a/g"),
        Copy("a", "x"),
        Copy("nope", "x"),
        Copy("a/f", "a/b"),
        Copy("a/f", "nope/x"),
        Copy("a/g", "a/g"),
        Read("a/g"),
        Copy("a/f", "a/g"),
        Rename("a", "a/b/inside"),
        Rename("a", "a/b"),
        Rename("a/b", "a"),
        CreateDir("e"),
        CreateDir("full"),
        Write("full/x", b"x"),
        Rename("a", "e"),
        TryExists("a"),
        ReadDir("e"),
        Read("e/f"),
        Rename("e", "full"),
        Rename("e", "bin"),
        Rename("bin", "e"),
        Rename("e/f", "e/b/f2"),
        Read("e/b/f2"),
        Rename("e", "e"),
        Rename("nope", "x"),
        Rename("e", "nope/x"),
        Rename("e/b", "e/b2"),
        ReadDir("e"),
        Canonicalize("e/b2/../b2/f2"),
        Canonicalize("e/./g"),
        Canonicalize("e/nope/../g"),
        Canonicalize("bin/.."),
        Canonicalize("nope"),
        RemoveDirAll("bin"),
        RemoveDirAll("nope"),
        RemoveDirAll("e"),
        TryExists("e"),
        TryExists("e/b2/f2"),
        ReadDir(""),
        Open("full/x", NONE),
        Open("full/x", READ_CREATE),
        Open("full/x", APPEND_TRUNCATE),
        Open("full", W_CREATE_NEW),
        Open("full", W),
        Open("full/x", W_CREATE_NEW),
        Open("full/new", R),
        Open("bin/x", R),
        Open("full", R),
        ReadOpened("full"),
        ReadOpened("full/x"),
        SyncOpened("full"),
        SyncOpened("full/x"),
    ]
}

/// The script on the real file system, in a fresh directory.
fn on_linux(root: &Path) -> Vec<Outcome> {
    let at = |path: &str| root.join(path);
    script()
        .into_iter()
        .map(|op| match op {
            Op::CreateDir(p) => words(std::fs::create_dir(at(p))),
            Op::CreateDirAll(p) => words(std::fs::create_dir_all(at(p))),
            Op::RemoveDir(p) => words(std::fs::remove_dir(at(p))),
            Op::RemoveDirAll(p) => words(std::fs::remove_dir_all(at(p))),
            Op::RemoveFile(p) => words(std::fs::remove_file(at(p))),
            Op::Rename(a, b) => words(std::fs::rename(at(a), at(b))),
            Op::Write(p, data) => words(std::fs::write(at(p), data)),
            Op::Read(p) => words(std::fs::read(at(p))),
            Op::ReadToString(p) => words(std::fs::read_to_string(at(p))),
            Op::Copy(a, b) => words(std::fs::copy(at(a), at(b))),
            Op::TryExists(p) => words(std::fs::exists(at(p))),
            Op::IsDir(p) => words(std::fs::metadata(at(p)).map(|m| m.is_dir())),
            Op::ReadDir(p) => words(std::fs::read_dir(at(p)).map(|entries| {
                let mut names: Vec<String> = entries
                    .map(|entry| entry.unwrap().file_name().into_string().unwrap())
                    .collect();
                names.sort();
                names
            })),
            Op::Canonicalize(p) => words(
                std::fs::canonicalize(at(p))
                    .map(|path| Path::new("/").join(path.strip_prefix(root).unwrap())),
            ),
            Op::Open(p, [read, write, append, create, create_new, truncate]) => words(
                std::fs::OpenOptions::new()
                    .read(read)
                    .write(write)
                    .append(append)
                    .create(create)
                    .create_new(create_new)
                    .truncate(truncate)
                    .open(at(p))
                    .map(drop),
            ),
            Op::ReadOpened(p) => words(std::fs::File::open(at(p)).and_then(|mut file| {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut file, &mut bytes).map(|_| bytes)
            })),
            Op::SyncOpened(p) => words(std::fs::File::open(at(p)).and_then(|file| file.sync_all())),
        })
        .collect()
}

/// The script on the simulated disk (paths from `/`).
async fn simulated() -> Vec<Outcome> {
    let at = |path: &str| PathBuf::from("/").join(path);
    let mut outcomes = Vec::new();
    for op in script() {
        outcomes.push(match op {
            Op::CreateDir(p) => words(fs::create_dir(at(p)).await),
            Op::CreateDirAll(p) => words(fs::create_dir_all(at(p)).await),
            Op::RemoveDir(p) => words(fs::remove_dir(at(p)).await),
            Op::RemoveDirAll(p) => words(fs::remove_dir_all(at(p)).await),
            Op::RemoveFile(p) => words(fs::remove_file(at(p)).await),
            Op::Rename(a, b) => words(fs::rename(at(a), at(b)).await),
            Op::Write(p, data) => words(fs::write(at(p), data).await),
            Op::Read(p) => words(fs::read(at(p)).await),
            Op::ReadToString(p) => words(fs::read_to_string(at(p)).await),
            Op::Copy(a, b) => words(fs::copy(at(a), at(b)).await),
            Op::TryExists(p) => words(fs::try_exists(at(p)).await),
            Op::IsDir(p) => words(fs::metadata(at(p)).await.map(|m| m.is_dir())),
            Op::ReadDir(p) => words(fs::read_dir(at(p)).await.map(|paths| {
                paths
                    .iter()
                    .map(|path| path.file_name().unwrap().to_str().unwrap().to_string())
                    .collect::<Vec<_>>()
            })),
            Op::Canonicalize(p) => words(fs::canonicalize(at(p)).await),
            Op::Open(p, [read, write, append, create, create_new, truncate]) => words(
                fs::OpenOptions::new()
                    .read(read)
                    .write(write)
                    .append(append)
                    .create(create)
                    .create_new(create_new)
                    .truncate(truncate)
                    .open(at(p))
                    .await
                    .map(drop),
            ),
            Op::ReadOpened(p) => words(
                async {
                    let mut file = fs::File::open(at(p)).await?;
                    let mut bytes = Vec::new();
                    futures::AsyncReadExt::read_to_end(&mut file, &mut bytes).await?;
                    Ok(bytes)
                }
                .await,
            ),
            Op::SyncOpened(p) => {
                words(async { fs::File::open(at(p)).await?.sync_all().await }.await)
            }
        });
    }
    outcomes
}

/// A fresh, empty directory of this test's own under the temp directory.
fn scratch(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("asyncsim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    root.canonicalize().unwrap()
}

#[test]
fn every_step_of_the_script_gives_what_std_fs_gives_on_linux() {
    let root = scratch("directories-as-on-linux");
    let linux = on_linux(&root);
    std::fs::remove_dir_all(&root).unwrap();
    // Every schedule (latencies drawn differently) gives the same.
    let simulated = asyncsim::outcomes(Explore::new().runs(20), simulated);
    assert!(simulated.failures.is_empty(), "{:?}", simulated.failures);
    let distinct = simulated.distinct();
    assert_eq!(distinct.len(), 1, "schedules disagree");
    let simulated = distinct[0];
    let script = script();
    let mut differences = Vec::new();
    for (index, op) in script.iter().enumerate() {
        if linux[index] != simulated[index] {
            differences.push(format!(
                "step {index} {op:?}: linux {:?}, simulated {:?}",
                linux[index], simulated[index]
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    // The script reaches what it is about (not a run of NotFounds).
    let kinds: Vec<ErrorKind> = linux.iter().filter_map(|o| o.clone().err()).collect();
    for kind in [
        ErrorKind::AlreadyExists,
        ErrorKind::NotFound,
        ErrorKind::NotADirectory,
        ErrorKind::IsADirectory,
        ErrorKind::DirectoryNotEmpty,
        ErrorKind::InvalidInput,
        ErrorKind::InvalidData,
    ] {
        assert!(kinds.contains(&kind), "the script never gives {kind:?}");
    }
}

#[test]
fn the_root_cannot_be_removed_or_renamed_and_remove_dir_all_of_it_empties_it() {
    let run = Sim::new(Config::new()).run(async {
        fs::create_dir_all("/a/b").await.unwrap();
        fs::write("/a/b/f", b"x").await.unwrap();
        let busy = [
            fs::remove_dir("/").await.unwrap_err().kind(),
            fs::rename("/", "/x").await.unwrap_err().kind(),
            fs::rename("/a", "/").await.unwrap_err().kind(),
            fs::remove_dir_all("/").await.unwrap_err().kind(),
        ];
        (busy, fs::read_dir("/").await.unwrap())
    });
    let (busy, left) = run.result.unwrap();
    assert_eq!(busy, [ErrorKind::ResourceBusy; 4]);
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn open_options_take_their_flags_by_reference_as_std_does() {
    let run = Sim::new(Config::new()).run(async {
        let mut options = fs::OpenOptions::new();
        options.write(true);
        options.create(true);
        let mut file = options.open("/log").await.unwrap();
        file.write_all(b"one").await.unwrap();
        // The same options again (no truncate): the file is kept.
        drop(options.open("/log").await.unwrap());
        fs::read_to_string("/log").await.unwrap()
    });
    assert_eq!(run.result.unwrap(), "one");
}

/// Each new operation, alone: its draws and the virtual time it took.
/// A disk operation to run alone.
type Operation = fn() -> futures::future::LocalBoxFuture<'static, std::io::Result<()>>;

fn each_operation() -> Vec<(&'static str, Operation)> {
    use futures::FutureExt;
    vec![
        ("create_dir", || fs::create_dir("/new").boxed_local()),
        ("remove_dir", || fs::remove_dir("/empty").boxed_local()),
        ("remove_dir_all", || {
            fs::remove_dir_all("/tree").boxed_local()
        }),
        ("rename", || fs::rename("/tree", "/moved").boxed_local()),
        ("copy", || {
            fs::copy("/tree/f", "/g").map(|r| r.map(drop)).boxed_local()
        }),
        ("read_to_string", || {
            fs::read_to_string("/tree/f")
                .map(|r| r.map(drop))
                .boxed_local()
        }),
        ("try_exists", || {
            fs::try_exists("/tree").map(|r| r.map(drop)).boxed_local()
        }),
        ("canonicalize", || {
            fs::canonicalize("/tree/../tree")
                .map(|r| r.map(drop))
                .boxed_local()
        }),
    ]
}

async fn prepare() {
    fs::create_dir_all("/empty").await.unwrap();
    fs::create_dir_all("/tree/sub").await.unwrap();
    fs::write("/tree/f", b"text").await.unwrap();
}

#[test]
fn each_operation_takes_a_drawn_latency_and_may_fail_with_a_drawn_eio() {
    let disk_draws = |run_it: bool, operation: fn() -> _| {
        let run = Sim::new(Config::new().strategy(Strategy::Fifo)).run(async move {
            prepare().await;
            let before = asyncsim::time::Instant::now();
            if run_it {
                let _: std::io::Result<()> = operation().await;
            }
            before.elapsed()
        });
        let disk = run
            .tape
            .iter()
            .filter(|draw| draw.label == DrawLabel::Disk)
            .count();
        (run.result.unwrap(), disk)
    };
    for (name, operation) in each_operation() {
        let (_, prepared) = disk_draws(false, operation);
        let (took, all) = disk_draws(true, operation);
        assert!(took >= fs::LATENCY_RANGE.0, "{name} took {took:?}");
        assert_eq!(all - prepared, 1, "{name}: one latency draw");
        let outcomes = asyncsim::outcomes(
            Explore::new()
                .runs(60)
                .config(Config::new().disk_errors(0.5)),
            move || async move {
                prepare().await;
                operation().await.map_err(|error| error.raw_os_error())
            },
        );
        let seen: Vec<_> = outcomes.distinct().into_iter().cloned().collect();
        assert!(seen.contains(&Ok(())), "{name}: {seen:?}");
        assert!(
            seen.contains(&Err(Some(5))),
            "{name} never failed with EIO: {seen:?}"
        );
        let off = asyncsim::outcomes(
            Explore::new()
                .runs(30)
                .config(Config::new().disk_errors(0.5).faults(false)),
            move || async move {
                prepare().await;
                operation().await.map_err(|error| error.raw_os_error())
            },
        );
        let off: Vec<_> = off.distinct().into_iter().cloned().collect();
        assert_eq!(off, [Ok(())], "{name} with faults off");
    }
}

/// On node `db`: runs `setup` and syncs everything, runs `change`, crashes
/// and restarts the node, and reports which of `paths` exist afterwards.
async fn crash_then_look(
    setup: impl std::future::Future<Output = ()> + 'static,
    change: impl std::future::Future<Output = ()> + 'static,
    paths: &'static [&'static str],
) -> Vec<bool> {
    let db = node::Builder::new("db").start(|| async {});
    db.spawn(async move {
        setup.await;
        change.await;
    })
    .await
    .unwrap();
    db.crash();
    db.restart();
    db.spawn(async move {
        let mut exists = Vec::new();
        for path in paths {
            exists.push(fs::try_exists(path).await.unwrap());
        }
        exists
    })
    .await
    .unwrap()
}

fn seen(outcomes: asyncsim::Outcomes<Vec<bool>>) -> Vec<Vec<bool>> {
    assert!(outcomes.failures.is_empty(), "{:?}", outcomes.failures);
    outcomes.distinct().into_iter().cloned().collect()
}

/// `/t/a/x` (a file), `/t/b` (a directory), all durable.
async fn durable_tree() {
    fs::create_dir_all("/t/a").await.unwrap();
    fs::create_dir_all("/t/b").await.unwrap();
    let file = fs::File::create("/t/a/x").await.unwrap();
    file.sync_all().await.unwrap();
    for dir in ["/", "/t", "/t/a"] {
        fs::sync_dir(dir).await.unwrap();
    }
}

const TREE: &[&str] = &["/t", "/t/a", "/t/a/x", "/t/b"];

#[test]
fn a_removed_directory_comes_back_in_some_crash_before_its_parent_is_synced_and_never_after() {
    // `sync`: 0 none, 1 `sync_dir`, 2 `sync_all` of the directory opened
    // as a `File` (Linux's way), 3 its `sync_data`.
    let body = |sync: u8| {
        move || {
            crash_then_look(
                durable_tree(),
                async move {
                    fs::remove_dir("/t/b").await.unwrap();
                    match sync {
                        1 => fs::sync_dir("/t").await.unwrap(),
                        2 => fs::File::open("/t")
                            .await
                            .unwrap()
                            .sync_all()
                            .await
                            .unwrap(),
                        3 => fs::File::open("/t")
                            .await
                            .unwrap()
                            .sync_data()
                            .await
                            .unwrap(),
                        _ => {}
                    }
                },
                TREE,
            )
        }
    };
    let before = seen(asyncsim::outcomes(Explore::new().runs(200), body(0)));
    assert!(before.contains(&vec![true, true, true, true]), "{before:?}");
    assert!(
        before.contains(&vec![true, true, true, false]),
        "{before:?}"
    );
    assert_eq!(before.len(), 2, "{before:?}");
    for sync in 1..=3 {
        let after = seen(asyncsim::outcomes(Explore::new().runs(200), body(sync)));
        assert_eq!(after, [vec![true, true, true, false]], "sync {sync}");
    }
}

#[test]
fn remove_dir_all_before_a_sync_may_leave_any_prefix_of_its_removals_and_after_one_nothing() {
    let body = |sync: bool| {
        move || {
            crash_then_look(
                durable_tree(),
                async move {
                    fs::remove_dir_all("/t").await.unwrap();
                    if sync {
                        fs::sync_dir("/").await.unwrap();
                    }
                },
                TREE,
            )
        }
    };
    let before = seen(asyncsim::outcomes(Explore::new().runs(300), body(false)));
    // Canonically the crash undoes all of it; a prefix of the removals
    // (depth first: x, a, b, t) survives in other schedules.
    for prefix in [
        vec![true, true, true, true],
        vec![true, true, false, true],
        vec![true, false, false, true],
        vec![true, false, false, false],
        vec![false, false, false, false],
    ] {
        assert!(before.contains(&prefix), "{prefix:?} not in {before:?}");
    }
    assert_eq!(before.len(), 5, "{before:?}");
    let after = seen(asyncsim::outcomes(Explore::new().runs(200), body(true)));
    assert_eq!(after, [vec![false, false, false, false]]);
}

#[test]
fn a_directory_renamed_before_a_sync_is_found_under_one_name_or_the_other_and_after_one_under_the_new(
) {
    let body = |sync: Option<&'static str>| {
        move || {
            crash_then_look(
                durable_tree(),
                async move {
                    fs::create_dir("/n").await.unwrap();
                    fs::sync_dir("/").await.unwrap();
                    fs::rename("/t/a", "/n/a2").await.unwrap();
                    if let Some(dir) = sync {
                        fs::sync_dir(dir).await.unwrap();
                    }
                },
                &["/t/a", "/t/a/x", "/n/a2", "/n/a2/x"],
            )
        }
    };
    let before = seen(asyncsim::outcomes(Explore::new().runs(200), body(None)));
    assert!(
        before.contains(&vec![true, true, false, false]),
        "{before:?}"
    );
    assert!(
        before.contains(&vec![false, false, true, true]),
        "{before:?}"
    );
    assert_eq!(before.len(), 2, "{before:?}");
    // Either directory's sync makes the rename durable.
    for dir in ["/t", "/n"] {
        let after = seen(asyncsim::outcomes(
            Explore::new().runs(200),
            body(Some(dir)),
        ));
        assert_eq!(
            after,
            [vec![false, false, true, true]],
            "after sync_dir({dir})"
        );
    }
}

#[test]
fn an_entry_made_before_its_directory_was_renamed_is_made_durable_by_a_sync_under_the_new_name() {
    // `/d/f`'s entry is pending when `/d` becomes `/e`: syncing `/e` syncs
    // the directory the entry is in, whatever its name was then.
    let body = |sync_new_name: bool| {
        move || {
            crash_then_look(
                async {
                    fs::create_dir("/d").await.unwrap();
                    fs::sync_dir("/").await.unwrap();
                    let file = fs::File::create("/d/f").await.unwrap();
                    file.sync_data().await.unwrap();
                    fs::rename("/d", "/e").await.unwrap();
                    fs::sync_dir("/").await.unwrap();
                },
                async move {
                    if sync_new_name {
                        fs::sync_dir("/e").await.unwrap();
                    }
                },
                &["/d", "/e", "/e/f"],
            )
        }
    };
    let before = seen(asyncsim::outcomes(Explore::new().runs(200), body(false)));
    assert!(before.contains(&vec![false, true, false]), "{before:?}");
    assert!(before.contains(&vec![false, true, true]), "{before:?}");
    let after = seen(asyncsim::outcomes(Explore::new().runs(200), body(true)));
    assert_eq!(after, [vec![false, true, true]]);
}
