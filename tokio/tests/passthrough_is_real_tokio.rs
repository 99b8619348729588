//! Without the `simulation` feature the face is real tokio, item for item.
//! (`.ci/run` runs this as `cargo test -p asyncsim-tokio --features
//! full,test-util --tests`; in the workspace's own `cargo test` another member
//! turns `simulation` on, and this file is empty.)
#![cfg(not(feature = "simulation"))]

use std::any::TypeId;
use std::time::Duration;

#[test]
fn every_runtime_item_is_real_tokios() {
    assert_eq!(
        TypeId::of::<asyncsim_tokio::task::JoinHandle<u8>>(),
        TypeId::of::<tokio::task::JoinHandle<u8>>()
    );
    assert_eq!(
        TypeId::of::<asyncsim_tokio::task::JoinSet<u8>>(),
        TypeId::of::<tokio::task::JoinSet<u8>>()
    );
    assert_eq!(
        TypeId::of::<asyncsim_tokio::time::Sleep>(),
        TypeId::of::<tokio::time::Sleep>()
    );
    assert_eq!(
        TypeId::of::<asyncsim_tokio::time::Instant>(),
        TypeId::of::<tokio::time::Instant>()
    );
    assert_eq!(
        TypeId::of::<asyncsim_tokio::runtime::Runtime>(),
        TypeId::of::<tokio::runtime::Runtime>()
    );
    assert_eq!(
        TypeId::of::<asyncsim_tokio::net::TcpStream>(),
        TypeId::of::<tokio::net::TcpStream>()
    );
    assert_eq!(
        TypeId::of::<asyncsim_tokio::sync::Mutex<u8>>(),
        TypeId::of::<tokio::sync::Mutex<u8>>()
    );
}

#[asyncsim_tokio::test(crate = "asyncsim_tokio")]
async fn tokios_own_test_attribute_runs_on_real_time() {
    let wall = std::time::Instant::now();
    asyncsim_tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        wall.elapsed() >= Duration::from_millis(20),
        "a real sleep takes real time"
    );
}

// `time_limit` is the simulated attribute's; real tokio's refuses it
// ("Unknown attribute time_limit is specified"), so without this a program's
// `#[tokio::main(time_limit = "2h")]` built under `cargo test` (simulated)
// and not under `cargo build` (real tokio).
#[asyncsim_tokio::main(crate = "asyncsim_tokio", flavor = "current_thread", time_limit = "2h")]
async fn a_program_with_a_time_limit() -> Duration {
    let wall = std::time::Instant::now();
    asyncsim_tokio::time::sleep(Duration::from_millis(20)).await;
    wall.elapsed()
}

#[test]
fn tokio_main_takes_the_time_limit_argument_and_runs_real_tokio() {
    assert!(
        a_program_with_a_time_limit() >= Duration::from_millis(20),
        "a real sleep takes real time"
    );
}

#[test]
fn the_multi_thread_runtime_runs_tasks_on_worker_threads() {
    let runtime = asyncsim_tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("real-worker")
        .enable_all()
        .build()
        .unwrap();
    let name = runtime.block_on(async {
        asyncsim_tokio::spawn(async { std::thread::current().name().map(str::to_string) })
            .await
            .unwrap()
    });
    assert_eq!(name.as_deref(), Some("real-worker"));
}
