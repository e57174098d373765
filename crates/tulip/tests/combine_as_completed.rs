//! `as_completed` on the test clock: outputs in completion order (ties in input order), each
//! as soon as it is ready, the overall timeout yielding `Elapsed` exactly at the deadline and
//! ending the stream without cancelling, the pending futures handed back, `&mut Task` inputs,
//! boxed futures, and a dropped stream dropping what it holds.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use tulip::Task;
use tulip::as_completed;
use tulip::combine::StreamExt;
use tulip::time::{Instant, sleep};

const SEC: Duration = Duration::from_secs(1);

fn after(secs: u64) -> Task<u64> {
    tulip::spawn(async move {
        sleep(Duration::from_secs(secs)).await;
        secs
    })
}

#[tulip::test(test_clock)]
async fn yields_in_completion_order_each_when_it_is_ready() {
    let start = Instant::now();
    let mut stream = as_completed([after(3), after(1), after(2), after(1)]);
    assert_eq!(stream.remaining(), 4);
    let mut seen = Vec::new();
    while let Some(result) = stream.next().await {
        seen.push((result.unwrap(), start.elapsed().as_secs()));
    }
    assert_eq!(seen, [(1, 1), (1, 1), (2, 2), (3, 3)]);
    assert_eq!(stream.remaining(), 0);
}

#[tulip::test(test_clock)]
async fn ties_come_out_in_input_order() {
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            tulip::spawn(async move {
                sleep(SEC).await;
                i
            })
        })
        .collect();
    let order: Vec<_> = as_completed(tasks).map(Result::unwrap).collect().await;
    assert_eq!(order, [0, 1, 2, 3, 4]);
}

#[tulip::test(test_clock)]
async fn the_timeout_yields_elapsed_at_the_deadline_and_cancels_nothing() {
    let start = Instant::now();
    let mut stream = as_completed([after(1), after(5), after(9)]).timeout(3 * SEC);
    assert_eq!(stream.next().await.unwrap().unwrap().unwrap(), 1);
    assert!(stream.next().await.unwrap().is_err());
    assert_eq!(start.elapsed(), 3 * SEC, "exactly at the deadline");
    assert!(
        stream.next().await.is_none(),
        "the stream ends after Elapsed"
    );
    assert_eq!(stream.remaining(), 2);
    let pending = stream.into_pending();
    assert!(pending.iter().all(|t| !t.is_finished()));
    let rest: Vec<_> = as_completed(pending).map(Result::unwrap).collect().await;
    assert_eq!(rest, [5, 9]);
    assert_eq!(start.elapsed(), 9 * SEC);
}

#[tulip::test(test_clock)]
async fn a_timeout_after_everything_finished_never_fires() {
    let start = Instant::now();
    let all: Vec<_> = as_completed([after(1), after(2)])
        .timeout(3 * SEC)
        .collect()
        .await;
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(Result::is_ok));
    assert_eq!(start.elapsed(), 2 * SEC);
}

#[tulip::test(test_clock)]
async fn a_future_polled_in_place_that_completes_at_the_deadline_still_counts() {
    let start = Instant::now();
    let sleeps = [1, 2].map(|s| Box::pin(sleep(Duration::from_secs(s))));
    let all: Vec<_> = as_completed(sleeps).timeout(2 * SEC).collect().await;
    assert_eq!(all.len(), 2);
    assert!(
        all.iter().all(Result::is_ok),
        "outputs are looked at before the deadline"
    );
    assert_eq!(start.elapsed(), 2 * SEC);
}

#[tulip::test(test_clock)]
async fn borrowed_task_handles_stay_with_the_caller() {
    let mut a = after(2);
    let mut b = after(1);
    let firsts: Vec<_> = as_completed([&mut a, &mut b]).take(1).collect().await;
    assert_eq!(firsts[0].as_ref().unwrap(), &1);
    assert!(b.is_finished() && !a.is_finished());
    assert_eq!(a.await.unwrap(), 2);
}

#[tulip::test(test_clock)]
async fn boxed_futures_work_and_a_dropped_stream_drops_them() {
    let dropped = Rc::new(Cell::new(0));
    struct CountDrop(Rc<Cell<u32>>);
    impl Drop for CountDrop {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let futures: Vec<Pin<Box<dyn Future<Output = u32>>>> = (1..=3u32)
        .map(|i| {
            let guard = CountDrop(dropped.clone());
            Box::pin(async move {
                let _guard = guard;
                sleep(Duration::from_secs(u64::from(i))).await;
                i
            }) as Pin<Box<dyn Future<Output = u32>>>
        })
        .collect();
    let mut stream = as_completed(futures);
    assert_eq!(stream.next().await, Some(1));
    assert_eq!(
        dropped.get(),
        1,
        "the finished future was dropped when it finished"
    );
    drop(stream);
    assert_eq!(dropped.get(), 3);
}

#[tulip::test(test_clock)]
async fn an_empty_stream_ends_at_once() {
    assert!(as_completed(Vec::<Task<()>>::new()).next().await.is_none());
    let mut timed = as_completed(Vec::<Task<()>>::new()).timeout(SEC);
    assert!(timed.next().await.is_none());
}
