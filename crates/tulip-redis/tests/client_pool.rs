//! The pool: calls beyond its size wait for a connection instead of opening more.

use tulip_redis::testing::RedisServer;
use tulip_redis::{Client, cmd};

#[test]
fn twenty_concurrent_queries_share_two_connections() {
    let Some(server) = RedisServer::start().unwrap() else {
        return;
    };
    tulip::run(async move {
        let client = Client::builder(&server.url())
            .pool_size(2)
            .open()
            .await
            .unwrap();
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let client = client.clone();
                tulip::spawn(async move {
                    let key = format!("key{i}");
                    client.query(&cmd!("SET", &key, i * 10)).await.unwrap();
                    client.query(&cmd!("GET", &key)).await.unwrap().as_int()
                })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), Some(i as i64 * 10));
        }
        let stats = client.stats();
        assert!(stats.connects <= 2, "{stats:?}");
        assert_eq!((stats.round_trips, stats.commands), (40, 40));
        // The server saw at most two clients from us.
        let list = client.query(&cmd!("CLIENT", "LIST")).await.unwrap();
        assert!(list.as_str().unwrap().lines().count() <= 2);
    });
}
