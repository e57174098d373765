//! Pipelines: one write, one round trip, every reply in its place.

use tulip_redis::testing::RedisServer;
use tulip_redis::{Client, Cmd, Value, cmd};

#[test]
fn hundred_commands_one_round_trip() {
    let Some(server) = RedisServer::start().unwrap() else {
        return;
    };
    tulip::run(async move {
        let client = Client::open(&server.url()).await.unwrap();
        let cmds: Vec<Cmd> = (0..100).map(|i| cmd!("RPUSH", "list", i)).collect();
        let replies = client.pipeline(&cmds).await.unwrap();
        let expected: Vec<Value> = (1..=100).map(Value::Int).collect();
        assert_eq!(replies, expected);
        let stats = client.stats();
        assert_eq!((stats.round_trips, stats.commands), (1, 100));

        // Big replies arrive in many reads; the pipeline still lines them up.
        let big = "x".repeat(100_000);
        let sets: Vec<Cmd> = (0..20)
            .map(|i| cmd!("SET", format!("big{i}"), &big))
            .collect();
        client.pipeline(&sets).await.unwrap();
        let gets: Vec<Cmd> = (0..20).map(|i| cmd!("GET", format!("big{i}"))).collect();
        for reply in client.pipeline(&gets).await.unwrap() {
            assert_eq!(reply.as_bytes().map(<[u8]>::len), Some(big.len()));
        }
        assert_eq!(client.stats().round_trips, 3);
        assert!(client.pipeline(&[]).await.unwrap().is_empty());
        assert_eq!(client.stats().round_trips, 3);
    });
}

#[test]
fn failing_command_keeps_its_error_in_place() {
    let Some(server) = RedisServer::start().unwrap() else {
        return;
    };
    tulip::run(async move {
        let client = Client::open(&server.url()).await.unwrap();
        let replies = client
            .pipeline(&[
                cmd!("SET", "s", "text"),
                cmd!("INCR", "s"),
                cmd!("GET", "s"),
            ])
            .await
            .unwrap();
        assert_eq!(replies[0], Value::Simple("OK".into()));
        match &replies[1] {
            Value::Error(msg) => assert!(msg.contains("not an integer"), "{msg}"),
            other => panic!("expected an error reply, got {other:?}"),
        }
        assert_eq!(replies[2].as_str(), Some("text"));
        assert_eq!(client.stats().round_trips, 1);
    });
}
