//! `rand.py`: three `makerandom()` coroutines each draw random integers in `0..=10` until one
//! beats their threshold, sleeping between tries; none waits for the others to finish. The
//! random generator is seeded (444, as in the seed; `--seed N` picks another) and shared by
//! the three, so on the test clock (`TULIP_TEST_CLOCK=1`) the whole run is reproducible. On
//! the real clock, tasks due in the same second wake microseconds apart in whatever order they
//! happened to arm their timers, so which task gets which draw, and the lines between, can vary.
//!
//! ```text
//! $ cargo run -p tulip-rt --example rand -- --seed 444
//! ```

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use tulip::time::sleep;

/// ANSI colours, as in the seed: the reset code, then one colour per `makerandom` call.
const C: [&str; 4] = [
    "\x1b[0m",  // End of color
    "\x1b[36m", // Cyan
    "\x1b[91m", // Red
    "\x1b[35m", // Magenta
];

/// The seed's `random.seed(444)`.
pub(crate) const DEFAULT_SEED: u64 = 444;

/// One generator for the whole program, like Python's module-level `random`. The tasks share
/// it through an `Rc`: they all run on one thread, so no lock is needed.
type SharedRng = Rc<RefCell<fastrand::Rng>>;

/// `random.randint(0, 10)`: both ends included.
fn randint(rng: &SharedRng) -> u32 {
    rng.borrow_mut().u32(0..=10)
}

async fn makerandom(rng: SharedRng, idx: u32, threshold: u32) -> u32 {
    let c = C[idx as usize + 1];
    println!("{c}Initiated makerandom({idx}).");
    let mut i = randint(&rng);
    while i <= threshold {
        println!("{c}makerandom({idx}) == {i} too low; retrying.");
        sleep(Duration::from_secs(u64::from(idx) + 1)).await;
        i = randint(&rng);
    }
    println!("{c}---> Finished: makerandom({idx}) == {i}{}", C[0]);
    i
}

/// The program, with the generator seeded by `seed`.
pub(crate) fn run(seed: u64) {
    let rng: SharedRng = Rc::new(RefCell::new(fastrand::Rng::with_seed(seed)));
    let [r1, r2, r3] = tulip::run(async move {
        // `asyncio.gather(*(makerandom(i, 10 - i - 1) for i in range(3)))`: spawn the three,
        // then collect their results in input order.
        let tasks = [0, 1, 2].map(|i| tulip::spawn(makerandom(rng.clone(), i, 10 - i - 1)));
        let mut results = [0; 3];
        for (result, task) in results.iter_mut().zip(tasks) {
            *result = task
                .await
                .expect("makerandom() neither panics nor is cancelled");
        }
        results
    });
    println!();
    println!("r1: {r1}, r2: {r2}, r3: {r3}");
}

/// `--seed N` (or `--seed=N`), else the seed's 444.
fn parse_seed(mut args: impl Iterator<Item = String>) -> Result<u64, String> {
    let mut seed = DEFAULT_SEED;
    while let Some(arg) = args.next() {
        let value = match arg.strip_prefix("--seed") {
            Some("") => args.next().ok_or("--seed needs a value")?,
            Some(rest) if rest.starts_with('=') => rest[1..].to_owned(),
            _ => return Err(format!("unexpected argument {arg:?}")),
        };
        seed = value
            .parse()
            .map_err(|err| format!("--seed {value:?}: {err}"))?;
    }
    Ok(seed)
}

fn main() {
    match parse_seed(std::env::args().skip(1)) {
        Ok(seed) => run(seed),
        Err(message) => {
            eprintln!("rand: {message}\nusage: rand [--seed N]");
            std::process::exit(2);
        }
    }
}
