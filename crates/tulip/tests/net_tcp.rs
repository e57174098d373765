//! `net::TcpListener` / `TcpStream`: echo round trips of small and large messages, 500
//! concurrent connections on one loop, half-close, owned halves in two tasks and `reunite`,
//! borrowed halves, `try_read`/`try_write` with readiness, listener options, `from_std` /
//! `into_std`, and futures-io interop through `futures_lite::io`.

use std::io::{ErrorKind, IoSlice};
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use futures_lite::StreamExt;
use futures_lite::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tulip::net::{TcpListener, TcpStream};

/// A server that echoes every connection until its peer shuts down, each in its own task.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tulip::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tulip::spawn(async move {
                let (mut rd, mut wr) = stream.into_split();
                futures_lite::io::copy(&mut rd, &mut wr).await.unwrap();
            })
            .detach();
        }
    })
    .detach();
    addr
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// A connected client and the server side of it, on a fresh loopback listener.
async fn connected_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

#[tulip::test]
async fn echo_round_trips_of_every_size() {
    let addr = echo_server().await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    for len in [1, 100, 1024, 64 * 1024] {
        let sent = pattern(len);
        client.write_all(&sent).await.unwrap();
        let mut got = vec![0u8; len];
        client.read_exact(&mut got).await.unwrap();
        assert_eq!(got, sent, "echo of {len} bytes");
    }
}

#[tulip::test]
async fn large_transfer_in_both_directions_at_once() {
    // 8 MiB each way: far more than the socket buffers, so writes come back short and block,
    // and reads find the buffer empty many times over.
    let addr = echo_server().await;
    let client = TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = client.into_split();
    let sent = pattern(8 << 20);
    let expected = sent.clone();
    let writer = tulip::spawn(async move {
        wr.write_all(&sent).await.unwrap();
        wr.close().await.unwrap();
    });
    let mut got = Vec::new();
    rd.read_to_end(&mut got).await.unwrap();
    writer.await.unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "the echoed bytes differ");
}

#[tulip::test]
async fn five_hundred_concurrent_connections_on_one_loop() {
    let addr = echo_server().await;
    let clients: Vec<_> = (0..500u32)
        .map(|i| {
            tulip::spawn(async move {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                for round in 0..10u32 {
                    let msg = format!("client {i} round {round}\n");
                    stream.write_all(msg.as_bytes()).await.unwrap();
                    let mut got = vec![0u8; msg.len()];
                    stream.read_exact(&mut got).await.unwrap();
                    assert_eq!(got, msg.as_bytes());
                }
                i
            })
        })
        .collect();
    let mut done = Vec::new();
    for client in clients {
        done.push(client.await.unwrap());
    }
    assert_eq!(done, (0..500).collect::<Vec<_>>());
}

#[tulip::test]
async fn half_close_lets_the_other_direction_go_on() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (mut server, _) = listener.accept().await.unwrap();

    client.write_all(b"request").await.unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut request = Vec::new();
    server.read_to_end(&mut request).await.unwrap();
    assert_eq!(request, b"request");
    // Reading again at end of stream keeps saying 0, without waiting.
    assert_eq!(server.read(&mut [0u8; 8]).await.unwrap(), 0);

    // The server can still answer after the client's EOF, then close its side too.
    server.write_all(b"response").await.unwrap();
    server.close().await.unwrap();
    let mut response = Vec::new();
    client.read_to_end(&mut response).await.unwrap();
    assert_eq!(response, b"response");
}

#[tulip::test]
async fn owned_halves_work_from_two_tasks_and_reunite() {
    let (client, server) = connected_pair().await;
    let (mut srd, mut swr) = server.into_split();
    // Server: a reader task that forwards what it reads, uppercased, to a writer task.
    let tx = tulip::queue::Queue::<Vec<u8>>::new();
    let rx = tx.clone();
    let reader = tulip::spawn(async move {
        let mut buf = [0u8; 64];
        loop {
            let n = srd.read(&mut buf).await.unwrap();
            tx.put(buf[..n].to_ascii_uppercase()).await.unwrap();
            if n == 0 {
                return srd;
            }
        }
    });
    let writer = tulip::spawn(async move {
        loop {
            let chunk = rx.get().await.unwrap();
            if chunk.is_empty() {
                return swr;
            }
            swr.write_all(&chunk).await.unwrap();
        }
    });

    let (mut crd, mut cwr) = client.into_split();
    cwr.write_all(b"hello halves").await.unwrap();
    let mut got = [0u8; 12];
    crd.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"HELLO HALVES");
    let client = crd.reunite(cwr).unwrap();
    client.shutdown(Shutdown::Write).unwrap();

    let srd = reader.await.unwrap();
    let swr = writer.await.unwrap();
    let server = srd.reunite(swr).unwrap();
    assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
}

#[tulip::test]
async fn an_accepted_connection_that_fills_its_send_buffer_is_woken_when_it_drains() {
    // Accepted sockets ask for write readiness only once a write would block: this write
    // blocks many times over, and each time the reader's progress must wake it.
    let (mut client, mut server) = connected_pair().await;
    let payload: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let expected = payload.clone();
    let writer = tulip::spawn(async move {
        server.write_all(&payload).await.unwrap();
        server.shutdown(Shutdown::Write).unwrap();
    });
    // Let the writer fill the buffers and park before anything is read.
    tulip::task::yield_now().await;
    tulip::task::yield_now().await;
    let mut received = Vec::new();
    // A lost wake-up would hang here: fail instead.
    tulip::time::wait_for(Duration::from_secs(60), client.read_to_end(&mut received))
        .await
        .expect("the writer was never woken to send the rest")
        .unwrap();
    writer.await.unwrap();
    assert!(
        received == expected,
        "{} bytes of {}",
        received.len(),
        expected.len()
    );
}

#[tulip::test]
async fn dropping_the_owned_write_half_sends_eof() {
    let (client, mut server) = connected_pair().await;
    let (crd, cwr) = client.into_split();
    drop(cwr);
    let mut rest = Vec::new();
    server.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
    // The read half still works: the server can answer.
    server.write_all(b"bye").await.unwrap();
    let mut crd = crd;
    let mut got = [0u8; 3];
    crd.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"bye");
}

#[tulip::test]
async fn dropping_the_read_half_then_the_write_half_closes_with_eof() {
    let (client, mut server) = connected_pair().await;
    let (crd, mut cwr) = client.into_split();
    cwr.write_all(b"last words").await.unwrap();
    drop(crd);
    drop(cwr); // the last half: the socket closes, no shutdown first
    let mut rest = Vec::new();
    server.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"last words");
}

#[tulip::test]
async fn reuniting_halves_of_different_streams_gives_them_back() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let b = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (a_rd, a_wr) = a.into_split();
    let (b_rd, b_wr) = b.into_split();
    let err = a_rd.reunite(b_wr).unwrap_err();
    let (a_rd, b_wr) = (err.0, err.1);
    assert!(a_rd.reunite(a_wr).is_ok());
    assert!(b_rd.reunite(b_wr).is_ok());
}

#[tulip::test]
async fn borrowed_halves_read_and_write_at_once() {
    let addr = echo_server().await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = client.split();
    let sent = pattern(1 << 20);
    let (written, got) = futures_lite::future::zip(
        async {
            wr.write_all(&sent).await.unwrap();
            wr.close().await
        },
        async {
            let mut got = Vec::new();
            rd.read_to_end(&mut got).await.map(|_| got)
        },
    )
    .await;
    written.unwrap();
    assert!(got.unwrap() == sent);
}

#[tulip::test]
async fn try_read_and_try_write_follow_readiness() {
    let (client, server) = connected_pair().await;
    let mut buf = [0u8; 16];
    assert_eq!(
        server.try_read(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    client.writable().await.unwrap();
    let n = client
        .try_write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cd")])
        .unwrap();
    assert_eq!(n, 4);
    let mut got = Vec::new();
    while got.len() < 4 {
        server.readable().await.unwrap();
        match server.try_read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(e) => panic!("try_read failed: {e}"),
        }
    }
    assert_eq!(got, b"abcd");
}

#[tulip::test]
async fn a_read_waits_for_data_that_comes_later() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (mut server, _) = listener.accept().await.unwrap();
    let reader = tulip::spawn(async move {
        let mut got = Vec::new();
        let mut buf = [0u8; 3];
        for _ in 0..3 {
            let n = server.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        got
    });
    for chunk in [&b"one"[..], b"two", b"six"] {
        tulip::time::sleep(Duration::from_millis(2)).await;
        client.write_all(chunk).await.unwrap();
    }
    assert_eq!(reader.await.unwrap(), b"onetwosix");
}

#[tulip::test]
async fn stream_options_and_addresses() {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = TcpStream::connect(addr).await.unwrap();
    let (server, peer) = listener.accept().await.unwrap();
    assert_eq!(client.peer_addr().unwrap(), addr);
    assert_eq!(client.local_addr().unwrap(), peer);
    assert_eq!(server.peer_addr().unwrap(), peer);
    client.set_nodelay(true).unwrap();
    assert!(client.nodelay().unwrap());
    client.set_nodelay(false).unwrap();
    assert!(!client.nodelay().unwrap());
    client.set_keepalive(Some(Duration::from_secs(30))).unwrap();
    assert!(client.keepalive().unwrap());
    client.set_keepalive(None).unwrap();
    assert!(!client.keepalive().unwrap());
    assert!(client.take_error().unwrap().is_none());
    let debug = format!("{client:?}");
    assert!(
        debug.contains("TcpStream") && debug.contains(&addr.to_string()),
        "{debug}"
    );
    let debug = format!("{listener:?}");
    assert!(debug.contains(&addr.to_string()), "{debug}");
}

#[tulip::test]
async fn listener_options() {
    // SO_REUSEPORT lets two listeners share a port.
    let a = TcpListener::builder()
        .reuse_port(true)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = a.local_addr().unwrap();
    let b = TcpListener::builder()
        .reuse_port(true)
        .bind(addr)
        .await
        .unwrap();
    assert_eq!(b.local_addr().unwrap(), addr);
    // Without it the port is taken, and the error names the address.
    let err = TcpListener::bind(addr).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

#[tulip::test]
async fn listener_rebinds_while_old_connections_linger() {
    // SO_REUSEADDR (the default) lets a restarted server bind while a connection from its
    // previous life is in TIME_WAIT.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut client = TcpStream::connect(addr).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    drop(server); // the server closes first: its side goes to TIME_WAIT
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).await.unwrap();
    drop(client);
    drop(listener);
    let again = TcpListener::bind(addr).await.unwrap();
    assert_eq!(again.local_addr().unwrap(), addr);
}

#[tulip::test]
async fn std_conversions_keep_the_socket() {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    let listener = TcpListener::from_std(std_listener).unwrap();
    let std_client = std::net::TcpStream::connect(addr).unwrap();
    let mut client = TcpStream::from_std(std_client).unwrap();
    let (server, _) = listener.accept().await.unwrap();
    let mut std_server = server.into_std().unwrap();
    std_server.set_nonblocking(false).unwrap();
    std::io::Write::write_all(&mut std_server, b"from std").unwrap();
    let mut got = [0u8; 8];
    client.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"from std");
    let std_listener = listener.into_std().unwrap();
    assert_eq!(std_listener.local_addr().unwrap(), addr);
}

#[tulip::test]
async fn futures_io_interop_with_buffered_lines_and_copy() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tulip::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut lines = BufReader::new(&stream).lines();
        let mut count = 0;
        while let Some(line) = lines.next().await {
            let line = line.unwrap();
            assert_eq!(line, format!("line {count}"));
            count += 1;
        }
        count
    });
    let mut client = TcpStream::connect(addr).await.unwrap();
    let text: String = (0..1000).map(|i| format!("line {i}\n")).collect();
    let copied = futures_lite::io::copy(text.as_bytes(), &mut client)
        .await
        .unwrap();
    assert_eq!(copied, text.len() as u64);
    client.close().await.unwrap();
    assert_eq!(server.await.unwrap(), 1000);
}

#[tulip::test]
async fn accept_is_cancel_safe() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // An accept that times out takes nothing from the queue.
    let timed_out = tulip::time::wait_for(Duration::from_millis(1), listener.accept()).await;
    assert!(timed_out.is_err());
    let _client = TcpStream::connect(addr).await.unwrap();
    let (_, peer) = listener.accept().await.unwrap();
    assert!(peer.ip().is_loopback());
}

#[tulip::test]
async fn readable_waits_for_data_on_a_fresh_stream() {
    let (client, server) = connected_pair().await;
    let woke = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = woke.clone();
    let waiter = tulip::spawn(async move {
        server.readable().await.unwrap();
        flag.set(true);
        let mut buf = [0u8; 8];
        server.try_read(&mut buf).map(|n| buf[..n].to_vec())
    });
    for _ in 0..10 {
        tulip::task::yield_now().await;
    }
    assert!(!woke.get(), "readable() returned before any data came");
    client.try_write(b"now").unwrap();
    assert_eq!(waiter.await.unwrap().unwrap(), b"now");
}
