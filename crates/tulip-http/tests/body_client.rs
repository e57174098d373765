//! The body helpers seen through a `ClientSession` against a hand-made server: content decoding
//! (gzip, x-gzip, zlib and raw deflate, brotli, stacked codings, over chunked transfer encoding;
//! unsupported, corrupt and truncated bodies as `ErrorKind::Decode`), the charset of `text()`
//! (header, meta tag, BOM, UTF-8 with replacement), and the cookie jar (off by default; storing,
//! sending, redirects, deletion).

use std::io::Write;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use tulip::net::{TcpListener, TcpStream};
use tulip::task::Task;
use tulip_http::{ClientSession, ClientTimeout, CookieJar, ErrorKind, Url};

/// Makes the whole response to a request.
type Route = Rc<dyn Fn(&Request) -> Vec<u8>>;

/// A keep-alive HTTP/1.1 server whose answers are made by a function of the request head.
struct Server {
    addr: SocketAddr,
    _accept: Task<()>,
}

impl Server {
    async fn start(route: impl Fn(&Request) -> Vec<u8> + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let route: Route = Rc::new(route);
        let accept = tulip::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tulip::spawn(serve(stream, route.clone())).detach();
            }
        });
        Server {
            addr,
            _accept: accept,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// A request head.
struct Request {
    path: String,
    head: String,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

async fn serve(mut stream: TcpStream, route: Route) {
    let mut buffered = Vec::new();
    loop {
        let Some(end) = buffered.windows(4).position(|w| w == b"\r\n\r\n") else {
            let mut buf = [0; 4096];
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buffered.extend_from_slice(&buf[..n]),
            }
            continue;
        };
        let head = String::from_utf8_lossy(&buffered[..end]).into_owned();
        buffered.drain(..end + 4);
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let reply = route(&Request { path, head });
        if stream.write_all(&reply).await.is_err() {
            return;
        }
    }
}

/// A response with these header lines (`\n`-separated) and body, with its Content-Length.
fn response(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n", body.len()).into_bytes();
    for line in headers.lines().filter(|l| !l.is_empty()) {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn session() -> ClientSession {
    ClientSession::builder()
        .timeout(ClientTimeout::new().total(Duration::from_secs(60)))
        .build()
}

fn text_sample() -> Vec<u8> {
    (0..20_000)
        .map(|i| format!("line {i}: the quick brown fox\n"))
        .collect::<String>()
        .into_bytes()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut e = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        e.write_all(data).unwrap();
    }
    out
}

/// The body in chunked transfer encoding, in chunks of `size` bytes.
fn chunked(body: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in body.chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Each path serves the sample in one coding.
async fn coding_server() -> Server {
    Server::start(|req| {
        let data = text_sample();
        let (coding, body) = match req.path.as_str() {
            "/gzip" => ("gzip", gzip(&data)),
            "/x-gzip" => ("x-gzip", gzip(&data)),
            "/zlib" => ("deflate", zlib(&data)),
            "/raw-deflate" => ("deflate", raw_deflate(&data)),
            "/br" => ("br", brotli(&data)),
            "/stacked" => ("gzip, br", brotli(&gzip(&data))),
            "/chunked-gzip" => {
                let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n".to_vec();
                out.extend_from_slice(b"Content-Encoding: gzip\r\n\r\n");
                out.extend_from_slice(&chunked(&gzip(&data), 100));
                return out;
            }
            "/zstd" => ("zstd", b"(zstd bytes)".to_vec()),
            "/corrupt" => {
                let mut body = gzip(&data);
                let middle = body.len() / 2;
                body[middle..middle + 64].fill(0xff);
                ("gzip", body)
            }
            "/truncated" => {
                let body = gzip(&data);
                ("gzip", body[..body.len() - 10].to_vec())
            }
            "/empty" => ("gzip", Vec::new()),
            _ => ("identity", data),
        };
        response(&format!("Content-Encoding: {coding}"), &body)
    })
    .await
}

#[tulip::test]
async fn every_coding_decodes_to_the_same_text() {
    let server = coding_server().await;
    let session = session();
    let want = String::from_utf8(text_sample()).unwrap();
    for path in [
        "/identity",
        "/gzip",
        "/x-gzip",
        "/zlib",
        "/raw-deflate",
        "/br",
        "/stacked",
        "/chunked-gzip",
    ] {
        let response = session.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.text().await.unwrap(), want, "{path}");

        // Streamed, the pieces make the same bytes.
        let mut response = session.get(server.url(path)).send().await.unwrap();
        let mut streamed = Vec::new();
        while let Some(chunk) = response.chunk().await.unwrap() {
            streamed.extend_from_slice(&chunk);
        }
        assert_eq!(streamed, want.as_bytes(), "{path} streamed");
    }
    let empty = session.get(server.url("/empty")).send().await.unwrap();
    assert_eq!(empty.bytes().await.unwrap().len(), 0);
}

#[tulip::test]
async fn bodies_that_do_not_decode_are_decode_errors() {
    let server = coding_server().await;
    let session = session();
    for (path, words) in [
        ("/zstd", "zstd"),
        ("/corrupt", ""),
        ("/truncated", "truncated"),
    ] {
        let url = server.url(path);
        let response = session.get(&url).send().await.unwrap();
        let err = response.bytes().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Decode, "{path}: {err}");
        assert_eq!(err.url(), url);
        let message = err.to_string();
        assert!(
            message.contains(&url) && message.contains(words),
            "{message}"
        );
    }
    // The session is still fine.
    let response = session.get(server.url("/gzip")).send().await.unwrap();
    assert_eq!(response.bytes().await.unwrap().len(), text_sample().len());
}

#[tulip::test]
async fn text_finds_the_charset() {
    let server = Server::start(|req| match req.path.as_str() {
        "/header" => response(
            "Content-Type: text/plain; charset=windows-1251",
            b"\xcf\xf0\xe8\xe2\xe5\xf2",
        ),
        "/quoted" => response(
            "Content-Type: text/plain; Charset=\"ISO-8859-1\"",
            b"caf\xe9",
        ),
        "/meta" => response(
            "Content-Type: text/html",
            b"<html><head><meta charset=\"shift_jis\"></head>\x93\xfa\x96\x7b</html>",
        ),
        "/http-equiv" => response(
            "Content-Type: text/html",
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=euc-jp\">\xc6\xfc",
        ),
        "/bom" => response("Content-Type: text/plain", b"\xFF\xFEh\0i\0"),
        "/utf8-bom" => response("Content-Type: text/plain", b"\xEF\xBB\xBFhi"),
        "/gzip-latin1" => response(
            "Content-Type: text/plain; charset=latin1\nContent-Encoding: gzip",
            &gzip(b"na\xefve"),
        ),
        _ => response("Content-Type: text/plain", b"ok \xff bad"),
    })
    .await;
    let session = session();
    for (path, want) in [
        ("/header", "Привет"),
        ("/quoted", "café"),
        (
            "/meta",
            "<html><head><meta charset=\"shift_jis\"></head>日本</html>",
        ),
        (
            "/http-equiv",
            "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=euc-jp\">日",
        ),
        ("/bom", "hi"),
        ("/utf8-bom", "hi"),
        ("/gzip-latin1", "naïve"),
        ("/fallback", "ok \u{FFFD} bad"),
    ] {
        let response = session.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.text().await.unwrap(), want, "{path}");
    }
}

/// A server that sets cookies and echoes the Cookie header it gets.
async fn cookie_server() -> Server {
    Server::start(|req| match req.path.as_str() {
        "/set" => response("Set-Cookie: a=1; Path=/\nSet-Cookie: b=2; HttpOnly", b"set"),
        "/login" => {
            b"HTTP/1.1 302 Found\r\nLocation: /echo\r\nSet-Cookie: session=xyz\r\nContent-Length: 0\r\n\r\n"
                .to_vec()
        }
        "/logout" => response("Set-Cookie: session=; Max-Age=0", b"bye"),
        "/private/set" => response("Set-Cookie: p=1", b"set"),
        _ => response("", req.header("cookie").unwrap_or("<none>").as_bytes()),
    })
    .await
}

async fn echoed(session: &ClientSession, url: &str) -> String {
    session.get(url).send().await.unwrap().text().await.unwrap()
}

#[tulip::test]
async fn no_cookies_are_kept_by_default() {
    let server = cookie_server().await;
    let session = session();
    assert!(session.cookie_jar().is_none());
    session.get(server.url("/set")).send().await.unwrap();
    assert_eq!(echoed(&session, &server.url("/echo")).await, "<none>");
}

#[tulip::test]
async fn a_jar_stores_and_sends_cookies() {
    let server = cookie_server().await;
    let jar = CookieJar::new();
    let session = ClientSession::builder().cookie_jar(jar.clone()).build();

    session.get(server.url("/set")).send().await.unwrap();
    assert_eq!(jar.len(), 2);
    assert_eq!(echoed(&session, &server.url("/echo")).await, "a=1; b=2");

    // Set on a redirect, sent on the hop it leads to.
    let response = session.get(server.url("/login")).send().await.unwrap();
    assert_eq!(response.history().len(), 1);
    assert_eq!(response.text().await.unwrap(), "a=1; b=2; session=xyz");

    // A cookie without Path belongs to the directory of the URL that set it.
    session
        .get(server.url("/private/set"))
        .send()
        .await
        .unwrap();
    assert!(
        echoed(&session, &server.url("/private/echo"))
            .await
            .starts_with("p=1; ")
    );
    assert!(!echoed(&session, &server.url("/echo")).await.contains("p=1"));

    // Deleted by the server, added by hand.
    session.get(server.url("/logout")).send().await.unwrap();
    let url = Url::parse(&server.url("/")).unwrap();
    assert!(jar.insert("manual", "yes", &url));
    assert_eq!(
        echoed(&session, &server.url("/echo")).await,
        "a=1; b=2; manual=yes"
    );

    jar.clear();
    assert_eq!(echoed(&session, &server.url("/echo")).await, "<none>");
}
