//! tulip-http's client against Python's httpbin (from PyPI, under waitress, started by each test
//! on its own port): status codes and `raise_for_status`, redirects of every kind and their
//! limit, gzip/deflate/brotli bodies, streamed and dripped bodies, timeouts against `/delay`,
//! headers, cookies, byte counts and request bodies echoed by `/anything`.

mod peers;

use std::time::Duration;

use futures_lite::StreamExt;
use peers::Httpbin;
use serde_json::{Value, json};
use tulip_http::{ClientSession, ClientTimeout, CookieJar, ErrorKind, Method, TimeoutKind};

#[test]
fn status_codes_and_raise_for_status() {
    let Some(httpbin) = Httpbin::start() else {
        return;
    };
    peers::run(async {
        let session = ClientSession::new();
        let ok = session
            .get(httpbin.url("/status/200"))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.reason(), "OK");
        ok.raise_for_status().unwrap();

        let missing = session
            .get(httpbin.url("/status/404"))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
        let err = missing.raise_for_status().unwrap_err();
        assert_eq!(
            err.kind(),
            &ErrorKind::Status {
                status: http::StatusCode::NOT_FOUND
            }
        );
        assert_eq!(err.url(), httpbin.url("/status/404"));

        let server_error = session
            .get(httpbin.url("/status/503"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            server_error.raise_for_status().unwrap_err().status(),
            Some(http::StatusCode::SERVICE_UNAVAILABLE)
        );

        let created = session
            .post(httpbin.url("/status/201"))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        created.raise_for_status().unwrap();
        session.close().await;
    });
}

#[test]
fn teapot_error_carries_status_reason_and_url() {
    let Some(httpbin) = Httpbin::start() else {
        return;
    };
    peers::run(async {
        let session = ClientSession::new();
        let url = httpbin.url("/status/418");
        let response = session.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 418);
        // Werkzeug's reason phrase is upper case; the client reports the server's own.
        assert!(
            response.reason().eq_ignore_ascii_case("I'm a teapot"),
            "{}",
            response.reason()
        );
        let err = response.raise_for_status().unwrap_err();
        assert_eq!(err.status(), Some(http::StatusCode::IM_A_TEAPOT));
        assert_eq!(err.url(), url);
        let message = err.to_string();
        assert!(message.contains("418"), "{message}");
        assert!(message.to_lowercase().contains("teapot"), "{message}");
        assert!(message.contains(&url), "{message}");
        session.close().await;
    });
}

#[test]
fn relative_absolute_and_mixed_redirects_are_followed() {
    let Some(httpbin) = Httpbin::start() else {
        return;
    };
    peers::run(async {
        let session = ClientSession::new();
        for (path, hops) in [
            ("/redirect/3", 3),
            ("/absolute-redirect/2", 2),
            ("/relative-redirect/2", 2),
            ("/redirect/10", 10),
        ] {
            let response = session.get(httpbin.url(path)).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(response.url().path(), "/get", "{path}");
            let history = response.history();
            assert_eq!(history.len(), hops, "{path}");
            assert_eq!(history[0].url().as_str(), httpbin.url(path));
            assert!(history.iter().all(|hop| hop.status() == 302), "{path}");
            assert!(
                history
                    .iter()
                    .all(|hop| hop.headers().contains_key("location"))
            );
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["url"], httpbin.url("/get"), "{path}");
        }
        let response = session
            .get(httpbin.url("/redirect/2"))
            .allow_redirects(false)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
        assert!(response.history().is_empty());
        session.close().await;
    });
}

#[test]
fn eleven_redirects_are_too_many_by_default() {
    let Some(httpbin) = Httpbin::start() else {
        return;
    };
    peers::run(async {
        let session = ClientSession::new();
        let err = session
            .get(httpbin.url("/redirect/11"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::TooManyRedirects { max: 10 });
        assert!(err.url().starts_with(&httpbin.url("/")), "{err}");

        let err = session
            .get(httpbin.url("/redirect/3"))
            .max_redirects(2)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::TooManyRedirects { max: 2 });

        // The session is still usable.
        let response = session.get(httpbin.url("/get")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        session.close().await;
    });
}

/// `POST /redirect-to` with each status: 307/308 repeat the POST with its body, 301/302/303
/// turn it into a bodiless GET.
#[test]
fn redirect_to_keeps_or_drops_the_method_by_status() {
    let Some(httpbin) = Httpbin::start() else {
        return;
    };
    peers::run(async {
        let session = ClientSession::new();
        for (status, method, data) in [
            (307, "POST", "the body"),
            (308, "POST", "the body"),
            (301, "GET", ""),
            (302, "GET", ""),
            (303, "GET", ""),
        ] {
            let response = session
                .post(httpbin.url("/redirect-to"))
                .query(&[("url", "/anything"), ("status_code", &status.to_string())])
                .header("content-type", "text/plain")
                .body("the body")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{status}");
            assert_eq!(response.history().len(), 1);
            assert_eq!(response.history()[0].status(), status);
            let echo: Value = response.json().await.unwrap();
            assert_eq!(echo["method"], method, "{status}");
            assert_eq!(echo["data"], data, "{status}");
            assert_eq!(echo["url"], httpbin.url("/anything"));
        }
        session.close().await;
    });
}

#[test]
fn gzip_deflate_and_brotli_bodies_are_decoded() {
    let Some(httpbin) = Httpbin::start() else {
        return;
    };
    peers::run(async {
        let session = ClientSession::new();
        for (path, flag, encoding) in [
            ("/gzip", "gzipped", "gzip"),
            ("/deflate", "deflated", "deflate"),
            ("/brotli", "brotli", "br"),
        ] {
            let response = session.get(httpbin.url(path)).send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(response.headers()["content-encoding"], encoding, "{path}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body[flag], true, "{path}: {body}");
            assert_eq!(body["method"], "GET", "{path}: {body}");
        }
        session.close().await;
    });
}

#[test]
fn stream_of_twenty_json_lines() {
    let Some(httpbin) = Httpbin::start() else {
        return;
    };
    peers::run(async {
        let session = ClientSession::new();
        let response = session.get(httpbin.url("/stream/20")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let mut stream = response.bytes_stream();
        let mut body = Vec::new();
        while let Some(piece) = stream.next().await {
            body.extend_from_slice(&piece.unwrap());
        }
        let text = String::from_utf8(body).unwrap();
        let ids: Vec<u64> = text
            .lines()
            .map(|line| {
                serde_json::from_str::<Value>(line).unwrap()["id"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(ids, (0..20).collect::<Vec<u64>>());
        session.close().await;
    });
}

#[test]
fn drip_arrives_whole() {
    let Some(httpbin) = Httpbin::start() else {
        return;
    };
    peers::run(async {
        let session = ClientSession::new();
        let mut response = session
            .get(httpbin.url("/drip"))
            .query(&[
                ("duration", "0.3"),
                ("numbytes", "12"),
                ("code", "200"),
                ("delay", "0"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let mut body = Vec::new();
        while let Some(piece) = response.chunk().await.unwrap() {
            body.extend_from_slice(&piece);
        }
        assert_eq!(body, b"************");

        let response = session
            .get(httpbin.url("/drip"))
            .query(&[
                ("duration", "0.1"),
                ("numbytes", "5"),
                ("code", "404"),
                ("delay", "0"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
        assert_eq!(response.bytes().await.unwrap(), "*****".as_bytes());
        session.close().await;
    });
}

/// `/delay/2` against half-second timeouts: each gives its own kind, and the session goes on.
#[test]
fn delay_against_sock_read_and_total_timeouts() {
    let Some(httpbin) = Httpbin::start() else {
        return;
    };
    peers::run(async {
        let half = Duration::from_millis(500);
        let session = ClientSession::builder()
            .timeout(ClientTimeout::new().sock_read(half))
            .build();
        let err = session
            .get(httpbin.url("/delay/2"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.timeout_kind(), Some(TimeoutKind::SockRead), "{err}");
        assert_eq!(err.url(), httpbin.url("/delay/2"));

        let err = session
            .get(httpbin.url("/delay/2"))
            .timeout(ClientTimeout::new().total(half))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.timeout_kind(), Some(TimeoutKind::Total), "{err}");
        assert!(err.to_string().contains("/delay/2"), "{err}");

        // A delay inside the timeouts is fine, and the session is still usable.
        let response = session
            .get(httpbin.url("/delay/0"))
            .timeout(ClientTimeout::new().total(Duration::from_secs(30)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        session.close().await;
    });
}

#[test]
fn default_and_custom_headers_are_sent() {
    let Some(httpbin) = Httpbin::start() else {
        return;
    };
    peers::run(async {
        let session = ClientSession::new();
        let body: Value = session
            .get(httpbin.url("/headers"))
            .header("X-Custom", "forty-two")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let headers = &body["headers"];
        assert_eq!(headers["User-Agent"], "tulip-http/0.1", "{body}");
        assert_eq!(headers["X-Custom"], "forty-two", "{body}");
        assert_eq!(headers["Host"], httpbin.addr().to_string(), "{body}");
        session.close().await;

        let session = ClientSession::builder()
            .user_agent("peer-test/1")
            .default_header("X-Team", "tulip")
            .build();
        let body: Value = session
            .get(httpbin.url("/headers"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["headers"]["User-Agent"], "peer-test/1", "{body}");
        assert_eq!(body["headers"]["X-Team"], "tulip", "{body}");
        let body: Value = session
            .get(httpbin.url("/user-agent"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["user-agent"], "peer-test/1");
        session.close().await;
    });
}

/// `/cookies/set?a=1` sets a cookie and redirects to `/cookies`, which echoes what it got.
#[test]
fn cookies_kept_with_a_jar_and_not_without() {
    let Some(httpbin) = Httpbin::start() else {
        return;
    };
    peers::run(async {
        let jar = CookieJar::new();
        let session = ClientSession::builder().cookie_jar(jar.clone()).build();
        let response = session
            .get(httpbin.url("/cookies/set?a=1&b=two"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.url().path(), "/cookies");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["cookies"], json!({"a": "1", "b": "two"}));
        let base = tulip_http::Url::parse(&httpbin.url("/")).unwrap();
        let mut cookies = jar.cookies(&base);
        cookies.sort();
        assert_eq!(
            cookies,
            [("a".into(), "1".into()), ("b".into(), "two".into())]
        );

        // The jar sends them on later requests too, until httpbin deletes one.
        let body: Value = session
            .get(httpbin.url("/cookies/delete?a"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["cookies"], json!({"b": "two"}));
        session.close().await;

        let session = ClientSession::new();
        assert!(session.cookie_jar().is_none());
        let body: Value = session
            .get(httpbin.url("/cookies/set?a=1"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["cookies"], json!({}));
        session.close().await;
    });
}

#[test]
fn bytes_length_and_body_limit() {
    let Some(httpbin) = Httpbin::start() else {
        return;
    };
    peers::run(async {
        let session = ClientSession::builder().max_body_size(2000).build();
        for n in [0usize, 1, 1024, 2000] {
            let response = session
                .get(httpbin.url(&format!("/bytes/{n}?seed=7")))
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.headers()["content-type"],
                "application/octet-stream"
            );
            assert_eq!(response.bytes().await.unwrap().len(), n);
        }
        let response = session.get(httpbin.url("/bytes/2001")).send().await;
        let err = match response {
            Ok(response) => response.bytes().await.unwrap_err(),
            Err(err) => err,
        };
        assert_eq!(
            err.kind(),
            &ErrorKind::BodyTooLarge { limit: 2000 },
            "{err}"
        );
        // The same seed gives the same bytes: the body is httpbin's, not a buffer's leftovers.
        let first = session
            .get(httpbin.url("/bytes/1024?seed=7"))
            .send()
            .await
            .unwrap();
        let second = session
            .get(httpbin.url("/bytes/1024?seed=7"))
            .send()
            .await
            .unwrap();
        assert_eq!(first.bytes().await.unwrap(), second.bytes().await.unwrap());
        session.close().await;
    });
}

#[test]
fn anything_echoes_query_json_form_and_raw_bodies() {
    let Some(httpbin) = Httpbin::start() else {
        return;
    };
    peers::run(async {
        let session = ClientSession::new();
        let echo: Value = session
            .get(httpbin.url("/anything"))
            .query(&[("x", "1"), ("y", "two words")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(echo["method"], "GET");
        assert_eq!(echo["args"], json!({"x": "1", "y": "two words"}));

        let sent = json!({"name": "tulip", "n": [1, 2, 3], "nested": {"ok": true}});
        let echo: Value = session
            .post(httpbin.url("/anything"))
            .json(&sent)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(echo["json"], sent);
        assert_eq!(echo["headers"]["Content-Type"], "application/json");

        let echo: Value = session
            .put(httpbin.url("/anything"))
            .form(&[("a", "1"), ("b", "x y&z")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(echo["method"], "PUT");
        assert_eq!(echo["form"], json!({"a": "1", "b": "x y&z"}));

        let raw: Vec<u8> = (0..=255).collect();
        let echo: Value = session
            .patch(httpbin.url("/anything"))
            .header("content-type", "application/octet-stream")
            .body(raw.clone())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(echo["method"], "PATCH");
        assert_eq!(echo["headers"]["Content-Length"], "256");

        for method in [Method::DELETE, Method::OPTIONS] {
            let response = session
                .request(method.clone(), httpbin.url("/anything"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{method}");
        }
        let echo: Value = session
            .delete(httpbin.url("/anything/a/b"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(echo["method"], "DELETE");
        assert_eq!(echo["url"], httpbin.url("/anything/a/b"));
        session.close().await;
    });
}

/// waitress keeps connections alive, so a run of requests goes down one pooled connection.
#[test]
fn keep_alive_to_httpbin_reuses_the_connection() {
    let Some(httpbin) = Httpbin::start() else {
        return;
    };
    peers::run(async {
        let session = ClientSession::new();
        for i in 0..10 {
            let echo: Value = session
                .get(httpbin.url("/get"))
                .query(&[("i", i)])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(echo["args"]["i"], i.to_string());
        }
        let stats = session.pool_stats();
        assert_eq!((stats.opened, stats.reused), (1, 9), "{stats:?}");
        session.close().await;
    });
}

#[test]
fn text_is_decoded_as_utf8() {
    let Some(httpbin) = Httpbin::start() else {
        return;
    };
    peers::run(async {
        let session = ClientSession::new();
        let text = session
            .get(httpbin.url("/encoding/utf8"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            text.contains("∮ E⋅da = Q"),
            "{}",
            &text[..200.min(text.len())]
        );
        session.close().await;
    });
}
