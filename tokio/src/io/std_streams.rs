//! The process's standard streams for a simulated run (see the module doc
//! of `io`).

use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The process's standard output: each write goes through at once, whole
/// (a blocking `write_all`, which holds the run as long as the terminal
/// takes: virtual time does not move).
#[derive(Debug)]
pub struct Stdout {
    _private: (),
}

/// The process's standard error, as [`Stdout`].
#[derive(Debug)]
pub struct Stderr {
    _private: (),
}

/// The process's standard input: refused in a simulated run (see
/// [`stdin`]).
#[derive(Debug)]
pub struct Stdin {
    _private: (),
}

/// The process's standard output, written through at once.
pub fn stdout() -> Stdout {
    Stdout { _private: () }
}

/// The process's standard error, written through at once.
pub fn stderr() -> Stderr {
    Stderr { _private: () }
}

/// The process's standard input. Reading it is an `Unsupported` error: a
/// real terminal's input is outside the run's control (not replayable).
pub fn stdin() -> Stdin {
    Stdin { _private: () }
}

fn stdin_refused() -> io::Error {
    crate::explain::unsupported(
        "io::stdin",
        "the terminal's input is outside asyncsim's control (and would not replay). Give the \
         code under test its input as any AsyncRead instead: a byte slice \
         (`&b\"line\\n\"[..]`), tokio::io::duplex, or a simulated TcpStream",
    )
}

impl AsyncRead for Stdin {
    fn poll_read(
        self: Pin<&mut Self>,
        _context: &mut Context<'_>,
        _buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Err(stdin_refused()))
    }
}

macro_rules! write_through {
    ($type:ty, $std:path) => {
        impl AsyncWrite for $type {
            fn poll_write(
                self: Pin<&mut Self>,
                _context: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                // The whole buffer, as tokio's (its blocking pool writes all
                // it took): std's `Stdout::write` may take less, by what its
                // line buffer holds from earlier writes of the process
                // (another test's, an earlier run's), so the count a run
                // sees would not replay.
                Poll::Ready($std().write_all(buf).map(|()| buf.len()))
            }

            fn poll_flush(
                self: Pin<&mut Self>,
                _context: &mut Context<'_>,
            ) -> Poll<io::Result<()>> {
                Poll::Ready($std().flush())
            }

            fn poll_shutdown(
                self: Pin<&mut Self>,
                _context: &mut Context<'_>,
            ) -> Poll<io::Result<()>> {
                Poll::Ready($std().flush())
            }
        }

        #[cfg(unix)]
        impl std::os::fd::AsRawFd for $type {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                $std().as_raw_fd()
            }
        }
    };
}

write_through!(Stdout, io::stdout);
write_through!(Stderr, io::stderr);

#[cfg(unix)]
impl std::os::fd::AsRawFd for Stdin {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        io::stdin().as_raw_fd()
    }
}
