//! Reconnecting: a server restart is survived; a dead server is given up on in time.

use std::time::Duration;

use tulip_redis::testing::RedisServer;
use tulip_redis::{Client, ErrorKind, cmd};

#[test]
fn restart_mid_use_reconnects_and_keeps_data() {
    let Some(mut server) = RedisServer::start().unwrap() else {
        return;
    };
    let url = server.url();
    let mut rt = tulip::Runtime::new().unwrap();
    let client = rt.block_on(async {
        let client = Client::builder(&url).pool_size(2).open().await.unwrap();
        client.query(&cmd!("SET", "kept", "yes")).await.unwrap();
        client
    });
    server.restart().unwrap();
    rt.block_on(async {
        let got = client.query(&cmd!("GET", "kept")).await.unwrap();
        assert_eq!(
            got.as_str(),
            Some("yes"),
            "appendfsync always persisted the key"
        );
        let stats = client.stats();
        assert!(stats.reconnects >= 1, "{stats:?}");
        assert_eq!(stats.connects, 1 + stats.reconnects);
        // The retried call counted again.
        assert_eq!(stats.round_trips, 3);
        assert_eq!(
            client.query(&cmd!("INCR", "after")).await.unwrap().as_int(),
            Some(1)
        );
    });
}

#[test]
fn dead_server_gives_up_after_reconnect_for() {
    let Some(mut server) = RedisServer::start().unwrap() else {
        return;
    };
    let url = server.url();
    let mut rt = tulip::Runtime::new().unwrap();
    let client = rt.block_on(async {
        let client = Client::builder(&url)
            .reconnect_for(Duration::from_millis(300))
            .open()
            .await
            .unwrap();
        client.query(&cmd!("PING")).await.unwrap();
        client
    });
    server.kill().unwrap();
    rt.block_on(async {
        let err = client.query(&cmd!("PING")).await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Connect | ErrorKind::Io),
            "{:?}: {err}",
            err.kind()
        );
        assert!(
            err.to_string()
                .starts_with(&format!("redis {}: ", server.addr())),
            "{err}"
        );
        assert!(
            err.to_string().contains("gave up reconnecting after 300ms"),
            "{err}"
        );
        assert_eq!(client.stats().reconnects, 0);
    });
}
