//! What a simulated run cannot do fails with a message that says why and
//! what to use instead; a dependency still on real tokio is explained.

use std::time::Duration;

use asyncsim::{Config, FailureKind, Sim};

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
        .unwrap_or_default()
}

#[test]
fn real_tokio_inside_a_run_says_which_dependency_line_to_switch() {
    // A "dependency" that names real tokio: its sleep finds no tokio runtime.
    async fn dependency_on_real_tokio() {
        real_tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // In a task spawned through the face.
    let run = Sim::new(Config::new()).run(async {
        tokio::spawn(dependency_on_real_tokio()).await.unwrap();
    });
    let failure = run.result.unwrap_err();
    assert_eq!(failure.kind, FailureKind::Panic);
    // In the body of #[tokio::main] / block_on.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let payload = std::panic::catch_unwind(|| runtime.block_on(dependency_on_real_tokio()));
    for message in [failure.message, panic_text(payload.unwrap_err())] {
        for needle in [
            "real tokio was called inside an asyncsim run",
            "asyncsim-tokio",
            "Tokio 1.x runtime",
            "simulation",
            "refusals_name_the_alternative.rs:20",
            // How to switch a published crate (not one here: no name).
            "/tokio/switch-tokio.sh <crate> <version> vendor",
            "[patch.crates-io]",
        ] {
            assert!(message.contains(needle), "no {needle:?} in: {message}");
        }
    }
}

#[test]
fn real_tokio_behind_a_track_caller_function_says_the_crate_may_be_the_called_one() {
    // A dependency whose function passes its caller's location on, as
    // tokio-util's `DelayQueue::insert` does: the line found is the
    // caller's, and the message says the crate to switch may be the callee.
    #[track_caller]
    fn dependency_passing_its_caller_on() -> real_tokio::time::Sleep {
        real_tokio::time::sleep(Duration::from_millis(1))
    }
    let line = line!() + 2;
    let run = Sim::new(Config::new()).run(async {
        let sleep = tokio::spawn(async { dependency_passing_its_caller_on().await });
        sleep.await.unwrap();
    });
    let message = run.result.unwrap_err().message;
    assert!(
        message.contains(&format!(
            "refusals_name_the_alternative.rs:{line} (that line"
        )),
        "{message}"
    );
    assert!(
        message.contains("or a function it calls that passes its caller's location on"),
        "{message}"
    );
}

#[test]
fn real_tokio_inside_tokios_own_code_names_the_code_that_reached_it() {
    // A dependency reaching real tokio's `net`: tokio's resolver panics in
    // its own `net/addr.rs`, which names nothing of the caller
    // (tokio-tungstenite's `connect_async` did this, session 15). The
    // message said "a part of tokio that the face re-exports unchanged
    // (`sync`, `io`)", which `net` is not; it names the code that reached
    // tokio now, from the backtrace.
    async fn dependency_connecting_with_real_tokio() {
        let _ = real_tokio::net::TcpStream::connect("server:7000").await;
    }
    let line = line!() - 2;
    let run = Sim::new(Config::new()).run(async {
        tokio::spawn(dependency_connecting_with_real_tokio())
            .await
            .unwrap();
    });
    let message = run.result.unwrap_err().message;
    for needle in [
        "real tokio was called inside an asyncsim run at ",
        "/src/net/",
        "the call is inside tokio's own code at ",
        // The line that called real tokio (its path as the backtrace gives it).
        ", reached from ",
        &format!("refusals_name_the_alternative.rs:{line}: that code"),
        "names real tokio, whose sockets, timers and runtime the face replaces",
        // The script by its path in this build (a checkout's here).
        &format!(
            "bash {}/switch-tokio.sh <crate> <version> vendor",
            env!("CARGO_MANIFEST_DIR").replace("/sim-tests", "")
        ),
    ] {
        assert!(message.contains(needle), "no {needle:?} in: {message}");
    }
    assert!(
        !message.contains("re-exports unchanged (`sync`, `io`) uses"),
        "{message}"
    );
    assert!(!message.contains("DelayQueue"), "{message}");
}

#[test]
fn handle_block_on_inside_spawn_blocking_says_why_not_and_what_instead() {
    // tokio allows it (its pool is threads); a simulated pool job runs on
    // the run's one thread. The message said only "await the future
    // instead", which a closure cannot.
    let run = Sim::new(Config::new()).run(async {
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || handle.block_on(async { 3 }))
            .await
            .unwrap()
    });
    let message = run.result.unwrap_err().message;
    for needle in [
        "Cannot start a runtime from within a runtime",
        "Inside a spawn_blocking closure tokio allows Handle::block_on",
        "runs on the run's one thread",
        "before or after `spawn_blocking(..).await`",
    ] {
        assert!(message.contains(needle), "no {needle:?} in: {message}");
    }
    // In a task (not a pool job) only the first part.
    let run = Sim::new(Config::new()).run(async {
        let handle = tokio::runtime::Handle::current();
        tokio::spawn(async move { handle.block_on(async { 3 }) })
            .await
            .unwrap()
    });
    let message = run.result.unwrap_err().message;
    assert!(message.contains("await the future instead"), "{message}");
    assert!(!message.contains("spawn_blocking closure"), "{message}");
}

#[test]
fn starting_a_process_is_an_unsupported_error_naming_the_alternative() {
    asyncsim::check(asyncsim::Explore::new().runs(3).persist(false), || async {
        let error = tokio::process::Command::new("ls")
            .arg("-l")
            .output()
            .await
            .unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::Unsupported);
        assert!(error.to_string().contains("fake"), "{error}");
        assert!(tokio::process::Command::new("ls").spawn().is_err());
    });
}

#[test]
fn a_command_is_built_as_tokios_and_what_was_set_reads_back_from_std() {
    let mut command = tokio::process::Command::from(std::process::Command::new("git"));
    command
        .args(["log", "--oneline"])
        .env("GIT_PAGER", "cat")
        .current_dir("/repo")
        .kill_on_drop(true);
    assert!(command.get_kill_on_drop());
    let args: Vec<_> = command.as_std().get_args().collect();
    assert_eq!(args, ["log", "--oneline"]);
    assert_eq!(
        command.as_std().get_current_dir(),
        Some(std::path::Path::new("/repo"))
    );
    command.as_std_mut().arg("-3");
    assert_eq!(command.into_std().get_args().count(), 3);
    let pipe = std::process::Command::new("true")
        .stdout(std::process::Stdio::piped())
        .spawn();
    // (A real child's pipe, where the OS lets this test make one.)
    if let Ok(mut child) = pipe {
        let stdout = child.stdout.take().unwrap();
        let refused = tokio::process::ChildStdout::from_std(stdout).unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::Unsupported);
        let _ = child.wait();
    }
}

#[test]
fn spawning_from_a_thread_you_started_says_the_run_is_single_threaded() {
    let run = Sim::new(Config::new()).run(async {
        let handle = tokio::runtime::Handle::current();
        std::thread::spawn(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                drop(handle.spawn(async {}));
            }))
            .map_err(panic_text)
        })
        .join()
        .unwrap()
    });
    let message = run.result.unwrap().unwrap_err();
    assert!(message.contains("outside a simulated run"), "{message}");
    assert!(message.contains("thread you started"), "{message}");
}

#[test]
fn a_join_handle_awaited_on_another_thread_says_so() {
    let run = Sim::new(Config::new()).run(async {
        let handle = tokio::spawn(async { 1 });
        std::thread::spawn(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle.is_finished()))
                .map_err(panic_text)
        })
        .join()
        .unwrap()
    });
    let message = run.result.unwrap().unwrap_err();
    assert!(
        message.contains("on a thread other than the one of the asyncsim run"),
        "{message}"
    );
}

#[test]
fn runtime_calls_outside_a_run_say_where_to_call_them() {
    let message =
        panic_text(std::panic::catch_unwind(|| drop(tokio::spawn(async {}))).unwrap_err());
    assert!(
        message.contains("tokio::spawn was called outside a simulated run"),
        "{message}"
    );
    assert!(message.contains("#[tokio::test]"), "{message}");
    assert!(tokio::runtime::Handle::try_current().is_err());
}

/// `tokio::spawn` outside a run panics at the line that called it, as
/// tokio's own does, not inside the face.
#[test]
fn spawn_outside_a_run_panics_at_the_callers_line() {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Option<String>>> = Arc::default();
    // Other tests' panics (and the engine's capture of them) go on to the
    // hook that was there; this thread's is only recorded.
    let previous: Arc<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync> =
        Arc::from(std::panic::take_hook());
    let this_thread = std::thread::current().id();
    let (record, forward) = (seen.clone(), previous.clone());
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == this_thread {
            *record.lock().unwrap() = info
                .location()
                .map(|at| format!("{}:{}", at.file(), at.line()));
        } else {
            forward(info);
        }
    }));
    let line = line!() + 1;
    let outcome = std::panic::catch_unwind(|| drop(tokio::spawn(async {})));
    std::panic::set_hook(Box::new(move |info| previous(info)));
    assert!(outcome.is_err());
    let at = seen.lock().unwrap().clone().unwrap();
    assert!(
        at.ends_with(&format!("refusals_name_the_alternative.rs:{line}")),
        "{at}"
    );
}

/// The face's clock used outside a run (a plain `#[test]` polling with
/// `futures`' executor, say) names the tokio function the user called, at
/// the user's line: it said `asyncsim::time::Instant::now`, at a line of
/// asyncsim's engine, for a `tokio::time::sleep`.
#[test]
fn the_clock_outside_a_run_names_the_tokio_function_at_the_callers_line() {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let previous: Arc<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync> =
        Arc::from(std::panic::take_hook());
    let this_thread = std::thread::current().id();
    let (record, forward) = (seen.clone(), previous.clone());
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == this_thread {
            let at = info.location().unwrap();
            record
                .lock()
                .unwrap()
                .push(format!("{}:{}", at.file(), at.line()));
        } else {
            forward(info);
        }
    }));
    let first_line = line!() + 2;
    let outcomes = [
        std::panic::catch_unwind(|| drop(tokio::time::sleep(Duration::from_secs(1)))),
        std::panic::catch_unwind(|| drop(tokio::time::timeout(Duration::from_secs(1), async {}))),
        std::panic::catch_unwind(|| drop(tokio::time::interval(Duration::from_secs(1)))),
        std::panic::catch_unwind(|| tokio::time::Instant::now().elapsed()).map(drop),
    ];
    std::panic::set_hook(Box::new(move |info| previous(info)));
    let names = [
        "tokio::time::sleep",
        "tokio::time::timeout",
        "tokio::time::interval",
        "tokio::time::Instant::now",
    ];
    let seen = seen.lock().unwrap().clone();
    for (index, (outcome, name)) in outcomes.into_iter().zip(names).enumerate() {
        let message = panic_text(outcome.unwrap_err());
        assert!(
            message.starts_with(&format!("{name} was called outside a simulated run")),
            "{message}"
        );
        assert!(message.contains("#[tokio::test]"), "{message}");
        let line = first_line + index as u32;
        assert!(
            seen[index].ends_with(&format!("refusals_name_the_alternative.rs:{line}")),
            "{name} panicked at {}",
            seen[index]
        );
    }
}

/// The face's sockets, files and clock used outside a run (here from real
/// tokio's runtime) say where to call them in the face's words too.
#[test]
fn sockets_files_and_the_clock_outside_a_run_say_where_to_call_them() {
    let real = real_tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let messages = [
        std::panic::catch_unwind(|| drop(real.block_on(tokio::net::TcpStream::connect("db:1"))))
            .unwrap_err(),
        std::panic::catch_unwind(|| drop(real.block_on(tokio::fs::read("/x")))).unwrap_err(),
        std::panic::catch_unwind(|| {
            let _ = tokio::time::Instant::now();
        })
        .unwrap_err(),
    ];
    for payload in messages {
        let message = panic_text(payload);
        // The engine's words ("outside a simulation") or the face's
        // ("outside a simulated run").
        assert!(message.contains("outside a simulat"), "{message}");
        assert!(
            message.contains("#[tokio::test], #[tokio::main] or Runtime::block_on"),
            "{message}"
        );
    }
}

#[test]
fn block_on_inside_a_run_is_refused() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let run = Sim::new(Config::new()).run(async move { runtime.block_on(async {}) });
    let message = run.result.unwrap_err().message;
    assert!(
        message.contains("Cannot start a runtime from within a runtime"),
        "{message}"
    );
}

#[test]
fn ctrl_c_that_the_test_never_sends_is_a_deadlock() {
    let run = Sim::new(Config::new()).run(async { tokio::signal::ctrl_c().await });
    assert_eq!(run.result.unwrap_err().kind, FailureKind::Deadlock);
}

#[test]
fn a_join_handle_taken_to_another_thread_and_back_still_joins() {
    // The handle is bound to the run's thread, not to a table: it travels
    // as plain bytes and works again at home; an abort handle dropped on
    // the other thread is leaked there, not dropped, and harms nothing.
    let run = Sim::new(Config::new()).run(async {
        let handle = tokio::spawn(async { 6 * 7 });
        let abort = handle.abort_handle();
        let handle = std::thread::spawn(move || {
            drop(abort);
            handle
        })
        .join()
        .unwrap();
        assert!(!handle.abort_handle().is_finished());
        handle.await.unwrap()
    });
    assert_eq!(run.result.unwrap(), 42);
}

#[test]
fn std_sockets_and_raw_io_are_refused_naming_the_face_s_constructor() {
    asyncsim::check(asyncsim::Explore::new().runs(3).persist(false), || async {
        // A real OS socket (made outside the run's control, as code that
        // builds one with std or socket2 does).
        if let Ok(listener) = std::net::TcpListener::bind("127.0.0.1:0") {
            let refused = tokio::net::TcpListener::from_std(listener).unwrap_err();
            assert_eq!(refused.kind(), std::io::ErrorKind::Unsupported);
            assert!(
                refused.to_string().contains("TcpListener::bind"),
                "{refused}"
            );
        }
        let socket = tokio::net::UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        let refused = socket
            .try_io(tokio::io::Interest::READABLE, || Ok(()))
            .unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::Unsupported);
        assert!(refused.to_string().contains("try_"), "{refused}");
        let refused = socket.into_std().unwrap_err();
        assert!(refused.to_string().contains("UdpSocket::bind"), "{refused}");
    });
}

/// The refusal names the line that asked: often a dependency's (redis 1.8's
/// connect turns its stream into a std one to set socket2 options), whose
/// path names the crate to switch or patch.
#[test]
fn a_std_conversion_refused_names_the_line_that_asked() {
    asyncsim::check(asyncsim::Explore::new().runs(3).persist(false), || async {
        let socket = tokio::net::UdpSocket::bind("0.0.0.0:9000").await.unwrap();
        let line = line!() + 1;
        let refused = socket.into_std().unwrap_err();
        let at = format!("(called at {}:{line})", file!());
        assert!(refused.to_string().ends_with(&at), "{refused}");
        let stream = tokio::net::UdpSocket::bind("0.0.0.0:9001").await.unwrap();
        let line = line!() + 2;
        let refused = stream
            .try_io(tokio::io::Interest::READABLE, || Ok(()))
            .unwrap_err();
        let at = format!("(called at {}:{line})", file!());
        assert!(refused.to_string().ends_with(&at), "{refused}");
    });
}

#[test]
fn async_fd_through_the_face_is_explained_as_a_re_exported_item_needing_tokios_reactor() {
    let run = Sim::new(Config::new()).run(async {
        tokio::spawn(async {
            let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            // (`register`, its replacement, is an `unsafe fn`.)
            #[allow(deprecated)]
            let _fd = tokio::io::unix::AsyncFd::new(socket);
        })
        .await
        .unwrap();
    });
    let message = run.result.unwrap_err().message;
    for needle in [
        "tokio::io::unix::AsyncFd",
        "re-exports unchanged",
        "no reactor running",
    ] {
        assert!(message.contains(needle), "no {needle:?} in: {message}");
    }
}

#[test]
fn std_files_and_std_streams_without_a_result_to_refuse_with_panic_naming_the_alternative() {
    let file = std::fs::File::open("/dev/null");
    if let Ok(file) = file {
        let payload = std::panic::catch_unwind(|| tokio::fs::File::from_std(file)).unwrap_err();
        let message = panic_text(payload);
        assert!(message.contains("tokio::fs::File::open"), "{message}");
    }
    if let Ok(listener) = std::net::TcpListener::bind("127.0.0.1:0") {
        if let Ok(stream) = std::net::TcpStream::connect(listener.local_addr().unwrap()) {
            let payload =
                std::panic::catch_unwind(|| tokio::net::TcpSocket::from_std_stream(stream))
                    .unwrap_err();
            let message = panic_text(payload);
            assert!(message.contains("TcpSocket::new_v4"), "{message}");
        }
    }
}
