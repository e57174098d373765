//! Fairness on the real clock: a task that wakes itself for ever (a `yield_now` loop) cannot
//! starve a timer, I/O readiness, or work injected from another thread. Each spinner counts
//! its laps and stops itself once the other side has set a flag, so a starved loop shows up
//! as a hang (turned into an abort by the watchdog), never as a flaky duration.

mod support;

use support::watchdog;

use std::io::{Read, Write};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tulip::Runtime;
use tulip::io::{Interest, Registration};
use tulip::task::yield_now;

fn real_clock() -> Runtime {
    Runtime::builder().real_clock().build().unwrap()
}

/// Spins on `yield_now` until `flag` is set; returns how many laps it took.
fn spinner(flag: Arc<AtomicBool>) -> tulip::Task<u64> {
    tulip::spawn(async move {
        let mut laps = 0u64;
        while !flag.load(Ordering::SeqCst) {
            laps += 1;
            yield_now().await;
        }
        laps
    })
}

#[test]
fn a_self_waking_task_cannot_starve_a_timer() {
    let _watchdog = watchdog("a_self_waking_task_cannot_starve_a_timer");
    let mut rt = real_clock();
    let laps = rt.block_on(async {
        let fired = Arc::new(AtomicBool::new(false));
        let spin = spinner(fired.clone());
        let timer = tulip::spawn(async move {
            tulip::time::sleep(Duration::from_millis(5)).await;
            fired.store(true, Ordering::SeqCst);
        });
        let laps = spin.await.unwrap();
        timer.await.unwrap();
        laps
    });
    assert!(laps > 0, "the spinner did run alongside the timer");
}

#[test]
fn several_spinners_cannot_starve_a_timer_either() {
    let _watchdog = watchdog("several_spinners_cannot_starve_a_timer_either");
    let mut rt = real_clock();
    rt.block_on(async {
        let fired = Arc::new(AtomicBool::new(false));
        // More spinners than one batch of the loop holds.
        let spinners: Vec<_> = (0..100).map(|_| spinner(fired.clone())).collect();
        let handle = tulip::runtime::Handle::current();
        let flag = fired.clone();
        handle.call_later(Duration::from_millis(5), move || {
            flag.store(true, Ordering::SeqCst)
        });
        for spin in spinners {
            assert!(spin.await.unwrap() > 0);
        }
        assert!(fired.load(Ordering::SeqCst));
    });
}

#[test]
fn a_self_waking_task_cannot_starve_io_readiness() {
    let _watchdog = watchdog("a_self_waking_task_cannot_starve_io_readiness");
    let mut rt = real_clock();
    let (received, laps) = rt.block_on(async {
        let (mut writer, mut reader) = mio::net::UnixStream::pair().unwrap();
        let got_data = Arc::new(AtomicBool::new(false));
        let spin = spinner(got_data.clone());
        let flag = got_data.clone();
        let reading = tulip::spawn(async move {
            let registration = Registration::new(&mut reader, Interest::READABLE).unwrap();
            let mut buf = [0u8; 16];
            let n = registration
                .read_with(|| reader.read(&mut buf))
                .await
                .unwrap();
            flag.store(true, Ordering::SeqCst);
            registration.deregister(&mut reader).unwrap();
            buf[..n].to_vec()
        });
        // Written by another thread while the spinner keeps the loop busy.
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(2));
            writer.write_all(b"readiness").unwrap();
            writer
        });
        let laps = spin.await.unwrap();
        let received = reading.await.unwrap();
        drop(thread.join().unwrap());
        (received, laps)
    });
    assert_eq!(received, b"readiness");
    assert!(laps > 0);
}

#[test]
fn a_self_waking_task_cannot_starve_cross_thread_injection() {
    let _watchdog = watchdog("a_self_waking_task_cannot_starve_cross_thread_injection");
    let mut rt = real_clock();
    let handle = rt.handle().clone();
    rt.block_on(async move {
        let injected = Arc::new(AtomicBool::new(false));
        let spawned = Arc::new(AtomicBool::new(false));
        let spin_a = spinner(injected.clone());
        let spin_b = spinner(spawned.clone());
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(2));
            let flag = injected.clone();
            handle.call_soon_threadsafe(move || flag.store(true, Ordering::SeqCst));
            let flag = spawned.clone();
            handle
                .spawn(async move { flag.store(true, Ordering::SeqCst) })
                .detach();
        });
        assert!(spin_a.await.unwrap() > 0);
        assert!(spin_b.await.unwrap() > 0);
        thread.join().unwrap();
    });
}

#[test]
fn a_busy_main_future_does_not_starve_a_timer() {
    // The block_on future itself yields in a loop; a timer task must still fire. The lap
    // bound (far more than a 2 ms timer needs: each lap is a whole loop turn) makes a
    // starved loop fail this test quickly instead of tripping the watchdog, which would abort
    // every other test of this file with it.
    const GIVE_UP_AFTER: u64 = 1_000_000;
    let _watchdog = watchdog("a_busy_main_future_does_not_starve_a_timer");
    let mut rt = real_clock();
    let laps = rt.block_on(async {
        let done = Rc::new(std::cell::Cell::new(false));
        let flag = done.clone();
        tulip::spawn(async move {
            tulip::time::sleep(Duration::from_millis(2)).await;
            flag.set(true);
        })
        .detach();
        let mut laps = 0u64;
        while !done.get() && laps < GIVE_UP_AFTER {
            laps += 1;
            yield_now().await;
        }
        laps
    });
    assert!(
        laps < GIVE_UP_AFTER,
        "the timer never fired while the main future yielded ({laps} laps)"
    );
}
