//! The seed's `test6.py` (`004_…`): two events, each awaited by two waiters; three workers
//! fetch a random number, and one above 0.5 sets the "big" event, else the "small" one. As in
//! the seed, the big waiters wait on the small event and the other way round. Every waiter of
//! an event wakes when it is set; at the end any event still unset is set, so no one waits for
//! ever.
//!
//! A one-second `sleep` stands in for the HTTP request; the "server" replays the three answers
//! the seed's run recorded, so the run is reproducible.
//!
//! ```text
//! $ cargo run -p tulip-rt --example sync_event
//! [1.00 s] response {'msg': 0.9879470259657458}
//! ...
//! took 1.00 s
//! ```

use std::rc::Rc;
use std::time::Duration;

use tulip::sync::Event;
use tulip::time::{Instant, sleep};

/// What the seed's `/random` endpoint answered, in order.
const ANSWERS: [f64; 3] = [0.9879470259657458, 0.33312954919903903, 0.41934453838367824];

/// `GET /random`: a second later, the `id`-th recorded answer.
async fn fetch_random(id: usize) -> f64 {
    sleep(Duration::from_secs(1)).await;
    ANSWERS[id]
}

struct Events {
    big: Event,
    small: Event,
    start: Instant,
}

impl Events {
    fn stamp(&self) -> String {
        format!("[{:.2} s]", self.start.elapsed().as_secs_f64())
    }
}

async fn big_waiter(events: Rc<Events>) {
    events.small.wait().await;
    println!("{} big waiter got the event", events.stamp());
}

async fn small_waiter(events: Rc<Events>) {
    events.big.wait().await;
    println!("{} small waiter got the event", events.stamp());
}

async fn run_worker(events: Rc<Events>, id: usize) -> f64 {
    let data = fetch_random(id).await;
    println!("{} response {{'msg': {data}}}", events.stamp());
    if data > 0.5 {
        events.big.set();
    } else {
        events.small.set();
    }
    data
}

/// The program.
pub(crate) fn run() {
    tulip::run(async {
        let events = Rc::new(Events {
            big: Event::new(),
            small: Event::new(),
            start: Instant::now(),
        });
        let waiters = [
            tulip::spawn(big_waiter(events.clone())),
            tulip::spawn(big_waiter(events.clone())),
            tulip::spawn(small_waiter(events.clone())),
            tulip::spawn(small_waiter(events.clone())),
        ];
        let workers: Vec<_> = (0..3)
            .map(|id| tulip::spawn(run_worker(events.clone(), id)))
            .collect();
        for worker in workers {
            worker
                .await
                .expect("workers neither panic nor are cancelled");
        }
        if !events.big.is_set() {
            events.big.set();
        }
        if !events.small.is_set() {
            events.small.set();
        }
        // The seed's `await asyncio.sleep(0)` lets the woken waiters finish; awaiting them
        // says so outright.
        for waiter in waiters {
            waiter
                .await
                .expect("waiters neither panic nor are cancelled");
        }
        println!("took {:.2} s", events.start.elapsed().as_secs_f64());
    });
}

fn main() {
    run();
}
