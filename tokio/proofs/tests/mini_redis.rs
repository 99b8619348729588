//! mini-redis, tokio's own example application, unmodified: its published
//! crate with only its `tokio` line switched to the face (see `run.sh`). Its
//! server runs on node `redis`, its clients on other nodes, over the
//! simulated network, with every interleaving and latency a draw.

use std::collections::BTreeSet;
use std::time::Duration;

use asyncsim::Explore;
use mini_redis::{client, server};

/// mini-redis's server on node `redis`, port 6379.
fn start_server() -> asyncsim::node::Node {
    asyncsim::node::Builder::new("redis").start(|| async {
        let listener = tokio::net::TcpListener::bind("0.0.0.0:6379").await.unwrap();
        server::run(listener, std::future::pending::<()>())
            .await
            .unwrap();
    })
}

/// A client, once the server listens (its node may not have run yet).
async fn connect() -> client::Client {
    for _ in 0..100 {
        match client::connect("redis:6379").await {
            Ok(client) => return client,
            Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
        }
    }
    panic!("mini-redis never listened")
}

#[test]
fn set_get_and_expiry_in_virtual_time_in_every_schedule() {
    // An hour and a second of virtual time: past asyncsim's default limit
    // (an hour), so this test sets its own.
    let two_hours = asyncsim::Config::new().time_limit(Duration::from_secs(2 * 3600));
    let settings = Explore::new().runs(150).persist(false).config(two_hours);
    asyncsim::check(settings, || async {
        let _server = start_server();
        let mut client = connect().await;
        client.set("hello", "world".into()).await.unwrap();
        assert_eq!(
            client.get("hello").await.unwrap().as_deref(),
            Some(&b"world"[..])
        );
        client
            .set_expires("session", "token".into(), Duration::from_secs(3600))
            .await
            .unwrap();
        assert!(client.get("session").await.unwrap().is_some());
        // An hour of virtual time: mini-redis's purge task wakes at the
        // deadline and removes the key.
        tokio::time::sleep(Duration::from_secs(3601)).await;
        assert_eq!(client.get("session").await.unwrap(), None);
        assert_eq!(
            client.get("hello").await.unwrap().as_deref(),
            Some(&b"world"[..])
        );
    });
}

#[test]
fn racing_writers_leave_either_value_and_both_happen() {
    // Two clients on two nodes SET one key at once; a third GETs after both
    // acknowledged. Which write lands last is the schedule's choice.
    let census = asyncsim::outcomes(Explore::new().runs(300), || async {
        let _server = start_server();
        let writers: Vec<_> = ["alice", "bob"]
            .into_iter()
            .map(|name| {
                let node = asyncsim::node::Builder::new(name).start(|| async {});
                node.spawn(async move {
                    let mut client = connect().await;
                    client.set("owner", name.into()).await.unwrap();
                })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap();
        }
        let mut reader = connect().await;
        let owner = reader.get("owner").await.unwrap().expect("both wrote");
        String::from_utf8(owner.to_vec()).unwrap()
    });
    assert!(census.failures.is_empty(), "{:?}", census.failures);
    let owners: BTreeSet<&str> = census.distinct().into_iter().map(String::as_str).collect();
    assert_eq!(owners, BTreeSet::from(["alice", "bob"]));
}

#[test]
fn subscribers_receive_published_messages_in_order() {
    asyncsim::check(Explore::new().runs(150).persist(false), || async {
        let _server = start_server();
        let subscriber = tokio::spawn(async {
            let mut subscriber = connect()
                .await
                .subscribe(vec!["news".into()])
                .await
                .unwrap();
            let mut received = Vec::new();
            while received.len() < 3 {
                let message = subscriber.next_message().await.unwrap().expect("a message");
                assert_eq!(message.channel, "news");
                if message.content != "probe" {
                    received.push(String::from_utf8(message.content.to_vec()).unwrap());
                }
            }
            received
        });
        let mut publisher = connect().await;
        // PUBLISH answers how many subscribers got it: probe until the
        // subscription is in place (redis drops messages nobody listens to).
        while publisher.publish("news", "probe".into()).await.unwrap() == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        for message in ["first", "second", "third"] {
            assert_eq!(publisher.publish("news", message.into()).await.unwrap(), 1);
        }
        assert_eq!(subscriber.await.unwrap(), ["first", "second", "third"]);
    });
}

#[test]
fn a_crashed_server_node_is_an_error_for_the_client_and_a_restart_forgets() {
    asyncsim::check(Explore::new().runs(150).persist(false), || async {
        let server = start_server();
        let mut client = connect().await;
        client.set("key", "value".into()).await.unwrap();
        server.crash();
        assert!(
            client.get("key").await.is_err(),
            "a request to a crashed server fails"
        );
        server.restart();
        let mut fresh = connect().await;
        assert_eq!(
            fresh.get("key").await.unwrap(),
            None,
            "mini-redis keeps its data in memory: a restart starts empty"
        );
    });
}
