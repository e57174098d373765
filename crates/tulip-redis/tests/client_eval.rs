//! Scripts: EVALSHA, and EVAL when the server has lost the script.

use tulip_redis::testing::RedisServer;
use tulip_redis::{Client, ErrorKind, Script, Value, cmd};

#[test]
fn evalsha_falls_back_to_eval_after_script_flush() {
    let Some(server) = RedisServer::start().unwrap() else {
        return;
    };
    tulip::run(async move {
        let client = Client::open(&server.url()).await.unwrap();
        let script = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");

        // Not cached yet: EVALSHA, NOSCRIPT, EVAL.
        let reply = client.eval(&script.call().key("n").arg(5)).await.unwrap();
        assert_eq!(reply, Value::Int(5));
        assert_eq!(client.stats().round_trips, 2);

        // Cached now: EVALSHA alone.
        let reply = client.eval(&script.call().key("n").arg(2)).await.unwrap();
        assert_eq!(reply, Value::Int(7));
        assert_eq!(client.stats().round_trips, 3);

        client.query(&cmd!("SCRIPT", "FLUSH")).await.unwrap();
        let before = client.stats().round_trips;
        let reply = client.eval(&script.call().key("n").arg(1)).await.unwrap();
        assert_eq!(reply, Value::Int(8));
        assert_eq!(client.stats().round_trips - before, 2);

        let loaded = client
            .query(&cmd!("SCRIPT", "LOAD", "return 1"))
            .await
            .unwrap();
        assert_eq!(loaded.as_str(), Some(Script::new("return 1").sha1()));
    });
}

#[test]
fn script_error_is_a_server_error() {
    let Some(server) = RedisServer::start().unwrap() else {
        return;
    };
    tulip::run(async move {
        let client = Client::open(&server.url()).await.unwrap();
        let script = Script::new("return redis.error_reply('my failure')");
        let err = client.eval(&script.call()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("my failure"), "{err}");
    });
}
