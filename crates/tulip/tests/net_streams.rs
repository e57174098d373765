//! asyncio's streams API (`tulip::net::{StreamReader, StreamWriter, open_connection,
//! start_server, Server}`): every reader method with its edge cases (end of stream,
//! `IncompleteRead` with the partial bytes, `LimitOverrun` leaving the buffer intact, cancel
//! safety), the writer's buffering and flow control (drain blocks above the high-water mark,
//! deterministically on the test clock), errors from a reset peer, `write_eof` / `close`,
//! servers (graceful shutdown waits for handlers, a panicking handler leaves the server
//! serving), the Unix socket variants, and the `futures-io` trait impls.

mod support;

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_lite::StreamExt;
use futures_lite::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tulip::net::{
    OwnedReadHalf, OwnedWriteHalf, Server, StreamError, StreamReader, StreamWriter, TcpListener,
    UnixStream, open_connection, open_unix_connection, start_server, start_unix_server,
};
use tulip::time::{Instant, wait_for};

type UnixReader = StreamReader<OwnedReadHalf<UnixStream>>;
type UnixWriter = StreamWriter<OwnedWriteHalf<UnixStream>>;

/// Two connected ends over a Unix socket pair: (reader, writer) each.
fn unix_pair() -> ((UnixReader, UnixWriter), (UnixReader, UnixWriter)) {
    let (a, b) = UnixStream::pair().unwrap();
    let (ar, aw) = a.into_split();
    let (br, bw) = b.into_split();
    (
        (StreamReader::new(ar), StreamWriter::new(aw)),
        (StreamReader::new(br), StreamWriter::new(bw)),
    )
}

/// A client connection and the server side of it, over TCP on 127.0.0.1.
async fn tcp_pair() -> ((StreamReader, StreamWriter), (StreamReader, StreamWriter)) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = open_connection(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    let (rd, wr) = server.into_split();
    (client, (StreamReader::new(rd), StreamWriter::new(wr)))
}

// ----------------------------------------------------------------------------------------------
// StreamReader
// ----------------------------------------------------------------------------------------------

#[tulip::test]
async fn read_returns_what_is_there_up_to_n_then_empty_at_eof() {
    let ((mut reader, _w), (_r, mut peer)) = unix_pair();
    peer.write(b"hello world");
    peer.drain().await.unwrap();
    assert_eq!(reader.read(0).await.unwrap(), b"");
    assert_eq!(reader.read(5).await.unwrap(), b"hello");
    assert_eq!(reader.read(100).await.unwrap(), b" world");
    peer.close();
    peer.wait_closed().await.unwrap();
    assert!(!reader.at_eof(), "EOF is only known once a read sees it");
    assert_eq!(reader.read(100).await.unwrap(), b"");
    assert!(reader.at_eof());
    assert_eq!(reader.read(100).await.unwrap(), b"");
}

#[tulip::test]
async fn read_to_end_collects_everything_past_the_limit() {
    let ((mut reader, _w), (_r, mut peer)) = unix_pair();
    reader.set_limit(10);
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let expected = data.clone();
    let sender = tulip::spawn(async move {
        peer.write(&data);
        peer.close();
        peer.wait_closed().await.unwrap();
    });
    assert_eq!(reader.read_to_end().await.unwrap(), expected);
    assert!(reader.at_eof());
    sender.await.unwrap();
}

#[tulip::test]
async fn readline_includes_the_newline_and_returns_the_tail_at_eof() {
    let ((mut reader, _w), (_r, mut peer)) = unix_pair();
    peer.write(b"one\ntwo\n\nthree");
    peer.write_eof();
    assert_eq!(reader.readline().await.unwrap(), b"one\n");
    assert_eq!(reader.readline().await.unwrap(), b"two\n");
    assert_eq!(reader.readline().await.unwrap(), b"\n");
    assert_eq!(reader.readline().await.unwrap(), b"three");
    assert!(reader.at_eof());
    assert_eq!(reader.readline().await.unwrap(), b"");
}

#[tulip::test]
async fn readline_waits_for_a_line_split_across_writes() {
    let ((mut reader, _w), (_r, mut peer)) = unix_pair();
    let line = tulip::spawn(async move { reader.readline().await.unwrap() });
    for piece in [&b"par"[..], b"tial li", b"ne\nnext"] {
        tulip::task::yield_now().await;
        peer.write(piece);
        peer.drain().await.unwrap();
    }
    assert_eq!(line.await.unwrap(), b"partial line\n");
}

#[tulip::test]
async fn readexactly_returns_exactly_n_bytes() {
    let ((mut reader, _w), (_r, mut peer)) = unix_pair();
    peer.write(b"\x00\x03abcrest");
    peer.drain().await.unwrap();
    let header = reader.readexactly(2).await.unwrap();
    let len = u16::from_be_bytes([header[0], header[1]]) as usize;
    assert_eq!(reader.readexactly(len).await.unwrap(), b"abc");
    assert_eq!(reader.readexactly(0).await.unwrap(), b"");
    assert_eq!(reader.readexactly(4).await.unwrap(), b"rest");
}

#[tulip::test]
async fn readexactly_gives_incomplete_read_with_the_partial_bytes() {
    let ((mut reader, _w), (_r, mut peer)) = unix_pair();
    peer.write(b"only seven");
    peer.close();
    let err = reader.readexactly(64).await.unwrap_err();
    assert!(err.is_incomplete_read());
    let message = err.to_string();
    match err {
        StreamError::IncompleteRead { partial, expected } => {
            assert_eq!(partial, b"only seven");
            assert_eq!(expected, Some(64));
        }
        other => panic!("expected IncompleteRead, got {other:?}"),
    }
    assert!(
        message.contains("10 of 64"),
        "the message says how much arrived: {message}"
    );
    assert!(reader.at_eof());
    let as_io: io::Error = reader.readexactly(1).await.unwrap_err().into();
    assert_eq!(as_io.kind(), io::ErrorKind::UnexpectedEof);
}

#[tulip::test]
async fn readexactly_larger_than_the_buffer_grows_it() {
    let ((mut reader, _w), (_r, mut peer)) = unix_pair();
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8).collect();
    let expected = data.clone();
    let sender = tulip::spawn(async move {
        peer.write(&data);
        peer.drain().await.unwrap();
        peer
    });
    assert_eq!(reader.readexactly(1_000_000).await.unwrap(), expected);
    drop(sender.await.unwrap());
}

#[tulip::test]
async fn readuntil_finds_a_multibyte_separator_split_across_reads() {
    let ((mut reader, _w), (_r, mut peer)) = unix_pair();
    let head = tulip::spawn(async move {
        let head = reader.readuntil(b"\r\n\r\n").await.unwrap();
        (head, reader)
    });
    for piece in [&b"GET / HTTP/1.0\r"[..], b"\nHost: x\r\n\r", b"\nbody"] {
        tulip::task::yield_now().await;
        peer.write(piece);
        peer.drain().await.unwrap();
    }
    let (head, mut reader) = head.await.unwrap();
    assert_eq!(head, b"GET / HTTP/1.0\r\nHost: x\r\n\r\n");
    assert_eq!(reader.read(100).await.unwrap(), b"body");
}

#[tulip::test]
async fn readuntil_at_eof_gives_incomplete_read_without_expected() {
    let ((mut reader, _w), (_r, mut peer)) = unix_pair();
    peer.write(b"no separator here");
    peer.close();
    match reader.readuntil(b";").await {
        Err(StreamError::IncompleteRead { partial, expected }) => {
            assert_eq!(partial, b"no separator here");
            assert_eq!(expected, None);
        }
        other => panic!("expected IncompleteRead, got {other:?}"),
    }
}

#[tulip::test]
async fn readuntil_rejects_an_empty_separator() {
    let ((mut reader, _w), _peer) = unix_pair();
    match reader.readuntil(b"").await {
        Err(StreamError::Io(err)) => {
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains("separator is empty"));
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[tulip::test]
async fn limit_overrun_leaves_the_buffer_intact() {
    let ((mut reader, _w), (_r, mut peer)) = unix_pair();
    reader.set_limit(16);
    let long = [b'x'; 40];
    peer.write(&long);
    peer.write(b"\nshort\n");
    peer.drain().await.unwrap();
    let err = reader.readline().await.unwrap_err();
    let message = err.to_string();
    match err {
        StreamError::LimitOverrun { consumed, limit } => {
            assert_eq!(limit, 16);
            assert!(consumed > 16, "searched past the limit: {consumed}");
            assert!(
                consumed <= 40,
                "stopped at or before the separator: {consumed}"
            );
        }
        other => panic!("expected LimitOverrun, got {other:?}"),
    }
    assert!(message.contains("16 bytes"), "{message}");
    // Nothing was lost: the same bytes are still there, in order.
    assert!(reader.buffer().starts_with(&long));
    assert_eq!(reader.readexactly(40).await.unwrap(), long);
    assert_eq!(reader.readline().await.unwrap(), b"\n");
    assert_eq!(reader.readline().await.unwrap(), b"short\n");
}

#[tulip::test]
async fn limit_overrun_when_the_separator_comes_after_the_limit() {
    let ((mut reader, _w), (_r, mut peer)) = unix_pair();
    reader.set_limit(4);
    peer.write(b"0123456789;");
    peer.drain().await.unwrap();
    tulip::task::yield_now().await;
    match reader.readuntil(b";").await {
        Err(StreamError::LimitOverrun { consumed, limit: 4 }) => assert!(consumed > 4),
        other => panic!("expected LimitOverrun, got {other:?}"),
    }
    reader.set_limit(64);
    assert_eq!(reader.readuntil(b";").await.unwrap(), b"0123456789;");
}

#[tulip::test]
async fn limit_overrun_bounds_memory_against_a_peer_that_never_sends_a_newline() {
    let ((mut reader, _w), (_r, mut peer)) = unix_pair();
    let sender = tulip::spawn(async move {
        // Far more than the 64 KiB default limit, and never a newline.
        for _ in 0..64 {
            peer.write(&[b'a'; 16 * 1024]);
            if peer.drain().await.is_err() {
                break;
            }
        }
        peer
    });
    let err = reader.readline().await.unwrap_err();
    assert!(err.is_limit_overrun());
    assert!(
        reader.buffer().len() < 256 * 1024,
        "buffered {}",
        reader.buffer().len()
    );
    sender.cancel();
}

#[tulip::test(test_clock)]
async fn cancelled_readexactly_keeps_the_bytes_that_arrived() {
    let ((mut reader, _w), (_r, mut peer)) = unix_pair();
    peer.write(b"abc");
    peer.drain().await.unwrap();
    let start = Instant::now();
    let timed_out = wait_for(Duration::from_secs(1), reader.readexactly(5)).await;
    assert!(timed_out.is_err());
    assert_eq!(Instant::now() - start, Duration::from_secs(1));
    assert_eq!(reader.buffer(), b"abc");
    peer.write(b"de");
    peer.drain().await.unwrap();
    assert_eq!(reader.readexactly(5).await.unwrap(), b"abcde");
}

#[tulip::test(test_clock)]
async fn cancelled_readuntil_keeps_the_bytes_that_arrived() {
    let ((mut reader, _w), (_r, mut peer)) = unix_pair();
    peer.write(b"key=va");
    peer.drain().await.unwrap();
    assert!(
        wait_for(Duration::from_secs(5), reader.readuntil(b";"))
            .await
            .is_err()
    );
    peer.write(b"lue;");
    peer.drain().await.unwrap();
    assert_eq!(reader.readuntil(b";").await.unwrap(), b"key=value;");
}

#[tulip::test]
async fn async_buf_read_interop_with_futures_lite_lines() {
    let ((reader, _w), (_r, mut peer)) = unix_pair();
    peer.writelines(["alpha\n", "beta\n", "gamma"]);
    peer.close();
    let lines: Vec<String> = reader.lines().map(Result::unwrap).collect().await;
    assert_eq!(lines, ["alpha", "beta", "gamma"]);
}

#[tulip::test]
async fn async_read_interop_shares_the_buffer() {
    let ((mut reader, _w), (_r, mut peer)) = unix_pair();
    peer.write(b"line\nthen raw bytes");
    peer.close();
    assert_eq!(reader.readline().await.unwrap(), b"line\n");
    let mut raw = [0u8; 4];
    reader.read_exact(&mut raw).await.unwrap();
    assert_eq!(&raw, b"then");
    let mut rest = String::new();
    reader.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, " raw bytes");
    assert!(reader.at_eof());
}

#[tulip::test]
async fn into_parts_gives_back_unread_bytes() {
    let mut reader = StreamReader::new(&b"head\nbody"[..]);
    assert_eq!(reader.readline().await.unwrap(), b"head\n");
    let (rest_of_transport, buffered) = reader.into_parts();
    assert_eq!(buffered, b"body");
    assert!(rest_of_transport.is_empty());
}

// ----------------------------------------------------------------------------------------------
// StreamWriter
// ----------------------------------------------------------------------------------------------

#[tulip::test]
async fn write_and_writelines_arrive_in_order() {
    let ((_r, mut writer), (mut peer, _w)) = unix_pair();
    writer.write(b"a");
    writer.writelines([&b"b"[..], b"", b"cd"]);
    writer.write(b"e\n");
    writer.drain().await.unwrap();
    assert_eq!(peer.readline().await.unwrap(), b"abcde\n");
}

#[tulip::test]
async fn bytes_written_without_drain_are_still_sent() {
    let ((_r, mut writer), (mut peer, _w)) = unix_pair();
    // Several times the socket buffer: most of it is queued, and nobody awaits drain.
    let data: Vec<u8> = (0..2_000_000u32).map(|i| (i % 241) as u8).collect();
    writer.write(&data);
    assert!(writer.write_buffer_size() > 0);
    assert_eq!(peer.readexactly(data.len()).await.unwrap(), data);
    assert_eq!(writer.write_buffer_size(), 0);
}

#[tulip::test]
async fn a_dropped_writer_still_sends_what_it_queued_then_eof() {
    let ((_r, mut writer), (mut peer, _w)) = unix_pair();
    let data = vec![7u8; 1_000_000];
    writer.write(&data);
    drop(writer);
    drop(_r);
    assert_eq!(peer.read_to_end().await.unwrap(), data);
}

#[tulip::test(test_clock)]
async fn drain_blocks_above_the_high_water_mark_until_the_reader_catches_up() {
    let ((_r, mut writer), (mut peer, _w)) = unix_pair();
    assert_eq!(writer.write_buffer_limits(), (64 * 1024, 16 * 1024));
    // Fill the socket buffer, then queue well past the high-water mark.
    let chunk = vec![1u8; 1 << 20];
    writer.write(&chunk);
    writer.write(&chunk);
    assert!(writer.write_buffer_size() > 64 * 1024);

    // Nobody reads: drain cannot finish, and on the test clock the timeout fires exactly.
    let start = Instant::now();
    let blocked = wait_for(Duration::from_secs(3), writer.drain()).await;
    assert!(
        blocked.is_err(),
        "drain returned while the peer read nothing"
    );
    assert_eq!(Instant::now() - start, Duration::from_secs(3));
    assert!(writer.write_buffer_size() > 16 * 1024);

    // The reader catches up: drain returns once the queue is down to the low-water mark.
    let reading = tulip::spawn(async move { peer.readexactly(2 << 20).await.unwrap().len() });
    writer.drain().await.unwrap();
    assert!(writer.write_buffer_size() <= 16 * 1024);
    assert_eq!(reading.await.unwrap(), 2 << 20);
}

#[tulip::test]
async fn drain_returns_at_once_below_the_high_water_mark() {
    let ((_r, mut writer), (_peer, _w)) = unix_pair();
    writer.set_write_buffer_limits(1 << 30, 0).unwrap();
    // Far beyond the socket buffer, but below the (raised) high-water mark.
    writer.write(&vec![0u8; 4 << 20]);
    assert!(writer.write_buffer_size() > 0);
    writer.drain().await.unwrap();
    assert!(writer.write_buffer_size() > 0, "drain did not wait");
}

#[tulip::test(test_clock)]
async fn high_water_zero_makes_drain_wait_for_everything() {
    let ((_r, mut writer), (mut peer, _w)) = unix_pair();
    writer.set_write_buffer_limits(0, 0).unwrap();
    writer.write(&vec![5u8; 1 << 20]);
    let reading = tulip::spawn(async move { peer.readexactly(1 << 20).await.unwrap().len() });
    writer.drain().await.unwrap();
    assert_eq!(writer.write_buffer_size(), 0);
    assert_eq!(reading.await.unwrap(), 1 << 20);
}

#[tulip::test]
async fn set_write_buffer_limits_rejects_low_above_high() {
    let ((_r, mut writer), _peer) = unix_pair();
    let err = writer.set_write_buffer_limits(100, 200).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("(200)"), "{err}");
    assert_eq!(writer.write_buffer_limits(), (64 * 1024, 16 * 1024));
}

#[tulip::test]
async fn drain_reports_a_peer_that_went_away_without_sigpipe() {
    let ((_r, mut writer), peer) = tcp_pair().await;
    drop(peer);
    let chunk = vec![0u8; 64 * 1024];
    let mut failure = None;
    for _ in 0..1000 {
        writer.write(&chunk);
        match writer.drain().await {
            Ok(()) => tulip::task::yield_now().await,
            Err(err) => {
                failure = Some(err);
                break;
            }
        }
    }
    let err = failure.expect("writing to a closed peer must fail");
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
        ),
        "{err:?}"
    );
    // The failure sticks: every drain from now on reports it, and writes are dropped.
    writer.write(b"more");
    assert_eq!(writer.drain().await.unwrap_err().kind(), err.kind());
    assert!(writer.is_closing());
    assert_eq!(writer.wait_closed().await.unwrap_err().kind(), err.kind());
}

#[tulip::test]
async fn write_eof_half_closes_and_the_peer_can_still_answer() {
    let ((mut reader, mut writer), (mut peer_r, mut peer_w)) = tcp_pair().await;
    assert!(writer.can_write_eof());
    writer.write(b"request body");
    writer.write_eof();
    assert!(!writer.is_closing());
    let request = peer_r.read_to_end().await.unwrap();
    assert_eq!(request, b"request body");
    peer_w.write(b"got ");
    peer_w.write(&request.len().to_string().into_bytes());
    peer_w.close();
    assert_eq!(reader.read_to_end().await.unwrap(), b"got 12");
}

#[tulip::test]
async fn write_after_close_is_reported_once_by_drain() {
    let ((_r, mut writer), (mut peer, _w)) = unix_pair();
    writer.write(b"last words");
    writer.close();
    assert!(writer.is_closing());
    writer.write(b"too late");
    let err = writer.drain().await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    assert!(err.to_string().contains("after close()"), "{err}");
    writer.drain().await.unwrap();
    writer.wait_closed().await.unwrap();
    assert_eq!(peer.read_to_end().await.unwrap(), b"last words");
}

#[tulip::test]
async fn close_flushes_the_queue_before_wait_closed_returns() {
    let ((_r, mut writer), (mut peer, _w)) = unix_pair();
    let data = vec![3u8; 3 << 20];
    writer.write(&data);
    writer.close();
    let reading = tulip::spawn(async move { peer.read_to_end().await.unwrap() });
    writer.wait_closed().await.unwrap();
    assert_eq!(writer.write_buffer_size(), 0);
    assert_eq!(reading.await.unwrap(), data);
}

fn flush_tasks() -> usize {
    tulip::task::all_tasks()
        .iter()
        .filter(|task| task.name() == Some("StreamWriter flush"))
        .count()
}

#[tulip::test]
async fn abort_drops_the_queue_and_releases_the_transport() {
    let ((_r, mut writer), (mut peer, _w)) = unix_pair();
    writer.write(&vec![9u8; 4 << 20]);
    assert!(writer.write_buffer_size() > 0);
    tulip::task::yield_now().await; // the helper task starts and waits for the socket
    assert_eq!(flush_tasks(), 1);
    writer.abort();
    assert!(writer.is_closing());
    assert_eq!(writer.write_buffer_size(), 0);
    writer.wait_closed().await.unwrap();
    tulip::task::yield_now().await;
    assert_eq!(flush_tasks(), 0, "the helper task ended");
    // The peer gets what was already in the socket, then end of stream.
    let got = peer.read_to_end().await.unwrap();
    assert!(got.len() < 4 << 20, "the queue was dropped, not sent");
}

#[tulip::test]
async fn the_helper_task_ends_when_the_writer_is_dropped() {
    let ((_r, mut writer), (mut peer, _w)) = unix_pair();
    writer.write(&vec![1u8; 2 << 20]);
    tulip::task::yield_now().await;
    assert_eq!(flush_tasks(), 1);
    drop(writer);
    assert_eq!(peer.readexactly(2 << 20).await.unwrap().len(), 2 << 20);
    for _ in 0..100 {
        if flush_tasks() == 0 {
            return;
        }
        tulip::task::yield_now().await;
    }
    panic!("the helper task outlived its writer");
}

#[tulip::test]
async fn addresses_are_the_sockets_and_gone_after_close() {
    let ((reader, mut writer), (peer_r, _peer_w)) = tcp_pair().await;
    let here = writer.local_addr().unwrap();
    let there = writer.peer_addr().unwrap();
    assert_eq!(reader.local_addr().unwrap(), here);
    assert_eq!(reader.peer_addr().unwrap(), there);
    assert_eq!(peer_r.peer_addr().unwrap(), here);
    assert_eq!(peer_r.local_addr().unwrap(), there);
    writer.close();
    writer.wait_closed().await.unwrap();
    assert_eq!(
        writer.peer_addr().unwrap_err().kind(),
        io::ErrorKind::NotConnected
    );
}

#[tulip::test]
async fn async_write_interop_with_futures_lite() {
    let ((_r, mut writer), (mut peer, _w)) = unix_pair();
    let data: Vec<u8> = (0..500_000u32).map(|i| (i % 239) as u8).collect();
    let expected = data.clone();
    let reading = tulip::spawn(async move { peer.read_to_end().await.unwrap() });
    futures_lite::io::copy(&data[..], &mut writer)
        .await
        .unwrap();
    writer.write_all(b"!").await.unwrap();
    writer.flush().await.unwrap();
    assert_eq!(writer.write_buffer_size(), 0);
    AsyncWriteExt::close(&mut writer).await.unwrap(); // close + wait_closed
    let mut got = reading.await.unwrap();
    assert_eq!(got.pop(), Some(b'!'));
    assert_eq!(got, expected);
}

#[tulip::test]
async fn writer_over_a_plain_async_write() {
    let mut writer = StreamWriter::new(Vec::<u8>::new());
    writer.write(b"into a vec");
    writer.drain().await.unwrap();
    writer.close();
    writer.wait_closed().await.unwrap();
    assert!(format!("{writer:?}").contains("StreamWriter"));
}

// ----------------------------------------------------------------------------------------------
// open_connection / start_server / Server
// ----------------------------------------------------------------------------------------------

#[tulip::test]
async fn open_connection_to_a_closed_port_is_refused_naming_the_address() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let err = open_connection(addr).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

#[tulip::test]
async fn open_connection_resolves_localhost() {
    let server = start_server(|_r, mut w| async move { w.write(b"hi") }, ("127.0.0.1", 0))
        .await
        .unwrap();
    let port = server.local_addrs()[0].port();
    let (mut reader, _w) = open_connection(("localhost", port)).await.unwrap();
    assert_eq!(reader.read_to_end().await.unwrap(), b"hi");
}

async fn echo(mut reader: StreamReader, mut writer: StreamWriter) {
    loop {
        match reader.read(4096).await {
            Ok(data) if !data.is_empty() => {
                writer.write(&data);
                if writer.drain().await.is_err() {
                    return;
                }
            }
            _ => return,
        }
    }
}

#[tulip::test]
async fn echo_server_serves_many_clients_at_once() {
    let server = start_server(echo, "127.0.0.1:0").await.unwrap();
    assert!(server.is_serving());
    let addr = server.local_addrs()[0];
    let clients: Vec<_> = (0..20)
        .map(|i| {
            tulip::spawn(async move {
                let (mut reader, mut writer) = open_connection(addr).await.unwrap();
                let message = format!("client {i}\n").repeat(i + 1);
                writer.write(message.as_bytes());
                writer.write_eof();
                let echoed = reader.read_to_end().await.unwrap();
                assert_eq!(echoed, message.as_bytes());
                i
            })
        })
        .collect();
    for (i, client) in clients.into_iter().enumerate() {
        assert_eq!(client.await.unwrap(), i);
    }
    server.close();
    server.wait_closed().await;
}

#[tulip::test(test_clock)]
async fn graceful_shutdown_stops_accepting_and_waits_for_handlers() {
    let finished = Rc::new(RefCell::new(Vec::new()));
    let log = finished.clone();
    let server = start_server(
        move |mut reader: StreamReader, mut writer: StreamWriter| {
            let log = log.clone();
            async move {
                let line = reader.readline().await.unwrap();
                writer.write(&line);
                writer.drain().await.unwrap();
                log.borrow_mut().push(line);
            }
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    let addr = server.local_addrs()[0];
    let (mut reader, mut writer) = open_connection(addr).await.unwrap();
    // Let the server accept it, so its handler is running.
    while server.active_connections() == 0 {
        tulip::task::yield_now().await;
    }

    server.close();
    assert!(!server.is_serving());
    server.serve_forever().await; // returns at once on a closed server
    let refused = open_connection(addr).await.unwrap_err();
    assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);

    // The handler still waits for its line: wait_closed cannot finish.
    assert!(
        wait_for(Duration::from_secs(10), server.wait_closed())
            .await
            .is_err()
    );
    assert_eq!(server.active_connections(), 1);

    writer.write(b"in flight\n");
    writer.drain().await.unwrap();
    assert_eq!(reader.readline().await.unwrap(), b"in flight\n");
    server.wait_closed().await;
    assert_eq!(server.active_connections(), 0);
    assert_eq!(*finished.borrow(), [b"in flight\n".to_vec()]);
}

#[tulip::test]
async fn serve_forever_returns_when_another_task_closes_the_server() {
    let server = Rc::new(start_server(echo, "127.0.0.1:0").await.unwrap());
    let closer = server.clone();
    let addr = server.local_addrs()[0];
    tulip::spawn(async move {
        let (mut reader, mut writer) = open_connection(addr).await.unwrap();
        writer.write(b"ping");
        writer.write_eof();
        assert_eq!(reader.read_to_end().await.unwrap(), b"ping");
        closer.close();
    })
    .detach();
    server.serve_forever().await;
    assert!(!server.is_serving());
    server.wait_closed().await;
}

/// A runtime whose exception handler keeps the panic messages it is given.
fn runtime_recording_panics() -> (tulip::Runtime, Arc<Mutex<Vec<String>>>) {
    let rt = tulip::Runtime::new().unwrap();
    let reports = Arc::new(Mutex::new(Vec::new()));
    let seen = reports.clone();
    rt.handle().set_exception_handler(move |cx| {
        seen.lock()
            .unwrap()
            .push(cx.panic_message().unwrap_or_default().to_owned());
    });
    (rt, reports)
}

#[test]
fn a_panicking_handler_leaves_the_server_serving() {
    let _watchdog = support::watchdog("a_panicking_handler_leaves_the_server_serving");
    let (mut rt, reports) = runtime_recording_panics();
    rt.block_on(async {
        let server = start_server(
            |mut reader: StreamReader, mut writer: StreamWriter| async move {
                let line = reader.readline().await.unwrap();
                if line == b"boom\n" {
                    panic!("handler exploded");
                }
                writer.write(&line);
                writer.drain().await.unwrap();
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let addr = server.local_addrs()[0];

        let (mut reader, mut writer) = open_connection(addr).await.unwrap();
        writer.write(b"boom\n");
        // The handler died: its connection ends (end of stream), nothing echoed.
        assert_eq!(reader.read_to_end().await.unwrap(), b"");

        // The server is fine and serves the next client.
        assert!(server.is_serving());
        let (mut reader, mut writer) = open_connection(addr).await.unwrap();
        writer.write(b"still here\n");
        assert_eq!(reader.readline().await.unwrap(), b"still here\n");

        server.close();
        server.wait_closed().await; // the panicked handler was counted out
    });
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("handler exploded"), "{reports:?}");
}

#[test]
fn a_handler_that_panics_before_returning_its_future_ends_only_its_connection() {
    let _watchdog = support::watchdog("a_handler_that_panics_before_returning_its_future");
    let (mut rt, reports) = runtime_recording_panics();
    rt.block_on(async {
        let calls = Rc::new(RefCell::new(0));
        let counted = calls.clone();
        let server = start_server(
            move |reader: StreamReader, mut writer: StreamWriter| {
                *counted.borrow_mut() += 1;
                if *counted.borrow() == 1 {
                    panic!("refused before the future existed");
                }
                async move {
                    writer.write(b"welcome\n");
                    writer.drain().await.unwrap();
                    drop(reader);
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let addr = server.local_addrs()[0];

        let (mut reader, _writer) = open_connection(addr).await.unwrap();
        assert_eq!(reader.read_to_end().await.unwrap(), b"");

        let (mut reader, _writer) = open_connection(addr).await.unwrap();
        assert_eq!(reader.readline().await.unwrap(), b"welcome\n");
        assert_eq!(*calls.borrow(), 2);

        server.close();
        server.wait_closed().await;
    });
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(reports[0].contains("refused before"), "{reports:?}");
}

#[tulip::test]
async fn start_server_on_a_taken_port_names_the_address() {
    let taken = TcpListener::builder()
        .reuse_address(false)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = taken.local_addr().unwrap();
    let err = start_server(echo, addr).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

#[tulip::test]
async fn dropping_the_server_closes_it() {
    let server = start_server(echo, "127.0.0.1:0").await.unwrap();
    let addr = server.local_addrs()[0];
    drop(server);
    assert_eq!(
        open_connection(addr).await.unwrap_err().kind(),
        io::ErrorKind::ConnectionRefused
    );
}

#[tulip::test]
async fn start_server_on_a_configured_listener() {
    let listener = TcpListener::builder()
        .backlog(8)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let server: Server = tulip::net::start_server_on(echo, listener).unwrap();
    let (mut reader, mut writer) = open_connection(server.local_addrs()[0]).await.unwrap();
    writer.write(b"configured");
    writer.write_eof();
    assert_eq!(reader.read_to_end().await.unwrap(), b"configured");
}

#[tulip::test]
async fn connections_have_nodelay_set_as_in_asyncio() {
    let server = start_server(
        |_r, mut w: StreamWriter| async move {
            let nodelay = w.with_transport(|half| half.as_ref().nodelay().unwrap());
            w.write(if nodelay == Some(true) { b"on" } else { b"off" });
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    let (mut reader, writer) = open_connection(server.local_addrs()[0]).await.unwrap();
    assert_eq!(reader.read_to_end().await.unwrap(), b"on");
    let client: Option<bool> = writer.with_transport(|half| half.as_ref().nodelay().unwrap());
    assert_eq!(client, Some(true));
}

// ----------------------------------------------------------------------------------------------
// Unix sockets
// ----------------------------------------------------------------------------------------------

fn socket_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("tulip-streams-{}-{name}.sock", std::process::id()))
}

#[tulip::test]
async fn unix_server_and_connection() {
    let path = socket_path("echo");
    let server = start_unix_server(
        |mut reader: UnixReader, mut writer: UnixWriter| async move {
            while let Ok(line) = reader.readline().await {
                if line.is_empty() {
                    break;
                }
                writer.write(&line);
                writer.drain().await.unwrap();
            }
        },
        &path,
    )
    .await
    .unwrap();
    assert_eq!(server.local_path(), Some(path.as_path()));
    assert!(server.local_addrs().is_empty());

    let (mut reader, mut writer) = open_unix_connection(&path).await.unwrap();
    assert_eq!(
        writer.peer_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );
    writer.write(b"over a unix socket\n");
    assert_eq!(reader.readline().await.unwrap(), b"over a unix socket\n");
    writer.close();
    writer.wait_closed().await.unwrap();

    server.close();
    server.wait_closed().await;
    assert!(!path.exists(), "close removes the socket file");
    let err = open_unix_connection(&path).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
}

#[tulip::test]
async fn unix_server_replaces_a_stale_socket_file() {
    let path = socket_path("stale");
    // A socket file left behind by an earlier run (a listener closed without unlinking).
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let server = start_unix_server(
        |_r: UnixReader, mut w: UnixWriter| async move { w.write(b"fresh") },
        &path,
    )
    .await
    .unwrap();
    let (mut reader, _w) = open_unix_connection(&path).await.unwrap();
    assert_eq!(reader.read_to_end().await.unwrap(), b"fresh");
    server.close();
}

#[tulip::test]
async fn unix_server_will_not_replace_a_regular_file() {
    let path = socket_path("regular");
    std::fs::write(&path, b"not a socket").unwrap();
    let err = start_unix_server(|_r: UnixReader, _w: UnixWriter| async {}, &path)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    assert_eq!(std::fs::read(&path).unwrap(), b"not a socket");
    std::fs::remove_file(&path).unwrap();
}
