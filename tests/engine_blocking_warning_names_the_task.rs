//! A task's poll that blocks the thread and then returns — the classic
//! tokio mistake, `std::thread::sleep` in async code — passes a simulated
//! run (virtual time stands still) and spends only real time. The watchdog
//! says so once on stderr, naming the task and what to use instead; a run
//! whose polls are all short says nothing. Each case runs as a child
//! process (this binary, one test, `BLOCKING_CASE` set), whose stderr the
//! parent reads: the watchdog writes to the process's stderr, which no
//! test capture sees.

mod child_process;

use std::time::Duration;

use asyncsim::{Config, Sim};

/// The child's body, chosen by `BLOCKING_CASE`; nothing when run as a test.
#[test]
fn child() {
    let Ok(case) = std::env::var("BLOCKING_CASE") else {
        return;
    };
    // The default thresholds (the parent removes the variables).
    let config = Config::new().seed(3);
    match case.as_str() {
        // Three polls of `sleeper` hold the thread 800 ms each (four times
        // the threshold: a loaded machine may keep the watchdog's thread
        // off the CPU a while): one line, the run's only one, naming it as
        // the trace does (`task::Builder::name`).
        "sleeps" => {
            let run = Sim::new(config).run(async {
                let sleeper = asyncsim::task::Builder::new().name("sleeper").spawn(async {
                    for _ in 0..3 {
                        std::thread::sleep(Duration::from_millis(800));
                        asyncsim::yield_now().await;
                    }
                });
                sleeper.await.unwrap();
            });
            assert!(run.is_ok());
            assert_eq!(run.elapsed(), Duration::ZERO);
        }
        // Many short polls, ~1.6 s of real time in all: nothing to say.
        "short" => {
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
        // The same mistake in a task spawned with a site (as the tokio
        // face's are), under `check`: four runs (the determinism check's
        // two and two schedules) block, and one line names the site.
        "sleeps-in-check" => {
            let settings = asyncsim::Explore::without_environment()
                .config(config)
                .runs(2)
                .persist(false)
                .progress(false);
            asyncsim::check(settings, || async {
                let sleeper = asyncsim::task::Builder::new()
                    .site(std::panic::Location::caller())
                    .spawn(async {
                        std::thread::sleep(Duration::from_millis(800));
                    });
                sleeper.await.unwrap();
            });
        }
        // Runs of one core that give task 1 a name each: `first` (its poll
        // short), `first` again and then `second` (each sleeping): a line
        // for each sleeper, named as that run named it (the core keeps the
        // watchdog's number of the name each id had last, `GivenNames`).
        "renamed" => {
            let mut sim = Sim::new(config);
            for (name, sleep) in [("first", 0), ("first", 800), ("second", 800)] {
                let run = sim.run(async move {
                    let task = asyncsim::task::Builder::new().name(name).spawn(async move {
                        std::thread::sleep(Duration::from_millis(sleep));
                    });
                    task.await.unwrap();
                });
                assert!(run.is_ok());
            }
        }
        other => panic!("unknown BLOCKING_CASE {other}"),
    }
    eprintln!("child: run over");
}

/// Runs the child `case` to its end (at most 60 s), `ASYNCSIM_BLOCKING_WARNING`
/// set to `threshold` or removed, and returns its stderr.
fn child_stderr(case: &str, threshold: Option<&str>) -> String {
    let mut command = child_process::this_binary();
    command
        .env_remove("ASYNCSIM_BLOCKING_WARNING")
        .env_remove("ASYNCSIM_HANG_WARNING");
    if let Some(threshold) = threshold {
        command.env("ASYNCSIM_BLOCKING_WARNING", threshold);
    }
    command.env("BLOCKING_CASE", case);
    let seen = child_process::stderr_of(command, case, None);
    assert!(seen.contains("child: run over"), "{seen}");
    seen
}

fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| line.starts_with("asyncsim: "))
        .collect()
}

#[test]
fn a_task_that_sleeps_the_thread_is_named_once() {
    let stderr = child_stderr("sleeps", None);
    let said = warnings(&stderr);
    assert_eq!(said.len(), 1, "{stderr}");
    let line = said[0];
    assert!(
        line.starts_with("asyncsim: sleeper has held the run's thread for "),
        "{line}"
    );
    assert!(
        line.contains("s of real time in one poll (run seed 3, virtual time 0.000 s, which stands still meanwhile)"),
        "{line}"
    );
    for words in [
        "std::thread::sleep",
        "tokio::task::spawn_blocking",
        "block_in_place runs it in place: on this thread still",
        "asyncsim::spawn_blocking",
        "ASYNCSIM_BLOCKING_WARNING",
    ] {
        assert!(line.contains(words), "{words:?} in {line}");
    }
}

#[test]
fn a_check_of_many_runs_says_it_once_naming_the_spawn_site() {
    let stderr = child_stderr("sleeps-in-check", None);
    let said = warnings(&stderr);
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(
        said[0].starts_with("asyncsim: task-1@tests/engine_blocking_warning_names_the_task.rs:")
            && said[0].contains(" has held the run's thread for "),
        "{stderr}"
    );
}

#[test]
fn a_tasks_name_is_the_one_its_run_gave_it() {
    let stderr = child_stderr("renamed", None);
    let said = warnings(&stderr);
    assert_eq!(said.len(), 2, "{stderr}");
    assert!(
        said[0].starts_with("asyncsim: first has held the run's thread for "),
        "{stderr}"
    );
    assert!(
        said[1].starts_with("asyncsim: second has held the run's thread for "),
        "{stderr}"
    );
}

#[test]
fn short_polls_say_nothing() {
    let stderr = child_stderr("short", None);
    assert!(warnings(&stderr).is_empty(), "{stderr}");
}

#[test]
fn off_silences_it() {
    let stderr = child_stderr("sleeps", Some("off"));
    assert!(warnings(&stderr).is_empty(), "{stderr}");
}
