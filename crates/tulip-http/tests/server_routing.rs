//! The server's router seen from a raw TCP client: handlers by method and pattern, path and
//! query parameters, 404 and 405 (with `Allow`), HEAD answered by the GET handler without
//! its body, the fallback, every kind of handler return value, a panicking handler, and the
//! per-path request counts.

use std::net::SocketAddr;

use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use serde::Serialize;
use tulip::net::TcpStream;
use tulip_http::http::HeaderMap;
use tulip_http::server::{Html, Json, Request, Response, Router, Server, ServerHandle};
use tulip_http::{Bytes, Method, StatusCode};

/// A response as it came over the wire.
#[derive(Debug)]
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `method path` with `Connection: close` and reads the whole answer.
async fn send(addr: SocketAddr, method: &str, path: &str) -> Raw {
    let request = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    exchange(addr, request.as_bytes()).await
}

async fn exchange(addr: SocketAddr, request: &[u8]) -> Raw {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    parse(&String::from_utf8_lossy(&raw))
}

fn parse(text: &str) -> Raw {
    let (head, body) = text
        .split_once("\r\n\r\n")
        .expect("a blank line ends the head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.to_owned(), value.trim().to_owned())
        })
        .collect();
    Raw {
        status,
        headers,
        body: body.to_owned(),
    }
}

#[derive(Serialize)]
struct Msg {
    msg: &'static str,
}

fn router() -> Router {
    Router::new()
        .get("/", |_req| async { Json(Msg { msg: "ok" }) })
        .post("/", |_req| async { (StatusCode::CREATED, "posted") })
        .get("/users/{id}", |req: Request| async move {
            format!("user {}", req.param("id").unwrap())
        })
        .get("/users/{id}/posts/{post}", |req: Request| async move {
            let params: Vec<String> = req.params().map(|(k, v)| format!("{k}={v}")).collect();
            params.join(",")
        })
        .get("/files/{*rest}", |req: Request| async move {
            format!("file {}", req.param("rest").unwrap())
        })
        .get("/search", |req: Request| async move {
            format!(
                "q={:?} page={:?} path={}",
                req.query_param("q"),
                req.query_param("page"),
                req.path()
            )
        })
        .get("/whoami", |req: Request| async move {
            format!("{} {}", req.method(), req.remote_addr().ip())
        })
        .get("/html", |_req| async { Html("<p>hi</p>") })
        .get("/bytes", |_req| async { vec![0u8, 159, 146, 150] })
        .get("/static-bytes", |_req| async { Bytes::from_static(b"raw") })
        .get("/status", |_req| async { StatusCode::NO_CONTENT })
        .get("/unit", |_req| async {})
        .get("/teapot", |_req| async {
            (
                StatusCode::IM_A_TEAPOT,
                [("x-kind", "teapot")],
                "short and stout",
            )
        })
        .get("/headers", |_req| async {
            ([("x-one", "1"), ("x-two", "2")], Json([1, 2]))
        })
        .get("/header-map", |_req| async {
            let mut headers = HeaderMap::new();
            headers.append("x-many", "a".parse().unwrap());
            headers.append("x-many", "b".parse().unwrap());
            (StatusCode::ACCEPTED, headers, "mapped")
        })
        .get("/bad-header", |_req| async { [("bad header", "x")] })
        .get("/redirect", |_req| async {
            Response::redirect(StatusCode::SEE_OTHER, "/users/1")
        })
        .get("/maybe/{n}", |req: Request| async move {
            let n: u32 = req.param("n").unwrap().parse().unwrap();
            (n % 2 == 0).then(|| format!("{n} is even"))
        })
        .get("/result/{n}", |req: Request| async move {
            match req.param("n").unwrap() {
                "ok" => Ok("fine"),
                _ => Err((StatusCode::BAD_REQUEST, "not fine")),
            }
        })
        .get("/wrong-length", |_req| async {
            Response::text("four").with_header("content-length", "999")
        })
        .get("/panic", |_req| async {
            if true {
                panic!("the handler fails on purpose");
            }
            "unreachable"
        })
        .delete("/users/{id}", |_req| async { StatusCode::NO_CONTENT })
        .route(Method::OPTIONS, "/users/{id}", |_req| async { "options" })
}

async fn serve(router: Router) -> ServerHandle {
    Server::bind("127.0.0.1:0").await.unwrap().serve(router)
}

#[tulip::test]
async fn json_and_text_handlers_answer_with_their_content_types() {
    let server = serve(router()).await;
    let addr = server.local_addr();

    let got = send(addr, "GET", "/").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(got.header("content-length"), Some("12"));
    assert_eq!(got.body, r#"{"msg":"ok"}"#);

    let got = send(addr, "POST", "/").await;
    assert_eq!(got.status, 201);
    assert_eq!(
        got.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(got.body, "posted");

    let got = send(addr, "GET", "/html").await;
    assert_eq!(got.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(got.body, "<p>hi</p>");

    server.shutdown().await;
}

#[tulip::test]
async fn path_parameters_are_captured_and_percent_decoded() {
    let server = serve(router()).await;
    let addr = server.local_addr();

    assert_eq!(send(addr, "GET", "/users/42").await.body, "user 42");
    assert_eq!(
        send(addr, "GET", "/users/caf%C3%A9").await.body,
        "user café"
    );
    assert_eq!(
        send(addr, "GET", "/users/7/posts/abc").await.body,
        "id=7,post=abc"
    );
    assert_eq!(
        send(addr, "GET", "/files/a/b/c.txt").await.body,
        "file a/b/c.txt"
    );

    server.shutdown().await;
}

#[tulip::test]
async fn query_parameters_are_decoded_and_the_path_excludes_them() {
    let server = serve(router()).await;
    let addr = server.local_addr();

    let got = send(addr, "GET", "/search?q=async+io%21&page=2&q=second").await;
    assert_eq!(
        got.body,
        r#"q=Some("async io!") page=Some("2") path=/search"#
    );
    let got = send(addr, "GET", "/search").await;
    assert_eq!(got.body, "q=None page=None path=/search");

    let got = send(addr, "GET", "/whoami").await;
    assert_eq!(got.body, "GET 127.0.0.1");

    server.shutdown().await;
}

#[tulip::test]
async fn an_unknown_path_is_404_and_a_wrong_method_is_405_with_allow() {
    let server = serve(router()).await;
    let addr = server.local_addr();

    let got = send(addr, "GET", "/nowhere").await;
    assert_eq!(got.status, 404);
    assert_eq!(got.body, "404 Not Found");
    // A pattern's prefix is not a match.
    assert_eq!(send(addr, "GET", "/users").await.status, 404);

    let got = send(addr, "PUT", "/users/1").await;
    assert_eq!(got.status, 405);
    assert_eq!(got.header("allow"), Some("GET, DELETE, OPTIONS, HEAD"));
    assert_eq!(got.body, "405 Method Not Allowed");

    let got = send(addr, "DELETE", "/").await;
    assert_eq!(got.status, 405);
    assert_eq!(got.header("allow"), Some("GET, POST, HEAD"));

    assert_eq!(send(addr, "DELETE", "/users/1").await.status, 204);
    assert_eq!(send(addr, "OPTIONS", "/users/1").await.body, "options");

    assert_eq!(server.stats().requests_served, 6);
    server.shutdown().await;
}

#[tulip::test]
async fn head_is_answered_by_the_get_handler_without_the_body() {
    let server = serve(router()).await;
    let addr = server.local_addr();

    let got = send(addr, "HEAD", "/").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(got.header("content-length"), Some("12"));
    assert_eq!(got.body, "", "a HEAD response carries no body");

    let got = send(addr, "HEAD", "/users/9").await;
    assert_eq!(got.header("content-length"), Some("6"));
    assert_eq!(got.body, "");

    // A path with no GET handler has no HEAD either.
    let got = send(addr, "HEAD", "/nowhere").await;
    assert_eq!(got.status, 404);
    assert_eq!(got.body, "");

    server.shutdown().await;
}

#[tulip::test]
async fn a_head_handler_takes_precedence_over_get() {
    let router = Router::new()
        .get("/big", |_req| async { vec![7u8; 5000] })
        .head("/big", |_req| async {
            ([("content-length", "5000"), ("x-from", "head")], ())
        });
    let server = serve(router).await;
    let addr = server.local_addr();

    let got = send(addr, "HEAD", "/big").await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("x-from"), Some("head"));
    assert_eq!(got.header("content-length"), Some("5000"));
    assert_eq!(got.body, "");
    assert_eq!(send(addr, "GET", "/big").await.body.len(), 5000);

    server.shutdown().await;
}

#[tulip::test]
async fn every_kind_of_return_value_becomes_its_response() {
    let server = serve(router()).await;
    let addr = server.local_addr();

    let got = send(addr, "GET", "/bytes").await;
    assert_eq!(got.header("content-type"), Some("application/octet-stream"));
    assert_eq!(got.header("content-length"), Some("4"));
    let got = send(addr, "GET", "/static-bytes").await;
    assert_eq!(got.body, "raw");

    let got = send(addr, "GET", "/status").await;
    assert_eq!(got.status, 204);
    assert_eq!(got.header("content-length"), None);
    let got = send(addr, "GET", "/unit").await;
    assert_eq!((got.status, got.header("content-length")), (200, Some("0")));

    let got = send(addr, "GET", "/teapot").await;
    assert_eq!(got.status, 418);
    assert_eq!(got.header("x-kind"), Some("teapot"));
    assert_eq!(got.body, "short and stout");

    let got = send(addr, "GET", "/headers").await;
    assert_eq!(
        (got.header("x-one"), got.header("x-two")),
        (Some("1"), Some("2"))
    );
    assert_eq!(got.body, "[1,2]");

    let got = send(addr, "GET", "/header-map").await;
    assert_eq!(got.status, 202);
    let many: Vec<&str> = got
        .headers
        .iter()
        .filter(|(n, _)| n == "x-many")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(many, ["a", "b"]);

    let got = send(addr, "GET", "/bad-header").await;
    assert_eq!(got.status, 500);
    assert!(got.body.contains("bad header"), "{}", got.body);

    let got = send(addr, "GET", "/redirect").await;
    assert_eq!(got.status, 303);
    assert_eq!(got.header("location"), Some("/users/1"));

    assert_eq!(send(addr, "GET", "/maybe/4").await.body, "4 is even");
    assert_eq!(send(addr, "GET", "/maybe/3").await.status, 404);

    assert_eq!(send(addr, "GET", "/result/ok").await.body, "fine");
    let got = send(addr, "GET", "/result/no").await;
    assert_eq!((got.status, got.body.as_str()), (400, "not fine"));

    // The body decides the length, whatever the handler claimed.
    let got = send(addr, "GET", "/wrong-length").await;
    assert_eq!(got.header("content-length"), Some("4"));
    assert_eq!(got.body, "four");

    server.shutdown().await;
}

#[tulip::test]
async fn a_panicking_handler_answers_500_and_the_server_goes_on() {
    let server = serve(router()).await;
    let addr = server.local_addr();

    let got = send(addr, "GET", "/panic").await;
    assert_eq!(got.status, 500);
    assert_eq!(got.body, "500 Internal Server Error");
    assert_eq!(send(addr, "GET", "/users/1").await.body, "user 1");

    server.shutdown().await;
}

#[tulip::test]
async fn the_fallback_answers_unknown_paths_but_not_wrong_methods() {
    let router = Router::new()
        .get("/known", |_req| async { "known" })
        .fallback(|req: Request| async move {
            (
                StatusCode::NOT_FOUND,
                format!("no page at {} for {}", req.path(), req.method()),
            )
        });
    let server = serve(router).await;
    let addr = server.local_addr();

    let got = send(addr, "POST", "/missing/page").await;
    assert_eq!(got.status, 404);
    assert_eq!(got.body, "no page at /missing/page for POST");
    assert_eq!(send(addr, "POST", "/known").await.status, 405);

    server.shutdown().await;
}

#[test]
fn conflicting_or_repeated_routes_are_refused_with_the_pattern_named() {
    let router = Router::new().get("/users/{id}", |_req| async { "" });
    let err = router
        .try_route(Method::GET, "/users/{name}", |_req| async { "" })
        .unwrap_err();
    assert_eq!(err.pattern(), "/users/{name}");
    assert!(err.to_string().contains("/users/{name}"), "{err}");

    let router = Router::new().get("/a", |_req| async { "" });
    let err = router
        .try_route(Method::GET, "/a", |_req| async { "" })
        .unwrap_err();
    assert!(err.to_string().contains("GET handler already"), "{err}");

    let err = Router::new()
        .try_route(Method::GET, "/x/{", |_req| async { "" })
        .unwrap_err();
    assert_eq!(err.pattern(), "/x/{");
}

#[test]
#[should_panic(expected = "/users/{name}")]
fn route_panics_on_a_conflict_naming_the_pattern() {
    let _ = Router::new()
        .get("/users/{id}", |_req| async { "" })
        .get("/users/{name}", |_req| async { "" });
}

#[tulip::test]
async fn requests_are_counted_per_path_when_asked() {
    let server = Server::builder()
        .count_paths(true)
        .bind("127.0.0.1:0")
        .await
        .unwrap()
        .serve(router());
    let addr = server.local_addr();
    for path in [
        "/users/1",
        "/users/2",
        "/users/1",
        "/nowhere",
        "/search?q=1",
    ] {
        send(addr, "GET", path).await;
    }
    send(addr, "PUT", "/users/1").await;
    let counts: Vec<(String, u64)> = server.path_counts().into_iter().collect();
    let expected = [
        ("/nowhere", 1),
        ("/search", 1),
        ("/users/1", 3),
        ("/users/2", 1),
    ];
    assert_eq!(
        counts,
        expected.map(|(p, n)| (p.to_owned(), n)).to_vec(),
        "sorted by path; the query is not part of it; 404 and 405 count too"
    );
    server.shutdown().await;

    // Off by default.
    let server = serve(router()).await;
    send(server.local_addr(), "GET", "/users/1").await;
    assert!(server.path_counts().is_empty());
    assert_eq!(server.stats().requests_served, 1);
    server.shutdown().await;
}
