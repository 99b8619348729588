//! `cargo run --release -p asyncsim-bench [-- speed|zoo|quick ...]`
//!
//! Prints one table: asyncsim beside tokio (paused clock), futures'
//! `LocalPool` and shuttle on the same workloads in the same process, then
//! the bug zoo (schedules until the first failure per strategy), then which
//! targets are met.

#![forbid(unsafe_code)]

/// Prefix of the benchmark's own stderr lines (progress, real panics).
const OWN_STDERR: &str = "\u{1}bench: ";

/// Progress on stderr.
macro_rules! progress {
    ($($arg:tt)*) => {
        for line in format!($($arg)*).lines() {
            eprintln!("{}{line}", crate::OWN_STDERR);
        }
    };
}
pub(crate) use progress;

mod bugs;
mod peers;
mod profile;
mod rt;
mod speed;
mod timing;
mod world;
#[cfg(not(madsim))]
mod world_face;
mod world_workloads;
mod zoo;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use timing::Row;
use zoo::{Tool, ZooSize, TOOLS};

struct Options {
    speed: bool,
    zoo: bool,
    world: bool,
    budget: Duration,
    check_runs: u64,
    size: ZooSize,
    bugs: Option<Vec<usize>>,
    only: Vec<String>,
}

fn parse() -> Options {
    let mut options = Options {
        speed: false,
        zoo: false,
        world: false,
        budget: Duration::from_millis(1000),
        check_runs: 10_000,
        size: ZooSize {
            attempts: 30,
            cap: 100_000,
            jobs: 2,
        },
        bugs: None,
        only: Vec::new(),
    };
    if std::env::args().any(|arg| arg == "quick" || arg == "--quick") {
        options.budget = Duration::from_millis(200);
        options.size.attempts = 10;
        options.size.cap = 10_000;
        options.check_runs = 2_000;
    }
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> u64 {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match arg.as_str() {
            "speed" => options.speed = true,
            "zoo" => options.zoo = true,
            "world" => options.world = true,
            "quick" | "--quick" => {}
            "--budget-ms" => options.budget = Duration::from_millis(value("--budget-ms")),
            "--attempts" => options.size.attempts = value("--attempts"),
            "--cap" => options.size.cap = value("--cap"),
            "--jobs" => options.size.jobs = value("--jobs") as usize,
            "--check-runs" => options.check_runs = value("--check-runs"),
            "--only" => options
                .only
                .push(args.next().expect("--only needs a workload key")),
            "--bug" => options
                .bugs
                .get_or_insert_with(Vec::new)
                .push(value("--bug") as usize),
            "-h" | "--help" => {
                println!(
                    "usage: asyncsim-bench profile 10x10|100x100|check[-hash][-fifo]|tcpseq|tcpfan|udp|smallsim[-reuse][-hash]|face:tcpseq|… [SECONDS|Nr]\n   or: asyncsim-bench [speed] [zoo] [world] [quick] [--budget-ms N] [--attempts N] [--cap N] [--jobs N] [--check-runs N] [--only 10x10|100x100|timers|mutex|check|pct|exhaust|world|tcp-seq|tcp-fan|udp|small-sim]... [--bug I]..."
                );
                std::process::exit(0);
            }
            other => panic!("unknown argument `{other}` (try --help)"),
        }
    }
    if !options.speed && !options.zoo && !options.world {
        options.speed = true;
        options.zoo = true;
        options.world = true;
    }
    if cfg!(madsim) {
        // madsim's build replaces libc's clock and randomness: only the
        // world rows, which compare against it, are measured there.
        options.speed = false;
        options.zoo = false;
        options.world = true;
    }
    options
}

fn find<'a>(rows: &'a [Row], workload: &str, runner: &str) -> Option<&'a Row> {
    rows.iter()
        .find(|row| row.workload == workload && row.runner.starts_with(runner))
}

fn print_speed(rows: &[Row]) {
    println!("## Speed (wall clock; steps = asyncsim's polls for the workload)\n");
    println!("{}\n", peers::header());
    println!("| workload | runner | runs/s | µs/run | ns/step | asyncsim faster by |");
    println!("|---|---|---:|---:|---:|---:|");
    for row in rows {
        let reference = rows
            .iter()
            .find(|r| r.workload == row.workload && r.runner.starts_with("asyncsim"));
        let ratio = match reference {
            Some(sim) if !row.runner.starts_with("asyncsim") => {
                format!("{:.2}×", row.us_per_run() / sim.us_per_run())
            }
            _ => "".to_string(),
        };
        let runs_per_sec = match row.runs_per_sec() {
            slow if slow < 10.0 => format!("{slow:.2}"),
            fast => format!("{fast:.0}"),
        };
        println!(
            "| {} | {} | {} | {:.2} | {:.1} | {} |",
            row.workload,
            peers::label(&row.runner),
            runs_per_sec,
            row.us_per_run(),
            row.ns_per_step(),
            ratio
        );
    }
    println!();
}

fn print_exhaust(rows: &[speed::ExhaustRow]) {
    println!(
        "## Exhaustive search: every schedule of 3 tasks × {} yields, joined in order\n",
        speed::EXHAUST_YIELDS
    );
    println!("Each tool searches its own space of the same program: asyncsim switches tasks only where one awaits (asyncio's rule), shuttle also right after every `spawn` and after every poll of the `block_on` task, so its space is larger. \"asyncsim faster by\" compares the time to visit the whole space.\n");
    println!("{}\n", peers::header());
    println!("| runner | schedules | seconds | µs/schedule | asyncsim faster by |");
    println!("|---|---:|---:|---:|---:|");
    let reference = rows.first().map(|row| row.seconds);
    for row in rows {
        let ratio = match reference {
            Some(sim) if !row.runner.starts_with("asyncsim") => {
                format!("{:.0}×", row.seconds / sim)
            }
            _ => String::new(),
        };
        println!(
            "| {} | {} | {:.4} | {:.2} | {} |",
            peers::label(&row.runner),
            row.schedules,
            row.seconds,
            row.seconds * 1e6 / row.schedules.max(1) as f64,
            ratio
        );
    }
    println!();
}

fn print_world(rows: &[Row], simulated: &[world::Simulated]) {
    print_world_table(rows, simulated);
    print_world_targets(rows);
    let mut any = false;
    for workload in world::WORKLOADS {
        let name = workload.name();
        if let (Some(native), Some(face)) = (
            find(rows, &name, world::NEW_SIM_RUNNER),
            find(rows, &name, world::FACE_RUNNER),
        ) {
            let ratio = face.us_per_run() / native.us_per_run();
            println!(
                "- the tokio face costs ≤ 1.10× `asyncsim::net` on `{name}`: {ratio:.2}× — {}",
                verdict(ratio <= 1.10)
            );
            any = true;
        }
    }
    if any {
        println!();
    }
}

/// Issue #12's targets against the peer this build raced (turmoil, or
/// madsim in the `--cfg madsim` build), for both of asyncsim's rows: a new
/// `Sim` a run with a full trace, and one `Sim` with a hash-only trace as
/// `check` explores.
fn print_world_targets(rows: &[Row]) {
    let mut any = false;
    for workload in world::WORKLOADS {
        let name = workload.name();
        let (peer, target) = match (cfg!(madsim), workload) {
            (false, _) => ("turmoil", 20.0),
            (true, world::Workload::SmallSimulation) => ("madsim", 4.0),
            (true, _) => ("madsim", 2.0),
        };
        let Some(theirs) = find(rows, &name, peer) else {
            continue;
        };
        let ratio = |runner: &str| {
            find(rows, &name, runner).map(|ours| theirs.us_per_run() / ours.us_per_run())
        };
        let words = |ratio: Option<f64>| match ratio {
            Some(ratio) => format!("{ratio:.1}× ({})", verdict(ratio >= target)),
            None => "not run".to_string(),
        };
        println!(
            "- ≥ {target}× {} on `{name}`: new Sim/run (full trace) {}; as `check` explores (one Sim, hash-only trace) {}",
            peers::label(peer),
            words(ratio(world::NEW_SIM_RUNNER)),
            words(ratio(world::AS_CHECK_RUNNER)),
        );
        any = true;
    }
    if any {
        println!();
    }
}

fn print_world_table(rows: &[Row], simulated: &[world::Simulated]) {
    println!(
        "## World: a simulated network ({}–{} ms latency a message on every tool)\n",
        world::LATENCY_MS.0,
        world::LATENCY_MS.1
    );
    println!("{}\n", peers::header());
    if cfg!(madsim) {
        println!("(This build has `--cfg madsim`: madsim's rows. turmoil's come from the ordinary build.)\n");
    } else {
        println!("(madsim's rows come from a build with `--cfg madsim`: `bench/rerun.sh` makes and runs it.)\n");
    }
    println!("Every tool's messages take {:.1} ms on average (turmoil's latency curve is set to give it that mean); \
        the simulated time a run lasts (mean of {} seeds, measured apart from the timed runs) shows each tool simulated the same.\n",
        world_workloads::mean_latency_ms(),
        world::SIMULATED_SEEDS);
    println!("| workload | runner | runs/s | µs/run | µs/round trip | simulated ms/run | asyncsim faster by (new Sim/run / as `check` explores) |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for row in rows {
        // A peer's row: how much faster each of asyncsim's rows is (a new
        // `Sim` a run; as `check` explores).
        let ratio = if row.runner.starts_with("asyncsim") {
            String::new()
        } else {
            [world::NEW_SIM_RUNNER, world::AS_CHECK_RUNNER]
                .iter()
                .filter_map(|runner| find(rows, &row.workload, runner))
                .map(|sim| format!("{:.2}×", row.us_per_run() / sim.us_per_run()))
                .collect::<Vec<_>>()
                .join(" / ")
        };
        let tool = if row.runner.starts_with("asyncsim") {
            "asyncsim"
        } else {
            row.runner.as_str()
        };
        let simulated_ms = simulated
            .iter()
            .find(|s| s.workload == row.workload && s.runner == tool)
            .map(|s| format!("{:.2}", s.ms))
            .unwrap_or_default();
        println!(
            "| {} | {} | {:.0} | {:.2} | {:.3} | {} | {} |",
            row.workload,
            peers::label(&row.runner),
            row.runs_per_sec(),
            row.us_per_run(),
            row.ns_per_step() / 1e3,
            simulated_ms,
            ratio
        );
    }
    println!();
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "MET"
    } else {
        "MISSED"
    }
}

fn print_speed_targets(rows: &[Row]) {
    println!("## Speed targets\n");
    let big = "100 tasks x 100 yields";
    let small = "10 tasks x 10 yields";
    if let (Some(sim), Some(tokio)) = (find(rows, big, "asyncsim"), find(rows, big, "tokio")) {
        println!(
            "- per step ≤ tokio {} paused (100×100): {:.1} vs {:.1} ns/step — {}",
            peers::version("tokio"),
            sim.ns_per_step(),
            tokio.ns_per_step(),
            verdict(sim.ns_per_step() <= tokio.ns_per_step())
        );
    }
    if let (Some(sim), Some(tokio)) = (find(rows, small, "asyncsim"), find(rows, small, "tokio")) {
        println!(
            "- 10×10 run ≤ 0.5× tokio {}'s: {:.2} vs {:.2} µs ({:.2}×) — {}",
            peers::version("tokio"),
            sim.us_per_run(),
            tokio.us_per_run(),
            sim.us_per_run() / tokio.us_per_run(),
            verdict(sim.us_per_run() <= 0.5 * tokio.us_per_run())
        );
    }
    let mut workloads: Vec<&str> = Vec::new();
    for row in rows {
        if !workloads.contains(&row.workload.as_str()) {
            workloads.push(&row.workload);
        }
    }
    for workload in workloads {
        if let (Some(sim), Some(shuttle)) = (
            find(rows, workload, "asyncsim"),
            find(rows, workload, "shuttle"),
        ) {
            let ratio = sim.runs_per_sec() / shuttle.runs_per_sec();
            println!(
                "- ≥ 8× shuttle {}'s runs/s on `{workload}`: {ratio:.1}× — {}",
                peers::version("shuttle"),
                verdict(ratio >= 8.0)
            );
        }
    }
    // Issue #14: PCT's cost per step does not grow with the task count.
    for tasks in speed::MANY_TASKS {
        let workload = format!("{tasks} tasks x 1 yield");
        let random = find(rows, &workload, "asyncsim random");
        let slowest_pct = rows
            .iter()
            .filter(|row| row.workload == workload && row.runner.starts_with("asyncsim pct"))
            .max_by(|a, b| a.us_per_run().total_cmp(&b.us_per_run()));
        if let (Some(random), Some(pct)) = (random, slowest_pct) {
            let ratio = pct.us_per_run() / random.us_per_run();
            println!(
                "- PCT within 2× Random at {tasks} tasks ({}): {:.1} vs {:.1} ms a run ({ratio:.1}×) — {}",
                pct.runner.trim_start_matches("asyncsim "),
                pct.us_per_run() / 1e3,
                random.us_per_run() / 1e3,
                verdict(ratio <= 2.0)
            );
        }
    }
    // The `check` body's scaling from one core to two, asyncsim's judged,
    // and shuttle's beside it: both ran in the same minutes, so shuttle's
    // shows how much of a second core the machine gave then.
    let check = |cores: &str, runner: &str| {
        rows.iter().find(|r| {
            r.workload.starts_with("check")
                && r.workload.ends_with(cores)
                && r.runner.starts_with(runner)
        })
    };
    let scaling = |runner| {
        let (one, two) = (check("1 core", runner)?, check("2 core", runner)?);
        Some(one.us_per_run() / two.us_per_run())
    };
    if let Some(sim) = scaling("asyncsim") {
        let peer = scaling("shuttle").map_or(String::new(), |peer| {
            format!(" (shuttle's, in the same minutes: {peer:.2}×)")
        });
        println!(
            "- near-linear 1→2 core scaling of check: {sim:.2}× — {}{peer}",
            verdict(sim >= 1.7)
        );
    }
    println!();
}

fn print_zoo(size: ZooSize, bugs: &[usize]) {
    println!(
        "## Bug zoo: schedules until the first failure ({} attempts per cell, cap {} schedules per attempt)\n",
        size.attempts, size.cap
    );
    println!("Cells: `median [min–max] found/attempts`; median counts a miss as ∞ (— when half or more missed); `dev` = median deviation count (nonzero draws) of asyncsim's failing schedule after the harness shrank it. asyncsim exhaustive = `explore(Explore::new().exhaustive(k))` with k = 1, 2, 3 tried in turn (schedules counted across bounds); it and shuttle's DFS are deterministic, so one attempt stands for all. `asyncsim mix (default)` is `Strategy::Mix`, the harness's default: schedule i uses Random, PCT 2, Random, PCT 3 by i mod 4. Every sampled cell (random, pct, mix) counts the harness's first schedule, FIFO (run 0, before any seed), as the harness runs it.\n");
    println!(
        "Bugs: {}.\n",
        bugs.iter()
            .map(|&bug| format!("`{}` = {}", zoo_bug(bug).name, zoo_bug(bug).what))
            .collect::<Vec<_>>()
            .join("; ")
    );
    println!("{}\n", peers::header());
    let mut header = "| bug (depth) | FIFO ok |".to_string();
    let mut rule = "|---|---|".to_string();
    for tool in TOOLS {
        header.push_str(&format!(" {} |", peers::label(&tool.label())));
        rule.push_str("---|");
    }
    println!("{header}\n{rule}");
    let mut verdicts = Vec::new();
    for &bug in bugs {
        let info = &zoo_bug(bug);
        let mut line = format!(
            "| {} ({}) | {} |",
            info.name,
            info.depth,
            if zoo::fifo_fails(bug) { "NO" } else { "yes" }
        );
        let mut best_sim: Option<u64> = None;
        let mut best_shuttle: Option<u64> = None;
        let mut random_found_all = None;
        let mut mix_found_all = None;
        for &tool in TOOLS {
            let started = Instant::now();
            let cell = zoo::measure(tool, bug, size);
            progress!(
                "  zoo {:<22} {:<20} {:>6.1}s ({:.1}s measuring)",
                info.name,
                tool.label(),
                started.elapsed().as_secs_f64(),
                cell.seconds
            );
            let median = cell.median();
            let best = if tool.is_sim() {
                &mut best_sim
            } else {
                &mut best_shuttle
            };
            if let Some(m) = median {
                *best = Some(best.map_or(m, |b: u64| b.min(m)));
            }
            if tool == Tool::SimMix {
                mix_found_all = Some(
                    cell.found() == cell.attempts.len()
                        && cell.min_max().is_some_and(|(_, max)| max <= 10_000),
                );
            }
            if tool == Tool::SimRandom {
                random_found_all = Some(
                    cell.found() == cell.attempts.len()
                        && cell.min_max().is_some_and(|(_, max)| max <= 10_000),
                );
            }
            let median_text = median.map_or("—".to_string(), |m| m.to_string());
            let range = cell
                .min_max()
                .map_or(String::new(), |(lo, hi)| format!(" [{lo}–{hi}]"));
            let dev = match cell.median_deviations() {
                Some(d) if tool.is_sim() => format!(" dev {d}"),
                _ => String::new(),
            };
            line.push_str(&format!(
                " {median_text}{range} {}/{}{dev} |",
                cell.found(),
                cell.attempts.len()
            ));
        }
        println!("{line}");
        verdicts.push((
            info.name,
            best_sim,
            best_shuttle,
            random_found_all,
            mix_found_all,
        ));
    }
    println!("\n## Zoo targets\n");
    for (name, sim, shuttle, random, mix) in verdicts {
        let best_ok = match (sim, shuttle) {
            (Some(s), Some(t)) => s <= t,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => true,
        };
        println!(
            "- {name}: asyncsim best median {} vs shuttle {} best {} — {}; the default (mix) finds it in every attempt within 10,000 — {} (random alone: {})",
            sim.map_or("—".into(), |v| v.to_string()),
            peers::version("shuttle"),
            shuttle.map_or("—".into(), |v| v.to_string()),
            verdict(best_ok),
            verdict(mix.unwrap_or(false)),
            verdict(random.unwrap_or(false))
        );
    }
    println!();
}

fn zoo_bug(index: usize) -> &'static bugs::Bug {
    &bugs::BUGS[index]
}

/// shuttle prints a replay recipe to stderr for every failing schedule it
/// finds (there is no setting to turn that off). The zoo finds thousands, so
/// the benchmark runs itself as a child and passes on only its own stderr
/// lines. Returns the child's exit code, or None when this is the child.
fn filter_shuttle_stderr() -> Option<i32> {
    const CHILD: &str = "ASYNCSIM_BENCH_CHILD";
    if std::env::var_os(CHILD).is_some() {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    let mut child = Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(CHILD, "1")
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let stderr = child.stderr.take()?;
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        if let Some(own) = line.strip_prefix(OWN_STDERR) {
            eprintln!("{own}");
        }
    }
    Some(child.wait().map_or(1, |status| status.code().unwrap_or(1)))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("profile") {
        let workload = args.get(1).map_or("10x10", String::as_str);
        // `SECONDS`, or `Nr` for exactly N runs (for callgrind).
        let limit = args.get(2).map_or("5", String::as_str);
        match limit.strip_suffix('r') {
            Some(runs) => profile::profile(workload, f64::INFINITY, runs.parse().unwrap_or(1)),
            None => profile::profile(workload, limit.parse().unwrap_or(5.0), u64::MAX),
        }
        return;
    }
    if let Some(code) = filter_shuttle_stderr() {
        std::process::exit(code);
    }
    let options = parse();
    // The zoo's planted bugs panic on purpose, thousands of times: under
    // shuttle those panics reach this hook and are results, not errors.
    // (Panics inside an asyncsim run never reach it: asyncsim's own hook
    // captures them for the failure report.) Any other panic is printed.
    std::panic::set_hook(Box::new(|info| {
        if !zoo::IN_SHUTTLE.with(|flag| flag.get()) {
            progress!("{info}");
        }
    }));
    let started = Instant::now();
    if options.speed {
        progress!("speed workloads (budget {:?} per cell)...", options.budget);
        let rows = speed::run(options.budget, options.check_runs, &options.only);
        print_speed(&rows);
        print_speed_targets(&rows);
        if options.only.is_empty() || options.only.iter().any(|key| key == "exhaust") {
            print_exhaust(&speed::exhaust_workload());
        }
    }
    if options.world {
        progress!("world workloads (budget {:?} per cell)...", options.budget);
        let only: Vec<String> = options
            .only
            .iter()
            .filter(|key| {
                *key == "world" || world::WORKLOADS.iter().any(|w| w.key() == key.as_str())
            })
            .cloned()
            .collect();
        if options.only.is_empty() || !only.is_empty() {
            let rows = world::run(options.budget, &only);
            print_world(&rows, &world::simulated(&only));
        }
    }
    if options.zoo {
        let bugs: Vec<usize> = options
            .bugs
            .clone()
            .unwrap_or_else(|| (0..bugs::BUGS.len()).collect());
        progress!("bug zoo {:?}...", options.size);
        print_zoo(options.size, &bugs);
    }
    progress!("total {:.1}s", started.elapsed().as_secs_f64());
}
