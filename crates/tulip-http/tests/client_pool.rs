//! The connection pool: keep-alive reuse (most recent first), dead and `Connection: close`
//! connections never handed out, a response dropped mid-body closes its connection, `limit`
//! and `limit_per_host` with first-come-first-served waiting, idle expiry after
//! `keepalive_timeout` (test clock), and `close()`.

mod client_support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use client_support::{RawServer, Step, ok, response, test_clock};
use tulip::time::Instant;
use tulip_http::{ClientSession, ErrorKind};

#[test]
fn sequential_requests_reuse_one_connection() {
    tulip::run(async {
        let server = RawServer::fixed(ok("x")).await;
        let session = ClientSession::new();
        for _ in 0..5 {
            let r = session.get(server.url("/")).send().await.unwrap();
            assert_eq!(r.text().await.unwrap(), "x");
        }
        assert_eq!(server.accepted(), 1);
        let stats = session.pool_stats();
        assert_eq!((stats.opened, stats.reused, stats.idle), (1, 4, 1));
        assert_eq!(stats.in_use, 0);
        assert!(server.requests().iter().all(|r| r.conn == 0));
    });
}

#[test]
fn the_most_recently_used_idle_connection_goes_first() {
    tulip::run(async {
        let server = RawServer::fixed(ok("x")).await;
        let session = ClientSession::new();
        // Two connections at once.
        let a = session.get(server.url("/a")).send().await.unwrap();
        let b = session.get(server.url("/b")).send().await.unwrap();
        assert_eq!(server.accepted(), 2);
        let conn_of = |path: &str| {
            server
                .requests()
                .iter()
                .rev()
                .find(|r| r.target == path)
                .unwrap()
                .conn
        };
        let (conn_a, conn_b) = (conn_of("/a"), conn_of("/b"));
        // `b` goes back to the pool first, `a` last: `a`'s connection is reused next.
        b.bytes().await.unwrap();
        a.bytes().await.unwrap();
        assert_eq!(session.pool_stats().idle, 2);
        session
            .get(server.url("/c"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(conn_of("/c"), conn_a);
        // Then, with `a`'s back on top again, still `a`'s.
        session
            .get(server.url("/d"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(conn_of("/d"), conn_a);
        assert_ne!(conn_a, conn_b);
        assert_eq!(server.accepted(), 2);
    });
}

#[test]
fn a_connection_the_server_closed_is_never_handed_out() {
    tulip::run(async {
        // The server closes every connection after its response, without saying so.
        let server = RawServer::start(|_| vec![Step::Write(ok("once")), Step::Close]).await;
        let session = ClientSession::new();
        for _ in 0..3 {
            let r = session.get(server.url("/")).send().await.unwrap();
            assert_eq!(r.text().await.unwrap(), "once");
            // Let the connection's task see the EOF.
            tulip::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(server.accepted(), 3);
        assert_eq!(session.pool_stats().opened, 3);
    });
}

#[test]
fn a_stale_connection_is_replaced_without_an_error() {
    tulip::run(async {
        // The server closes after the response, and the client asks again at once: the
        // request may go out on the dead connection, and is then sent on a new one.
        let server = RawServer::start(|_| vec![Step::Write(ok("fine")), Step::Close]).await;
        let session = ClientSession::new();
        for _ in 0..5 {
            let r = session.get(server.url("/")).send().await.unwrap();
            assert_eq!(r.text().await.unwrap(), "fine");
        }
        assert_eq!(server.accepted(), 5);
    });
}

#[test]
fn connection_close_and_http10_responses_are_not_pooled() {
    tulip::run(async {
        let server = RawServer::start(|req| match req.target.as_str() {
            "/close" => vec![
                Step::Write(response("200 OK", &[("Connection", "close")], b"bye")),
                Step::Close,
            ],
            "/http10" => vec![
                Step::Write(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec()),
                Step::Close,
            ],
            _ => vec![Step::Write(ok("ok"))],
        })
        .await;
        let session = ClientSession::new();
        let r = session.get(server.url("/close")).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "bye");
        assert_eq!(session.pool_stats().idle, 0);
        let r = session.get(server.url("/http10")).send().await.unwrap();
        assert_eq!(r.version(), http::Version::HTTP_10);
        assert_eq!(r.text().await.unwrap(), "ok");
        assert_eq!(session.pool_stats().idle, 0);
        session
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(server.accepted(), 3);
        assert_eq!(session.pool_stats().reused, 0);
    });
}

#[test]
fn a_response_dropped_mid_body_closes_its_connection() {
    tulip::run(async {
        let server = RawServer::start(|req| {
            if req.target == "/partial" {
                vec![
                    Step::Write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst".to_vec()),
                    Step::Hang,
                ]
            } else {
                vec![Step::Write(ok("whole"))]
            }
        })
        .await;
        let session = ClientSession::new();
        let mut r = session.get(server.url("/partial")).send().await.unwrap();
        assert_eq!(&r.chunk().await.unwrap().unwrap()[..], b"first");
        assert_eq!(session.pool_stats().in_use, 1);
        drop(r);
        assert_eq!(session.pool_stats().in_use, 0);
        assert_eq!(session.pool_stats().idle, 0);
        let r = session.get(server.url("/")).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "whole");
        assert_eq!(server.accepted(), 2);
        tulip::time::sleep(Duration::from_millis(20)).await;
        assert!(
            server.client_closed() >= 1,
            "the half-read connection was closed"
        );
    });
}

#[test]
fn limit_bounds_connections_in_use() {
    test_clock().block_on(async {
        let server = RawServer::start(|_| {
            vec![Step::Sleep(Duration::from_secs(1)), Step::Write(ok("slow"))]
        })
        .await;
        let session = ClientSession::builder().limit(2).build();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for i in 0..6 {
            let session = session.clone();
            let url = server.url(&format!("/{i}"));
            tasks.push(tulip::spawn(async move {
                let r = session.get(url).send().await.unwrap();
                r.text().await.unwrap()
            }));
        }
        tulip::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(session.pool_stats().in_use, 2);
        assert_eq!(session.pool_stats().waiting, 4);
        for task in tasks {
            assert_eq!(task.await.unwrap(), "slow");
        }
        // Three rounds of two, one second each.
        assert_eq!(Instant::now() - start, Duration::from_secs(3));
        assert_eq!(server.max_open(), 2);
        assert_eq!(server.accepted(), 2);
        assert_eq!(session.pool_stats().opened, 2);
    });
}

#[test]
fn limit_zero_is_unlimited() {
    test_clock().block_on(async {
        let server =
            RawServer::start(|_| vec![Step::Sleep(Duration::from_secs(1)), Step::Write(ok("z"))])
                .await;
        let session = ClientSession::builder().limit(0).build();
        let start = Instant::now();
        let tasks: Vec<_> = (0..150)
            .map(|_| {
                let session = session.clone();
                let url = server.url("/");
                tulip::spawn(async move { session.get(url).send().await.unwrap().bytes().await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(Instant::now() - start, Duration::from_secs(1));
        assert_eq!(server.max_open(), 150);
    });
}

#[test]
fn the_default_limit_is_100() {
    test_clock().block_on(async {
        let server =
            RawServer::start(|_| vec![Step::Sleep(Duration::from_secs(1)), Step::Write(ok("z"))])
                .await;
        let session = ClientSession::new();
        let tasks: Vec<_> = (0..120)
            .map(|_| {
                let session = session.clone();
                let url = server.url("/");
                tulip::spawn(async move { session.get(url).send().await.unwrap().bytes().await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(server.max_open(), 100);
        assert_eq!(session.pool_stats().opened, 100);
    });
}

#[test]
fn limit_per_host_leaves_other_hosts_free() {
    test_clock().block_on(async {
        let slow = || vec![Step::Sleep(Duration::from_secs(1)), Step::Write(ok("s"))];
        let a = RawServer::start(move |_| slow()).await;
        let b = RawServer::start(move |_| slow()).await;
        let session = ClientSession::builder().limit(10).limit_per_host(1).build();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for url in [a.url("/1"), a.url("/2"), a.url("/3"), b.url("/1")] {
            let session = session.clone();
            tasks.push(tulip::spawn(async move {
                session
                    .get(url)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                Instant::now()
            }));
        }
        let done: Vec<Instant> = {
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.unwrap());
            }
            out
        };
        let secs = |i: Instant| (i - start).as_secs();
        // Host a: one at a time. Host b: not held up by a's queue.
        assert_eq!(
            done.iter().map(|&d| secs(d)).collect::<Vec<_>>(),
            [1, 2, 3, 1]
        );
        assert_eq!(a.max_open(), 1);
        assert_eq!(b.max_open(), 1);
    });
}

#[test]
fn waiters_are_served_first_come_first_served() {
    test_clock().block_on(async {
        let server =
            RawServer::start(|_| vec![Step::Sleep(Duration::from_secs(1)), Step::Write(ok("f"))])
                .await;
        let session = ClientSession::builder().limit(1).build();
        let order = Rc::new(RefCell::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..5 {
            let session = session.clone();
            let url = server.url(&format!("/{i}"));
            let order = order.clone();
            tasks.push(tulip::spawn(async move {
                session
                    .get(url)
                    .send()
                    .await
                    .unwrap()
                    .bytes()
                    .await
                    .unwrap();
                order.borrow_mut().push(i);
            }));
            // Make the arrival order certain.
            tulip::task::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.borrow(), [0, 1, 2, 3, 4]);
        let targets: Vec<String> = server.requests().iter().map(|r| r.target.clone()).collect();
        assert_eq!(targets, ["/0", "/1", "/2", "/3", "/4"]);
    });
}

#[test]
fn a_cancelled_waiter_hands_its_turn_on() {
    test_clock().block_on(async {
        let server =
            RawServer::start(|_| vec![Step::Sleep(Duration::from_secs(1)), Step::Write(ok("c"))])
                .await;
        let session = ClientSession::builder().limit(1).build();
        let s1 = session.clone();
        let url = server.url("/first");
        let first = tulip::spawn(async move { s1.get(url).send().await.unwrap().bytes().await });
        tulip::task::yield_now().await;
        let s2 = session.clone();
        let url = server.url("/cancelled");
        let cancelled = tulip::spawn(async move { s2.get(url).send().await.map(|_| ()) });
        tulip::task::yield_now().await;
        let s3 = session.clone();
        let url = server.url("/third");
        let third = tulip::spawn(async move { s3.get(url).send().await.unwrap().bytes().await });
        tulip::task::yield_now().await;
        assert_eq!(session.pool_stats().waiting, 2);
        cancelled.cancel();
        first.await.unwrap().unwrap();
        third.await.unwrap().unwrap();
        let targets: Vec<String> = server.requests().iter().map(|r| r.target.clone()).collect();
        assert_eq!(targets, ["/first", "/third"]);
        assert_eq!(session.pool_stats().waiting, 0);
        assert_eq!(session.pool_stats().in_use, 0);
    });
}

#[test]
fn idle_connections_expire_after_keepalive_timeout() {
    test_clock().block_on(async {
        let server = RawServer::fixed(ok("k")).await;
        let session = ClientSession::builder()
            .keepalive_timeout(Duration::from_secs(15))
            .build();
        session
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(session.pool_stats().idle, 1);
        tulip::time::sleep(Duration::from_secs(14)).await;
        assert_eq!(session.pool_stats().idle, 1, "still within the keep-alive");
        // Reused at 14 s: its idle time starts again.
        session
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(server.accepted(), 1);
        tulip::time::sleep(Duration::from_secs(14)).await;
        assert_eq!(session.pool_stats().idle, 1);
        tulip::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            session.pool_stats().idle,
            0,
            "expired 15 s after its last use"
        );
        tulip::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(server.client_closed(), 1, "and closed");
        session
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(server.accepted(), 2);
    });
}

#[test]
fn keepalive_zero_closes_after_each_response() {
    tulip::run(async {
        let server = RawServer::fixed(ok("k")).await;
        let session = ClientSession::builder()
            .keepalive_timeout(Duration::ZERO)
            .build();
        for _ in 0..3 {
            session
                .get(server.url("/"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
        }
        assert_eq!(server.accepted(), 3);
        assert_eq!(session.pool_stats().idle, 0);
    });
}

#[test]
fn limit_counts_idle_connections_to_other_hosts() {
    tulip::run(async {
        let a = RawServer::fixed(ok("a")).await;
        let b = RawServer::fixed(ok("b")).await;
        let session = ClientSession::builder().limit(1).build();
        session
            .get(a.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(session.pool_stats().idle, 1);
        // A connection to b needs room: a's idle one is closed for it.
        session
            .get(b.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(session.pool_stats().idle, 1);
        tulip::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(a.client_closed(), 1);
    });
}

#[test]
fn close_closes_idle_connections_and_fails_later_requests() {
    tulip::run(async {
        let server = RawServer::start(|req| {
            if req.target == "/slow" {
                vec![
                    Step::Sleep(Duration::from_millis(50)),
                    Step::Write(ok("late")),
                ]
            } else {
                vec![Step::Write(ok("c"))]
            }
        })
        .await;
        let session = ClientSession::builder().limit(1).build();
        session
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(session.pool_stats().idle, 1);

        // One request holds the only slot, another waits for it.
        let holder = session.get(server.url("/slow")).send().await.unwrap();
        let s = session.clone();
        let url = server.url("/");
        let waiter = tulip::spawn(async move { s.get(url).send().await.map(|_| ()) });
        tulip::task::yield_now().await;
        assert_eq!(session.pool_stats().waiting, 1);

        session.close().await;
        assert!(session.is_closed());
        assert_eq!(session.pool_stats().idle, 0);
        let err = waiter.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Closed);
        // A response already received can still be read.
        assert_eq!(holder.text().await.unwrap(), "late");
        let url = server.url("/");
        let err = session.get(&url).send().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Closed);
        assert_eq!(err.url(), url);
        tulip::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(server.open(), 0, "every connection closed");
        session.close().await; // twice is fine
    });
}
