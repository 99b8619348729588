//! `tokio::net::unix::pipe` on the face: `pipe()` is an in-memory pipe of
//! the run with Linux's behaviour (64 KiB of buffer: a writer of more waits
//! for the reader, and a write of at most `PIPE_BUF` is whole or waits; EOF
//! once the sender is gone; `BrokenPipe` once the receiver is), in every
//! schedule; a FIFO or descriptor of the real system is refused by name.

use std::io;

use asyncsim::Explore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn a_pipe_carries_more_than_its_buffer_in_order_in_every_schedule() {
    asyncsim::check(Explore::new().runs(100).persist(false), || async {
        let (mut sender, mut receiver) = tokio::net::unix::pipe::pipe().unwrap();
        let sent: Vec<u8> = (0..200_000u32).map(|n| (n % 251) as u8).collect();
        let writer = {
            let sent = sent.clone();
            tokio::spawn(async move {
                sender.write_all(&sent).await.unwrap();
            })
        };
        let mut got = Vec::new();
        receiver.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        assert!(got == sent, "every byte, in order, then EOF");
    });
}

#[test]
fn try_forms_readiness_eof_and_broken_pipe() {
    asyncsim::check(Explore::new().runs(50).persist(false), || async {
        let (sender, receiver) = tokio::net::unix::pipe::pipe().unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(
            receiver.try_read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        sender.writable().await.unwrap();
        assert_eq!(sender.try_write(b"abc").unwrap(), 3);
        receiver.readable().await.unwrap();
        assert_eq!(receiver.try_read(&mut buf).unwrap(), 3);
        drop(sender);
        let ready = receiver.ready(tokio::io::Interest::READABLE).await.unwrap();
        assert!(ready.is_read_closed(), "{ready:?}");
        assert_eq!(receiver.try_read(&mut buf).unwrap(), 0, "EOF");
        // pipe(7): a write of at most PIPE_BUF (4 KiB) is whole or
        // WouldBlock; a longer one takes what fits.
        let (sender, receiver) = tokio::net::unix::pipe::pipe().unwrap();
        let mut filled = 0;
        while filled < 64 * 1024 - 10 {
            filled += sender
                .try_write(&[7; 1000][..(64 * 1024 - 10 - filled).min(1000)])
                .unwrap();
        }
        assert_eq!(
            sender.try_write(&[7; 100]).unwrap_err().kind(),
            io::ErrorKind::WouldBlock,
            "100 bytes into 10 free"
        );
        assert_eq!(sender.try_write(&[7; 5000]).unwrap(), 10, "partial");
        assert_eq!(receiver.try_read(&mut [0u8; 100]).unwrap(), 100);
        let room = tokio::time::timeout(std::time::Duration::from_secs(1), sender.writable()).await;
        assert!(room.is_err(), "100 bytes free: no room for an atomic write");
        let mut drained = vec![0u8; 8192];
        assert_eq!(receiver.try_read(&mut drained).unwrap(), 8192);
        sender.writable().await.unwrap();
        assert_eq!(sender.try_write(&[7; 4096]).unwrap(), 4096);
        drop(receiver);
        assert_eq!(
            sender.try_write(b"x").unwrap_err().kind(),
            io::ErrorKind::BrokenPipe
        );
        let refused = tokio::net::unix::pipe::OpenOptions::new()
            .open_receiver("/tmp/fifo")
            .unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::Unsupported);
        assert!(refused.to_string().contains("pipe::pipe()"), "{refused}");
    });
}
