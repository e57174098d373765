//! Getting a connection for a request: a shared HTTP/2 connection, an idle HTTP/1.1 one, or a
//! new one (name lookup, TCP connect, TLS with ALPN, hyper's handshake) — aiohttp's
//! `TCPConnector.connect` — and holding it until the response body ends.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use hyper::client::conn::{http1, http2};
use tulip::net::{TcpStream, TlsConnector};

use super::pool::{H1Conn, H2Use, Key, Pool, ReqBody, Slot};
use super::timeout::{Deadline, within};
use crate::rt::{TulipExecutor, TulipIo, TulipTimer};
use crate::{Error, ErrorKind, Result, TimeoutKind};

/// A connection ready for one request.
pub(crate) enum Checkout {
    H1 {
        conn: H1Conn,
        slot: Slot,
    },
    H2 {
        sender: http2::SendRequest<ReqBody>,
        used: H2Use,
    },
}

/// What a response holds on to until its body ends: the connection goes back to the pool then
/// (HTTP/1.1), or the shared connection's count of requests in flight drops (HTTP/2). Dropped
/// before that, an HTTP/1.1 connection is closed, since it is in the middle of a response.
pub(crate) enum Lease {
    H1 {
        conn: Option<H1Conn>,
        slot: Option<Slot>,
        key: Key,
        pool: Pool,
        reusable: bool,
    },
    H2(Option<H2Use>),
}

impl Lease {
    /// The body was read to its end: the connection may serve another request.
    pub(crate) fn release(&mut self) {
        match self {
            Lease::H1 {
                conn,
                slot,
                key,
                pool,
                reusable,
            } => {
                if let Some(conn) = conn.take() {
                    if *reusable {
                        pool.put_idle(key, conn);
                    }
                }
                // After the connection is idle, so that the waiter the slot goes to finds it.
                drop(slot.take());
            }
            Lease::H2(used) => drop(used.take()),
        }
    }
}

/// A new connection, before the pool knows of it.
enum Connected {
    H1(H1Conn),
    H2 {
        sender: http2::SendRequest<ReqBody>,
        driver: Pin<Box<dyn Future<Output = ()>>>,
    },
}

/// Where and how to connect.
pub(crate) struct Target<'a> {
    pub(crate) key: &'a Key,
    pub(crate) url: &'a str,
    pub(crate) tls: &'a TlsConnector,
    /// `connect`: the wait for a slot plus the connect.
    pub(crate) connect: Option<Deadline>,
    /// `sock_connect`: TCP and TLS of a new connection.
    pub(crate) sock_connect: Option<Duration>,
}

/// A connection for a request to `target`: the shared HTTP/2 one, else (once a slot is free)
/// the most recent idle one, else a new one. `fresh` skips the idle ones. The `bool` says
/// whether the connection served requests before.
pub(crate) async fn checkout(
    pool: &Pool,
    target: &Target<'_>,
    fresh: bool,
) -> Result<(Checkout, bool)> {
    let key = target.key;
    if key.https && !fresh {
        if let Some((sender, used)) = pool.h2_get(key) {
            return Ok((Checkout::H2 { sender, used }, true));
        }
    }
    let slot = within(target.connect, target.url, pool.acquire(key))
        .await?
        .map_err(|_| Error::bare(ErrorKind::Closed, target.url))?;
    if key.https && !fresh {
        // Made while this request waited for its slot.
        if let Some((sender, used)) = pool.h2_get(key) {
            return Ok((Checkout::H2 { sender, used }, true));
        }
    }
    if !fresh {
        while let Some(mut conn) = pool.take_idle(key) {
            if within(target.connect, target.url, conn.sender.ready())
                .await?
                .is_ok()
            {
                pool.count_reused();
                return Ok((Checkout::H1 { conn, slot }, true));
            }
        }
    }
    pool.make_room_for_new();
    // Boxed: the connect path (DNS, TCP, TLS, the HTTP/1 and HTTP/2 handshakes) is large, and
    // inline it made every request's future ~31 KB, moved several times per request even when
    // a pooled connection is reused (30 % of the client's instructions).
    let connected = within(target.connect, target.url, Box::pin(connect(target))).await??;
    pool.count_opened();
    Ok(match connected {
        Connected::H1(conn) => (Checkout::H1 { conn, slot }, false),
        Connected::H2 { sender, driver } => {
            let (id, used) = pool.h2_insert(key, &sender);
            let weak = pool.weak();
            let owner = key.clone();
            let task = tulip::spawn(async move {
                driver.await;
                // The HTTP/2 connection held its slot for as long as it was open.
                drop(slot);
                if let Some(id) = id {
                    Pool::h2_remove(&weak, &owner, id);
                }
            });
            match id {
                Some(id) => pool.h2_set_task(key, id, task),
                None => task.detach(),
            }
            (Checkout::H2 { sender, used }, false)
        }
    })
}

/// Makes a new connection: name lookup (under `connect` only, as in aiohttp), then the TCP
/// connect and the TLS handshake under `sock_connect`.
async fn connect(target: &Target<'_>) -> Result<Connected> {
    let key = target.key;
    let url = target.url;
    let addrs = tulip::net::lookup_host(&key.host, key.port)
        .await
        .map_err(|e| Error::with_source(ErrorKind::Dns, url, e))?;
    let sock = Deadline::earliest(
        target.connect,
        Deadline::starting_now(TimeoutKind::SockConnect, target.sock_connect),
    );
    let tcp = within(sock, url, TcpStream::connect(addrs))
        .await?
        .map_err(|e| Error::with_source(ErrorKind::Connect, url, e))?;
    // Requests are written whole; waiting for ACKs (Nagle) only adds latency.
    let _ = tcp.set_nodelay(true);
    if !key.https {
        return Ok(Connected::H1(
            http1_handshake(TulipIo::new(tcp), url).await?,
        ));
    }
    let name = key
        .host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(&key.host);
    let tls = within(sock, url, target.tls.connect(name, tcp))
        .await?
        .map_err(|e| Error::with_source(ErrorKind::Tls, url, e))?;
    if tls.alpn_protocol() == Some(b"h2") {
        let (sender, conn) = http2::Builder::new(TulipExecutor)
            .timer(TulipTimer)
            .handshake(TulipIo::new(tls))
            .await
            .map_err(|e| Error::with_source(ErrorKind::Protocol, url, e))?;
        let driver = Box::pin(async move {
            // How the connection ended matters to no one: its requests saw their own errors.
            let _ = conn.await;
        });
        return Ok(Connected::H2 { sender, driver });
    }
    Ok(Connected::H1(
        http1_handshake(TulipIo::new(tls), url).await?,
    ))
}

async fn http1_handshake<T>(io: TulipIo<T>, url: &str) -> Result<H1Conn>
where
    T: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin + 'static,
{
    let (sender, conn) = http1::Builder::new()
        .handshake(io)
        .await
        .map_err(|e| Error::with_source(ErrorKind::Protocol, url, e))?;
    let task = tulip::spawn(async move {
        // As above: a broken connection is reported to the request that was using it.
        let _ = conn.await;
    });
    Ok(H1Conn {
        sender,
        task: Some(task),
    })
}
