//! The seed's async generator `mygen(u)`, which yields the powers of two below `2**u` with a
//! tenth of a second's sleep after each, and its two async comprehensions:
//! `[i async for i in mygen()]` and `[j async for j in mygen() if not (j // 3 % 5)]`.
//!
//! As the seed stresses, neither makes iteration concurrent: each comprehension takes the ten
//! sleeps of its generator, one after the other, so the program takes two seconds.
//!
//! ```text
//! $ cargo run -p tulip-rt --example mygen
//! g = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
//! f = [1, 2, 16, 32, 256, 512]
//! took 2.00 seconds
//! ```

use std::time::Duration;

use tulip::combine::stream::{Stream, StreamExt, generator};
use tulip::time::{Instant, sleep};

/// "Yield powers of 2."
fn mygen(u: u32) -> impl Stream<Item = u64> {
    generator(move |y| async move {
        let mut i = 0;
        while i < u {
            y.send(2u64.pow(i)).await;
            i += 1;
            sleep(Duration::from_millis(100)).await;
        }
    })
}

/// `g, f = asyncio.run(main())`, then both printed.
pub(crate) fn run() {
    let (g, f, took) = tulip::run(async {
        let start = Instant::now();
        // This does *not* introduce concurrent execution; it is meant to show syntax only.
        let g: Vec<u64> = mygen(10).collect().await;
        let f: Vec<u64> = mygen(10).filter(|j| j / 3 % 5 == 0).collect().await;
        (g, f, start.elapsed())
    });
    println!("g = {g:?}");
    println!("f = {f:?}");
    println!("took {:.2} seconds", took.as_secs_f64());
}

fn main() {
    run();
}
