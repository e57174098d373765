use std::cell::Cell;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::pin::Pin;
use std::process::{ExitStatus, Output};
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use mio::unix::SourceFd;
use rustix::io::Errno;
use rustix::process::Pid;

use super::pipe::{ChildStderr, ChildStdin, ChildStdout};
use super::reaper;
use crate::io::{Interest, Registration};
use crate::signal::{SignalKind, Signals};

/// A running (or finished) child process: asyncio's `asyncio.subprocess.Process`.
///
/// Made by [`Command::spawn`](super::Command::spawn). Its standard streams, when piped, are in
/// the public fields; take them out to use them on their own.
///
/// Dropping a `Child` does not stop the process (unless
/// [`kill_on_drop`](super::Command::kill_on_drop) was set): it runs on, and tulip still reaps
/// it when it exits, so no zombie is left behind.
///
/// A `Child` belongs to the loop it was spawned on (it is not `Send`).
///
/// # Examples
///
/// ```
/// use tulip::process::Command;
///
/// tulip::run(async {
///     let mut child = Command::new("sleep").arg("0.01").spawn().unwrap();
///     println!("started {}", child.id());
///     let status = child.wait().await.unwrap();
///     assert!(status.success());
///     assert_eq!(child.returncode(), Some(0));
/// });
/// ```
pub struct Child {
    /// The child's standard input, if it was [`Stdio::piped`](super::Stdio::piped).
    pub stdin: Option<ChildStdin>,
    /// The child's standard output, if it was [`Stdio::piped`](super::Stdio::piped).
    pub stdout: Option<ChildStdout>,
    /// The child's standard error, if it was [`Stdio::piped`](super::Stdio::piped).
    pub stderr: Option<ChildStderr>,
    pid: Pid,
    exit: Exit,
    status: Cell<Option<ExitStatus>>,
    kill_on_drop: bool,
}

/// How the loop learns that the child exited.
enum Exit {
    /// Readable once the child has exited.
    Pidfd { fd: OwnedFd, reg: Registration },
    /// Each `SIGCHLD` is a reason to try `waitpid` again.
    Sigchld(Signals),
    /// Handed to the orphan reaper (while the `Child` is dropped).
    Released,
}

impl Child {
    pub(crate) fn new(mut child: std::process::Child, kill_on_drop: bool) -> io::Result<Child> {
        let pid = Pid::from_child(&child);
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        // From here on the child is ours: std's handle keeps nothing else (dropping it neither
        // waits nor kills).
        drop(child);
        let exit = match watch(pid) {
            Ok(exit) => exit,
            Err(err) => {
                // Nothing could watch it: do not leave it running unseen.
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                reaper::adopt(pid, None);
                return Err(err);
            }
        };
        let mut child = Child {
            stdin: None,
            stdout: None,
            stderr: None,
            pid,
            exit,
            status: Cell::new(None),
            kill_on_drop,
        };
        // On failure `child` is dropped: it is killed if asked to be, and reaped either way.
        child.stdin = stdin.map(ChildStdin::new).transpose()?;
        child.stdout = stdout.map(ChildStdout::new).transpose()?;
        child.stderr = stderr.map(ChildStderr::new).transpose()?;
        Ok(child)
    }

    /// The process id (asyncio's `pid`).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut child = tulip::process::Command::new("true").spawn().unwrap();
    ///     assert!(child.id() > 0);
    ///     child.wait().await.unwrap();
    /// });
    /// ```
    pub fn id(&self) -> u32 {
        self.pid.as_raw_nonzero().get().unsigned_abs()
    }

    /// Waits for the child to exit and returns its status (asyncio's `wait()`). The child's
    /// stdin, if still here, is closed first, so a child reading until end of input cannot
    /// wait for us while we wait for it. Returns at once if the status is already known.
    ///
    /// To collect piped output as well, use [`communicate`](Child::communicate): waiting while
    /// a piped stdout fills up would deadlock.
    ///
    /// # Errors
    ///
    /// What `waitpid` says (`ECHILD` if other code reaped the child behind our back), or an
    /// error when the loop the child was spawned on is gone.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the status is not lost; a later `wait` or
    /// [`returncode`](Child::returncode) gives it.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut child = tulip::process::Command::shell("exit 3").spawn().unwrap();
    ///     let status = child.wait().await.unwrap();
    ///     assert_eq!(status.code(), Some(3));
    /// });
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    /// Ready with the exit status once the child has exited.
    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        if let Some(status) = self.status.get() {
            return Poll::Ready(Ok(status));
        }
        loop {
            match &mut self.exit {
                Exit::Pidfd { reg, .. } => {
                    std::task::ready!(reg.poll_read_ready(cx))?;
                    if let Some(status) = self.try_wait()? {
                        return Poll::Ready(Ok(status));
                    }
                    // Readable yet not reapable: only if it was spurious; wait for the next.
                    if let Exit::Pidfd { reg, .. } = &self.exit {
                        reg.clear_read_ready();
                    }
                }
                Exit::Released => {
                    return Poll::Ready(Err(io::Error::other("the child was released")));
                }
                Exit::Sigchld(signals) => {
                    // Take any SIGCHLD news first (which registers for the next), then look:
                    // an exit after this look brings a SIGCHLD that wakes us.
                    let news = signals.poll_recv(cx).is_ready();
                    if let Some(status) = self.try_wait()? {
                        return Poll::Ready(Ok(status));
                    }
                    if !news {
                        return Poll::Pending;
                    }
                }
            }
        }
    }

    /// The exit status if the child has exited, without waiting (Python's `Popen.poll()`).
    ///
    /// # Errors
    ///
    /// What `waitpid` says.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut child = tulip::process::Command::new("sleep").arg("10").spawn().unwrap();
    ///     assert_eq!(child.try_wait().unwrap(), None);
    ///     child.kill().unwrap();
    ///     child.wait().await.unwrap();
    ///     assert!(child.try_wait().unwrap().is_some());
    /// });
    /// ```
    pub fn try_wait(&self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status.get() {
            return Ok(Some(status));
        }
        let status = reaper::try_reap(self.pid)?;
        if status.is_some() {
            self.status.set(status);
        }
        Ok(status)
    }

    /// asyncio's `returncode`: `None` while the child runs, its exit code once it exited, or
    /// minus the signal number if a signal killed it (`-9` after [`kill`](Child::kill)).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut child = tulip::process::Command::new("sleep").arg("10").spawn().unwrap();
    ///     assert_eq!(child.returncode(), None);
    ///     child.terminate().unwrap();
    ///     child.wait().await.unwrap();
    ///     assert_eq!(child.returncode(), Some(-15));
    /// });
    /// ```
    pub fn returncode(&self) -> Option<i32> {
        let status = self.try_wait().ok().flatten()?;
        status
            .code()
            .or_else(|| status.signal().map(|signal| -signal))
    }

    /// Sends `signal` to the child (asyncio's `send_signal`). Does nothing if the child has
    /// already exited and been reaped: its pid may belong to another process by now.
    ///
    /// # Errors
    ///
    /// When `signal` is no signal number, or the OS refuses (e.g. `EPERM`).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::signal::SignalKind;
    ///
    /// tulip::run(async {
    ///     let mut child = tulip::process::Command::new("sleep").arg("10").spawn().unwrap();
    ///     child.send_signal(SignalKind::interrupt()).unwrap();
    ///     assert_eq!(child.wait().await.unwrap().signal(), Some(2));
    /// });
    /// # use std::os::unix::process::ExitStatusExt;
    /// ```
    pub fn send_signal(&self, signal: impl Into<SignalKind>) -> io::Result<()> {
        let kind = signal.into();
        let Some(signal) = crate::signal::sys::to_rustix(kind.as_raw_value()) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "cannot send {kind} to process {}: no such signal",
                    self.id()
                ),
            ));
        };
        if self.try_wait()?.is_some() {
            return Ok(());
        }
        let sent = match &self.exit {
            // Through the pidfd: it names this very process even if the pid were reused.
            Exit::Pidfd { fd, .. } => rustix::process::pidfd_send_signal(fd, signal),
            // Safe by the check above: an unreaped child keeps its pid.
            Exit::Sigchld(_) | Exit::Released => rustix::process::kill_process(self.pid, signal),
        };
        match sent {
            // Exited between the check and the send: nothing left to signal.
            Ok(()) | Err(Errno::SRCH) => Ok(()),
            Err(err) => Err(io::Error::new(
                err.kind(),
                format!("cannot send {kind} to process {}: {err}", self.id()),
            )),
        }
    }

    /// Sends `SIGKILL` (asyncio's `kill()`); [`wait`](Child::wait) for it to be gone.
    ///
    /// # Errors
    ///
    /// As [`send_signal`](Child::send_signal).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut child = tulip::process::Command::new("sleep").arg("10").spawn().unwrap();
    ///     child.kill().unwrap();
    ///     child.wait().await.unwrap();
    ///     assert_eq!(child.returncode(), Some(-9));
    /// });
    /// ```
    pub fn kill(&self) -> io::Result<()> {
        self.send_signal(SignalKind::from_raw(9))
    }

    /// Sends `SIGTERM` (asyncio's `terminate()`).
    ///
    /// # Errors
    ///
    /// As [`send_signal`](Child::send_signal).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut child = tulip::process::Command::new("sleep").arg("10").spawn().unwrap();
    ///     child.terminate().unwrap();
    ///     child.wait().await.unwrap();
    ///     assert_eq!(child.returncode(), Some(-15));
    /// });
    /// ```
    pub fn terminate(&self) -> io::Result<()> {
        self.send_signal(SignalKind::terminate())
    }

    /// Writes `input` to the child's stdin and closes it, reads its stdout and stderr to the
    /// end, and waits for it to exit (asyncio's `communicate(input)`). The three go on at
    /// once, so a child that writes a lot before reading everything cannot deadlock with us.
    ///
    /// Only the piped streams take part: `stdout` / `stderr` of the result are empty for a
    /// stream that was not piped (or was taken out of the `Child` already). With `input`
    /// `None`, a piped stdin is just closed.
    ///
    /// A child that exits without reading all its input (`head -c 10`) is not an error: as in
    /// asyncio, the `BrokenPipe` from writing to it is swallowed, and the rest of the input is
    /// dropped. (Rust programs ignore `SIGPIPE`, so the write fails instead of killing us.)
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `input` is given but stdin is not piped; otherwise an I/O error
    /// reading or writing the pipes, or from [`wait`](Child::wait).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the pipes are taken out of the `Child` when it starts, and what was
    /// read so far is lost if it is dropped. The child itself is untouched; `wait` still works.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::process::{Command, Stdio};
    ///
    /// tulip::run(async {
    ///     let mut child = Command::new("tr")
    ///         .args(["a-z", "A-Z"])
    ///         .stdin(Stdio::piped())
    ///         .stdout(Stdio::piped())
    ///         .spawn()
    ///         .unwrap();
    ///     let output = child.communicate(Some(b"shout")).await.unwrap();
    ///     assert_eq!(output.stdout, b"SHOUT");
    ///     assert!(output.status.success());
    /// });
    /// ```
    pub async fn communicate(&mut self, input: Option<&[u8]>) -> io::Result<Output> {
        if input.is_some() && self.stdin.is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "communicate was given input, but the stdin of process {} is not piped (use Stdio::piped())",
                    self.id()
                ),
            ));
        }
        let mut stdin = self.stdin.take();
        let input = input.unwrap_or_default();
        let mut stdout = self.stdout.take().map(|s| (s, Vec::new()));
        let mut stderr = self.stderr.take().map(|s| (s, Vec::new()));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut written = 0;
        poll_fn(|cx| {
            poll_feed(&mut stdin, input, &mut written, cx)?;
            poll_drain(&mut stdout, &mut out, cx)?;
            poll_drain(&mut stderr, &mut err, cx)?;
            if stdin.is_none() && stdout.is_none() && stderr.is_none() {
                Poll::Ready(Ok::<(), io::Error>(()))
            } else {
                Poll::Pending
            }
        })
        .await?;
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout: out,
            stderr: err,
        })
    }
}

/// Writes what is left of `input` while the pipe takes it; closes the pipe once all is written
/// or the child stopped reading.
fn poll_feed(
    stdin: &mut Option<ChildStdin>,
    input: &[u8],
    written: &mut usize,
    cx: &mut Context<'_>,
) -> io::Result<()> {
    let Some(pipe) = stdin else { return Ok(()) };
    while *written < input.len() {
        match Pin::new(&mut *pipe).poll_write(cx, &input[*written..]) {
            Poll::Ready(Ok(n)) => *written += n,
            Poll::Ready(Err(err))
                if matches!(
                    err.kind(),
                    io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                ) =>
            {
                break;
            }
            Poll::Ready(Err(err)) => return Err(err),
            Poll::Pending => return Ok(()),
        }
    }
    // All written (or the child is gone): closing tells it there is no more.
    *stdin = None;
    Ok(())
}

/// Reads the pipe to its end into `into`; drops the pipe at end of stream.
fn poll_drain<R: AsyncRead + Unpin>(
    pipe: &mut Option<(R, Vec<u8>)>,
    into: &mut Vec<u8>,
    cx: &mut Context<'_>,
) -> io::Result<()> {
    const CHUNK: usize = 64 * 1024;
    let Some((reader, _)) = pipe else {
        return Ok(());
    };
    loop {
        let len = into.len();
        into.resize(len + CHUNK, 0);
        let polled = Pin::new(&mut *reader).poll_read(cx, &mut into[len..]);
        match polled {
            Poll::Ready(Ok(n)) => {
                into.truncate(len + n);
                if n == 0 {
                    *pipe = None;
                    return Ok(());
                }
            }
            Poll::Ready(Err(err)) => {
                into.truncate(len);
                return Err(err);
            }
            Poll::Pending => {
                into.truncate(len);
                return Ok(());
            }
        }
    }
}

fn watch(pid: Pid) -> io::Result<Exit> {
    if let Some(fd) = reaper::pidfd_open(pid) {
        let reg = Registration::new(&mut SourceFd(&fd.as_raw_fd()), Interest::READABLE)?;
        return Ok(Exit::Pidfd { fd, reg });
    }
    let signals = crate::signal::signal(SignalKind::child()).map_err(io::Error::from)?;
    Ok(Exit::Sigchld(signals))
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.status.get().is_some() {
            return;
        }
        if self.kill_on_drop {
            let _ = self.kill();
        }
        if let Ok(Some(_)) = self.try_wait() {
            return;
        }
        // Still running: the reaper takes it (and its pidfd, off this loop's reactor).
        let pidfd = match std::mem::replace(&mut self.exit, Exit::Released) {
            Exit::Pidfd { fd, reg } => {
                let _ = reg.deregister(&mut SourceFd(&fd.as_raw_fd()));
                Some(fd)
            }
            Exit::Sigchld(_) | Exit::Released => None,
        };
        reaper::adopt(self.pid, pidfd);
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.id())
            .field("status", &self.status.get())
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}
