//! `net::UdpSocket`: send_to/recv_from with datagram boundaries, connected send/recv and the
//! filtering a connect does, a receiver waiting for a datagram sent later, many datagrams
//! without loss on loopback, `try_*` with readiness, peek, options, and errors naming the
//! address.

use std::io::ErrorKind;
use std::net::SocketAddr;

use tulip::net::UdpSocket;

#[tulip::test]
async fn send_to_and_recv_from_keep_boundaries() {
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let client = UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
    let to = server.local_addr().unwrap();
    for msg in [&b"alpha"[..], b"", b"gamma"] {
        assert_eq!(client.send_to(msg, to).await.unwrap(), msg.len());
    }
    let mut buf = [0u8; 64];
    for msg in [&b"alpha"[..], b"", b"gamma"] {
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], msg);
        assert_eq!(from, client.local_addr().unwrap());
    }
    // A datagram longer than the buffer is cut; the next one is whole.
    client.send_to(&[1u8; 100], to).await.unwrap();
    client.send_to(b"tail", to).await.unwrap();
    let mut small = [0u8; 10];
    assert_eq!(server.recv_from(&mut small).await.unwrap().0, 10);
    assert_eq!(server.recv_from(&mut small).await.unwrap().0, 4);
}

#[tulip::test]
async fn a_receiver_waits_for_a_later_datagram() {
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let to = server.local_addr().unwrap();
    let waiter = tulip::spawn(async move {
        let mut buf = [0u8; 16];
        let (n, _) = server.recv_from(&mut buf).await.unwrap();
        buf[..n].to_vec()
    });
    tulip::task::yield_now().await;
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.send_to(b"late", to).await.unwrap();
    assert_eq!(waiter.await.unwrap(), b"late");
}

#[tulip::test]
async fn connected_sockets_filter_and_reply() {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    a.connect(b.local_addr().unwrap()).await.unwrap();
    b.connect(a.local_addr().unwrap()).await.unwrap();
    assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());

    // b only hears from a once connected.
    stranger
        .send_to(b"noise", b.local_addr().unwrap())
        .await
        .unwrap();
    a.send(b"signal").await.unwrap();
    let mut buf = [0u8; 16];
    let n = b.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"signal");
    b.send(b"ack").await.unwrap();
    let n = a.recv(&mut buf).await.unwrap();
    assert_eq!(&buf[..n], b"ack");
    assert_eq!(
        b.try_recv(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
}

#[tulip::test]
async fn a_thousand_datagrams_arrive_in_order() {
    // Loopback drops what overflows the receive buffer, so the receiver acknowledges every 50
    // datagrams and the sender waits for that before sending more.
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let to = server.local_addr().unwrap();
    let receiver = tulip::spawn(async move {
        let mut buf = [0u8; 8];
        let mut seen = Vec::new();
        while seen.len() < 1000 {
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            seen.push(u32::from_le_bytes(buf[..n].try_into().unwrap()));
            if seen.len() % 50 == 0 {
                server.send_to(b"ack", from).await.unwrap();
            }
        }
        seen
    });
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for i in 0..1000u32 {
        client.send_to(&i.to_le_bytes(), to).await.unwrap();
        if (i + 1) % 50 == 0 {
            let mut ack = [0u8; 3];
            let (n, from) = client.recv_from(&mut ack).await.unwrap();
            assert_eq!((&ack[..n], from), (&b"ack"[..], to));
        }
    }
    assert_eq!(receiver.await.unwrap(), (0..1000).collect::<Vec<_>>());
}

#[tulip::test]
async fn try_variants_peek_and_options() {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let me = sock.local_addr().unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(
        sock.try_recv_from(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    sock.writable().await.unwrap();
    sock.try_send_to(b"self", me).unwrap();
    sock.readable().await.unwrap();
    assert_eq!(sock.peek_from(&mut buf).await.unwrap(), (4, me));
    assert_eq!(sock.try_recv_from(&mut buf).unwrap(), (4, me));

    sock.set_broadcast(true).unwrap();
    assert!(sock.broadcast().unwrap());
    sock.set_ttl(3).unwrap();
    assert_eq!(sock.ttl().unwrap(), 3);
    assert!(sock.take_error().unwrap().is_none());
    assert!(format!("{sock:?}").contains(&me.to_string()));

    let std = sock.into_std().unwrap();
    assert_eq!(std.local_addr().unwrap(), me);
    let again = UdpSocket::from_std(std).unwrap();
    assert_eq!(again.local_addr().unwrap(), me);
}

#[tulip::test]
async fn errors_name_the_address() {
    let first = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let taken: SocketAddr = first.local_addr().unwrap();
    let err = UdpSocket::bind(taken).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
    assert!(err.to_string().contains(&taken.to_string()), "{err}");

    let err = UdpSocket::bind("not an address").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("not an address"), "{err}");

    // Sending before connecting has no peer to go to.
    let err = first.send(b"x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotConnected);
    assert!(err.to_string().contains("connect"), "{err}");
    assert_eq!(
        first.try_send(b"x").unwrap_err().kind(),
        ErrorKind::NotConnected
    );
}

#[tulip::test]
async fn a_closed_port_refuses_a_connected_socket() {
    // Bind, note the port, close: nothing listens there now.
    let gone = UdpSocket::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.connect(gone).await.unwrap();
    sock.send(b"anyone?").await.unwrap();
    // The ICMP port-unreachable comes back as an error on the connected socket.
    let err = sock.recv(&mut [0u8; 8]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);

    // The error is reported once: then the socket waits again, and hears from a live peer.
    let live = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.connect(live.local_addr().unwrap()).await.unwrap();
    let me = sock.local_addr().unwrap();
    let waiter = tulip::spawn(async move {
        let mut buf = [0u8; 8];
        let n = sock.recv(&mut buf).await.unwrap();
        buf[..n].to_vec()
    });
    for _ in 0..5 {
        tulip::task::yield_now().await;
    }
    assert!(!waiter.is_finished());
    live.send_to(b"hi", me).await.unwrap();
    assert_eq!(waiter.await.unwrap(), b"hi");
}
