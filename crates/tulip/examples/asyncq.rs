//! `asyncq.py`: producers put random hex strings into a queue at random moments, consumers
//! take them out greedily and report how long each item waited in the queue. The program ends
//! as the seed's does: `gather` the producers, `q.join()` until every item is marked done, then
//! cancel the consumers, which would otherwise wait on `get()` for ever.
//!
//! ```text
//! $ cargo run -p tulip-rt --example asyncq -- -p 2 -c 5
//! Producer 0 sleeping for 4 seconds.
//! ...
//! Program completed in 9.00000 seconds.
//! ```
//!
//! One seeded generator (444, as in the seed) draws the sleeps, the item counts and — where the
//! seed used `os.urandom` — the items, so on the test clock (`TULIP_TEST_CLOCK=1`) a run is
//! reproducible and every time printed is exact. `-p/--nprod` and `-c/--ncon` choose how many
//! producers and consumers run (5 and 10 by default).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use tulip::queue::Queue;
use tulip::time::{Instant, sleep};

/// The seed's `random.seed(444)`.
const SEED: u64 = 444;
/// The seed's defaults for `--nprod` and `--ncon`.
pub(crate) const DEFAULT_NPROD: usize = 5;
pub(crate) const DEFAULT_NCON: usize = 10;

/// One generator for the whole program, shared by the tasks of the one loop.
type SharedRng = Rc<RefCell<fastrand::Rng>>;

/// `random.randint(0, 10)`.
fn randint(rng: &SharedRng) -> u64 {
    rng.borrow_mut().u64(0..=10)
}

/// `os.urandom(size).hex()`, from the seeded generator.
async fn makeitem(rng: &SharedRng, size: usize) -> String {
    let mut rng = rng.borrow_mut();
    (0..size).map(|_| format!("{:02x}", rng.u8(..))).collect()
}

async fn randsleep(rng: &SharedRng, caller: Option<&str>) {
    let i = randint(rng);
    if let Some(caller) = caller {
        println!("{caller} sleeping for {i} seconds.");
    }
    sleep(Duration::from_secs(i)).await;
}

async fn produce(name: usize, q: Queue<(String, Instant)>, rng: SharedRng) {
    let n = randint(&rng);
    let caller = format!("Producer {name}");
    for _ in 0..n {
        randsleep(&rng, Some(&caller)).await;
        let i = makeitem(&rng, 5).await;
        let t = Instant::now();
        q.put((i.clone(), t))
            .await
            .expect("the queue is never shut down");
        println!("Producer {name} added <{i}> to queue.");
    }
}

async fn consume(name: usize, q: Queue<(String, Instant)>, rng: SharedRng) {
    let caller = format!("Consumer {name}");
    loop {
        randsleep(&rng, Some(&caller)).await;
        let (i, t) = q.get().await.expect("the queue is never shut down");
        let now = Instant::now();
        println!(
            "Consumer {name} got element <{i}> in {:0.5} seconds.",
            (now - t).as_secs_f64()
        );
        q.task_done().expect("one task_done per item got");
    }
}

/// The program, with `nprod` producers and `ncon` consumers.
pub(crate) fn run(nprod: usize, ncon: usize) {
    let rng: SharedRng = Rc::new(RefCell::new(fastrand::Rng::with_seed(SEED)));
    tulip::run(async move {
        // The seed times `asyncio.run`; the loop's clock measures the same span and is exact
        // on the test clock.
        let start = Instant::now();
        let q = Queue::new();
        let producers: Vec<_> = (0..nprod)
            .map(|n| tulip::spawn(produce(n, q.clone(), rng.clone())))
            .collect();
        let consumers: Vec<_> = (0..ncon)
            .map(|n| tulip::spawn(consume(n, q.clone(), rng.clone())))
            .collect();
        // `await asyncio.gather(*producers)`
        for producer in producers {
            producer
                .await
                .expect("producers neither panic nor are cancelled");
        }
        // Implicitly awaits the consumers, too.
        q.join().await;
        for consumer in &consumers {
            consumer.cancel();
        }
        for consumer in consumers {
            let cancelled = consumer
                .await
                .expect_err("a consumer only ends when cancelled");
            assert!(cancelled.is_cancelled());
        }
        let elapsed = start.elapsed().as_secs_f64();
        println!("Program completed in {elapsed:0.5} seconds.");
    });
}

/// `-p N` / `--nprod N` / `--nprod=N`, and the same for `-c` / `--ncon`.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(usize, usize), String> {
    let (mut nprod, mut ncon) = (DEFAULT_NPROD, DEFAULT_NCON);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let slot = match name.as_str() {
            "-p" | "--nprod" => &mut nprod,
            "-c" | "--ncon" => &mut ncon,
            _ => return Err(format!("unexpected argument {arg:?}")),
        };
        let value = match inline {
            Some(value) => value,
            None => args.next().ok_or(format!("{name} needs a value"))?,
        };
        *slot = value
            .parse()
            .map_err(|err| format!("{name} {value:?}: {err}"))?;
    }
    Ok((nprod, ncon))
}

fn main() {
    match parse_args(std::env::args().skip(1)) {
        Ok((nprod, ncon)) => run(nprod, ncon),
        Err(message) => {
            eprintln!("asyncq: {message}\nusage: asyncq [-p/--nprod N] [-c/--ncon N]");
            std::process::exit(2);
        }
    }
}
