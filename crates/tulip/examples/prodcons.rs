//! The tutorial's generator-based producer and consumer (`001_…`), rewritten with a queue.
//!
//! The seed's `customer()` is a generator the producer drives with `c.send(str(i))`, sleeping
//! a second after each product; an empty send would end it. Here the two are tasks joined by a
//! [`Queue`] of one slot: the producer `put`s each product, the consumer `get`s it as soon as
//! the producer sleeps, and `shutdown` plays the part of the empty send, ending the
//! consumer's loop once it has taken everything.
//!
//! ```text
//! $ cargo run -p tulip-rt --example prodcons
//! [0.00 s] producer: made product 1
//! [0.00 s] consumer: consumed product 1
//! ...
//! [4.00 s] consumer: consumed product 5
//! done in 5.00 seconds
//! ```

use std::time::Duration;

use tulip::queue::Queue;
use tulip::time::{Instant, sleep};

async fn produce(q: Queue<u32>, start: Instant) {
    for i in 1..=5 {
        println!("[{:.2} s] producer: made product {i}", secs(start));
        q.put(i).await.expect("the consumer shuts nothing down");
        sleep(Duration::from_secs(1)).await;
    }
    // The seed's empty `send`: no more products.
    q.shutdown(false);
}

async fn consume(q: Queue<u32>, start: Instant) {
    // `get` fails once the queue is shut down and empty: the generator's `return`.
    while let Ok(product) = q.get().await {
        println!(
            "[{:.2} s] consumer: consumed product {product}",
            secs(start)
        );
    }
}

fn secs(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

/// The program.
pub(crate) fn run() {
    tulip::run(async {
        let start = Instant::now();
        // One slot: like `send`, each product is handed over before the next is made.
        let q = Queue::with_maxsize(1);
        let consumer = tulip::spawn(consume(q.clone(), start));
        produce(q, start).await;
        consumer
            .await
            .expect("the consumer neither panics nor is cancelled");
        println!("done in {:.2} seconds", secs(start));
    });
}

fn main() {
    run();
}
