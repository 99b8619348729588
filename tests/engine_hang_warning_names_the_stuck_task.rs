//! A poll that never returns is said on stderr, naming its task, by the
//! hang watchdog; a run whose polls all return says nothing, however long it
//! takes in all. Each case runs as a child process (this binary, one test,
//! `HANG_CASE` set), whose stderr the parent reads: a spinning child never
//! ends, so the parent kills it once it has seen the line.

mod child_process;

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;

use asyncsim::{Config, Sim};

static FLAG: AtomicBool = AtomicBool::new(false);

/// The child's body, chosen by `HANG_CASE`; nothing when run as a test.
#[test]
fn child() {
    let Ok(case) = std::env::var("HANG_CASE") else {
        return;
    };
    let config = Config::new()
        .seed(5)
        .hang_warning(Duration::from_millis(200));
    match case.as_str() {
        // `waiter` spins until `setter` sets the flag; `setter` sleeps
        // first, so under every schedule the spin holds the thread for good.
        "spin" => {
            Sim::new(config).run(async {
                let waiter = asyncsim::spawn(async {
                    while !FLAG.load(SeqCst) {
                        std::hint::spin_loop();
                    }
                });
                let setter = asyncsim::spawn(async {
                    asyncsim::time::sleep(Duration::from_secs(1)).await;
                    FLAG.store(true, SeqCst);
                });
                waiter.await.unwrap();
                setter.await.unwrap();
            });
        }
        // Many short polls, ~1.6 s of real time in all, over a threshold
        // of 1 s (not 200 ms: a loaded machine may hold a thread off the
        // CPU that long, which is real time in one poll): nothing to say.
        "busy" => {
            let config = config.hang_warning(Duration::from_secs(1));
            let run = Sim::new(config).run(async {
                let a = asyncsim::spawn(async {
                    for _ in 0..400 {
                        std::thread::sleep(Duration::from_millis(2));
                        asyncsim::yield_now().await;
                    }
                });
                let b = asyncsim::spawn(async {
                    for _ in 0..400 {
                        std::thread::sleep(Duration::from_millis(2));
                        asyncsim::yield_now().await;
                    }
                });
                a.await.unwrap();
                b.await.unwrap();
            });
            assert!(run.is_ok());
        }
        // One long poll that does return: said, and the run goes on to
        // its end.
        "long" => {
            let run = Sim::new(config).run(async {
                asyncsim::time::sleep(Duration::from_millis(1500)).await;
                asyncsim::spawn(async {
                    std::thread::sleep(Duration::from_millis(2500));
                })
                .await
                .unwrap();
                "done"
            });
            assert_eq!(run.result.unwrap(), "done");
            eprintln!("child: run over");
        }
        // The same long poll under the process's threshold
        // (`ASYNCSIM_HANG_WARNING`, which the parent sets).
        "long-by-env" => {
            let run = Sim::new(Config::new().seed(5)).run(async {
                asyncsim::spawn(async {
                    std::thread::sleep(Duration::from_millis(2500));
                })
                .await
                .unwrap();
            });
            assert!(run.is_ok());
            eprintln!("child: run over");
        }
        // The spin of "spin", in a task spawned with a site, under `check`
        // (the determinism check's first run spins: the exploration's first
        // seeded run, seed base + 1, which a seed replays). Random, or
        // (`spin-in-mix-check`) the default `mix`, whose first run is PCT's
        // FIFO estimate of a run's length, replayable by seed: the
        // exploration of any seed starts with it.
        "spin-in-check" | "spin-in-mix-check" => {
            let strategy = if case == "spin-in-check" {
                asyncsim::Strategy::Random
            } else {
                asyncsim::Strategy::Mix
            };
            let settings = asyncsim::Explore::without_environment()
                .strategy(strategy)
                .config(config)
                .runs(1)
                .persist(false)
                .progress(false);
            asyncsim::check(settings, || async {
                let waiter = asyncsim::task::Builder::new()
                    .site(std::panic::Location::caller())
                    .spawn(async {
                        while !FLAG.load(SeqCst) {
                            std::hint::spin_loop();
                        }
                    });
                waiter.await.unwrap();
            });
        }
        // A config made where the user makes it, under a malformed
        // threshold variable (which the parent sets).
        "config" => {
            let _ = Config::new();
        }
        "explore" => {
            let _ = asyncsim::Explore::new();
        }
        other => panic!("unknown HANG_CASE {other}"),
    }
}

/// Runs the child `case` and gathers its stderr lines until one contains
/// `until` (then kills it) or it exits; gives up after 60 s.
fn child_stderr(case: &str, until: Option<&str>) -> String {
    child_stderr_with(case, until, None)
}

/// As [`child_stderr`], with `ASYNCSIM_HANG_WARNING` set to `threshold`.
fn child_stderr_with(case: &str, until: Option<&str>, threshold: Option<&str>) -> String {
    let mut command = child_process::this_binary();
    command.env_remove("ASYNCSIM_HANG_WARNING");
    // These cases are about the hang line; their long polls would also
    // get the blocking line (engine_blocking_warning_names_the_task).
    command.env("ASYNCSIM_BLOCKING_WARNING", "off");
    if let Some(threshold) = threshold {
        command.env("ASYNCSIM_HANG_WARNING", threshold);
    }
    command.env("HANG_CASE", case);
    child_process::stderr_of(command, case, until)
}

#[test]
fn a_spinning_task_is_named_on_stderr() {
    let stderr = child_stderr("spin", Some("asyncsim: "));
    let line = stderr
        .lines()
        .find(|line| line.starts_with("asyncsim: "))
        .unwrap();
    assert!(
        line.starts_with("asyncsim: task-1 has been inside one poll for "),
        "{line}"
    );
    assert!(
        line.contains("(run seed 5, virtual time 0.000 s)"),
        "{line}"
    );
    assert!(
        line.contains("a loop that never reaches a Pending .await"),
        "{line}"
    );
}

#[test]
fn a_task_with_a_site_is_named_by_it_and_a_checks_run_gets_a_replay_line() {
    let stderr = child_stderr("spin-in-check", Some("asyncsim: replay"));
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("asyncsim: "))
        .collect();
    let file = "tests/engine_hang_warning_names_the_stuck_task.rs";
    assert!(
        lines[0].starts_with(&format!("asyncsim: task-1@{file}:")),
        "{stderr}"
    );
    assert!(
        lines[0].contains(" has been inside one poll for ") && lines[0].contains("(run seed 1, "),
        "{stderr}"
    );
    assert_eq!(
        lines[1], "asyncsim: replay that run alone: ASYNCSIM_SEED=1 cargo test child",
        "{stderr}"
    );
}

#[test]
fn a_hang_in_pcts_estimate_run_gets_a_replay_line() {
    let stderr = child_stderr("spin-in-mix-check", Some("asyncsim: replay"));
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("asyncsim: "))
        .collect();
    assert!(
        lines[0].contains(" has been inside one poll for ") && lines[0].contains("(run seed 5, "),
        "{stderr}"
    );
    assert_eq!(
        lines[1], "asyncsim: replay that run alone: ASYNCSIM_SEED=5 cargo test child",
        "{stderr}"
    );
}

#[test]
fn a_long_poll_is_said_and_the_run_goes_on() {
    let stderr = child_stderr("long", None);
    let said: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("asyncsim: "))
        .collect();
    // Said at 0.2 s, then at 0.4 s, 0.8 s and 1.6 s (the poll lasts 2.5 s;
    // so long that a loaded machine still gives the watchdog its turns).
    assert!(!said.is_empty(), "{stderr}");
    for line in said {
        assert!(
            line.starts_with("asyncsim: task-1 has been inside one poll for "),
            "{stderr}"
        );
        assert!(line.contains("virtual time 1.500 s"), "{stderr}");
    }
    assert!(stderr.contains("child: run over"), "{stderr}");
}

/// A malformed `ASYNCSIM_HANG_WARNING` or `ASYNCSIM_BLOCKING_WARNING`
/// panics at the user's line that made the config (`Config::new()`,
/// `Explore::new()` in `child`), as `ASYNCSIM_TIME_LIMIT` does, not inside
/// asyncsim where a run reads it; the value cut.
#[test]
fn a_malformed_threshold_panics_at_the_users_line() {
    let here = "panicked at tests/engine_hang_warning_names_the_stuck_task.rs:";
    let long = "9".repeat(3_000) + "x";
    for variable in ["ASYNCSIM_HANG_WARNING", "ASYNCSIM_BLOCKING_WARNING"] {
        for case in ["config", "explore"] {
            let mut command = child_process::this_binary();
            command
                .env_remove("ASYNCSIM_HANG_WARNING")
                .env_remove("ASYNCSIM_BLOCKING_WARNING")
                .env(variable, &long)
                .env("HANG_CASE", case);
            let stderr = child_process::stderr_of(command, case, Some("is malformed"));
            assert!(stderr.contains(here), "{variable}, {case}: {stderr:.2000}");
            assert!(
                stderr.contains(&format!(
                    "{variable}=\"{}\"… (3001 characters) is malformed: expected a duration",
                    "9".repeat(80)
                )),
                "{variable}, {case}: {stderr:.2000}"
            );
        }
    }
}

#[test]
fn many_short_polls_say_nothing() {
    let stderr = child_stderr("busy", None);
    assert!(!stderr.contains("asyncsim: "), "{stderr}");
}

#[test]
fn asyncsim_hang_warning_sets_the_threshold_or_turns_it_off() {
    let said = child_stderr_with("long-by-env", None, Some("200ms"));
    assert!(
        said.contains("asyncsim: task-1 has been inside one poll for "),
        "{said}"
    );
    let off = child_stderr_with("long-by-env", None, Some("off"));
    assert!(off.contains("child: run over"), "{off}");
    assert!(!off.contains("asyncsim: "), "{off}");
    // The default, 10 s, is far off.
    let default = child_stderr_with("long-by-env", None, None);
    assert!(!default.contains("asyncsim: "), "{default}");
}
