//! Subprocesses: asyncio's `create_subprocess_exec` / `create_subprocess_shell`.
//!
//! | asyncio | tulip |
//! |---|---|
//! | `await create_subprocess_exec("ls", "-l", stdout=PIPE)` | [`Command::new("ls").arg("-l").stdout(Stdio::piped()).spawn()`](Command::spawn) |
//! | `await create_subprocess_shell("ls \| wc -l")` | [`Command::shell("ls \| wc -l")`](Command::shell) |
//! | `proc.communicate(input)` | [`child.communicate(Some(input))`](Child::communicate) |
//! | `proc.wait()`, `proc.returncode`, `proc.pid` | [`wait`](Child::wait), [`returncode`](Child::returncode), [`id`](Child::id) |
//! | `proc.kill()`, `terminate()`, `send_signal(sig)` | [`kill`](Child::kill), [`terminate`](Child::terminate), [`send_signal`](Child::send_signal) |
//! | `proc.stdin` / `stdout` / `stderr` streams | [`Child::stdin`], [`Child::stdout`], [`Child::stderr`]: [`futures_io::AsyncWrite`] / [`futures_io::AsyncRead`] pipes, or asyncio's stream classes through [`ChildStdin::into_stream_writer`], [`ChildStdout::into_stream_reader`] |
//! | `subprocess.run(..., capture_output=True)` | [`Command::output`] |
//!
//! ```
//! use tulip::process::{Command, Stdio};
//!
//! tulip::run(async {
//!     // Exec form: no shell; arguments passed as they are.
//!     let mut child = Command::new("sort")
//!         .stdin(Stdio::piped())
//!         .stdout(Stdio::piped())
//!         .spawn()
//!         .unwrap();
//!     let output = child.communicate(Some(b"pear\napple\n")).await.unwrap();
//!     assert_eq!(output.stdout, b"apple\npear\n");
//!
//!     // Shell form: `/bin/sh -c`.
//!     let output = Command::shell("echo $((6 * 7))").output().await.unwrap();
//!     assert_eq!(output.stdout, b"42\n");
//! });
//! ```
//!
//! Children are reaped without zombies and without a thread per child: the loop watches a
//! pidfd per child on Linux 5.3 and later, and falls back to `SIGCHLD` (then each `SIGCHLD`
//! makes the waiting children try `waitpid` on their own pids) where pidfds are missing or
//! `TULIP_NO_PIDFD=1` is set. A [`Child`] dropped while its process still runs lets it run on,
//! as asyncio does; one shared reaper thread then reaps it when it exits (unless
//! [`Command::kill_on_drop`] asked for it to be killed first).

mod child;
mod command;
mod pipe;
mod reaper;

pub use child::Child;
pub use command::Command;
pub use pipe::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};
