//! The halves of a stream (`split`, `into_split`), written once for
//! tokio's `net::tcp` and `net::unix`: each module has its own `ReadHalf`,
//! `WriteHalf`, `OwnedReadHalf`, `OwnedWriteHalf` and `ReuniteError`, as
//! tokio's has.
//!
//! A macro, not a generic: tokio's names take one lifetime and no type
//! parameter, and `ReuniteError` is a tuple struct users destructure,
//! which a type alias of a generic struct cannot be (neither built nor
//! matched through the alias).

/// The halves of `$stream` (`tcp::TcpStream` or `unix::UnixStream`):
/// `split` and `into_split`, the four halves and `ReuniteError`, in the
/// calling module. `$stream` has `inner(&self) -> &Stream`, `local_addr`
/// and `peer_addr` returning `$address`; the module has `read_side!`,
/// `write_side!` and `ready_method!`'s names in scope (they are the
/// stream's own methods too). tcp's read halves add `peek_side!` there.
macro_rules! stream_halves {
    ($stream:ident, $address:ty) => {
        impl $stream {
            /// Borrowed read and write halves, usable at once (in one task,
            /// for example in `select!`).
            pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
                let stream: &$stream = self;
                (ReadHalf { stream }, WriteHalf { stream })
            }

            /// Owned halves, each movable into its own task. Dropping the
            /// write half shuts down the write direction, as in tokio.
            pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
                let shared = ::std::sync::Arc::new(self);
                let read = OwnedReadHalf {
                    stream: shared.clone(),
                };
                let write = OwnedWriteHalf {
                    stream: shared,
                    shutdown_on_drop: true,
                };
                (read, write)
            }
        }

        #[doc = concat!("The read half of [`", stringify!($stream), "::split`].")]
        #[derive(Debug)]
        pub struct ReadHalf<'a> {
            stream: &'a $stream,
        }

        #[doc = concat!("The write half of [`", stringify!($stream), "::split`].")]
        #[derive(Debug)]
        pub struct WriteHalf<'a> {
            stream: &'a $stream,
        }

        #[doc = concat!("The owned read half of [`", stringify!($stream), "::into_split`].")]
        #[derive(Debug)]
        pub struct OwnedReadHalf {
            stream: ::std::sync::Arc<$stream>,
        }

        #[doc = concat!(
            "The owned write half of [`", stringify!($stream), "::into_split`]; dropping it ",
            "shuts down the write direction."
        )]
        #[derive(Debug)]
        pub struct OwnedWriteHalf {
            stream: ::std::sync::Arc<$stream>,
            shutdown_on_drop: bool,
        }

        /// The error of [`OwnedReadHalf::reunite`]: the halves came from
        /// different streams.
        #[derive(Debug)]
        pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

        impl ::std::fmt::Display for ReuniteError {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str("tried to reunite halves that are not from the same socket")
            }
        }

        impl ::std::error::Error for ReuniteError {}

        stream_halves!(
            @every_half $stream, $address;
            ReadHalf<'_>, WriteHalf<'_>, OwnedReadHalf, OwnedWriteHalf
        );
        stream_halves!(@read_half ReadHalf<'_>, OwnedReadHalf);
        stream_halves!(@write_half WriteHalf<'_>, OwnedWriteHalf);

        impl OwnedReadHalf {
            /// The stream again, from its two halves.
            ///
            /// # Errors
            ///
            /// When the halves are of different streams.
            pub fn reunite(self, other: OwnedWriteHalf) -> Result<$stream, ReuniteError> {
                reunite(self, other)
            }
        }

        impl OwnedWriteHalf {
            /// The stream again, from its two halves.
            ///
            /// # Errors
            ///
            /// When the halves are of different streams.
            pub fn reunite(self, other: OwnedReadHalf) -> Result<$stream, ReuniteError> {
                reunite(other, self)
            }

            /// Drops the half without shutting down the write direction.
            pub fn forget(mut self) {
                self.shutdown_on_drop = false;
            }
        }

        fn reunite(
            read: OwnedReadHalf,
            mut write: OwnedWriteHalf,
        ) -> Result<$stream, ReuniteError> {
            if !::std::sync::Arc::ptr_eq(&read.stream, &write.stream) {
                return Err(ReuniteError(read, write));
            }
            write.shutdown_on_drop = false;
            let stream = read.stream.clone();
            drop((read, write));
            Ok(::std::sync::Arc::into_inner(stream)
                .expect("the two halves held the only references"))
        }

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                if self.shutdown_on_drop {
                    let _ = self.stream.inner().shutdown_write();
                }
            }
        }
    };

    // Each half: its stream's addresses, `ready` and `AsRef`.
    (@every_half $stream:ident, $address:ty; $($half:ty),*) => {
        $(
            impl $half {
                fn inner(&self) -> &$crate::net::tcp::Stream {
                    self.stream.inner()
                }

                /// The peer's address.
                pub fn peer_addr(&self) -> ::std::io::Result<$address> {
                    self.stream.peer_addr()
                }

                /// This end's address.
                pub fn local_addr(&self) -> ::std::io::Result<$address> {
                    self.stream.local_addr()
                }

                ready_method!();
            }

            impl AsRef<$stream> for $half {
                fn as_ref(&self) -> &$stream {
                    &self.stream
                }
            }
        )*
    };

    (@read_half $($half:ty),*) => {
        $(
            impl $half {
                read_side!();
            }

            impl ::tokio::io::AsyncRead for $half {
                fn poll_read(
                    self: ::std::pin::Pin<&mut Self>,
                    context: &mut ::std::task::Context<'_>,
                    buf: &mut ::tokio::io::ReadBuf<'_>,
                ) -> ::std::task::Poll<::std::io::Result<()>> {
                    $crate::net::tcp::poll_read_stream(self.inner(), context, buf)
                }
            }
        )*
    };

    (@write_half $($half:ty),*) => {
        $(
            impl $half {
                write_side!();
            }

            impl ::tokio::io::AsyncWrite for $half {
                #[inline]
                fn poll_write(
                    self: ::std::pin::Pin<&mut Self>,
                    context: &mut ::std::task::Context<'_>,
                    buf: &[u8],
                ) -> ::std::task::Poll<::std::io::Result<usize>> {
                    $crate::net::tcp::poll_write_stream(self.inner(), context, buf)
                }

                fn poll_flush(
                    self: ::std::pin::Pin<&mut Self>,
                    _context: &mut ::std::task::Context<'_>,
                ) -> ::std::task::Poll<::std::io::Result<()>> {
                    $crate::net::tcp::poll_flush_stream(self.inner())
                }

                fn poll_shutdown(
                    self: ::std::pin::Pin<&mut Self>,
                    _context: &mut ::std::task::Context<'_>,
                ) -> ::std::task::Poll<::std::io::Result<()>> {
                    $crate::net::tcp::poll_shutdown_stream(self.inner())
                }
            }
        )*
    };
}
