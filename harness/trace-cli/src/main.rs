//! `asyncsim-trace`: view, convert and diff saved asyncsim trace files.
//!
//! ```text
//! asyncsim-trace view FILE [--width N]    text timeline in the terminal
//! asyncsim-trace events FILE              every event, one a line
//! asyncsim-trace chrome FILE [-o OUT]     Chrome Trace Event JSON (Perfetto)
//! asyncsim-trace svg FILE [-o OUT]        self-contained SVG timeline
//! asyncsim-trace html FILE [-o OUT]       HTML page with the SVG and hover details
//! asyncsim-trace diff A B                 the first event where two traces differ
//! asyncsim-trace merge [DIR|FILE]...      one report from the shard summaries of a CI matrix
//! ```
//!
//! Exit status: 0 on success (and for `diff`, identical traces; for `merge`,
//! every test passed on every shard), 1 when `diff` finds a difference or
//! `merge` a failure or a missing shard, 2 on a usage error or an unreadable
//! file.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use asyncsim_harness::diff::first_divergence;
use asyncsim_harness::render;
use asyncsim_harness::shard_summary::{self, ShardSummary};
use asyncsim_harness::trace_file;
use asyncsim_sim::Trace;

const USAGE: &str = "\
asyncsim-trace: view, convert and diff saved asyncsim trace files

usage:
  asyncsim-trace view FILE [--width N]    text timeline (one row per task, virtual time across)
  asyncsim-trace events FILE              every event, one a line
  asyncsim-trace chrome FILE [-o OUT]     Chrome Trace Event JSON: open it at https://ui.perfetto.dev
                                          (\"Open trace file\") or in chrome://tracing (\"Load\")
  asyncsim-trace svg FILE [-o OUT]        self-contained SVG timeline
  asyncsim-trace html FILE [-o OUT]       HTML page with the SVG timeline and hover details
  asyncsim-trace diff A B                 the first event where two traces differ, with context
  asyncsim-trace merge [DIR|FILE]...      merge the shard summaries that ASYNCSIM_SHARD=i/n runs wrote
                                          (default DIR: target/asyncsim/shards) into one report per test
  asyncsim-trace --help | --version

FILE is a trace file written by the asyncsim harness (asyncsim::harness::trace_file::save).
Without -o, output goes to standard output. --width defaults to $COLUMNS, else 100.

exit status: 0 success (diff: identical; merge: all passed, no shard missing),
             1 diff found a difference or merge a failure or a missing shard, 2 usage or file error
";

/// A failure that ends the command with status 2.
struct CliError(String);

fn usage_error(message: impl Into<String>) -> CliError {
    CliError(format!(
        "{}\nrun `asyncsim-trace --help` for usage",
        message.into()
    ))
}

fn load(path: &Path) -> Result<Trace, CliError> {
    trace_file::load(path).map_err(|error| CliError(format!("`{}`: {error}", path.display())))
}

fn output(text: &str, out: Option<&Path>) -> Result<(), CliError> {
    match out {
        Some(path) => std::fs::write(path, text)
            .map_err(|error| CliError(format!("cannot write `{}`: {error}", path.display()))),
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = stdout.write_all(text.as_bytes());
            let _ = stdout.flush();
            Ok(())
        }
    }
}

/// Parsed options of a one-file command.
struct Options {
    files: Vec<PathBuf>,
    out: Option<PathBuf>,
    width: Option<usize>,
}

fn parse_options(args: &[String], allow_out: bool, allow_width: bool) -> Result<Options, CliError> {
    let mut options = Options {
        files: Vec::new(),
        out: None,
        width: None,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-o" | "--output" if allow_out => {
                let value = args
                    .next()
                    .ok_or_else(|| usage_error(format!("{arg} needs a file name")))?;
                options.out = Some(PathBuf::from(value));
            }
            "--width" | "-w" if allow_width => {
                let value = args
                    .next()
                    .ok_or_else(|| usage_error(format!("{arg} needs a number")))?;
                let width = value
                    .parse::<usize>()
                    .map_err(|_| usage_error(format!("{arg} needs a number, got `{value}`")))?;
                options.width = Some(width);
            }
            flag if flag.starts_with('-') && flag.len() > 1 => {
                return Err(usage_error(format!("unknown option `{flag}`")))
            }
            file => options.files.push(PathBuf::from(file)),
        }
    }
    Ok(options)
}

fn one_file(command: &str, options: &Options) -> Result<PathBuf, CliError> {
    match options.files.as_slice() {
        [file] => Ok(file.clone()),
        [] => Err(usage_error(format!("`{command}` needs a trace FILE"))),
        _ => Err(usage_error(format!("`{command}` takes one trace FILE"))),
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|columns| columns.trim().parse().ok())
        .filter(|columns| *columns >= 20)
        .unwrap_or(100)
}

fn run(args: &[String]) -> Result<ExitCode, CliError> {
    let Some(command) = args.first() else {
        return Err(usage_error("no command given"));
    };
    let rest = &args[1..];
    match command.as_str() {
        "-h" | "--help" | "help" => {
            output(USAGE, None)?;
            Ok(ExitCode::SUCCESS)
        }
        "-V" | "--version" => {
            output(
                &format!(
                    "asyncsim-trace {} (trace file version {})\n",
                    env!("CARGO_PKG_VERSION"),
                    trace_file::VERSION
                ),
                None,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        "view" => {
            let options = parse_options(rest, false, true)?;
            let trace = load(&one_file(command, &options)?)?;
            let width = options.width.unwrap_or_else(terminal_width);
            output(&render::timeline_text(&trace, width), None)?;
            Ok(ExitCode::SUCCESS)
        }
        "events" => {
            let options = parse_options(rest, false, false)?;
            let trace = load(&one_file(command, &options)?)?;
            output(&trace.to_string(), None)?;
            Ok(ExitCode::SUCCESS)
        }
        "chrome" | "svg" | "html" => {
            let options = parse_options(rest, true, false)?;
            let trace = load(&one_file(command, &options)?)?;
            let text = match command.as_str() {
                "chrome" => render::chrome_json(&trace),
                "svg" => render::svg(&trace),
                _ => render::html(&trace),
            };
            output(&text, options.out.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        "diff" => {
            let options = parse_options(rest, false, false)?;
            let [left, right] = options.files.as_slice() else {
                return Err(usage_error("`diff` needs two trace files: diff A B"));
            };
            let (a, b) = (load(left)?, load(right)?);
            match first_divergence(&a, &b) {
                None => {
                    output(
                        &format!("the traces are identical ({} events)\n", a.events().len()),
                        None,
                    )?;
                    Ok(ExitCode::SUCCESS)
                }
                Some(divergence) => {
                    output(
                        &format!(
                            "left: {}\nright: {}\n{divergence}",
                            left.display(),
                            right.display()
                        ),
                        None,
                    )?;
                    Ok(ExitCode::from(1))
                }
            }
        }
        "merge" => {
            let options = parse_options(rest, false, false)?;
            let mut inputs = options.files.clone();
            if inputs.is_empty() {
                inputs.push(PathBuf::from("target/asyncsim/shards"));
            }
            let mut summaries = Vec::new();
            for input in &inputs {
                if input.is_dir() {
                    summaries.extend(shard_summary::load_directory(input).map_err(CliError)?);
                } else {
                    summaries.push(ShardSummary::load(input).map_err(CliError)?);
                }
            }
            if summaries.is_empty() {
                return Err(CliError(format!(
                    "no shard summaries in {}: run the tests with ASYNCSIM_SHARD=i/n first",
                    inputs
                        .iter()
                        .map(|input| format!("`{}`", input.display()))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let report = shard_summary::merge(summaries);
            output(&format!("{report}\n"), None)?;
            Ok(if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        other => Err(usage_error(format!("unknown command `{other}`"))),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(CliError(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
