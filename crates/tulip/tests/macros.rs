//! `#[tulip::test]`, `#[tulip::test(test_clock)]`, `#[tulip::test(debug)]` and
//! `#[tulip::main]`: each runs its `async fn` on a fresh loop with the options asked for.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tulip::runtime::Handle;
use tulip::time::{Instant, sleep};

#[tulip::test]
async fn test_runs_the_body_on_a_running_loop() {
    let handle = Handle::current();
    assert!(handle.is_running());
    let task = tulip::spawn(async { 6 * 7 });
    assert_eq!(task.await.unwrap(), 42);
}

#[tulip::test]
async fn test_may_return_a_result() -> Result<(), String> {
    let value = tulip::spawn(async { Ok::<_, String>(1) }).await.unwrap()?;
    if value == 1 {
        Ok(())
    } else {
        Err(format!("unexpected {value}"))
    }
}

#[tulip::test(test_clock)]
async fn test_clock_makes_an_hour_long_sleep_exact_and_instant() {
    let start = Instant::now();
    sleep(Duration::from_secs(3600)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
    // advance only works on a test clock: this proves the option took effect.
    tulip::time::advance(Duration::from_secs(1)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3601));
}

#[tulip::test(test_clock, debug)]
async fn options_combine() {
    let start = Instant::now();
    let tasks: Vec<_> = (1..=3u64)
        .map(|s| tulip::spawn(sleep(Duration::from_secs(s))))
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(start.elapsed(), Duration::from_secs(3));
}

/// A `tracing` writer into a shared buffer.
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tulip::test(debug)]
async fn debug_turns_on_slow_poll_warnings() {
    // The loop runs on this thread, so a thread-local subscriber set here sees its warnings.
    let log = Arc::new(Mutex::new(Vec::new()));
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || Sink(writer.clone()))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let slow = tulip::task::Builder::new().name("slow").spawn(async {
        // Longer than the default 100 ms threshold.
        std::thread::sleep(Duration::from_millis(120));
    });
    slow.await.unwrap();
    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    assert!(text.contains("'slow'"), "{text}");
    assert!(text.contains("blocked the loop"), "{text}");
}

#[tulip::main]
async fn main_like(n: u32) -> (u32, Handle) {
    let doubled = tulip::spawn(async move { n * 2 }).await.unwrap();
    (doubled, Handle::current())
}

#[tulip::main(test_clock)]
async fn main_on_test_clock() -> Duration {
    let start = Instant::now();
    sleep(Duration::from_secs(90)).await;
    start.elapsed()
}

#[test]
fn main_runs_the_body_and_closes_the_loop() {
    let (doubled, handle) = main_like(21);
    assert_eq!(doubled, 42);
    assert!(handle.is_closed(), "the loop is closed once main returns");
    assert_eq!(main_on_test_clock(), Duration::from_secs(90));
}
