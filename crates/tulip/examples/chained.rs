//! `chained.py`: each `chain(n)` awaits `part1(n)`, then feeds its result to `part2(n, ..)`;
//! the chains run concurrently under one `gather`. Each part sleeps a random 0–10 s, so a
//! chain takes part1 + part2 and the program takes as long as its longest chain.
//!
//! The random generator is seeded (444, as in the seed) and shared by every part in the order
//! they run, like Python's module-level `random`; on the test clock (`TULIP_TEST_CLOCK=1`) the
//! whole run, timings included, is reproducible. (The draws differ from Python's: the
//! generator is `fastrand`, not the Mersenne Twister.)
//!
//! ```text
//! $ cargo run -p tulip-rt --example chained -- 9 6 3
//! ```

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use tulip::time::{Instant, sleep};

/// The seed's `random.seed(444)`.
const SEED: u64 = 444;

/// One generator for the whole program, shared by the tasks of the one loop thread.
type SharedRng = Rc<RefCell<fastrand::Rng>>;

/// `asyncio.sleep(i)`; a zero sleep yields to the other tasks first, as asyncio's does.
async fn nap(secs: u64) {
    if secs == 0 {
        tulip::task::yield_now().await;
    } else {
        sleep(Duration::from_secs(secs)).await;
    }
}

async fn part1(rng: &SharedRng, n: u32) -> String {
    let i = rng.borrow_mut().u64(0..=10);
    println!("part1({n}) sleeping for {i} seconds.");
    nap(i).await;
    let result = format!("result{n}-1");
    println!("Returning part1({n}) == {result}.");
    result
}

async fn part2(rng: &SharedRng, n: u32, arg: String) -> String {
    let i = rng.borrow_mut().u64(0..=10);
    println!("part2({n}, '{arg}') sleeping for {i} seconds.");
    nap(i).await;
    let result = format!("result{n}-2 derived from {arg}");
    println!("Returning part2({n}, '{arg}') == {result}.");
    result
}

async fn chain(rng: SharedRng, n: u32) {
    let start = Instant::now();
    let p1 = part1(&rng, n).await;
    let p2 = part2(&rng, n, p1).await;
    let end = start.elapsed().as_secs_f64();
    println!("-->Chained result{n} => {p2} (took {end:0.2} seconds).");
}

/// The program, for the chains `args`.
pub(crate) fn run(args: &[u32]) {
    let rng: SharedRng = Rc::new(RefCell::new(fastrand::Rng::with_seed(SEED)));
    tulip::run(async move {
        let start = Instant::now();
        // `await asyncio.gather(*(chain(n) for n in args))`
        tulip::gather_all(args.iter().map(|&n| chain(rng.clone(), n))).await;
        let end = start.elapsed().as_secs_f64();
        println!("Program finished in {end:0.2} seconds.");
    });
}

/// The chain numbers from the command line, `[1, 2, 3]` when there are none.
fn parse(args: impl Iterator<Item = String>) -> Result<Vec<u32>, String> {
    let args: Vec<u32> = args
        .map(|arg| arg.parse().map_err(|err| format!("{arg:?}: {err}")))
        .collect::<Result<_, _>>()?;
    Ok(if args.is_empty() { vec![1, 2, 3] } else { args })
}

fn main() {
    match parse(std::env::args().skip(1)) {
        Ok(args) => run(&args),
        Err(message) => {
            eprintln!("chained: {message}\nusage: chained [N...]");
            std::process::exit(2);
        }
    }
}
