//! The in-memory frontier on the test clock: global de-duplication, per-host in-flight limits,
//! per-host politeness delays (exact instants), round robin between hosts, counters.

mod frontier_cases;

use areq::frontier::MemoryFrontier;

#[tulip::test(test_clock)]
async fn duplicates_are_dropped_across_batches_and_mark_seen() {
    frontier_cases::duplicates_are_dropped_across_batches_and_mark_seen(async |c| {
        MemoryFrontier::new(c)
    })
    .await;
}

#[tulip::test(test_clock)]
async fn per_host_limit_and_round_robin() {
    frontier_cases::per_host_limit_and_round_robin(async |c| MemoryFrontier::new(c)).await;
}

#[tulip::test(test_clock)]
async fn politeness_delay_per_host() {
    frontier_cases::politeness_delay_per_host(async |c| MemoryFrontier::new(c)).await;
}

#[tulip::test(test_clock)]
async fn finish_queues_links_and_completes() {
    frontier_cases::finish_queues_links_and_completes(async |c| MemoryFrontier::new(c)).await;
}

#[tulip::test(test_clock)]
async fn round_robin_takes_turns_within_one_claim() {
    frontier_cases::round_robin_takes_turns_within_one_claim(async |c| MemoryFrontier::new(c))
        .await;
}

#[tulip::test(test_clock)]
async fn a_reported_delay_gates_then_spaces_its_host() {
    frontier_cases::a_reported_delay_gates_then_spaces_its_host(async |c| MemoryFrontier::new(c))
        .await;
}

#[tulip::test(test_clock)]
async fn a_reported_delay_longer_than_the_configured_one_wins() {
    frontier_cases::a_reported_delay_longer_than_the_configured_one_wins(async |c| {
        MemoryFrontier::new(c)
    })
    .await;
}
