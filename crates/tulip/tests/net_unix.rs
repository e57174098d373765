//! `net::UnixListener` / `UnixStream` / `UnixDatagram`: echo over a socket file, pairs, end of
//! stream after a short read, half-close, owned and borrowed halves, readiness with
//! `try_read`/`try_write`, connect errors naming the path, bind errors, and datagrams bound,
//! unbound and paired.

use std::future::poll_fn;
use std::io::ErrorKind;
use std::net::Shutdown;
use std::path::PathBuf;
use std::time::Duration;

use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use tulip::net::{ConnectError, UnixDatagram, UnixListener, UnixStream};

/// A fresh socket path in the temporary directory, removed when dropped.
struct SockPath(PathBuf);

impl SockPath {
    fn new(name: &str) -> SockPath {
        let path = std::env::temp_dir().join(format!(
            "tulip-net-unix-{}-{name}-{}.sock",
            std::process::id(),
            fastrand::u64(..)
        ));
        let _ = std::fs::remove_file(&path);
        SockPath(path)
    }
}

impl Drop for SockPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tulip::test]
async fn echo_over_a_socket_file() {
    let path = SockPath::new("echo");
    let listener = UnixListener::bind(&path.0).unwrap();
    assert_eq!(
        listener.local_addr().unwrap().as_pathname(),
        Some(path.0.as_path())
    );
    let server = tulip::spawn(async move {
        for _ in 0..3 {
            let (stream, _) = listener.accept().await.unwrap();
            tulip::spawn(async move {
                let (mut rd, mut wr) = stream.into_split();
                futures_lite::io::copy(&mut rd, &mut wr).await.unwrap();
            })
            .detach();
        }
    });
    for i in 0..3u8 {
        let mut client = UnixStream::connect(&path.0).await.unwrap();
        assert_eq!(
            client.peer_addr().unwrap().as_pathname(),
            Some(path.0.as_path())
        );
        let msg = vec![i; 100_000];
        let (mut rd, mut wr) = client.split();
        let (sent, got) = futures_lite::future::zip(
            async {
                wr.write_all(&msg).await.unwrap();
                wr.close().await.unwrap();
            },
            async {
                let mut got = Vec::new();
                rd.read_to_end(&mut got).await.unwrap();
                got
            },
        )
        .await;
        let () = sent;
        assert!(got == msg, "echo {i} differs");
        client.shutdown(Shutdown::Both).unwrap();
    }
    server.await.unwrap();
}

#[tulip::test]
async fn eof_after_a_short_read_is_seen() {
    // The data and the FIN arrive in one readiness event: after the short read that drains the
    // data, no further edge comes, and the next read must still see end of stream.
    let (a, b) = UnixStream::pair().unwrap();
    let reader = tulip::spawn(async move {
        let mut buf = vec![0u8; 65536];
        let mut total = 0;
        loop {
            let n = poll_fn(|cx| b.poll_read(cx, &mut buf)).await.unwrap();
            if n == 0 {
                return total;
            }
            total += n;
        }
    });
    tulip::task::yield_now().await; // the reader finds nothing and waits
    let mut sent = 0;
    while sent < 100_000 {
        sent += a.try_write(&vec![1u8; 100_000 - sent]).unwrap();
    }
    a.shutdown(Shutdown::Write).unwrap();
    let got = tulip::time::wait_for(Duration::from_secs(30), reader).await;
    assert_eq!(
        got.expect("reader hung after a short read").unwrap(),
        100_000
    );
}

#[tulip::test]
async fn half_close_and_owned_halves_in_two_tasks() {
    let (a, b) = UnixStream::pair().unwrap();
    let (mut brd, mut bwr) = b.into_split();
    // b answers every line it reads, from a task that owns only the write half, fed by
    // another that owns only the read half.
    let lines = tulip::queue::Queue::<Vec<u8>>::new();
    let feed = lines.clone();
    let reader = tulip::spawn(async move {
        let mut all = Vec::new();
        brd.read_to_end(&mut all).await.unwrap();
        feed.put(all).await.unwrap();
        brd
    });
    let writer = tulip::spawn(async move {
        let all = lines.get().await.unwrap();
        bwr.write_all(&all.to_ascii_uppercase()).await.unwrap();
        bwr // kept: dropping it would shut b's write side down before reunite
    });
    let mut a = a;
    a.write_all(b"abc").await.unwrap();
    a.shutdown(Shutdown::Write).unwrap();
    let mut back = Vec::new();
    let brd = reader.await.unwrap();
    let bwr = writer.await.unwrap();
    let b = brd.reunite(bwr).unwrap();
    b.shutdown(Shutdown::Write).unwrap();
    a.read_to_end(&mut back).await.unwrap();
    assert_eq!(back, b"ABC");
}

#[tulip::test]
async fn readiness_with_try_read_and_try_write() {
    let (a, b) = UnixStream::pair().unwrap();
    assert_eq!(
        b.try_read(&mut [0u8; 4]).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    // Fill a's send buffer until the kernel says no, then drain it from b and see a become
    // writable again.
    let chunk = vec![7u8; 64 * 1024];
    let mut queued = 0;
    loop {
        match a.try_write(&chunk) {
            Ok(n) => queued += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => panic!("try_write failed: {e}"),
        }
    }
    assert!(queued > 0);
    let drain = tulip::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        let mut drained = 0;
        while drained < queued {
            b.readable().await.unwrap();
            match b.try_read(&mut buf) {
                Ok(n) => drained += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("try_read failed: {e}"),
            }
        }
        b
    });
    a.writable().await.unwrap();
    let _b = drain.await.unwrap();
    assert!(a.try_write(b"more").unwrap() > 0);
}

#[tulip::test]
async fn connect_errors_name_the_path() {
    let missing = SockPath::new("missing");
    let err = UnixStream::connect(&missing.0).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string().contains(&*missing.0.to_string_lossy()),
        "{err}"
    );
    let detail = err.get_ref().unwrap().downcast_ref::<ConnectError>();
    assert_eq!(detail.unwrap().path(), Some(missing.0.as_path()));

    // A socket file nobody listens on any more.
    let stale = SockPath::new("stale");
    drop(UnixListener::bind(&stale.0).unwrap());
    let err = UnixStream::connect(&stale.0).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(
        err.to_string(),
        format!("connection to {} refused", stale.0.display())
    );
}

#[tulip::test]
async fn bind_errors_name_the_path() {
    let path = SockPath::new("taken");
    let _first = UnixListener::bind(&path.0).unwrap();
    let err = UnixListener::bind(&path.0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
    assert!(
        err.to_string().contains(&*path.0.to_string_lossy()),
        "{err}"
    );
    let err = UnixDatagram::bind(&path.0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
}

#[tulip::test]
async fn std_conversions() {
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let mut a = UnixStream::from_std(a).unwrap();
    let b = UnixStream::from_std(b).unwrap();
    let mut b = b.into_std().unwrap();
    b.set_nonblocking(false).unwrap();
    std::io::Write::write_all(&mut b, b"std").unwrap();
    let mut buf = [0u8; 3];
    a.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"std");
    assert!(format!("{a:?}").starts_with("UnixStream"));
}

#[tulip::test]
async fn datagrams_bound_unbound_and_paired() {
    let path = SockPath::new("dgram");
    let server = UnixDatagram::bind(&path.0).unwrap();
    let client_path = SockPath::new("dgram-client");
    let client = UnixDatagram::bind(&client_path.0).unwrap();
    for msg in [&b"one"[..], b"two", b""] {
        client.send_to(msg, &path.0).await.unwrap();
    }
    let mut buf = [0u8; 16];
    for msg in [&b"one"[..], b"two", b""] {
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], msg, "datagrams keep their boundaries");
        assert_eq!(from.as_pathname(), Some(client_path.0.as_path()));
    }
    // A long datagram into a short buffer is cut, and the rest is gone.
    client.send_to(&[9u8; 100], &path.0).await.unwrap();
    client.send_to(b"next", &path.0).await.unwrap();
    assert_eq!(server.recv(&mut buf).await.unwrap(), 16);
    assert_eq!(server.recv(&mut buf).await.unwrap(), 4);

    // Connected: replies come back through send/recv.
    let unbound = UnixDatagram::unbound().unwrap();
    unbound.connect(&path.0).unwrap();
    unbound.send(b"hi").await.unwrap();
    assert_eq!(server.recv(&mut buf).await.unwrap(), 2);

    let (a, b) = UnixDatagram::pair().unwrap();
    let waiter = tulip::spawn(async move {
        let mut buf = [0u8; 8];
        let n = b.recv(&mut buf).await.unwrap();
        buf[..n].to_vec()
    });
    tulip::task::yield_now().await;
    a.send(b"later").await.unwrap();
    assert_eq!(waiter.await.unwrap(), b"later");
    assert_eq!(
        a.try_recv(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
}

#[tulip::test]
async fn datagram_to_a_missing_path_names_it() {
    let missing = SockPath::new("nobody");
    let sock = UnixDatagram::unbound().unwrap();
    let err = sock.connect(&missing.0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string().contains(&*missing.0.to_string_lossy()),
        "{err}"
    );
    let err = sock.send_to(b"x", &missing.0).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string().contains(&*missing.0.to_string_lossy()),
        "{err}"
    );
}
