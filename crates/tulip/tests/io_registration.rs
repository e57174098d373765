//! `io::Registration` on a mio `UnixStream` pair: read and write readiness, edge-triggered
//! readiness kept until `clear_*_ready`, `read_with` looping on `WouldBlock`, `deregister`,
//! end of stream, and a registration outliving its loop (an error, not a panic).

use std::cell::Cell;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use mio::net::UnixStream;
use tulip::Runtime;
use tulip::io::{Interest, Registration};
use tulip::task::yield_now;

/// Polls read readiness once without waiting: `Some(result)` if ready.
async fn read_ready_now(reg: &Registration) -> Option<io::Result<()>> {
    poll_fn(|cx| {
        Poll::Ready(match reg.poll_read_ready(cx) {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        })
    })
    .await
}

/// Polls write readiness once without waiting.
async fn write_ready_now(reg: &Registration) -> Option<io::Result<()>> {
    poll_fn(|cx| {
        Poll::Ready(match reg.poll_write_ready(cx) {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        })
    })
    .await
}

/// Reads everything available without blocking.
fn drain(stream: &mut UnixStream) -> usize {
    let mut buf = [0u8; 64 * 1024];
    let mut total = 0;
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return total,
            Ok(n) => total += n,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return total,
            Err(err) => panic!("read failed: {err}"),
        }
    }
}

#[test]
fn readable_once_data_arrives() {
    tulip::run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let reg = Registration::new(&mut b, Interest::READABLE).unwrap();
        yield_now().await;
        assert!(read_ready_now(&reg).await.is_none(), "nothing to read yet");

        let writer = tulip::spawn(async move {
            yield_now().await;
            a.write_all(b"hello").unwrap();
            a
        });
        poll_fn(|cx| reg.poll_read_ready(cx)).await.unwrap();
        let mut buf = [0u8; 16];
        let n = b.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"hello");
        drop(writer.await.unwrap());
        reg.deregister(&mut b).unwrap();
    });
}

#[test]
fn writable_again_once_the_peer_drains() {
    tulip::run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let reg = Registration::new(&mut a, Interest::WRITABLE).unwrap();
        poll_fn(|cx| reg.poll_write_ready(cx)).await.unwrap();

        // Fill the socket buffer until the kernel refuses more.
        let chunk = [7u8; 16 * 1024];
        let mut written = 0;
        loop {
            match a.write(&chunk) {
                Ok(n) => written += n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) => panic!("write failed: {err}"),
            }
        }
        reg.clear_write_ready();
        yield_now().await;
        assert!(write_ready_now(&reg).await.is_none(), "the buffer is full");

        let reader = tulip::spawn(async move {
            yield_now().await;
            let n = drain(&mut b);
            (b, n)
        });
        let n = reg.write_with(|| a.write(b"more")).await.unwrap();
        assert_eq!(n, 4);
        let (mut b, drained) = reader.await.unwrap();
        let rest = drain(&mut b);
        assert_eq!(drained + rest, written + 4);
        reg.deregister(&mut a).unwrap();
    });
}

#[test]
fn readiness_stays_set_until_cleared() {
    tulip::run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let reg = Registration::new(&mut b, Interest::READABLE).unwrap();
        a.write_all(b"x").unwrap();
        poll_fn(|cx| reg.poll_read_ready(cx)).await.unwrap();
        assert_eq!(drain(&mut b), 1);
        // Edge-triggered: the OS will not report the socket again, so the registration keeps
        // the readiness until told the source ran dry.
        for _ in 0..3 {
            yield_now().await;
            assert!(
                matches!(read_ready_now(&reg).await, Some(Ok(()))),
                "still marked readable"
            );
        }
        reg.clear_read_ready();
        yield_now().await;
        assert!(read_ready_now(&reg).await.is_none(), "cleared");

        // A new edge sets it again.
        a.write_all(b"y").unwrap();
        poll_fn(|cx| reg.poll_read_ready(cx)).await.unwrap();
        assert_eq!(drain(&mut b), 1);
        reg.deregister(&mut b).unwrap();
    });
}

#[test]
fn read_with_retries_after_would_block() {
    tulip::run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let reg = Registration::new(&mut b, Interest::READABLE).unwrap();
        // Readiness is set, but the data is taken by hand: the first attempt will block.
        a.write_all(b"stale").unwrap();
        poll_fn(|cx| reg.poll_read_ready(cx)).await.unwrap();
        assert_eq!(drain(&mut b), 5);

        let attempts = Rc::new(Cell::new(0));
        let writer = tulip::spawn(async move {
            for _ in 0..3 {
                yield_now().await;
            }
            a.write_all(b"fresh").unwrap();
            a
        });
        let mut buf = [0u8; 16];
        let counter = attempts.clone();
        let n = reg
            .read_with(|| {
                counter.set(counter.get() + 1);
                b.read(&mut buf)
            })
            .await
            .unwrap();
        assert_eq!(&buf[..n], b"fresh");
        assert_eq!(
            attempts.get(),
            2,
            "one WouldBlock, then one read after the new edge"
        );
        drop(writer.await.unwrap());
        reg.deregister(&mut b).unwrap();
    });
}

#[test]
fn read_with_passes_real_errors_through() {
    tulip::run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let reg = Registration::new(&mut b, Interest::READABLE).unwrap();
        a.write_all(b"z").unwrap();
        let err = reg
            .read_with(|| Err::<(), _>(io::Error::new(io::ErrorKind::InvalidData, "bad frame")))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        reg.deregister(&mut b).unwrap();
    });
}

#[test]
fn the_peer_closing_makes_the_source_readable_with_eof() {
    tulip::run(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let reg = Registration::new(&mut b, Interest::READABLE | Interest::WRITABLE).unwrap();
        let closer = tulip::spawn(async move {
            yield_now().await;
            drop(a);
        });
        let mut buf = [0u8; 8];
        let n = reg.read_with(|| b.read(&mut buf)).await.unwrap();
        assert_eq!(n, 0, "end of stream");
        closer.await.unwrap();
        // Writing to a closed peer is "ready" too: the write itself reports the error.
        poll_fn(|cx| reg.poll_write_ready(cx)).await.unwrap();
        assert!(b.write(b"x").is_err());
        reg.deregister(&mut b).unwrap();
    });
}

#[test]
fn deregister_removes_the_source_from_the_os_poller() {
    tulip::run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let reg = Registration::new(&mut b, Interest::READABLE).unwrap();
        // Registering the same descriptor twice is refused by epoll...
        assert!(Registration::new(&mut b, Interest::READABLE).is_err());
        reg.deregister(&mut b).unwrap();
        // ...so this only succeeds because deregister really removed it.
        let again = Registration::new(&mut b, Interest::READABLE).unwrap();
        a.write_all(b"after").unwrap();
        let mut buf = [0u8; 8];
        let n = again.read_with(|| b.read(&mut buf)).await.unwrap();
        assert_eq!(&buf[..n], b"after");

        // Deregistering a source that is not the registered one is an error, not a panic.
        let (mut other, _peer) = UnixStream::pair().unwrap();
        assert!(again.deregister(&mut other).is_err());
    });
}

#[test]
fn a_registration_outliving_its_loop_errors_instead_of_panicking() {
    let mut first = Runtime::new().unwrap();
    let (mut a, mut b, reg) = first.block_on(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let reg = Registration::new(&mut b, Interest::READABLE).unwrap();
        (a, b, reg)
    });
    first.close();
    a.write_all(b"late").unwrap();

    // Polled outside any loop.
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(reg.poll_read_ready(&mut cx), Poll::Ready(Err(_))));
    assert!(matches!(reg.poll_write_ready(&mut cx), Poll::Ready(Err(_))));
    reg.clear_read_ready(); // harmless no-op

    // Polled inside another loop.
    let mut second = Runtime::new().unwrap();
    let (read, deregistered) = second.block_on(async {
        let mut buf = [0u8; 8];
        let read = reg.read_with(|| b.read(&mut buf)).await;
        (read, reg.deregister(&mut b))
    });
    let err = read.unwrap_err();
    assert!(err.to_string().contains("not registered"), "{err}");
    assert!(deregistered.is_err());
}

#[test]
fn a_registration_polled_by_another_loop_errors_while_its_own_lives() {
    let mut first = Runtime::new().unwrap();
    let (mut a, mut b, reg) = first.block_on(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        let reg = Registration::new(&mut b, Interest::READABLE).unwrap();
        (a, b, reg)
    });
    a.write_all(b"data").unwrap();

    // The first loop still exists but is not running: only it sees this source's events, so
    // another loop must refuse the registration rather than wait forever.
    let mut second = Runtime::new().unwrap();
    let read = second.block_on(async {
        let mut buf = [0u8; 8];
        reg.read_with(|| b.read(&mut buf)).await
    });
    let err = read.unwrap_err();
    assert!(err.to_string().contains("not registered"), "{err}");

    // Back on its own loop it works.
    let n = first.block_on(async {
        let mut buf = [0u8; 8];
        reg.read_with(|| b.read(&mut buf)).await.unwrap()
    });
    assert_eq!(n, 4);
}

#[test]
fn a_registration_dropped_without_deregister_frees_its_slot() {
    tulip::run(async {
        for _ in 0..100 {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            let reg = Registration::new(&mut b, Interest::READABLE).unwrap();
            a.write_all(b"!").unwrap();
            let mut buf = [0u8; 1];
            assert_eq!(reg.read_with(|| b.read(&mut buf)).await.unwrap(), 1);
            drop(reg); // closing `b` with it removes the descriptor from epoll
        }
    });
}
