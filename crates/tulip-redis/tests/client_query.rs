//! Single commands against a real server: values, error replies, AUTH and SELECT on connect.

use tulip_redis::testing::RedisServer;
use tulip_redis::{Client, ErrorKind, Value, cmd};

#[test]
fn set_get_incr() {
    let Some(server) = RedisServer::start().unwrap() else {
        return;
    };
    tulip::run(async move {
        let client = Client::open(&server.url()).await.unwrap();
        let ok = client.query(&cmd!("SET", "k", "hello")).await.unwrap();
        assert_eq!(ok, Value::Simple("OK".into()));
        let got = client.query(&cmd!("GET", "k")).await.unwrap();
        assert_eq!(got.as_str(), Some("hello"));
        assert!(
            client
                .query(&cmd!("GET", "missing"))
                .await
                .unwrap()
                .is_nil()
        );

        assert_eq!(
            client.query(&cmd!("INCR", "n")).await.unwrap(),
            Value::Int(1)
        );
        assert_eq!(
            client.query(&cmd!("INCRBY", "n", 41)).await.unwrap(),
            Value::Int(42)
        );
        assert_eq!(
            client.query(&cmd!("GET", "n")).await.unwrap().as_int(),
            Some(42)
        );

        let binary: &[u8] = &[0, 13, 10, 255];
        client.query(&cmd!("SET", "bin", binary)).await.unwrap();
        let got = client.query(&cmd!("GET", "bin")).await.unwrap();
        assert_eq!(got.as_bytes(), Some(binary));

        client
            .query(&cmd!("RPUSH", "list", "a", "b"))
            .await
            .unwrap();
        let items = client.query(&cmd!("LRANGE", "list", 0, -1)).await.unwrap();
        assert_eq!(
            items.into_array().unwrap(),
            vec![Value::Bulk("a".into()), Value::Bulk("b".into())]
        );

        let stats = client.stats();
        assert_eq!(
            (stats.round_trips, stats.commands, stats.connects),
            (10, 10, 1)
        );
        assert_eq!(stats.reconnects, 0);
        assert_eq!(client.addr(), server.addr().to_string());
    });
}

#[test]
fn error_reply_is_a_server_error_with_the_servers_text() {
    let Some(server) = RedisServer::start().unwrap() else {
        return;
    };
    tulip::run(async move {
        let client = Client::open(&server.url()).await.unwrap();
        client.query(&cmd!("SET", "s", "text")).await.unwrap();
        let err = client.query(&cmd!("LPUSH", "s", "x")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        let msg = err.to_string();
        assert!(msg.contains("WRONGTYPE"), "{msg}");
        assert!(
            msg.starts_with(&format!("redis {}: ", server.addr())),
            "{msg}"
        );

        let err = client.query(&cmd!("NOSUCHCOMMAND")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("unknown command"), "{err}");

        // The connection is still good after error replies.
        assert_eq!(
            client.query(&cmd!("GET", "s")).await.unwrap().as_str(),
            Some("text")
        );
        assert_eq!(client.stats().connects, 1);
    });
}

#[test]
fn select_db_isolates_keys() {
    let Some(server) = RedisServer::start().unwrap() else {
        return;
    };
    tulip::run(async move {
        let db0 = Client::open(&server.url()).await.unwrap();
        let db3_url = format!("redis://{}/3", server.addr());
        let db3 = Client::builder(&db3_url).pool_size(2).open().await.unwrap();
        db3.query(&cmd!("SET", "k", "three")).await.unwrap();
        assert!(db0.query(&cmd!("GET", "k")).await.unwrap().is_nil());
        db0.query(&cmd!("SET", "k", "zero")).await.unwrap();
        // Two at once: the second connection must SELECT 3 as well.
        let (a, b) =
            futures_lite::future::zip(db3.query(&cmd!("GET", "k")), db3.query(&cmd!("GET", "k")))
                .await;
        assert_eq!(a.unwrap().as_str(), Some("three"));
        assert_eq!(b.unwrap().as_str(), Some("three"));
        assert_eq!(db3.stats().connects, 2);
        // SELECT and AUTH are not counted as round trips.
        assert_eq!(db3.stats().round_trips, 3);
    });
}

#[test]
fn auth_with_password() {
    let Some(server) = RedisServer::start_with(&["--requirepass", "p@ss word"]).unwrap() else {
        return;
    };
    tulip::run(async move {
        let authed = format!("redis://:p%40ss%20word@{}/0", server.addr());
        let client = Client::open(&authed).await.unwrap();
        assert_eq!(
            client.query(&cmd!("PING")).await.unwrap().as_str(),
            Some("PONG")
        );

        let user = format!("redis://default:p%40ss%20word@{}/2", server.addr());
        let client = Client::open(&user).await.unwrap();
        assert_eq!(
            client.query(&cmd!("PING")).await.unwrap().as_str(),
            Some("PONG")
        );

        let wrong = format!("redis://:nope@{}/0", server.addr());
        let err = Client::open(&wrong).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(!err.to_string().contains("nope"), "{err}");

        // No password: the server answers NOAUTH to the first command.
        let client = Client::open(&server.url()).await.unwrap();
        let err = client.query(&cmd!("GET", "k")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("NOAUTH"), "{err}");
    });
}

#[test]
fn close_refuses_later_calls() {
    let Some(server) = RedisServer::start().unwrap() else {
        return;
    };
    tulip::run(async move {
        let client = Client::open(&server.url()).await.unwrap();
        let clone = client.clone();
        client.close().await;
        let err = clone.query(&cmd!("PING")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Closed);
        assert!(err.to_string().contains("closed"), "{err}");
    });
}
