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
    kill_on_drop: bool,
}

/// A child process: never made in a simulated run.
#[derive(Debug)]
pub struct Child {
    /// The child's standard input (no child is ever made).
    pub stdin: Option<ChildStdin>,
    /// The child's standard output (no child is ever made).
    pub stdout: Option<ChildStdout>,
    /// The child's standard error (no child is ever made).
    pub stderr: Option<ChildStderr>,
    _never: std::convert::Infallible,
}

macro_rules! child_pipe {
    ($($(#[$doc:meta])* $name:ident: $trait:ident;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub struct $name {
                _never: std::convert::Infallible,
            }

            child_pipe!(@io $name $trait);
        )*
    };
    (@io $name:ident AsyncRead) => {
        impl tokio::io::AsyncRead for $name {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                _context: &mut std::task::Context<'_>,
                _buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<io::Result<()>> {
                match self._never {}
            }
        }
    };
    (@io $name:ident AsyncWrite) => {
        impl tokio::io::AsyncWrite for $name {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                _context: &mut std::task::Context<'_>,
                _buf: &[u8],
            ) -> std::task::Poll<io::Result<usize>> {
                match self._never {}
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _context: &mut std::task::Context<'_>,
            ) -> std::task::Poll<io::Result<()>> {
                match self._never {}
            }

            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                _context: &mut std::task::Context<'_>,
            ) -> std::task::Poll<io::Result<()>> {
                match self._never {}
            }
        }
    };
}

child_pipe! {
    /// A child's standard input: never made in a simulated run.
    ChildStdin: AsyncWrite;
    /// A child's standard output: never made in a simulated run.
    ChildStdout: AsyncRead;
    /// A child's standard error: never made in a simulated run.
    ChildStderr: AsyncRead;
}

impl Command {
    /// A command for `program`.
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command {
            program: program.as_ref().to_os_string(),
            kill_on_drop: false,
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

    /// Accepted and kept (no child is ever made).
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// What `kill_on_drop` set.
    pub fn get_kill_on_drop(&self) -> bool {
        self.kill_on_drop
    }

    /// Accepted.
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, _key: K) -> &mut Command {
        self
    }

    /// Accepted.
    pub fn env_clear(&mut self) -> &mut Command {
        self
    }

    /// Accepted.
    #[cfg(unix)]
    pub fn arg0<S: AsRef<OsStr>>(&mut self, _arg: S) -> &mut Command {
        self
    }

    /// Accepted.
    #[cfg(unix)]
    pub fn uid(&mut self, _id: u32) -> &mut Command {
        self
    }

    /// Accepted.
    #[cfg(unix)]
    pub fn gid(&mut self, _id: u32) -> &mut Command {
        self
    }

    /// Accepted.
    #[cfg(unix)]
    pub fn process_group(&mut self, _pgroup: i32) -> &mut Command {
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

    /// Starts killing the child (no child is ever made).
    pub fn start_kill(&mut self) -> io::Result<()> {
        match self._never {}
    }

    /// Whether the child exited (no child is ever made).
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        match self._never {}
    }

    /// Waits for the output (no child is ever made).
    pub async fn wait_with_output(self) -> io::Result<Output> {
        match self._never {}
    }
}
