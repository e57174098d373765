//! Network faults and resource hygiene: connection refused and connect timeout as typed errors
//! naming the address (the timeout on the test clock against a listener whose queue is full),
//! writes to a peer that has gone (an error, not SIGPIPE), reads from a reset connection,
//! sockets outliving their loop or made outside one, and no descriptor leaks over 100,000
//! TCP connections opened and closed.
//!
//! The tests here run one at a time (they count the process's descriptors).

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use tulip::Runtime;
use tulip::net::{ConnectError, TcpListener, TcpStream, UdpSocket, UnixStream};
use tulip::time::Instant;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd lists this process's descriptors")
        .count()
}

/// A port on 127.0.0.1 where nothing listens (bound a moment ago, then closed).
async fn closed_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
}

#[test]
fn connection_refused_is_typed_and_names_the_address() {
    let _serial = serial();
    tulip::run(async {
        let addr = closed_port().await;
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        assert_eq!(err.to_string(), format!("connection to {addr} refused"));
        let detail = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<ConnectError>())
            .expect("the error carries a ConnectError");
        assert_eq!(detail.addr(), Some(addr));
        assert_eq!(detail.kind(), ErrorKind::ConnectionRefused);
        let os = std::error::Error::source(detail).expect("the OS error is the source");
        assert!(os.downcast_ref::<std::io::Error>().is_some());

        // Through connect_timeout too, well before its deadline.
        let err = TcpStream::connect_timeout(addr, Duration::from_secs(60))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        assert!(err.to_string().contains(&addr.to_string()));
    });
}

#[test]
fn connect_timeout_on_the_test_clock_names_the_address() {
    let _serial = serial();
    let mut rt = Runtime::builder().test_clock().build().unwrap();
    rt.block_on(async {
        // A listener that never accepts, with the smallest queue: once the queue is full the
        // kernel drops new SYNs, and a connect waits (for minutes of retransmissions).
        let listener = TcpListener::builder()
            .backlog(0)
            .bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let mut fillers = Vec::new();
        loop {
            match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(stream) => fillers.push(stream),
                Err(err) if err.kind() == ErrorKind::TimedOut => break,
                Err(err) => panic!("filling the accept queue failed: {err}"),
            }
            assert!(fillers.len() < 64, "the accept queue never filled");
        }

        let start = Instant::now();
        let err = TcpStream::connect_timeout(addr, Duration::from_secs(3))
            .await
            .unwrap_err();
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert_eq!(err.to_string(), format!("connection to {addr} timed out"));
        let detail = err.get_ref().unwrap().downcast_ref::<ConnectError>();
        assert_eq!(detail.unwrap().addr(), Some(addr));
        drop(fillers);
    });
}

#[test]
fn writing_to_a_tcp_peer_that_has_gone_is_an_error() {
    let _serial = serial();
    tulip::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        drop(server);
        // The first writes may still be queued (the peer answers them with a reset); a later
        // one fails. Without MSG_NOSIGNAL this would raise SIGPIPE.
        let mut failure = None;
        for _ in 0..1000 {
            match client.write_all(&[0u8; 1024]).await {
                Ok(()) => tulip::time::sleep(Duration::from_millis(1)).await,
                Err(err) => {
                    failure = Some(err);
                    break;
                }
            }
        }
        let err = failure.expect("writes to a closed peer kept succeeding");
        assert!(
            matches!(
                err.kind(),
                ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
            ),
            "unexpected error: {err:?}"
        );
        // The stream stays usable for what still makes sense: it reports its local address.
        assert!(client.local_addr().is_ok());
    });
}

#[test]
fn writing_to_a_unix_peer_that_has_gone_is_broken_pipe() {
    let _serial = serial();
    tulip::run(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        drop(b);
        let err = a.write_all(b"anyone?").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
        // Vectored writes go through sendmsg with MSG_NOSIGNAL too.
        let bufs = [std::io::IoSlice::new(b"a"), std::io::IoSlice::new(b"b")];
        let err = a.try_write_vectored(&bufs).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
        // A read sees end of stream.
        assert_eq!(a.read(&mut [0u8; 4]).await.unwrap(), 0);
    });
}

#[test]
fn a_reset_connection_fails_the_pending_read() {
    let _serial = serial();
    tulip::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let reader = tulip::spawn(async move {
            server.write_all(b"never read").await.unwrap();
            server.read(&mut [0u8; 16]).await
        });
        // Closing with unread data in the receive buffer sends a reset, not a FIN.
        client.readable().await.unwrap();
        drop(client);
        let err = reader.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    });
}

#[test]
fn sockets_made_outside_a_loop_are_an_error() {
    let _serial = serial();
    let err = UnixStream::pair().unwrap_err();
    assert!(err.to_string().contains("inside a tulip runtime"), "{err}");
    let std = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    assert!(TcpListener::from_std(std).is_err());
}

#[test]
fn sockets_outliving_their_loop_close_without_panicking() {
    let _serial = serial();
    let before = open_fds();
    let mut rt = Runtime::new().unwrap();
    let (listener, stream, udp) = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        (listener, stream, udp)
    });
    drop(rt);
    // Waiting on a socket whose loop is gone is an error, not a hang or a panic.
    let err = futures_lite::future::block_on(stream.readable()).unwrap_err();
    assert!(err.to_string().contains("not registered"), "{err}");
    let err = futures_lite::future::block_on((&stream).read(&mut [0u8; 4])).unwrap_err();
    assert!(err.to_string().contains("not registered"), "{err}");
    // (A connection is queued: accepting takes it, but cannot register it anywhere.)
    let err = futures_lite::future::block_on(listener.accept()).unwrap_err();
    assert!(err.to_string().contains("inside a tulip runtime"), "{err}");
    drop((listener, stream, udp));
    assert_eq!(open_fds(), before);
}

#[test]
fn no_descriptor_leaks_over_100_000_connections() {
    const TOTAL: usize = 100_000;
    const BATCH: usize = 256;
    let _serial = serial();
    let mut rt = Runtime::new().unwrap();
    rt.block_on(async {
        let before = open_fds();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The server closes first, so the TIME_WAIT states land on its side and the clients'
        // ephemeral ports stay free for reuse.
        let server = tulip::spawn(async move {
            for _ in 0..TOTAL {
                let (stream, _) = listener.accept().await.unwrap();
                drop(stream);
            }
        });
        let mut done = 0;
        while done < TOTAL {
            let n = BATCH.min(TOTAL - done);
            let clients: Vec<_> = (0..n)
                .map(|_| {
                    tulip::spawn(async move {
                        let mut stream = TcpStream::connect(addr).await.unwrap();
                        assert_eq!(stream.read(&mut [0u8; 1]).await.unwrap(), 0);
                    })
                })
                .collect();
            for client in clients {
                client.await.unwrap();
            }
            done += n;
        }
        server.await.unwrap();
        assert_eq!(
            open_fds(),
            before,
            "descriptors leaked over {TOTAL} connections"
        );
    });
}
