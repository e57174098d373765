//! `time::interval` on the test clock: ticks at exact times, `interval_at`, `reset`, and each
//! `MissedTicks` behaviour when the consumer falls behind (pushed there with `time::advance`).

use std::future::poll_fn;
use std::panic::catch_unwind;
use std::time::Duration;

use tulip::Runtime;
use tulip::time::{Instant, Interval, MissedTicks, advance, interval, interval_at, sleep};

fn test_clock() -> Runtime {
    Runtime::builder().test_clock().build().unwrap()
}

const SEC: Duration = Duration::from_secs(1);
const MS: Duration = Duration::from_millis(1);

/// Ticks `n` times, recording (tick's due time, loop time when it returned), both relative to
/// `start`.
async fn ticks(every: &mut Interval, start: Instant, n: usize) -> Vec<(Duration, Duration)> {
    let mut seen = Vec::new();
    for _ in 0..n {
        let due = every.tick().await;
        seen.push((due - start, Instant::now() - start));
    }
    seen
}

#[test]
fn ticks_at_exact_times_the_first_at_once() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let mut every = interval(250 * MS);
        assert_eq!(every.period(), 250 * MS);
        assert_eq!(every.missed_ticks(), MissedTicks::Burst, "the default");
        let seen = ticks(&mut every, start, 5).await;
        let expected: Vec<_> = (0..5u32).map(|i| (i * 250 * MS, i * 250 * MS)).collect();
        assert_eq!(seen, expected, "each tick returns on time, when it was due");
    });
}

#[test]
fn a_consumer_slower_than_the_period_is_not_penalised_when_within_a_period() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let mut every = interval(SEC);
        every.tick().await;
        // Work that takes 600 ms per tick: the schedule stays on whole seconds.
        let mut seen = Vec::new();
        for _ in 0..3 {
            sleep(600 * MS).await;
            let due = every.tick().await;
            seen.push((due - start, start.elapsed()));
        }
        assert_eq!(seen, [(SEC, SEC), (2 * SEC, 2 * SEC), (3 * SEC, 3 * SEC)]);
    });
}

#[test]
fn interval_at_starts_at_the_given_instant() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let mut every = interval_at(start + 5 * SEC, 2 * SEC);
        let seen = ticks(&mut every, start, 3).await;
        assert_eq!(
            seen,
            [(5 * SEC, 5 * SEC), (7 * SEC, 7 * SEC), (9 * SEC, 9 * SEC)]
        );
    });
}

#[test]
fn an_interval_made_outside_the_loop_ticks_on_the_loops_clock() {
    // interval() documents "the first tick at once". Made before the loop runs (like a
    // Sleep passed to block_on) it must still tick at once and then every period, by the
    // loop's clock — which here is a test clock.
    let mut rt = test_clock();
    let mut every = interval(SEC);
    let start = rt.time();
    let seen = rt.block_on(async move {
        let mut seen = Vec::new();
        for _ in 0..3 {
            every.tick().await;
            seen.push(Instant::now() - start);
        }
        seen
    });
    assert_eq!(seen, [Duration::ZERO, SEC, 2 * SEC]);
}

#[test]
fn reset_restarts_the_schedule_from_now() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let mut every = interval(SEC);
        every.tick().await; // at 0
        sleep(300 * MS).await;
        every.reset();
        let seen = ticks(&mut every, start, 2).await;
        assert_eq!(seen, [(1_300 * MS, 1_300 * MS), (2_300 * MS, 2_300 * MS)]);
    });
}

/// Ticks at 0 s and 1 s, then falls 3.5 s behind (now 4.5 s), and records the next ticks.
fn fall_behind(behaviour: MissedTicks) -> Vec<(Duration, Duration)> {
    let mut rt = test_clock();
    rt.block_on(async move {
        let start = Instant::now();
        let mut every = interval(SEC);
        every.set_missed_ticks(behaviour);
        assert_eq!(every.missed_ticks(), behaviour);
        let on_time = ticks(&mut every, start, 2).await;
        assert_eq!(on_time, [(Duration::ZERO, Duration::ZERO), (SEC, SEC)]);
        advance(3_500 * MS).await;
        assert_eq!(start.elapsed(), 4_500 * MS);
        ticks(&mut every, start, 5).await
    })
}

#[test]
fn missed_ticks_burst_catches_up_back_to_back() {
    let at = |due: u64, now_ms: u64| (Duration::from_secs(due), Duration::from_millis(now_ms));
    assert_eq!(
        fall_behind(MissedTicks::Burst),
        [
            at(2, 4_500),
            at(3, 4_500),
            at(4, 4_500),
            at(5, 5_000),
            at(6, 6_000)
        ]
    );
}

#[test]
fn missed_ticks_delay_restarts_from_the_late_tick() {
    let ms =
        |due_ms: u64, now_ms: u64| (Duration::from_millis(due_ms), Duration::from_millis(now_ms));
    assert_eq!(
        fall_behind(MissedTicks::Delay),
        [
            ms(2_000, 4_500),
            ms(5_500, 5_500),
            ms(6_500, 6_500),
            ms(7_500, 7_500),
            ms(8_500, 8_500)
        ]
    );
}

#[test]
fn missed_ticks_skip_keeps_the_original_grid() {
    let ms =
        |due_ms: u64, now_ms: u64| (Duration::from_millis(due_ms), Duration::from_millis(now_ms));
    assert_eq!(
        fall_behind(MissedTicks::Skip),
        [
            ms(2_000, 4_500),
            ms(5_000, 5_000),
            ms(6_000, 6_000),
            ms(7_000, 7_000),
            ms(8_000, 8_000)
        ]
    );
}

#[test]
fn poll_tick_works_in_a_hand_written_future() {
    let mut rt = test_clock();
    rt.block_on(async {
        let start = Instant::now();
        let mut every = interval(100 * MS);
        let mut count = 0;
        let due = poll_fn(|cx| {
            while every.poll_tick(cx).is_ready() {
                count += 1;
                if count == 4 {
                    return std::task::Poll::Ready(Instant::now());
                }
            }
            std::task::Poll::Pending
        })
        .await;
        assert_eq!(due - start, 300 * MS, "ticks at 0, 100, 200, 300 ms");
    });
}

#[test]
fn a_zero_period_panics_with_a_clear_message() {
    let caught = catch_unwind(|| interval(Duration::ZERO)).unwrap_err();
    let message = caught
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| caught.downcast_ref::<String>().cloned())
        .unwrap();
    assert!(message.contains("non-zero period"), "{message}");
}
