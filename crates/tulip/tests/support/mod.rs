//! Helpers shared by the tests that run the example programs as child processes.
// Each test crate that includes this module uses a different subset of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// `target/<profile>/`: the test binary lives in its `deps/`, the examples in its `examples/`.
pub(crate) fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows where its binary is");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary sits in target/<profile>/deps/")
        .to_path_buf()
}

/// Makes sure the example binaries exist and are up to date.
///
/// A plain `cargo test` builds the examples before it runs any test, but `cargo test --test
/// examples` builds only this file, which could leave the binaries missing or stale. So the
/// examples are built once more here (a no-op when they are fresh) with the cargo that runs
/// the tests, into the same target directory and profile. Cargo has released its build lock
/// by the time tests run, so this does not wait on the outer build.
pub(crate) fn build_examples() -> &'static Result<(), String> {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = profile_dir();
        let target_dir = dir.parent().expect("target/<profile>/ has a parent");
        let profile = match dir.file_name().and_then(|name| name.to_str()) {
            Some("debug") => "dev".to_owned(),
            Some(name) => name.to_owned(),
            None => "dev".to_owned(),
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "tulip-rt", "--examples"])
            .arg("--profile")
            .arg(&profile)
            .arg("--target-dir")
            .arg(target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status();
        match status {
            Ok(status) if status.success() => Ok(()),
            Ok(status) => Err(format!("cargo build --examples failed: {status}")),
            Err(err) => Err(format!("could not start cargo: {err}")),
        }
    })
}

/// Runs example `name` with `args` on the test clock and returns its standard output, after
/// checking that it exited successfully and printed nothing on standard error.
pub(crate) fn run_example(name: &str, args: &[&str]) -> String {
    let output = run_example_raw(name, args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "example {name} failed ({}); stderr:\n{stderr}",
        output.status
    );
    assert!(
        stderr.is_empty(),
        "example {name} wrote to stderr:\n{stderr}"
    );
    String::from_utf8(output.stdout).expect("the examples print UTF-8")
}

pub(crate) fn run_example_raw(name: &str, args: &[&str]) -> Output {
    let binary = profile_dir()
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if let Err(err) = build_examples() {
        // Without cargo, fall back on what `cargo test` built, if it did.
        assert!(
            binary.exists(),
            "{err}, and {} is missing",
            binary.display()
        );
        eprintln!("warning: {err}; running the existing {}", binary.display());
    }
    Command::new(&binary)
        .args(args)
        .env("TULIP_TEST_CLOCK", "1")
        .env_remove("TULIP_DEBUG")
        .output()
        .unwrap_or_else(|err| panic!("could not run {}: {err}", binary.display()))
}

/// Compares line by line so a failure points at the first line that differs.
#[track_caller]
pub(crate) fn assert_output(name: &str, actual: &str, expected: &str) {
    for (number, (a, e)) in actual.lines().zip(expected.lines()).enumerate() {
        assert_eq!(
            a,
            e,
            "example {name}, line {}: full output:\n{actual}",
            number + 1
        );
    }
    assert_eq!(
        actual, expected,
        "example {name}: output differs in length or line endings"
    );
}

/// Aborts the process if a test is still running after 60 s: a lost wake-up must fail CI
/// loudly instead of hanging it. Dropping the guard stops the watch.
pub(crate) struct Watchdog {
    _done: std::sync::mpsc::Sender<()>,
}

/// `TULIP_TEST_WATCHDOG_SECS` overrides the limit (scripts/valgrind.sh raises it: under
/// valgrind, threads run one at a time and fifty times slower).
pub(crate) fn watchdog(what: &'static str) -> Watchdog {
    let secs = std::env::var("TULIP_TEST_WATCHDOG_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60u64);
    let (done, rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let waited = rx.recv_timeout(std::time::Duration::from_secs(secs));
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = waited {
            eprintln!(
                "watchdog: `{what}` still running after {secs} s (a lost wake-up?); aborting"
            );
            std::process::abort();
        }
    });
    Watchdog { _done: done }
}

/// Counts its own drops: the observable trace of a destructor running.
#[derive(Debug)]
pub(crate) struct DropCounter(pub(crate) std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}
