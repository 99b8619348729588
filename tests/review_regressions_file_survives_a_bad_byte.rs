//! A regressions file with a line that is not UTF-8 (a bad merge, an editor
//! in another encoding) still replays its good lines: one bad byte must not
//! silently drop every saved failing schedule.

mod harness_support;

use asyncsim::harness::{explore, Explore};
use harness_support::lost_update;
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};

fn settings() -> Explore {
    Explore::without_environment()
        .progress(false)
        .trace_file(false)
}

#[test]
fn saved_schedules_replay_even_when_another_line_is_not_utf8() {
    let found = explore(settings().runs(500), lost_update)
        .first_failure
        .expect("the lost update is found");
    let token = found.token();
    let directory =
        std::env::temp_dir().join(format!("asyncsim-review-badbyte-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).unwrap();
    let mut file = std::fs::File::create(directory.join("bad_byte.txt")).unwrap();
    file.write_all(b"# saved\n\xff\xfe not text\n").unwrap();
    writeln!(file, "{token} # lost update").unwrap();
    drop(file);

    let outcome = catch_unwind(AssertUnwindSafe(|| {
        asyncsim::check(
            settings()
                .runs(0)
                .regressions_dir(&directory)
                .name("bad_byte"),
            lost_update,
        )
    }));
    let _ = std::fs::remove_dir_all(&directory);
    let payload = outcome.expect_err("the saved failing schedule is replayed and fails");
    let report = payload
        .downcast::<String>()
        .map(|text| *text)
        .unwrap_or_default();
    assert!(report.contains("replaying a saved regression"), "{report}");
}
