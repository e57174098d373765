//! A tour of the HTTP programs of the asyncio tutorials, ported to tulip and tulip-http: the
//! `004_…` seed's test1–test8 (sequential requests, `gather`, tasks, ordering, Lock, Event,
//! Condition, Semaphore) and the `003_…` seed's `fetch_url_async`, each against the seed's test
//! web service started in-process on the test clock, so every timing printed is exact.
//!
//! Run it with `cargo run --release -p tulip-http --example tour`.

#![allow(clippy::duplicate_mod)]

#[allow(dead_code)]
#[path = "fetch_url_async.rs"]
mod fetch_url_async;
#[allow(dead_code)]
#[path = "test1.rs"]
mod test1;
#[allow(dead_code)]
#[path = "test2.rs"]
mod test2;
#[allow(dead_code)]
#[path = "test3.rs"]
mod test3;
#[allow(dead_code)]
#[path = "test4.rs"]
mod test4;
#[allow(dead_code)]
#[path = "test5.rs"]
mod test5;
#[allow(dead_code)]
#[path = "test6.rs"]
mod test6;
#[allow(dead_code)]
#[path = "test7.rs"]
mod test7;
#[allow(dead_code)]
#[path = "test8.rs"]
mod test8;

/// The programs of the tour, in order, with the name each is announced by.
const PROGRAMS: &[(&str, fn())] = &[
    ("test1", test1::run),
    ("test2", test2::run),
    ("test3", test3::run),
    ("test4", test4::run),
    ("test5", test5::run),
    ("test6", test6::run),
    ("test7", test7::run),
    ("test8", test8::run),
    ("fetch_url_async", fetch_url_async::run),
];

fn main() {
    for (name, run) in PROGRAMS {
        println!("=== {name} ===");
        run();
    }
}
