//! `tokio::net::{UnixDatagram, UnixSocket}` on the face: a datagram
//! socket's path names a loopback UDP socket of the calling node, so a
//! datagram arrives whole with its sender's path (unnamed for an unbound
//! socket); `connect`, `pair`, `shutdown`, the `try_` forms and Linux's
//! errors; `UnixSocket` binds, listens, connects and makes datagram
//! sockets, and refuses the wrong kind as tokio does.

use std::io;
use std::path::Path;

use asyncsim::Explore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn explore() -> Explore {
    Explore::new().runs(150).persist(false)
}

#[test]
fn datagrams_carry_their_senders_path_in_every_schedule() {
    asyncsim::check(explore(), || async {
        let server = tokio::net::UnixDatagram::bind("/run/server").unwrap();
        let echo = tokio::spawn(async move {
            let mut buf = [0u8; 16];
            for _ in 0..2 {
                let (count, from) = server.recv_from(&mut buf).await.unwrap();
                match from.as_pathname() {
                    Some(path) => {
                        server.send_to(&buf[..count], path).await.unwrap();
                    }
                    None => assert_eq!(&buf[..count], b"anonymous"),
                }
            }
        });
        let client = tokio::net::UnixDatagram::bind("/run/client").unwrap();
        let anonymous = tokio::net::UnixDatagram::unbound().unwrap();
        assert!(anonymous.local_addr().unwrap().is_unnamed());
        anonymous
            .send_to(b"anonymous", "/run/server")
            .await
            .unwrap();
        client.send_to(b"hello", "/run/server").await.unwrap();
        let mut buf = [0u8; 16];
        let (count, from) = client.recv_from(&mut buf).await.unwrap();
        assert_eq!(
            (&buf[..count], from.as_pathname()),
            (&b"hello"[..], Some(Path::new("/run/server")))
        );
        echo.await.unwrap();
    });
}

#[test]
fn connect_pair_shutdown_and_linuxs_errors() {
    asyncsim::check(explore(), || async {
        let a = tokio::net::UnixDatagram::bind("/a").unwrap();
        assert_eq!(
            tokio::net::UnixDatagram::bind("/a").unwrap_err().kind(),
            io::ErrorKind::AddrInUse
        );
        assert_eq!(
            a.peer_addr().unwrap_err().kind(),
            io::ErrorKind::NotConnected
        );
        assert_eq!(
            a.try_send(b"x").unwrap_err().kind(),
            io::ErrorKind::NotConnected
        );
        assert_eq!(
            a.send_to(b"x", "/nowhere").await.unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        let b = tokio::net::UnixDatagram::bind("/b").unwrap();
        a.connect("/b").unwrap();
        assert_eq!(a.peer_addr().unwrap().as_pathname(), Some(Path::new("/b")));
        a.send(b"to b").await.unwrap();
        b.readable().await.unwrap();
        let mut buf = [0u8; 8];
        let (count, from) = b.try_recv_from(&mut buf).unwrap();
        assert_eq!(
            (&buf[..count], from.as_pathname()),
            (&b"to b"[..], Some(Path::new("/a")))
        );
        assert_eq!(
            b.try_recv(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        drop(b);
        assert_eq!(
            a.send_to(b"x", "/b").await.unwrap_err().kind(),
            io::ErrorKind::ConnectionRefused,
            "a closed socket's path"
        );
        // Linux: a send to a closed peer is refused, and disconnects.
        assert_eq!(
            a.send(b"x").await.unwrap_err().kind(),
            io::ErrorKind::ConnectionRefused,
            "the connected peer closed"
        );
        assert_eq!(
            a.send(b"x").await.unwrap_err().kind(),
            io::ErrorKind::NotConnected
        );
        // Linux: a socket connected to a peer refuses another's send (EPERM).
        let c = tokio::net::UnixDatagram::bind("/c").unwrap();
        let d = tokio::net::UnixDatagram::bind("/d").unwrap();
        c.connect("/d").unwrap();
        let other = tokio::net::UnixDatagram::unbound().unwrap();
        assert_eq!(
            other.send_to(b"x", "/c").await.unwrap_err().kind(),
            io::ErrorKind::PermissionDenied,
            "/c takes /d's datagrams only"
        );
        other.connect("/c").unwrap();
        assert_eq!(
            other.send(b"x").await.unwrap_err().kind(),
            io::ErrorKind::PermissionDenied
        );
        assert_eq!(d.send_to(b"ok", "/c").await.unwrap(), 2, "its peer");
        assert_eq!(c.recv(&mut buf).await.unwrap(), 2);
        let (lone, gone) = tokio::net::UnixDatagram::pair().unwrap();
        drop(gone);
        assert_eq!(
            lone.try_send(b"x").unwrap_err().kind(),
            io::ErrorKind::ConnectionRefused,
            "the pair's other end closed"
        );
        let (left, right) = tokio::net::UnixDatagram::pair().unwrap();
        left.send(b"over").await.unwrap();
        assert_eq!(right.recv(&mut buf).await.unwrap(), 4);
        // Shut for reading: what is buffered first, then 0 at once, and
        // readable (read-closed) without waiting, as Linux's.
        left.send(b"kept").await.unwrap();
        right.readable().await.unwrap();
        right.shutdown(std::net::Shutdown::Read).unwrap();
        assert_eq!(right.recv(&mut buf).await.unwrap(), 4, "buffered before");
        assert_eq!(right.recv(&mut buf).await.unwrap(), 0);
        assert_eq!(right.try_recv(&mut buf).unwrap(), 0);
        right.readable().await.unwrap();
        let ready = right.ready(tokio::io::Interest::READABLE).await.unwrap();
        assert!(ready.is_read_closed(), "{ready:?}");
        right.shutdown(std::net::Shutdown::Write).unwrap();
        assert_eq!(
            right.send(b"no").await.unwrap_err().kind(),
            io::ErrorKind::BrokenPipe
        );
    });
}

#[test]
fn unix_socket_binds_listens_connects_and_makes_datagram_sockets() {
    asyncsim::check(explore(), || async {
        let socket = tokio::net::UnixSocket::new_stream().unwrap();
        socket.bind("/run/listen").unwrap();
        let listener = socket.listen(16).unwrap();
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.write_all(b"hi").await.unwrap();
        });
        let mut stream = tokio::net::UnixSocket::new_stream()
            .unwrap()
            .connect("/run/listen")
            .await
            .unwrap();
        let mut buf = [0u8; 2];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");
        server.await.unwrap();
        let datagram = tokio::net::UnixSocket::new_datagram().unwrap();
        datagram.bind("/run/dgram").unwrap();
        let datagram = datagram.datagram().unwrap();
        assert_eq!(
            datagram.local_addr().unwrap().as_pathname(),
            Some(Path::new("/run/dgram"))
        );
        let wrong = tokio::net::UnixSocket::new_datagram()
            .unwrap()
            .listen(1)
            .unwrap_err();
        assert!(wrong.to_string().contains("datagram socket"), "{wrong}");
        // Linux's EINVAL: no listens on an unbound socket.
        let unbound = tokio::net::UnixSocket::new_stream()
            .unwrap()
            .listen(1)
            .unwrap_err();
        assert_eq!(unbound.kind(), io::ErrorKind::InvalidInput, "{unbound}");
        let wrong = tokio::net::UnixSocket::new_stream()
            .unwrap()
            .datagram()
            .unwrap_err();
        assert!(wrong.to_string().contains("stream socket"), "{wrong}");
    });
}

#[test]
fn a_path_is_in_use_whatever_kind_of_socket_bound_it() {
    asyncsim::check(explore(), || async {
        // Linux's "protocol wrong type for socket" (EPROTOTYPE).
        let wrong_type = io::Error::from_raw_os_error(91).kind();
        let _listener = tokio::net::UnixListener::bind("/run/stream").unwrap();
        let datagram = tokio::net::UnixDatagram::bind("/run/dgram").unwrap();
        let taken = tokio::net::UnixDatagram::bind("/run/stream").unwrap_err();
        assert_eq!(taken.kind(), io::ErrorKind::AddrInUse, "{taken}");
        let taken = tokio::net::UnixListener::bind("/run/dgram").unwrap_err();
        assert_eq!(taken.kind(), io::ErrorKind::AddrInUse, "{taken}");
        let wrong = tokio::net::UnixStream::connect("/run/dgram")
            .await
            .unwrap_err();
        assert_eq!(wrong.kind(), wrong_type, "{wrong}");
        let wrong = datagram.send_to(b"x", "/run/stream").await.unwrap_err();
        assert_eq!(wrong.kind(), wrong_type, "{wrong}");
        drop(datagram);
        let closed = tokio::net::UnixStream::connect("/run/dgram")
            .await
            .unwrap_err();
        assert_eq!(closed.kind(), io::ErrorKind::ConnectionRefused, "{closed}");
        let _listener = tokio::net::UnixListener::bind("/run/dgram").unwrap();
    });
}
