//! The tour: every ported seed program, one after another, each under a header line. This is
//! the project's main job (`cargo run --release -p tulip-rt --example tour`); apart from the
//! headers it prints exactly what the programs print on their own (`chained` with the seed's
//! arguments `9 6 3`, the others with their defaults).

// Each crawler stage declares the local test site it fetches from, as it must to build alone.
#![allow(clippy::duplicate_mod)]

#[allow(dead_code)]
#[path = "aiofiles_append.rs"]
mod aiofiles_append;
#[allow(dead_code)]
#[path = "asyncq.rs"]
mod asyncq;
#[allow(dead_code)]
#[path = "callbacks.rs"]
mod callbacks;
#[allow(dead_code)]
#[path = "chained.rs"]
mod chained;
#[allow(dead_code)]
#[path = "chat.rs"]
mod chat;
#[allow(dead_code)]
#[path = "countasync.rs"]
mod countasync;
#[allow(dead_code)]
#[path = "countsync.rs"]
mod countsync;
#[allow(dead_code)]
#[path = "crawler_blocking.rs"]
mod crawler_blocking;
#[allow(dead_code)]
#[path = "crawler_callbacks.rs"]
mod crawler_callbacks;
#[allow(dead_code)]
#[path = "crawler_coroutines.rs"]
mod crawler_coroutines;
#[allow(dead_code)]
#[path = "echo.rs"]
mod echo;
#[allow(dead_code)]
#[path = "executors.rs"]
mod executors;
#[allow(dead_code)]
#[path = "file_copy.rs"]
mod file_copy;
#[allow(dead_code)]
#[path = "gather_vs_as_completed.rs"]
mod gather_vs_as_completed;
#[allow(dead_code)]
#[path = "low_level.rs"]
mod low_level;
#[allow(dead_code)]
#[path = "mygen.rs"]
mod mygen;
#[allow(dead_code)]
#[path = "prodcons.rs"]
mod prodcons;
#[allow(dead_code)]
#[path = "rand.rs"]
mod rand;
#[allow(dead_code)]
#[path = "subprocess_pipeline.rs"]
mod subprocess_pipeline;
#[allow(dead_code)]
#[path = "sync_condition.rs"]
mod sync_condition;
#[allow(dead_code)]
#[path = "sync_event.rs"]
mod sync_event;
#[allow(dead_code)]
#[path = "sync_lock.rs"]
mod sync_lock;
#[allow(dead_code)]
#[path = "sync_semaphore.rs"]
mod sync_semaphore;
#[allow(dead_code)]
#[path = "taskgroup.rs"]
mod taskgroup;
#[allow(dead_code)]
#[path = "wait_for.rs"]
mod wait_for;
#[allow(dead_code)]
#[path = "wait_gather.rs"]
mod wait_gather;

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
    header("chained");
    chained::run(&[9, 6, 3]);
    header("wait_gather");
    wait_gather::run_all();
    header("gather_vs_as_completed");
    gather_vs_as_completed::run();
    header("wait_for");
    wait_for::run();
    header("mygen");
    mygen::run();
    header("taskgroup");
    taskgroup::run();
    header("asyncq");
    asyncq::run(asyncq::DEFAULT_NPROD, asyncq::DEFAULT_NCON);
    header("prodcons");
    prodcons::run();
    header("sync_lock");
    sync_lock::run();
    header("sync_event");
    sync_event::run();
    header("sync_condition");
    sync_condition::run();
    header("sync_semaphore");
    sync_semaphore::run();
    header("executors");
    executors::run();
    header("file_copy");
    file_copy::run();
    header("aiofiles_append");
    aiofiles_append::run();
    header("subprocess_pipeline");
    subprocess_pipeline::run();
    header("echo");
    echo::run();
    header("chat");
    chat::run();
    header("crawler_blocking");
    crawler_blocking::run();
    header("crawler_callbacks");
    crawler_callbacks::run();
    header("crawler_coroutines");
    crawler_coroutines::run();
}
