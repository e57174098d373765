//! ClientSession basics: what a request sends (method, target, default and custom headers,
//! query, JSON/form/raw bodies) and what a response gives (status, reason, headers, version,
//! text/json/bytes, chunks and the chunk stream, raise_for_status), and bad input as typed
//! errors naming the URL.

mod client_support;

use client_support::{RawServer, Step, ok, response};
use futures_lite::StreamExt;
use http::{Method, StatusCode, Version};
use serde::{Deserialize, Serialize};
use tulip_http::{ClientSession, ErrorKind};

#[test]
fn get_sends_default_headers_and_reads_text() {
    tulip::run(async {
        let server = RawServer::fixed(ok("hello")).await;
        let session = ClientSession::new();
        let response = session.get(server.url("/path?x=1")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.reason(), "OK");
        assert_eq!(response.version(), Version::HTTP_11);
        assert_eq!(response.headers()["content-type"], "text/plain");
        assert_eq!(response.url().as_str(), server.url("/path?x=1"));
        assert_eq!(response.text().await.unwrap(), "hello");

        let req = server.last_request();
        assert_eq!(req.method, "GET");
        assert_eq!(req.target, "/path?x=1");
        assert_eq!(req.header("host"), Some(&*server.addr.to_string()));
        assert_eq!(req.header("user-agent"), Some("tulip-http/0.1"));
        assert_eq!(req.header("accept-encoding"), Some("gzip, deflate, br"));
        assert_eq!(req.header("accept"), Some("*/*"));
        assert_eq!(req.header("content-length"), None, "a GET has no body");
    });
}

#[test]
fn custom_and_default_headers() {
    tulip::run(async {
        let server = RawServer::fixed(ok("")).await;
        let session = ClientSession::builder()
            .user_agent("areq/1.0")
            .default_header("X-Default", "d")
            .default_header("X-Both", "default")
            .build();
        session
            .get(server.url("/"))
            .header("X-Both", "mine")
            .header("X-Multi", "1")
            .header("X-Multi", "2")
            .send()
            .await
            .unwrap();
        let req = server.last_request();
        assert_eq!(req.header("user-agent"), Some("areq/1.0"));
        assert_eq!(req.header("x-default"), Some("d"));
        assert_eq!(req.header("x-both"), Some("mine"));
        assert_eq!(req.header_count("x-both"), 1);
        assert_eq!(req.header_count("x-multi"), 2);
    });
}

#[derive(Serialize)]
struct Query<'a> {
    q: &'a str,
    page: u32,
}

#[test]
fn query_parameters_are_encoded_and_appended() {
    tulip::run(async {
        let server = RawServer::fixed(ok("")).await;
        let session = ClientSession::new();
        let response = session
            .get(server.url("/search?lang=en"))
            .query(&Query {
                q: "tulip & rust",
                page: 2,
            })
            .query(&[("x", "y")])
            .send()
            .await
            .unwrap();
        let expected = "/search?lang=en&q=tulip+%26+rust&page=2&x=y";
        assert_eq!(server.last_request().target, expected);
        assert_eq!(response.url().as_str(), server.url(expected));
        drop(response);

        // No query before: none to join with.
        session
            .get(server.url("/p"))
            .query(&[("a", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(server.last_request().target, "/p?a=1");
    });
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Item {
    name: String,
    count: u32,
}

#[test]
fn json_form_and_raw_bodies() {
    tulip::run(async {
        let server =
            RawServer::start(|req| vec![Step::Write(response("200 OK", &[], &req.body))]).await;
        let session = ClientSession::new();
        let item = Item {
            name: "tulip".into(),
            count: 3,
        };

        let echoed: Item = session
            .post(server.url("/json"))
            .json(&item)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(echoed, item);
        let req = server.last_request();
        assert_eq!(req.method, "POST");
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(
            req.header("content-length"),
            Some(&*req.body.len().to_string())
        );

        session
            .put(server.url("/form"))
            .form(&[("a", "1 2"), ("b", "&")])
            .send()
            .await
            .unwrap();
        let req = server.last_request();
        assert_eq!(req.method, "PUT");
        assert_eq!(
            req.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(req.body, b"a=1+2&b=%26");

        session
            .patch(server.url("/raw"))
            .header("Content-Type", "application/octet-stream")
            .body(vec![0u8, 1, 2, 255])
            .send()
            .await
            .unwrap();
        let req = server.last_request();
        assert_eq!(req.method, "PATCH");
        assert_eq!(req.body, [0, 1, 2, 255]);
        assert_eq!(req.header("content-type"), Some("application/octet-stream"));

        // An explicit content type wins over json()'s.
        session
            .post(server.url("/typed"))
            .header("Content-Type", "application/vnd.x+json")
            .json(&item)
            .send()
            .await
            .unwrap();
        assert_eq!(
            server.last_request().header("content-type"),
            Some("application/vnd.x+json")
        );

        // An empty POST still says how long its body is.
        session
            .post(server.url("/empty"))
            .body("")
            .send()
            .await
            .unwrap();
        assert_eq!(server.last_request().header("content-length"), Some("0"));

        session.delete(server.url("/gone")).send().await.unwrap();
        assert_eq!(server.last_request().method, "DELETE");
        session
            .request(Method::OPTIONS, server.url("/"))
            .send()
            .await
            .unwrap();
        assert_eq!(server.last_request().method, "OPTIONS");
    });
}

#[test]
fn head_responses_have_no_body_and_free_the_connection() {
    tulip::run(async {
        // A HEAD answer announces a length but sends nothing.
        let server = RawServer::start(|req| {
            if req.method == "HEAD" {
                vec![Step::Write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".to_vec(),
                )]
            } else {
                vec![Step::Write(ok("hello"))]
            }
        })
        .await;
        let session = ClientSession::new();
        let response = session.head(server.url("/")).send().await.unwrap();
        assert_eq!(response.headers()["content-length"], "5");
        // Back in the pool before the body is even asked for.
        assert_eq!(session.pool_stats().idle, 1);
        assert!(response.bytes().await.unwrap().is_empty());
        let text = session
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await;
        assert_eq!(text.unwrap(), "hello");
        assert_eq!(server.accepted(), 1);
    });
}

#[test]
fn reason_phrases_canonical_and_custom() {
    tulip::run(async {
        let server = RawServer::start(|req| {
            let status = match req.target.as_str() {
                "/custom" => "200 Splendid",
                "/unknown" => "599 ",
                _ => "404 Not Found",
            };
            vec![Step::Write(response(status, &[], b""))]
        })
        .await;
        let session = ClientSession::new();
        let r = session.get(server.url("/custom")).send().await.unwrap();
        assert_eq!(r.reason(), "Splendid");
        let r = session.get(server.url("/missing")).send().await.unwrap();
        assert_eq!(r.reason(), "Not Found");
        assert_eq!(r.status(), 404);
        let r = session.get(server.url("/unknown")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 599);
    });
}

#[test]
fn raise_for_status_carries_status_reason_and_url() {
    tulip::run(async {
        let server = RawServer::start(|req| {
            let status = match req.target.as_str() {
                "/teapot" => "418 Short and Stout",
                "/fail" => "500 Internal Server Error",
                _ => "204 No Content",
            };
            vec![Step::Write(response(status, &[], b""))]
        })
        .await;
        let session = ClientSession::new();
        let ok = session.get(server.url("/fine")).send().await.unwrap();
        assert_eq!(ok.raise_for_status().unwrap().status(), 204);

        let url = server.url("/fail");
        let err = session
            .get(&url)
            .send()
            .await
            .unwrap()
            .raise_for_status()
            .unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::Status {
                status: StatusCode::INTERNAL_SERVER_ERROR
            }
        );
        assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
        assert_eq!(err.url(), url);
        assert!(err.to_string().contains("500 Internal Server Error"));
        assert!(err.to_string().contains(&url));

        let err = session
            .get(server.url("/teapot"))
            .send()
            .await
            .unwrap()
            .raise_for_status()
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::IM_A_TEAPOT));
        assert!(err.to_string().contains("Short and Stout"), "{err}");

        // The session carries on.
        assert_eq!(
            session.get(server.url("/")).send().await.unwrap().status(),
            204
        );
    });
}

#[test]
fn chunks_and_stream_deliver_the_body_in_order() {
    tulip::run(async {
        let server = RawServer::start(|_| {
            vec![
                Step::Write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec()),
                Step::Write(b"5\r\nhello\r\n".to_vec()),
                Step::Sleep(std::time::Duration::from_millis(5)),
                Step::Write(b"6\r\n world\r\n".to_vec()),
                Step::Write(b"0\r\n\r\n".to_vec()),
            ]
        })
        .await;
        let session = ClientSession::new();
        let mut response = session.get(server.url("/")).send().await.unwrap();
        let mut pieces = Vec::new();
        while let Some(piece) = response.chunk().await.unwrap() {
            pieces.push(piece);
        }
        assert!(pieces.len() >= 2, "{pieces:?}");
        assert_eq!(pieces.concat(), b"hello world");
        assert_eq!(response.chunk().await.unwrap(), None, "stays at the end");

        let response = session.get(server.url("/")).send().await.unwrap();
        let mut stream = response.bytes_stream();
        assert_eq!(stream.response().status(), 200);
        let mut all = Vec::new();
        while let Some(piece) = stream.next().await {
            all.extend_from_slice(&piece.unwrap());
        }
        assert_eq!(all, b"hello world");
        assert_eq!(server.accepted(), 1, "both read to the end: one connection");
    });
}

#[test]
fn bytes_of_a_long_body_and_an_empty_one() {
    tulip::run(async {
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let body = big.clone();
        let server = RawServer::start(move |req| {
            if req.target == "/empty" {
                vec![Step::Write(response("200 OK", &[], b""))]
            } else {
                vec![Step::Write(response("200 OK", &[], &body))]
            }
        })
        .await;
        let session = ClientSession::new();
        let got = session
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await;
        assert_eq!(got.unwrap(), big);
        let got = session.get(server.url("/empty")).send().await.unwrap();
        assert!(got.bytes().await.unwrap().is_empty());
    });
}

#[test]
fn json_errors_name_the_url() {
    tulip::run(async {
        let server = RawServer::fixed(ok("not json")).await;
        let url = server.url("/");
        let err = ClientSession::new()
            .get(&url)
            .send()
            .await
            .unwrap()
            .json::<Item>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Json);
        assert_eq!(err.url(), url);
    });
}

#[test]
fn into_future_sends() {
    tulip::run(async {
        let server = RawServer::fixed(ok("awaited")).await;
        let session = ClientSession::new();
        let response = session.get(server.url("/")).await.unwrap();
        assert_eq!(response.text().await.unwrap(), "awaited");
    });
}

#[test]
fn bad_urls_are_invalid_url_errors() {
    tulip::run(async {
        let session = ClientSession::new();
        for url in [
            "not a url",
            "/relative/only",
            "ftp://example.com/",
            "file:///etc/passwd",
            "http://",
            "mailto:x@example.com",
        ] {
            let err = session.get(url).send().await.unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::InvalidUrl, "{url}");
            assert_eq!(err.url(), url);
            assert!(err.to_string().contains(url), "{err}");
        }
        // A query on a bad URL changes nothing and does not panic.
        let err = session
            .get("nope")
            .query(&[("a", "b")])
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.url(), "nope");
    });
}

#[test]
fn bad_headers_and_bodies_are_request_errors() {
    tulip::run(async {
        let server = RawServer::fixed(ok("")).await;
        let url = server.url("/");
        let session = ClientSession::new();
        let err = session
            .get(&url)
            .header("bad name", "v")
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Request);
        assert_eq!(err.url(), url);
        assert!(err.to_string().contains("bad name"));

        let err = session
            .get(&url)
            .header("X-Ok", "line\nbreak")
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Request);
        assert!(err.to_string().contains("X-Ok"));

        // A map with non-string keys is no JSON object.
        let mut map = std::collections::HashMap::new();
        map.insert((1, 2), 3);
        let err = session.post(&url).json(&map).send().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Request);

        let err = session
            .get(&url)
            .query(&[[1, 2, 3]])
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Request);

        let broken = ClientSession::builder()
            .default_header("X-Y", "a\rb")
            .build();
        let err = broken.get(&url).send().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Request);
        assert!(err.to_string().contains("X-Y"), "{err}");

        // None of this reached the server.
        assert_eq!(server.accepted(), 0);
        session.get(&url).send().await.unwrap();
        assert_eq!(server.accepted(), 1);
    });
}
