//! A loop whose thread-pool job has just finished closes every descriptor before `run`
//! returns, even though the pool's thread may hold the loop's shared state a moment longer.
//! (Alone in its binary: other tests' loops would move the descriptor count.)

mod support;

use support::watchdog;

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn no_descriptor_outlives_run_after_a_job() {
    let _watch = watchdog("loop descriptors");
    tulip::run(async { tulip::to_thread(|| ()).await.unwrap() });
    let before = open_descriptors();
    for round in 0..300 {
        tulip::run(async { drop(tulip::to_thread(|| ())) });
        assert_eq!(open_descriptors(), before, "round {round}");
    }
}
