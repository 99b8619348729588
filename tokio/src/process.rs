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
    crate::explain::unsupported(
        "process",
        "a child process runs outside asyncsim's control. Put the process behind a trait in \
         your code and give the simulated test a fake implementation (an async fn that returns \
         the output you expect), or keep this call out of the simulated test",
    )
}

/// A command that cannot be started in a simulated run. It is built as
/// tokio's is, over a `std::process::Command` (so `as_std` shows what was
/// set), and refused when started.
#[derive(Debug)]
pub struct Command {
    std: std::process::Command,
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

            impl $name {
                /// Refused: a real child's pipe belongs to a process outside
                /// the run.
                ///
                /// # Errors
                ///
                /// Always `Unsupported`, naming the alternative.
                pub fn from_std(_inner: std::process::$name) -> io::Result<$name> {
                    Err(refused())
                }

                /// The pipe's descriptor (never made in a simulated run).
                #[cfg(unix)]
                pub fn into_owned_fd(self) -> io::Result<std::os::fd::OwnedFd> {
                    match self._never {}
                }
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
        Command::from(std::process::Command::new(program))
    }

    /// The program.
    pub fn as_std_program(&self) -> &OsStr {
        self.std.get_program()
    }

    /// The `std` command built so far.
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The `std` command built so far, mutably.
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// The `std` command built so far.
    pub fn into_std(self) -> std::process::Command {
        self.std
    }

    /// Kept in the `std` command (see `as_std`).
    pub fn arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Kept in the `std` command (see `as_std`).
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Kept in the `std` command (see `as_std`).
    pub fn env<K: AsRef<OsStr>, V: AsRef<OsStr>>(&mut self, key: K, value: V) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Kept in the `std` command (see `as_std`).
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Kept in the `std` command (see `as_std`).
    pub fn current_dir<P: AsRef<Path>>(&mut self, dir: P) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Kept in the `std` command (see `as_std`).
    pub fn stdin<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdin(cfg);
        self
    }

    /// Kept in the `std` command (see `as_std`).
    pub fn stdout<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// Kept in the `std` command (see `as_std`).
    pub fn stderr<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stderr(cfg);
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

    /// Kept in the `std` command (see `as_std`).
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, key: K) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Kept in the `std` command (see `as_std`).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Kept in the `std` command (see `as_std`).
    #[cfg(unix)]
    pub fn arg0<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        std::os::unix::process::CommandExt::arg0(&mut self.std, arg);
        self
    }

    /// Kept in the `std` command (see `as_std`).
    #[cfg(unix)]
    pub fn uid(&mut self, id: u32) -> &mut Command {
        std::os::unix::process::CommandExt::uid(&mut self.std, id);
        self
    }

    /// Kept in the `std` command (see `as_std`).
    #[cfg(unix)]
    pub fn gid(&mut self, id: u32) -> &mut Command {
        std::os::unix::process::CommandExt::gid(&mut self.std, id);
        self
    }

    /// Kept in the `std` command (see `as_std`).
    #[cfg(unix)]
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        std::os::unix::process::CommandExt::process_group(&mut self.std, pgroup);
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

impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
        }
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
