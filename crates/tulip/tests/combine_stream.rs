//! Async generators (`combine::stream::generator`) and the `StreamExt` combinators on the
//! test clock: the seed's `mygen` and its comprehensions with their timing, laziness (nothing
//! runs before the first value is asked for), one value per request, dropping a generator
//! mid-way dropping its body, `Send` generators on another thread's loop, and streams from
//! other sources mixed in (`as_completed`, `iter`).

use std::cell::Cell;
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use tulip::combine::stream::{Stream, StreamExt, generator, iter};
use tulip::time::{Instant, sleep};

const TENTH: Duration = Duration::from_millis(100);

fn mygen(u: u32) -> impl Stream<Item = u64> {
    generator(move |y| async move {
        for i in 0..u {
            y.send(2u64.pow(i)).await;
            sleep(TENTH).await;
        }
    })
}

#[tulip::test(test_clock)]
async fn mygen_and_its_comprehensions_as_in_the_seed() {
    let start = Instant::now();
    let g: Vec<u64> = mygen(10).collect().await;
    assert_eq!(g, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
    assert_eq!(
        start.elapsed(),
        10 * TENTH,
        "a sleep after each of the ten values"
    );
    let f: Vec<u64> = mygen(10).filter(|j| j / 3 % 5 == 0).collect().await;
    assert_eq!(f, [1, 2, 16, 32, 256, 512]);
    assert_eq!(
        start.elapsed(),
        20 * TENTH,
        "comprehensions do not run concurrently"
    );
}

#[tulip::test(test_clock)]
async fn map_take_and_next_ask_for_one_value_at_a_time() {
    let start = Instant::now();
    let firsts: Vec<String> = mygen(10).map(|v| format!("<{v}>")).take(3).collect().await;
    assert_eq!(firsts, ["<1>", "<2>", "<4>"]);
    assert_eq!(
        start.elapsed(),
        2 * TENTH,
        "the third value needs two sleeps, no more"
    );

    let mut stream = pin!(mygen(3));
    assert_eq!(stream.next().await, Some(1));
    assert_eq!(stream.next().await, Some(2));
    assert_eq!(stream.next().await, Some(4));
    assert_eq!(stream.next().await, None);
    assert_eq!(stream.next().await, None, "finished for good");
}

#[tulip::test(test_clock)]
async fn nothing_runs_until_the_first_value_is_asked_for() {
    let started = Rc::new(Cell::new(false));
    let flag = started.clone();
    let stream = generator(move |y| async move {
        flag.set(true);
        y.send(1).await;
    });
    sleep(TENTH).await;
    assert!(!started.get());
    let mut stream = pin!(stream);
    assert_eq!(stream.next().await, Some(1));
    assert!(started.get());
}

#[tulip::test(test_clock)]
async fn dropping_a_generator_drops_its_body_where_it_waits() {
    struct Closed(Rc<Cell<bool>>);
    impl Drop for Closed {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let closed = Rc::new(Cell::new(false));
    let flag = closed.clone();
    let stream = generator(move |y| async move {
        let _closed = Closed(flag);
        for i in 0.. {
            y.send(i).await;
        }
    });
    let firsts: Vec<u32> = stream.take(2).collect().await;
    assert_eq!(firsts, [0, 1]);
    assert!(
        closed.get(),
        "Python's aclose(): the body's destructors ran"
    );
}

#[tulip::test(test_clock)]
async fn two_sends_racing_inside_the_body_lose_nothing() {
    let values: Vec<u8> = generator(|y| async move {
        tulip::gather!(y.send(1), y.send(2)).await;
        y.send(3).await;
    })
    .collect()
    .await;
    assert_eq!(values, [1, 2, 3]);
}

#[tulip::test(test_clock)]
async fn streams_of_other_sources_mix_in() {
    let tasks = [3u64, 1, 2].map(|s| {
        tulip::spawn(async move {
            sleep(Duration::from_secs(s)).await;
            s
        })
    });
    let doubled: Vec<u64> = tulip::as_completed(tasks)
        .map(Result::unwrap)
        .chain(iter([10]))
        .map(|s| s * 2)
        .collect()
        .await;
    assert_eq!(doubled, [2, 4, 6, 20]);
}

#[test]
fn a_send_generator_runs_on_a_loop_spawned_from_another_thread() {
    let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
    let handle = rt.handle().clone();
    let from_thread = std::thread::spawn(move || {
        let stream = generator(|y| async move {
            for word in ["a", "b"] {
                y.send(word.to_owned()).await;
                sleep(TENTH).await;
            }
        });
        handle.spawn(async move { stream.collect::<Vec<String>>().await })
    })
    .join()
    .unwrap();
    assert_eq!(rt.block_on(from_thread).unwrap(), ["a", "b"]);
}
