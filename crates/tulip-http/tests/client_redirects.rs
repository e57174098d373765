//! Redirects and cookies: chains with history and the final URL, relative and absolute
//! `Location`s, how 301/302/303 and 307/308 treat the method and body, the redirect limit (per
//! session and per request), refusing non-http(s) targets, credentials not crossing hosts,
//! `allow_redirects(false)`, and the cookie jar (off by default; on, fed by every hop).

mod client_support;

use client_support::{RawServer, Step, ok, redirect, response};
use http::StatusCode;
use tulip_http::{ClientSession, CookieJar, ErrorKind};

/// `/chain/N` redirects (302, relative) to `/chain/N-1`; `/chain/0` answers. `/loop` redirects
/// to itself. `/to?url` redirects (303) to that URL. `/code/C` answers C to `/echo`.
/// `/echo` answers with the method and body it got.
async fn server() -> RawServer {
    RawServer::start(|req| {
        let path = req.target.as_str();
        let reply = if let Some(n) = path.strip_prefix("/chain/") {
            let n: u32 = n.parse().unwrap();
            if n == 0 {
                ok("arrived")
            } else {
                redirect("302 Found", &format!("/chain/{}", n - 1))
            }
        } else if path == "/loop" {
            redirect("302 Found", "/loop")
        } else if let Some(to) = path.strip_prefix("/to?") {
            redirect("303 See Other", to)
        } else if let Some(code) = path.strip_prefix("/code/") {
            let status = match code {
                "301" => "301 Moved Permanently",
                "302" => "302 Found",
                "303" => "303 See Other",
                "307" => "307 Temporary Redirect",
                _ => "308 Permanent Redirect",
            };
            // With a body, which the client reads away to reuse the connection.
            response(status, &[("Location", "/echo")], b"moved")
        } else if path == "/echo" {
            let text = format!("{} {}", req.method, String::from_utf8_lossy(&req.body));
            ok(&text)
        } else if path == "/nolocation" {
            response("302 Found", &[], b"")
        } else {
            ok("plain")
        };
        vec![Step::Write(reply)]
    })
    .await
}

#[test]
fn a_chain_is_followed_with_history_and_final_url() {
    tulip::run(async {
        let server = server().await;
        let session = ClientSession::new();
        let r = session.get(server.url("/chain/3")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.url().as_str(), server.url("/chain/0"));
        let hops: Vec<(u16, String)> = r
            .history()
            .iter()
            .map(|h| (h.status().as_u16(), h.url().to_string()))
            .collect();
        assert_eq!(
            hops,
            [
                (302, server.url("/chain/3")),
                (302, server.url("/chain/2")),
                (302, server.url("/chain/1")),
            ]
        );
        assert_eq!(r.history()[0].headers()["location"], "/chain/2");
        assert_eq!(r.text().await.unwrap(), "arrived");
        // Every hop on the one kept-alive connection.
        assert_eq!(server.accepted(), 1);
    });
}

#[test]
fn absolute_locations_to_another_server() {
    tulip::run(async {
        let a = server().await;
        let b = server().await;
        let session = ClientSession::new();
        let target = b.url("/chain/0");
        let r = session
            .get(a.url(&format!("/to?{target}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.url().as_str(), target);
        assert_eq!(r.history().len(), 1);
        assert_eq!(r.text().await.unwrap(), "arrived");
    });
}

#[test]
fn methods_and_bodies_per_status() {
    tulip::run(async {
        let server = server().await;
        let session = ClientSession::new();
        for (code, expect) in [
            ("301", "GET "),
            ("302", "GET "),
            ("303", "GET "),
            ("307", "POST payload"),
            ("308", "POST payload"),
        ] {
            let r = session
                .post(server.url(&format!("/code/{code}")))
                .header("Content-Type", "text/plain")
                .body("payload")
                .send()
                .await
                .unwrap();
            assert_eq!(r.history()[0].status().as_str(), code);
            assert_eq!(r.text().await.unwrap(), expect, "after a {code}");
            let last = server.last_request();
            if expect.starts_with("GET") {
                assert_eq!(last.header("content-type"), None, "{code}");
                assert_eq!(last.header("content-length"), None, "{code}");
            } else {
                assert_eq!(last.header("content-type"), Some("text/plain"));
            }
        }
        assert_eq!(
            server.accepted(),
            1,
            "redirect bodies were drained, not dropped"
        );
        // HEAD stays HEAD.
        let r = session.head(server.url("/code/302")).send().await.unwrap();
        assert_eq!(r.history().len(), 1);
        assert_eq!(server.last_request().method, "HEAD");
        // PUT after a 303 becomes GET.
        let r = session
            .put(server.url("/code/303"))
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(r.text().await.unwrap(), "GET ");
    });
}

#[test]
fn too_many_redirects() {
    tulip::run(async {
        let server = server().await;
        let session = ClientSession::new();
        // Ten are allowed by default.
        let r = session.get(server.url("/chain/10")).send().await.unwrap();
        assert_eq!(r.history().len(), 10);
        let err = session
            .get(server.url("/chain/11"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::TooManyRedirects { max: 10 });
        assert_eq!(err.url(), server.url("/chain/1"), "the URL it stopped at");

        let url = server.url("/loop");
        let err = session.get(&url).send().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::TooManyRedirects { max: 10 });
        assert!(err.to_string().contains(&url));

        let err = session
            .get(server.url("/chain/3"))
            .max_redirects(2)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::TooManyRedirects { max: 2 });

        let strict = ClientSession::builder().max_redirects(0).build();
        let err = strict.get(server.url("/chain/1")).send().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::TooManyRedirects { max: 0 });
        // The session carries on.
        let r = session.get(server.url("/")).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "plain");
    });
}

#[test]
fn allow_redirects_false_returns_the_redirect() {
    tulip::run(async {
        let server = server().await;
        let r = ClientSession::new()
            .get(server.url("/chain/2"))
            .allow_redirects(false)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(r.headers()["location"], "/chain/1");
        assert!(r.history().is_empty());
    });
}

#[test]
fn only_http_and_https_targets_are_followed() {
    tulip::run(async {
        let server = server().await;
        let session = ClientSession::new();
        for target in [
            "ftp://example.com/file",
            "file:///etc/passwd",
            "javascript:alert(1)",
        ] {
            let url = server.url(&format!("/to?{target}"));
            let err = session.get(&url).send().await.unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::InvalidRedirect, "{target}");
            assert_eq!(err.url(), url);
        }
        let err = session
            .get(server.url("/nolocation"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidRedirect);
        let r = session.get(server.url("/")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    });
}

#[test]
fn credentials_do_not_follow_to_another_host() {
    tulip::run(async {
        let server = server().await;
        let session = ClientSession::new();
        // Same host: kept.
        session
            .get(server.url("/chain/1"))
            .header("Authorization", "Bearer secret")
            .header("Cookie", "session=1")
            .send()
            .await
            .unwrap();
        let last = server.last_request();
        assert_eq!(last.target, "/chain/0");
        assert_eq!(last.header("authorization"), Some("Bearer secret"));
        assert_eq!(last.header("cookie"), Some("session=1"));

        // 127.0.0.1 -> localhost: another host name, so dropped.
        let elsewhere = format!("http://localhost:{}/chain/0", server.addr.port());
        session
            .get(server.url(&format!("/to?{elsewhere}")))
            .header("Authorization", "Bearer secret")
            .header("Cookie", "session=1")
            .header("X-Other", "kept")
            .send()
            .await
            .unwrap();
        let last = server.last_request();
        assert_eq!(
            last.header("host"),
            Some(&*format!("localhost:{}", server.addr.port()))
        );
        assert_eq!(last.header("authorization"), None);
        assert_eq!(last.header("cookie"), None);
        assert_eq!(last.header("x-other"), Some("kept"));
    });
}

#[test]
fn no_cookie_jar_by_default() {
    tulip::run(async {
        let server = RawServer::start(|_| {
            vec![Step::Write(response(
                "200 OK",
                &[("Set-Cookie", "id=1")],
                b"",
            ))]
        })
        .await;
        let session = ClientSession::new();
        assert!(session.cookie_jar().is_none());
        session.get(server.url("/")).send().await.unwrap();
        session.get(server.url("/")).send().await.unwrap();
        assert_eq!(server.last_request().header("cookie"), None);
    });
}

#[test]
fn the_jar_keeps_cookies_from_every_hop() {
    tulip::run(async {
        let server = RawServer::start(|req| {
            let reply = match req.target.as_str() {
                "/login" => response(
                    "302 Found",
                    &[("Location", "/home"), ("Set-Cookie", "session=abc; Path=/")],
                    b"",
                ),
                "/home" => response("200 OK", &[("Set-Cookie", "theme=dark")], b"home"),
                _ => ok(req.header("cookie").unwrap_or("")),
            };
            vec![Step::Write(reply)]
        })
        .await;
        let jar = CookieJar::new();
        let session = ClientSession::builder().cookie_jar(jar.clone()).build();
        let r = session.get(server.url("/login")).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "home");
        // The redirect's cookie was sent to its target.
        assert_eq!(server.last_request().header("cookie"), Some("session=abc"));
        assert_eq!(jar.len(), 2);
        assert_eq!(session.cookie_jar().unwrap().len(), 2);

        let r = session
            .get(server.url("/show"))
            .header("Cookie", "mine=1")
            .send()
            .await
            .unwrap();
        let sent = r.text().await.unwrap();
        assert!(sent.starts_with("mine=1; "), "{sent}");
        assert!(
            sent.contains("session=abc") && sent.contains("theme=dark"),
            "{sent}"
        );
        assert_eq!(server.last_request().header_count("cookie"), 1);

        jar.clear();
        let r = session.get(server.url("/show")).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "");
    });
}
