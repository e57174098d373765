//! The tour: every ported seed program, one after another, each under a header line. This is
//! the project's main job (`cargo run --release -p tulip-rt --example tour`); apart from the
//! headers it prints exactly what the programs print on their own.

#[allow(dead_code)]
#[path = "callbacks.rs"]
mod callbacks;
#[allow(dead_code)]
#[path = "countasync.rs"]
mod countasync;
#[allow(dead_code)]
#[path = "countsync.rs"]
mod countsync;
#[allow(dead_code)]
#[path = "low_level.rs"]
mod low_level;
#[allow(dead_code)]
#[path = "rand.rs"]
mod rand;

fn header(name: &str) {
    println!("=== {name} ===");
}

fn main() {
    header("countasync");
    countasync::run();
    header("countsync");
    countsync::run();
    header("rand");
    rand::run(rand::DEFAULT_SEED);
    header("callbacks");
    callbacks::run();
    header("low_level");
    low_level::run();
}
