//! A hand-made HTTP/1.1 server for the client tests: it parses requests itself, answers with
//! whatever bytes a test scripts (including broken ones), and counts connections, so pooling,
//! limits and timeouts can be checked exactly.

#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use tulip::net::{TcpListener, TcpStream};

/// One request as the server read it.
#[derive(Clone, Debug)]
pub(crate) struct RawRequest {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// Which connection it came on (0 for the first accepted).
    pub(crate) conn: usize,
}

impl RawRequest {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn header_count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }
}

/// What the server does for a request, step by step.
#[derive(Clone, Debug)]
pub(crate) enum Step {
    Write(Vec<u8>),
    Sleep(Duration),
    /// Close the connection (after the steps before it).
    Close,
    /// Stop answering; keep the connection open.
    Hang,
}

type Handler = Rc<dyn Fn(&RawRequest) -> Vec<Step>>;

#[derive(Default)]
struct Counters {
    accepted: Cell<usize>,
    open: Cell<usize>,
    max_open: Cell<usize>,
    /// Connections the client closed (EOF seen by the server).
    client_closed: Cell<usize>,
    requests: RefCell<Vec<RawRequest>>,
}

pub(crate) struct RawServer {
    pub(crate) addr: SocketAddr,
    counters: Rc<Counters>,
}

impl RawServer {
    /// Starts a server on 127.0.0.1 answering each request with `handler`'s steps.
    pub(crate) async fn start(handler: impl Fn(&RawRequest) -> Vec<Step> + 'static) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let counters = Rc::new(Counters::default());
        let handler: Handler = Rc::new(handler);
        let c = counters.clone();
        tulip::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let index = c.accepted.get();
                c.accepted.set(index + 1);
                c.open.set(c.open.get() + 1);
                c.max_open.set(c.max_open.get().max(c.open.get()));
                tulip::spawn(serve(stream, index, c.clone(), handler.clone())).detach();
            }
        })
        .detach();
        RawServer { addr, counters }
    }

    /// A server answering every request with `reply`.
    pub(crate) async fn fixed(reply: Vec<u8>) -> RawServer {
        RawServer::start(move |_| vec![Step::Write(reply.clone())]).await
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub(crate) fn accepted(&self) -> usize {
        self.counters.accepted.get()
    }

    pub(crate) fn open(&self) -> usize {
        self.counters.open.get()
    }

    pub(crate) fn max_open(&self) -> usize {
        self.counters.max_open.get()
    }

    pub(crate) fn client_closed(&self) -> usize {
        self.counters.client_closed.get()
    }

    pub(crate) fn requests(&self) -> Vec<RawRequest> {
        self.counters.requests.borrow().clone()
    }

    pub(crate) fn last_request(&self) -> RawRequest {
        self.counters.requests.borrow().last().cloned().unwrap()
    }
}

async fn serve(mut stream: TcpStream, conn: usize, counters: Rc<Counters>, handler: Handler) {
    let mut buf = Vec::new();
    loop {
        let request = match read_request(&mut stream, &mut buf, conn).await {
            Some(request) => request,
            None => {
                counters.client_closed.set(counters.client_closed.get() + 1);
                break;
            }
        };
        counters.requests.borrow_mut().push(request.clone());
        let mut keep = true;
        for step in handler(&request) {
            match step {
                Step::Write(bytes) => {
                    if stream.write_all(&bytes).await.is_err() {
                        keep = false;
                        break;
                    }
                }
                Step::Sleep(d) => tulip::time::sleep(d).await,
                Step::Close => {
                    keep = false;
                    break;
                }
                Step::Hang => {
                    // Until the client goes away.
                    let mut sink = [0u8; 1024];
                    while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
                    counters.client_closed.set(counters.client_closed.get() + 1);
                    keep = false;
                    break;
                }
            }
        }
        if !keep {
            break;
        }
    }
    counters.open.set(counters.open.get() - 1);
}

/// Reads one request (head and Content-Length body); `None` at EOF.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    conn: usize,
) -> Option<RawRequest> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < len {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = buf.drain(..len).collect();
    Some(RawRequest {
        method,
        target,
        headers,
        body,
        conn,
    })
}

/// A complete response: status line, headers, and a Content-Length body.
pub(crate) fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// `200 OK` with a text body.
pub(crate) fn ok(body: &str) -> Vec<u8> {
    response("200 OK", &[("Content-Type", "text/plain")], body.as_bytes())
}

/// A redirect to `location`.
pub(crate) fn redirect(status: &str, location: &str) -> Vec<u8> {
    response(status, &[("Location", location)], b"")
}

/// A runtime on the test clock.
pub(crate) fn test_clock() -> tulip::Runtime {
    tulip::Runtime::builder().test_clock().build().unwrap()
}
