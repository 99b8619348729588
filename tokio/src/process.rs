//! `tokio::process` cannot be simulated: a child process runs outside the
//! run's control (its own clock, its own scheduling, the real OS).
//!
//! The types exist so code keeps compiling; starting a process returns an
//! `Unsupported` error that names the alternative.

use std::ffi::OsStr;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

fn refused() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "tokio::process cannot be simulated: a child process runs outside asyncsim's control. \
         Put the process behind a trait in your code and give the simulated test a fake \
         implementation (an async fn that returns the output you expect), or keep this call \
         out of the simulated test",
    )
}

/// A command that cannot be started in a simulated run.
#[derive(Debug)]
pub struct Command {
    program: std::ffi::OsString,
}

/// A child process: never made in a simulated run.
#[derive(Debug)]
pub struct Child {
    _never: std::convert::Infallible,
}

impl Command {
    /// A command for `program`.
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command {
            program: program.as_ref().to_os_string(),
        }
    }

    /// The program.
    pub fn as_std_program(&self) -> &OsStr {
        &self.program
    }

    /// Accepted.
    pub fn arg<S: AsRef<OsStr>>(&mut self, _arg: S) -> &mut Command {
        self
    }

    /// Accepted.
    pub fn args<I, S>(&mut self, _args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self
    }

    /// Accepted.
    pub fn env<K: AsRef<OsStr>, V: AsRef<OsStr>>(&mut self, _key: K, _value: V) -> &mut Command {
        self
    }

    /// Accepted.
    pub fn envs<I, K, V>(&mut self, _vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self
    }

    /// Accepted.
    pub fn current_dir<P: AsRef<Path>>(&mut self, _dir: P) -> &mut Command {
        self
    }

    /// Accepted.
    pub fn stdin<T: Into<Stdio>>(&mut self, _cfg: T) -> &mut Command {
        self
    }

    /// Accepted.
    pub fn stdout<T: Into<Stdio>>(&mut self, _cfg: T) -> &mut Command {
        self
    }

    /// Accepted.
    pub fn stderr<T: Into<Stdio>>(&mut self, _cfg: T) -> &mut Command {
        self
    }

    /// Accepted.
    pub fn kill_on_drop(&mut self, _kill_on_drop: bool) -> &mut Command {
        self
    }

    /// Refused: `Unsupported`, naming the alternative.
    pub fn spawn(&mut self) -> io::Result<Child> {
        Err(refused())
    }

    /// Refused: `Unsupported`, naming the alternative.
    pub async fn output(&mut self) -> io::Result<Output> {
        Err(refused())
    }

    /// Refused: `Unsupported`, naming the alternative.
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        Err(refused())
    }
}

impl Child {
    /// The process id (no child is ever made).
    pub fn id(&self) -> Option<u32> {
        match self._never {}
    }

    /// Waits for the child (no child is ever made).
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        match self._never {}
    }

    /// Kills the child (no child is ever made).
    pub async fn kill(&mut self) -> io::Result<()> {
        match self._never {}
    }

    /// Waits for the output (no child is ever made).
    pub async fn wait_with_output(self) -> io::Result<Output> {
        match self._never {}
    }
}
