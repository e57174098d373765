//! The low-level loop API from the tutorials' tables (`003_…`) and their "stopping the loop"
//! examples (`001_…`): build a loop by hand, schedule plain callbacks with `call_soon`,
//! `call_soon_threadsafe`, `call_later` and `call_at`, cancel a timer before it fires, run the
//! loop with `run_forever` until a callback calls `stop()`, then shut down as the seed does:
//! cancel what is left, `stop()` and `run_forever()` for one last turn, `close()`.
//!
//! ```text
//! $ cargo run -p tulip-rt --example low_level
//! [0.00 s] Hello
//! [0.00 s] World
//! [0.00 s] Hello from another thread
//! [1.00 s] call_at: start + 1 s
//! [2.00 s] call_later: 2 s
//! [3.00 s] call_later: 3 s, calling stop()
//! run_forever() returned at 3.00 s
//! the 1.5 s timer was cancelled before it fired: true
//! cancelling the task still pending: true
//! after one more turn, task cancelled: true
//! closed: true
//! ```

use std::time::Duration;

use tulip::Runtime;
use tulip::time::Instant;

/// Prints `what` stamped with the loop time since `start`.
fn say(start: Instant, what: &str) {
    let at = (Instant::now() - start).as_secs_f64();
    println!("[{at:.2} s] {what}");
}

/// The program.
pub(crate) fn run() {
    // `loop = asyncio.new_event_loop()`
    let mut rt = Runtime::new().expect("the OS gives us an event loop");
    let handle = rt.handle().clone();
    let start = rt.time();

    // `loop.call_soon(print, "Hello")`: callbacks run at the next turn, in the order they
    // were scheduled.
    handle.call_soon(move || say(start, "Hello"));
    handle.call_soon(move || say(start, "World"));
    // `loop.call_soon_threadsafe(...)` from another thread. Joining the thread first keeps the
    // output order fixed for this demonstration; the callback would be just as safe without.
    let remote = handle.clone();
    std::thread::spawn(move || {
        remote.call_soon_threadsafe(move || say(start, "Hello from another thread"));
    })
    .join()
    .expect("the scheduling thread does not panic");

    // `loop.call_at(when, ...)` takes a point on the loop's clock, `loop.call_later(delay,
    // ...)` a delay from now.
    handle.call_at(start + Duration::from_secs(1), move || {
        say(start, "call_at: start + 1 s");
    });
    handle.call_later(Duration::from_secs(2), move || {
        say(start, "call_later: 2 s")
    });
    // A timer cancelled before it fires never runs (`TimerHandle.cancel()`).
    let cancelled = handle.call_later(Duration::from_millis(1500), move || {
        say(start, "the cancelled timer ran (it must not)");
    });
    cancelled.cancel();
    // `loop.stop()` from a callback makes `run_forever()` return after the current turn.
    let stopper = handle.clone();
    handle.call_later(Duration::from_secs(3), move || {
        say(start, "call_later: 3 s, calling stop()");
        stopper.stop();
    });

    // A task that would run for an hour: still pending when the loop stops.
    let sleeper = rt.spawn(tulip::time::sleep(Duration::from_secs(3600)));

    // `loop.run_forever()`
    rt.run_forever();
    let stopped_at = (rt.time() - start).as_secs_f64();
    println!("run_forever() returned at {stopped_at:.2} s");
    println!(
        "the 1.5 s timer was cancelled before it fired: {}",
        cancelled.is_cancelled()
    );

    // The seed's shutdown: cancel every pending task, `loop.stop()`, then `loop.run_forever()`
    // once more (stopped beforehand, it runs a single turn, in which the cancellations are
    // processed), and finally `loop.close()`.
    println!("cancelling the task still pending: {}", sleeper.cancel());
    rt.stop();
    rt.run_forever();
    println!(
        "after one more turn, task cancelled: {}",
        sleeper.is_cancelled()
    );
    rt.close();
    println!("closed: {}", rt.is_closed());
}

fn main() {
    run();
}
