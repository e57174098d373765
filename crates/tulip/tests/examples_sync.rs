//! Runs the queue and synchronisation examples (`asyncq`, `prodcons`, `sync_lock`,
//! `sync_event`, `sync_condition`, `sync_semaphore`) as child processes on the test clock
//! (`TULIP_TEST_CLOCK=1`) and checks what they print.
//!
//! The five small programs are checked line by line, timings included. `asyncq`'s output
//! depends on its seeded draws, so its check replays the run from the output itself: each
//! producer's sleeps give the time each item was put, each consumer's sleeps and its "in N
//! seconds" give the time each item was got, and these must fit together exactly — every item
//! got once and after it was put, in the order put (a FIFO queue), a consumer that found an
//! item waiting taking it the moment it was ready, and the program ending when the last item
//! was marked done.

mod support;

use std::collections::HashMap;

use support::{assert_output, run_example, run_example_raw};

const PRODCONS: &str = "\
[0.00 s] producer: made product 1
[0.00 s] consumer: consumed product 1
[1.00 s] producer: made product 2
[1.00 s] consumer: consumed product 2
[2.00 s] producer: made product 3
[2.00 s] consumer: consumed product 3
[3.00 s] producer: made product 4
[3.00 s] consumer: consumed product 4
[4.00 s] producer: made product 5
[4.00 s] consumer: consumed product 5
done in 5.00 seconds
";

const SYNC_LOCK: &str = "\
[1.00 s] worker 0 response {'msg': 'ok'}
[2.00 s] worker 1 response {'msg': 'ok'}
[3.00 s] worker 2 response {'msg': 'ok'}
[0, 1, 2]
took 3.00 s
";

const SYNC_EVENT: &str = "\
[1.00 s] response {'msg': 0.9879470259657458}
[1.00 s] response {'msg': 0.33312954919903903}
[1.00 s] response {'msg': 0.41934453838367824}
[1.00 s] small waiter got the event
[1.00 s] small waiter got the event
[1.00 s] big waiter got the event
[1.00 s] big waiter got the event
took 1.00 s
";

const SYNC_CONDITION: &str = "\
[1.00 s] response {'msg': 0.587516452693613}
[1.00 s] notify(2) woke 2 waiters
[1.00 s] response {'msg': 0.3391774763719556}
[1.00 s] notify(2) woke 1 waiter
[1.00 s] response {'msg': 0.2653464378663153}
[1.00 s] notify(2) woke 0 waiters
[1.00 s] waiter[0] done waiting
[1.00 s] waiter[1] done waiting
[1.00 s] waiter[2] done waiting
took 1.00 s
";

const SYNC_SEMAPHORE: &str = "\
[1.00 s] worker[0] response {'msg': 0.21337652123021056}
[1.00 s] worker[1] response {'msg': 0.7591980200967501}
[2.00 s] worker[2] response {'msg': 0.8282581038608438}
took 2.00 s
";

#[test]
fn prodcons_hands_each_product_over_before_making_the_next() {
    assert_output("prodcons", &run_example("prodcons", &[]), PRODCONS);
}

#[test]
fn sync_lock_serialises_three_one_second_requests_into_three_seconds() {
    assert_output("sync_lock", &run_example("sync_lock", &[]), SYNC_LOCK);
}

#[test]
fn sync_event_wakes_each_events_waiters_when_it_is_set() {
    assert_output("sync_event", &run_example("sync_event", &[]), SYNC_EVENT);
}

#[test]
fn sync_condition_notify_two_releases_exactly_two_waiters() {
    assert_output(
        "sync_condition",
        &run_example("sync_condition", &[]),
        SYNC_CONDITION,
    );
}

#[test]
fn sync_semaphore_two_permits_three_workers_take_two_seconds() {
    assert_output(
        "sync_semaphore",
        &run_example("sync_semaphore", &[]),
        SYNC_SEMAPHORE,
    );
}

/// One line of `asyncq`'s output.
#[derive(Debug)]
enum Line {
    ProducerSleeps(usize, u64),
    ConsumerSleeps(usize, u64),
    Added(usize, String),
    Got(usize, String, u64),
    Completed(u64),
}

/// Whole seconds from `"N.00000"`: on the test clock every time is exact.
fn whole_seconds(text: &str) -> u64 {
    let (whole, fraction) = text.split_once('.').expect("a time with decimals");
    assert_eq!(
        fraction, "00000",
        "time {text} is not exact to the test clock"
    );
    whole.parse().expect("a number of seconds")
}

fn parse_line(line: &str) -> Line {
    let words: Vec<&str> = line.split(' ').collect();
    let number = |i: usize| -> usize { words[i].parse().expect("a producer or consumer number") };
    let item = |i: usize| -> String {
        let item = words[i]
            .strip_prefix('<')
            .and_then(|w| w.strip_suffix('>'))
            .expect("an item in angle brackets");
        assert!(
            item.len() == 10 && item.chars().all(|c| c.is_ascii_hexdigit()),
            "item {item} is not five random bytes in hex"
        );
        item.to_owned()
    };
    match words.as_slice() {
        ["Producer", _, "sleeping", "for", s, "seconds."] => {
            Line::ProducerSleeps(number(1), s.parse().unwrap())
        }
        ["Consumer", _, "sleeping", "for", s, "seconds."] => {
            Line::ConsumerSleeps(number(1), s.parse().unwrap())
        }
        ["Producer", _, "added", _, "to", "queue."] => Line::Added(number(1), item(3)),
        ["Consumer", _, "got", "element", _, "in", t, "seconds."] => {
            Line::Got(number(1), item(4), whole_seconds(t))
        }
        ["Program", "completed", "in", t, "seconds."] => Line::Completed(whole_seconds(t)),
        _ => panic!("unexpected line {line:?}"),
    }
}

/// Replays an `asyncq` run from its output and checks that it adds up; returns how many items
/// went through the queue.
fn check_asyncq(output: &str, nprod: usize, ncon: usize) -> usize {
    let lines: Vec<Line> = output.lines().map(parse_line).collect();
    let Some((Line::Completed(completed), body)) = lines.split_last() else {
        panic!("the last line is not the completion line:\n{output}");
    };

    // Each producer: sleep, add, sleep, add, ...; an item is put when its sleep ends.
    let mut producer_clock = vec![0u64; nprod];
    let mut producer_sleeping = vec![false; nprod];
    let mut put_at: HashMap<String, u64> = HashMap::new();
    let mut added_order = Vec::new();
    // Each consumer: sleep, get, sleep, get, ...; it is ready for an item when its sleep ends.
    let mut consumer_ready: Vec<Option<u64>> = vec![None; ncon];
    let mut got_order = Vec::new();
    let mut last_get = 0;
    for line in body {
        match line {
            Line::ProducerSleeps(p, s) => {
                assert!(
                    *p < nprod && !producer_sleeping[*p],
                    "producer {p} out of step"
                );
                assert!(*s <= 10, "randint(0, 10) gave {s}");
                producer_clock[*p] += s;
                producer_sleeping[*p] = true;
            }
            Line::Added(p, item) => {
                assert!(
                    producer_sleeping[*p],
                    "producer {p} added without sleeping first"
                );
                producer_sleeping[*p] = false;
                assert!(put_at.insert(item.clone(), producer_clock[*p]).is_none());
                added_order.push(item.clone());
            }
            Line::ConsumerSleeps(c, s) => {
                assert!(*c < ncon, "no consumer {c}");
                assert!(*s <= 10, "randint(0, 10) gave {s}");
                let ready = consumer_ready[*c].take().unwrap_or_default();
                consumer_ready[*c] = Some(ready + s);
            }
            Line::Got(c, item, waited) => {
                let ready = consumer_ready[*c].expect("a consumer sleeps before each get");
                let put = *put_at.get(item).expect("got an item nobody added (yet)");
                let got = put + waited;
                assert!(got >= ready, "consumer {c} got {item} before it asked");
                if *waited > 0 {
                    assert_eq!(
                        got, ready,
                        "{item} waited, yet consumer {c} did not take it at once"
                    );
                }
                // Ready again only after its next sleep: mark it mid-cycle.
                consumer_ready[*c] = Some(got);
                got_order.push(item.clone());
                last_get = last_get.max(got);
            }
            Line::Completed(_) => panic!("completion line in the middle"),
        }
    }
    assert!(
        producer_sleeping.iter().all(|s| !s),
        "a producer slept without adding"
    );
    assert!(
        consumer_ready.iter().all(Option::is_some),
        "every consumer starts by sleeping"
    );
    assert_eq!(
        got_order, added_order,
        "items are got once each, first in first out"
    );
    assert_eq!(
        *completed, last_get,
        "join returned when the last item was done"
    );
    added_order.len()
}

#[test]
fn asyncq_with_two_producers_and_five_consumers_adds_up() {
    let output = run_example("asyncq", &["-p", "2", "-c", "5"]);
    let items = check_asyncq(&output, 2, 5);
    assert!(items > 0, "the seeded run puts something through the queue");
    assert_eq!(output, run_example("asyncq", &["--nprod", "2", "--ncon=5"]));
}

#[test]
fn asyncq_defaults_to_five_producers_and_ten_consumers() {
    let output = run_example("asyncq", &[]);
    check_asyncq(&output, 5, 10);
    assert!(output.contains("Consumer 9 sleeping"));
    assert!(!output.contains("Consumer 10 "), "only ten consumers");
    assert_eq!(output, run_example("asyncq", &["-p", "5", "-c", "10"]));
}

#[test]
fn asyncq_with_one_consumer_makes_items_wait_in_the_queue() {
    let output = run_example("asyncq", &["-p", "5", "-c", "1"]);
    check_asyncq(&output, 5, 1);
    assert!(
        output
            .lines()
            .any(|line| line.contains("got element") && !line.contains(" in 0.00000 ")),
        "with one slow consumer some item waits"
    );
}

#[test]
fn asyncq_rejects_bad_arguments_with_usage() {
    for args in [&["-p", "many"][..], &["--ncon"], &["--threads", "2"]] {
        let output = run_example_raw("asyncq", args);
        assert_eq!(output.status.code(), Some(2), "args {args:?}");
        assert!(output.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("usage: asyncq [-p/--nprod N] [-c/--ncon N]"),
            "{stderr}"
        );
    }
}
