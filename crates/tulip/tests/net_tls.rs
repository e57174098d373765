//! TLS over tulip's TCP streams: a handshake against a test CA, data both ways in large
//! amounts, ALPN, and the failures a user must be able to tell apart — an untrusted
//! certificate, the wrong host name, an invalid server name, bad PEM — each a typed error whose
//! message names what failed; and verification turned off only through the loudly named option.

mod support;

use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use support::watchdog;
use tulip::net::{TcpListener, TcpStream, TlsAcceptor, TlsConnector};

struct Identity {
    cert_pem: String,
    key_pem: String,
}

fn identity(names: &[&str]) -> Identity {
    let names = names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    let cert = rcgen::generate_simple_self_signed(names).unwrap();
    Identity {
        cert_pem: cert.cert.pem(),
        key_pem: cert.signing_key.serialize_pem(),
    }
}

fn trusting(id: &Identity) -> TlsConnector {
    TlsConnector::builder()
        .add_root_certificates_pem(id.cert_pem.as_bytes())
        .unwrap()
        .build()
        .unwrap()
}

/// A server that accepts one TLS connection and echoes until the client closes; returns what
/// the handshake or echo gave.
async fn echo_once(
    acceptor: TlsAcceptor,
) -> (std::net::SocketAddr, tulip::Task<std::io::Result<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tulip::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let mut tls = acceptor.accept(tcp).await?;
        let mut total = 0;
        let mut buf = vec![0; 16 * 1024];
        loop {
            let n = tls.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            total += n;
            tls.write_all(&buf[..n]).await?;
        }
        tls.close().await?;
        Ok(total)
    });
    (addr, task)
}

#[tulip::test]
async fn a_megabyte_goes_both_ways() {
    let _watch = watchdog("tls megabyte");
    let id = identity(&["localhost"]);
    let acceptor = TlsAcceptor::from_pem(id.cert_pem.as_bytes(), id.key_pem.as_bytes()).unwrap();
    let (addr, server) = echo_once(acceptor).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let tls = trusting(&id).connect("localhost", tcp).await.unwrap();
    assert!(tls.protocol_version().unwrap().contains("TLSv1_3"));
    assert!(tls.peer_certificates().is_some_and(|c| c.len() == 1));
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    // Write and read at the same time so neither side's buffers fill up.
    let (mut reader, mut writer) = futures_lite::io::split(tls);
    let sent = data.clone();
    let writing = tulip::spawn(async move {
        writer.write_all(&sent).await.unwrap();
        writer.close().await.unwrap();
    });
    let mut echoed = Vec::new();
    reader.read_to_end(&mut echoed).await.unwrap();
    writing.await.unwrap();
    assert_eq!(echoed.len(), data.len());
    assert!(echoed == data);
    assert_eq!(server.await.unwrap().unwrap(), data.len());
}

#[tulip::test]
async fn alpn_picks_the_servers_preference_among_the_clients() {
    let id = identity(&["localhost"]);
    let acceptor = TlsAcceptor::with_alpn(
        id.cert_pem.as_bytes(),
        id.key_pem.as_bytes(),
        &[b"h2", b"http/1.1"],
    )
    .unwrap();
    let (addr, server) = echo_once(acceptor).await;
    let connector = TlsConnector::builder()
        .add_root_certificates_pem(id.cert_pem.as_bytes())
        .unwrap()
        .alpn_protocols(&[b"http/1.1", b"h2"])
        .build()
        .unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut tls = connector.connect("localhost", tcp).await.unwrap();
    assert_eq!(tls.alpn_protocol(), Some(&b"h2"[..]));
    tls.close().await.unwrap();
    assert_eq!(server.await.unwrap().unwrap(), 0);
}

#[tulip::test]
async fn an_untrusted_certificate_is_refused_by_default() {
    let id = identity(&["localhost"]);
    let acceptor = TlsAcceptor::from_pem(id.cert_pem.as_bytes(), id.key_pem.as_bytes()).unwrap();
    let (addr, server) = echo_once(acceptor).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    // Mozilla's roots only: a self-signed certificate is not among them.
    let err = TlsConnector::new()
        .connect("localhost", tcp)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    let message = err.to_string();
    assert!(
        message.contains("TLS handshake with `localhost` failed"),
        "{message}"
    );
    assert!(message.to_lowercase().contains("certificate"), "{message}");
    assert!(
        server.await.unwrap().is_err(),
        "the server sees the handshake fail too"
    );
}

#[tulip::test]
async fn the_wrong_host_name_is_refused() {
    let id = identity(&["localhost"]);
    let acceptor = TlsAcceptor::from_pem(id.cert_pem.as_bytes(), id.key_pem.as_bytes()).unwrap();
    let (addr, _server) = echo_once(acceptor).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let err = trusting(&id).connect("example.com", tcp).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("`example.com`"), "{err}");
}

#[tulip::test]
async fn verification_is_off_only_when_asked_loudly() {
    let id = identity(&["some-other-name"]);
    let acceptor = TlsAcceptor::from_pem(id.cert_pem.as_bytes(), id.key_pem.as_bytes()).unwrap();
    let (addr, server) = echo_once(acceptor).await;
    let insecure = TlsConnector::builder()
        .dangerous_disable_certificate_verification()
        .build()
        .unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut tls = insecure.connect("localhost", tcp).await.unwrap();
    tls.write_all(b"ping").await.unwrap();
    let mut buf = [0; 4];
    tls.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
    tls.close().await.unwrap();
    assert_eq!(server.await.unwrap().unwrap(), 4);
}

#[tulip::test]
async fn a_client_that_is_not_speaking_tls_fails_the_accept() {
    let id = identity(&["localhost"]);
    let acceptor = TlsAcceptor::from_pem(id.cert_pem.as_bytes(), id.key_pem.as_bytes()).unwrap();
    let (addr, server) = echo_once(acceptor).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
    let err = server.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(
        err.to_string()
            .contains("TLS handshake with a client failed"),
        "{err}"
    );
}

#[tulip::test]
async fn an_invalid_server_name_is_invalid_input() {
    let id = identity(&["localhost"]);
    let acceptor = TlsAcceptor::from_pem(id.cert_pem.as_bytes(), id.key_pem.as_bytes()).unwrap();
    let (addr, _server) = echo_once(acceptor).await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let err = trusting(&id).connect("not a host!", tcp).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("`not a host!`"), "{err}");
}

#[test]
fn bad_pem_is_reported_plainly() {
    let id = identity(&["localhost"]);
    let other = identity(&["localhost"]);
    let no_cert = TlsAcceptor::from_pem(b"", id.key_pem.as_bytes()).unwrap_err();
    assert!(
        no_cert.to_string().contains("no `BEGIN CERTIFICATE`"),
        "{no_cert}"
    );
    let no_key = TlsAcceptor::from_pem(id.cert_pem.as_bytes(), b"").unwrap_err();
    assert!(no_key.to_string().contains("private key"), "{no_key}");
    let mismatch =
        TlsAcceptor::from_pem(id.cert_pem.as_bytes(), other.key_pem.as_bytes()).unwrap_err();
    assert!(
        mismatch.to_string().contains("cannot be used together"),
        "{mismatch}"
    );
    let roots = TlsConnector::builder()
        .add_root_certificates_pem(
            b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n",
        )
        .unwrap_err();
    assert_eq!(roots.kind(), std::io::ErrorKind::InvalidInput);
}

#[tulip::test]
async fn a_tls_server_survives_a_client_that_fails_the_handshake() {
    let _watch = watchdog("tls server");
    let id = identity(&["localhost"]);
    let acceptor = TlsAcceptor::from_pem(id.cert_pem.as_bytes(), id.key_pem.as_bytes()).unwrap();
    let server = tulip::net::start_tls_server(
        |mut reader, mut writer| async move {
            while let Ok(line) = reader.readline().await {
                if line.is_empty() {
                    break;
                }
                writer.write(&line.to_ascii_uppercase());
            }
            writer.close();
            let _ = writer.wait_closed().await;
        },
        "127.0.0.1:0",
        acceptor,
    )
    .await
    .unwrap();
    let port = server.local_addrs()[0].port();
    // A plain-text client: its handshake fails, the server carries on.
    let mut plain = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    plain.write_all(b"hello?\r\n\r\n").await.unwrap();
    let mut rest = Vec::new();
    let _ = plain.read_to_end(&mut rest).await;
    // A TLS client is served, and its peer address is the server's.
    let (mut reader, mut writer) =
        tulip::net::open_tls_connection("localhost", port, &trusting(&id))
            .await
            .unwrap();
    assert_eq!(writer.peer_addr().unwrap().port(), port);
    writer.write(b"quiet\n");
    assert_eq!(reader.readline().await.unwrap(), b"QUIET\n");
    writer.close();
    writer.wait_closed().await.unwrap();
    assert_eq!(reader.read_to_end().await.unwrap(), b"");
    server.close();
    server.wait_closed().await;
}

#[tulip::test]
async fn start_tls_refuses_when_plain_bytes_are_still_buffered() {
    let id = identity(&["localhost"]);
    let server = tulip::net::start_server(
        |_reader, mut writer| async move {
            writer.write(b"220 ready\r\nextra");
            let _ = writer.drain().await;
        },
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    let (mut reader, writer) = tulip::net::open_connection(server.local_addrs()[0])
        .await
        .unwrap();
    assert_eq!(reader.readline().await.unwrap(), b"220 ready\r\n");
    // "extra" came in the same segment as the greeting and sits in the reader's buffer.
    assert_eq!(reader.buffer(), b"extra");
    let err = tulip::net::start_tls(reader, writer, "localhost", &trusting(&id))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("5 byte(s)"), "{err}");
}
