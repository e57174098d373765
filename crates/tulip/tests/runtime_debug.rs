//! Debug mode (asyncio's `PYTHONASYNCIODEBUG`): a poll that blocks the loop longer than the
//! threshold is reported with the task's name and spawn location — through `tracing` when a
//! subscriber is installed, else on stderr — and `TULIP_DEBUG=1` turns it on.

use std::io::Write;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tulip::Runtime;
use tulip::task::Builder;

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

/// Runs `f` with a fmt subscriber writing into a buffer; returns `f`'s output and the text.
fn with_captured_logs<R>(f: impl FnOnce() -> R) -> (R, String) {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || Sink(writer.clone()))
        .finish();
    let out = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    (out, text)
}

fn debug_runtime(debug: bool, threshold: Duration) -> Runtime {
    Runtime::builder()
        .debug(debug)
        .slow_poll_threshold(threshold)
        .build()
        .unwrap()
}

/// Blocks the thread (and so the loop) for 50 ms in one poll.
async fn block_the_loop() {
    std::thread::sleep(Duration::from_millis(50));
}

#[test]
fn a_slow_poll_is_reported_with_the_task_name_and_spawn_location() {
    let ((id, line), text) = with_captured_logs(|| {
        let mut rt = debug_runtime(true, Duration::from_millis(20));
        rt.block_on(async {
            let task = Builder::new().name("sleepy").spawn(block_the_loop());
            let line = line!() - 1;
            let id = task.id();
            task.await.unwrap();
            (id, line)
        })
    });
    let warning = text
        .lines()
        .find(|l| l.contains("blocked the loop"))
        .unwrap_or_else(|| panic!("no warning in: {text:?}"));
    assert!(warning.contains("WARN"), "{warning}");
    assert!(warning.contains(&format!("{id} 'sleepy'")), "{warning}");
    assert!(
        warning.contains(&format!("{}:{line}:", file!())),
        "names the spawn location: {warning}"
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("'sleepy'") && l.contains("blocked the loop"))
            .count(),
        1,
        "one slow poll, one warning: {text}"
    );
}

#[test]
fn a_slow_unnamed_task_is_reported_by_id() {
    let (id, text) = with_captured_logs(|| {
        let mut rt = debug_runtime(true, Duration::from_millis(20));
        rt.block_on(async {
            let task = tulip::spawn(block_the_loop());
            let id = task.id();
            task.await.unwrap();
            id
        })
    });
    assert!(
        text.contains(&format!("task {id} (spawned at {}:", file!())),
        "{text}"
    );
}

#[test]
fn a_slow_main_future_is_reported_too() {
    let ((), text) = with_captured_logs(|| {
        let mut rt = debug_runtime(true, Duration::from_millis(20));
        rt.block_on(block_the_loop());
    });
    assert!(
        text.contains("the main future (block_on/run) blocked the loop"),
        "{text}"
    );
}

#[test]
fn no_warning_without_debug_mode() {
    let ((), text) = with_captured_logs(|| {
        let mut rt = debug_runtime(false, Duration::from_millis(20));
        rt.block_on(async {
            Builder::new()
                .name("sleepy")
                .spawn(block_the_loop())
                .await
                .unwrap();
            block_the_loop().await;
        });
    });
    assert!(!text.contains("blocked the loop"), "{text}");
}

#[test]
fn no_warning_for_polls_under_the_threshold() {
    let ((), text) = with_captured_logs(|| {
        let mut rt = debug_runtime(true, Duration::from_secs(5));
        rt.block_on(async {
            tulip::spawn(block_the_loop()).await.unwrap();
            for _ in 0..100 {
                tulip::spawn(async {}).await.unwrap();
            }
        });
    });
    assert!(!text.contains("blocked the loop"), "{text}");
}

/// Marks the child processes of `tulip_debug_env_turns_debug_mode_on`.
const CHILD_MARK: &str = "TULIP_DEBUG_TEST_CHILD";

#[test]
fn env_child_blocks_the_loop_without_choosing_debug_mode() {
    if std::env::var_os(CHILD_MARK).is_none() {
        return; // only meaningful in the children started below
    }
    // No .debug(..): the environment decides. No tracing subscriber: stderr is the sink.
    let mut rt = Runtime::builder()
        .slow_poll_threshold(Duration::from_millis(20))
        .build()
        .unwrap();
    rt.block_on(async {
        Builder::new()
            .name("env-sleepy")
            .spawn(block_the_loop())
            .await
            .unwrap();
    });
    println!("child: done");
}

fn run_child(tulip_debug: Option<&str>) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "env_child_blocks_the_loop_without_choosing_debug_mode",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_MARK, "1");
    match tulip_debug {
        Some(value) => command.env("TULIP_DEBUG", value),
        None => command.env_remove("TULIP_DEBUG"),
    };
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("child: done"),
        "child test did not run:\n{stdout}"
    );
    stderr
}

#[test]
fn tulip_debug_env_turns_debug_mode_on() {
    let stderr = run_child(Some("1"));
    let warning = stderr
        .lines()
        .find(|l| l.starts_with("WARNING tulip:"))
        .unwrap_or_else(|| panic!("no warning on stderr:\n{stderr}"));
    assert!(warning.contains("'env-sleepy'"), "{warning}");
    assert!(warning.contains(file!()), "{warning}");

    for off in [None, Some("0"), Some("")] {
        let stderr = run_child(off);
        assert!(
            !stderr.contains("WARNING tulip:"),
            "TULIP_DEBUG={off:?} must leave debug mode off:\n{stderr}"
        );
    }
}
