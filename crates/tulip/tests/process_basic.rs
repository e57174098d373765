//! `process::Command` and `Child`: exec and shell forms, arguments, environment and working
//! directory, `output` / `status`, exit codes and `returncode` (negative for a signal),
//! `kill` / `terminate` / `send_signal` (a no-op once the child is reaped), `try_wait`, `wait`
//! closing stdin, and spawn failures as errors naming the program (missing, not executable, a
//! directory, outside a runtime).

mod support;

use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use tulip::process::{Command, Stdio};
use tulip::signal::SignalKind;

#[tulip::test]
async fn exec_form_passes_arguments_verbatim() {
    let out = Command::new("printf")
        .arg("%s|")
        .args(["a b", "$HOME", "*"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.stdout, b"a b|$HOME|*|");
    assert!(out.stderr.is_empty());
    assert!(out.status.success());
}

#[tulip::test]
async fn shell_form_runs_pipelines_and_takes_positional_arguments() {
    let out = Command::shell("printf 'x\\ny\\nz\\n' | wc -l")
        .output()
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "3");
    let out = Command::shell("echo \"$0 $1\"")
        .args(["zero", "one"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.stdout, b"zero one\n");
}

#[tulip::test]
async fn environment_and_working_directory() {
    let out = Command::shell("echo \"$A-$B-${HOME:-none}\"; pwd")
        .env("A", "1")
        .envs([("B", "2")])
        .env_remove("HOME")
        .current_dir("/")
        .output()
        .await
        .unwrap();
    assert_eq!(out.stdout, b"1-2-none\n/\n");
    let out = Command::new("/usr/bin/env")
        .env_clear()
        .env("ONLY", "me")
        .output()
        .await
        .unwrap();
    assert_eq!(out.stdout, b"ONLY=me\n");
}

#[tulip::test]
async fn status_inherits_and_reports_exit_codes() {
    for code in [0, 1, 7, 255] {
        let status = Command::shell(format!("exit {code}"))
            .status()
            .await
            .unwrap();
        assert_eq!(status.code(), Some(code));
    }
    // `output` leaves stdin empty rather than inherited: `cat` ends at once.
    let out = Command::new("cat").output().await.unwrap();
    assert!(out.stdout.is_empty());
    // Streams set explicitly are kept by `output`.
    let out = Command::shell("echo hidden")
        .stdout(Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(out.stdout.is_empty());
    // ... and `output` does not change what `spawn` does with the same command later.
    let mut cmd = Command::new("true");
    cmd.output().await.unwrap();
    let mut child = cmd.spawn().unwrap();
    assert!(child.stdout.is_none() && child.stderr.is_none() && child.stdin.is_none());
    child.wait().await.unwrap();
}

#[tulip::test]
async fn returncode_is_negative_for_a_signal() {
    let mut child = Command::new("sleep").arg("100").spawn().unwrap();
    assert_eq!(child.returncode(), None);
    assert_eq!(child.try_wait().unwrap(), None);
    assert!(child.id() > 0);
    child.kill().unwrap();
    let status = child.wait().await.unwrap();
    assert_eq!(status.signal(), Some(9));
    assert_eq!(child.returncode(), Some(-9));
    assert_eq!(child.try_wait().unwrap(), Some(status));
    // Once reaped, signalling is a no-op (the pid may be someone else's by now).
    child.kill().unwrap();
    child.terminate().unwrap();
    assert_eq!(child.wait().await.unwrap(), status);

    let mut child = Command::new("sleep").arg("100").spawn().unwrap();
    child.terminate().unwrap();
    child.wait().await.unwrap();
    assert_eq!(child.returncode(), Some(-15));

    let mut child = Command::new("sleep").arg("100").spawn().unwrap();
    child.send_signal(SignalKind::hangup()).unwrap();
    child.wait().await.unwrap();
    assert_eq!(child.returncode(), Some(-1));

    let mut child = Command::shell("exit 3").spawn().unwrap();
    child.wait().await.unwrap();
    assert_eq!(child.returncode(), Some(3));
}

#[tulip::test]
async fn sending_no_signal_is_an_error_naming_it() {
    let mut child = Command::new("sleep").arg("100").spawn().unwrap();
    let err = child.send_signal(SignalKind::from_raw(0)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("signal 0"), "{err}");
    let err = child.send_signal(1234).unwrap_err();
    assert!(err.to_string().contains("signal 1234"), "{err}");
    child.kill().unwrap();
    child.wait().await.unwrap();
}

#[tulip::test]
async fn wait_closes_stdin_first() {
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // `cat` reads until end of input: were stdin left open, this would never return.
    let status = child.wait().await.unwrap();
    assert!(status.success());
    assert!(child.stdin.is_none());
}

#[tulip::test]
async fn pipes_are_async_streams() {
    let mut child = Command::new("tr")
        .args(["a-z", "A-Z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdin.write_all(b"tulip ").await.unwrap();
    stdin.write_all(b"pipes").await.unwrap();
    stdin.flush().await.unwrap();
    stdin.close().await.unwrap();
    // Writing after close is an error, not a panic.
    assert_eq!(
        stdin.write_all(b"more").await.unwrap_err().kind(),
        ErrorKind::BrokenPipe
    );
    let mut text = String::new();
    stdout.read_to_string(&mut text).await.unwrap();
    assert_eq!(text, "TULIP PIPES");
    assert!(child.wait().await.unwrap().success());
}

#[tulip::test]
async fn a_missing_program_is_an_error_naming_it() {
    let err = Command::new("nosuchprog-tulip").spawn().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string()
            .starts_with("failed to spawn `nosuchprog-tulip`: "),
        "{err}"
    );
    let err = Command::new("nosuchprog-tulip").output().await.unwrap_err();
    assert!(err.to_string().contains("`nosuchprog-tulip`"), "{err}");
    let err = Command::new("nosuchprog-tulip").status().await.unwrap_err();
    assert!(err.to_string().contains("`nosuchprog-tulip`"), "{err}");
}

#[tulip::test]
async fn a_file_that_cannot_be_run_is_an_error_naming_it() {
    let dir = std::env::temp_dir().join(format!("tulip-process-basic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plain = dir.join("not-executable");
    std::fs::write(&plain, b"data").unwrap();
    let err = Command::new(&plain).spawn().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert!(err.to_string().contains("not-executable"), "{err}");

    let err = Command::new(&dir).spawn().unwrap_err();
    assert!(err.to_string().contains(&*dir.to_string_lossy()), "{err}");

    let err = Command::new("true")
        .current_dir(dir.join("missing"))
        .spawn()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains("`true`"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn spawning_outside_a_runtime_is_an_error() {
    let err = Command::new("true").spawn().unwrap_err();
    assert!(err.to_string().contains("inside a tulip runtime"), "{err}");
    assert!(err.to_string().contains("`true`"), "{err}");
}

#[tulip::test]
async fn the_shell_form_is_named_by_its_command_line_in_errors() {
    let err = Command::shell("echo hi")
        .current_dir("/nonexistent-tulip-dir")
        .spawn()
        .unwrap_err();
    assert!(err.to_string().contains("/bin/sh -c 'echo hi'"), "{err}");
}

#[tulip::test(test_clock)]
async fn waiting_for_a_child_works_on_the_test_clock() {
    let start = tulip::time::Instant::now();
    let status = Command::new("true").status().await.unwrap();
    assert!(status.success());
    // The clock did not jump while the loop waited for the child (no timers were due).
    assert_eq!(tulip::time::Instant::now(), start);
}
