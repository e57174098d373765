//! The child's standard streams as non-blocking pipes registered with the loop.

use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};
use mio::unix::pipe::{Receiver, Sender};

use crate::io::{Interest, Registration};
use crate::net::{StreamReader, StreamWriter};

/// A pipe end and its registration; `None` once closed.
struct Pipe<P: mio::event::Source + AsRawFd> {
    inner: Option<(P, Registration)>,
}

impl<P: mio::event::Source + AsRawFd> Pipe<P> {
    fn new(mut pipe: P, interest: Interest) -> io::Result<Pipe<P>> {
        let reg = Registration::new(&mut pipe, interest)?;
        Ok(Pipe {
            inner: Some((pipe, reg)),
        })
    }

    fn get(&self) -> io::Result<&(P, Registration)> {
        self.inner
            .as_ref()
            .ok_or_else(|| io::Error::new(io::ErrorKind::BrokenPipe, "the pipe was closed"))
    }

    /// Deregisters and closes the pipe end.
    fn close(&mut self) {
        if let Some((mut pipe, reg)) = self.inner.take() {
            let _ = reg.deregister(&mut pipe);
        }
    }

    /// Deregisters and hands the descriptor over, blocking again (as a child expects it).
    fn into_owned_fd(mut self) -> io::Result<OwnedFd>
    where
        OwnedFd: From<P>,
    {
        let (mut pipe, reg) = self
            .inner
            .take()
            .ok_or_else(|| io::Error::new(io::ErrorKind::BrokenPipe, "the pipe was closed"))?;
        let _ = reg.deregister(&mut pipe);
        let fd = OwnedFd::from(pipe);
        rustix::io::ioctl_fionbio(&fd, false)?;
        Ok(fd)
    }

    fn raw_fd(&self) -> RawFd {
        self.inner.as_ref().map_or(-1, |(pipe, _)| pipe.as_raw_fd())
    }
}

impl<P: mio::event::Source + AsRawFd> Drop for Pipe<P> {
    fn drop(&mut self) {
        self.close();
    }
}

fn poll_read_pipe(
    pipe: &Pipe<Receiver>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    let (receiver, reg) = pipe.get()?;
    loop {
        ready!(reg.poll_read_ready(cx))?;
        match (&*receiver).read(buf) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => reg.clear_read_ready(),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            result => return Poll::Ready(result),
        }
    }
}

/// The child's standard input: an [`AsyncWrite`] pipe. Closing it ([`close`] from
/// `futures_lite::AsyncWriteExt`, or dropping it) tells the child there is no more input.
///
/// [`close`]: https://docs.rs/futures-lite/latest/futures_lite/io/trait.AsyncWriteExt.html#method.close
///
/// # Examples
///
/// ```
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
/// use tulip::process::{Command, Stdio};
///
/// tulip::run(async {
///     let mut child = Command::new("cat")
///         .stdin(Stdio::piped())
///         .stdout(Stdio::piped())
///         .spawn()
///         .unwrap();
///     let mut stdin = child.stdin.take().unwrap();
///     stdin.write_all(b"hello").await.unwrap();
///     stdin.close().await.unwrap();
///     let mut echoed = String::new();
///     child.stdout.take().unwrap().read_to_string(&mut echoed).await.unwrap();
///     assert_eq!(echoed, "hello");
///     child.wait().await.unwrap();
/// });
/// ```
pub struct ChildStdin {
    pipe: Pipe<Sender>,
}

/// The child's standard output: an [`AsyncRead`] pipe.
///
/// # Examples
///
/// ```
/// use futures_lite::AsyncReadExt;
/// use tulip::process::{Command, Stdio};
///
/// tulip::run(async {
///     let mut child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn().unwrap();
///     let mut out = String::new();
///     child.stdout.take().unwrap().read_to_string(&mut out).await.unwrap();
///     assert_eq!(out, "hi\n");
///     child.wait().await.unwrap();
/// });
/// ```
pub struct ChildStdout {
    pipe: Pipe<Receiver>,
}

/// The child's standard error: an [`AsyncRead`] pipe.
///
/// # Examples
///
/// ```
/// use futures_lite::AsyncReadExt;
/// use tulip::process::{Command, Stdio};
///
/// tulip::run(async {
///     let mut child = Command::shell("echo oops >&2").stderr(Stdio::piped()).spawn().unwrap();
///     let mut err = String::new();
///     child.stderr.take().unwrap().read_to_string(&mut err).await.unwrap();
///     assert_eq!(err, "oops\n");
///     child.wait().await.unwrap();
/// });
/// ```
pub struct ChildStderr {
    pipe: Pipe<Receiver>,
}

fn nonblocking<P>(pipe: P, set: impl FnOnce(&P) -> io::Result<()>) -> io::Result<P> {
    set(&pipe)?;
    Ok(pipe)
}

impl ChildStdin {
    pub(crate) fn new(stdin: std::process::ChildStdin) -> io::Result<ChildStdin> {
        let sender = nonblocking(Sender::from(stdin), |s| s.set_nonblocking(true))?;
        Ok(ChildStdin {
            pipe: Pipe::new(sender, Interest::WRITABLE)?,
        })
    }

    /// Takes the pipe off the loop and returns its descriptor (blocking again), e.g. to give
    /// it to another child as its standard output.
    ///
    /// # Errors
    ///
    /// When the pipe was closed, or the OS refuses to change its mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::process::{Command, Stdio};
    ///
    /// tulip::run(async {
    ///     let mut wc = Command::new("wc").arg("-c").stdin(Stdio::piped()).spawn().unwrap();
    ///     let fd = wc.stdin.take().unwrap().into_owned_fd().unwrap();
    ///     // `echo` writes straight into `wc`.
    ///     Command::new("echo").arg("abc").stdout(fd).status().await.unwrap();
    ///     wc.wait().await.unwrap();
    /// });
    /// ```
    pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
        self.pipe.into_owned_fd()
    }

    /// The pipe as asyncio's `proc.stdin`: a [`StreamWriter`] (`write`, `drain`, `write_eof`,
    /// `close`).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::process::{Command, Stdio};
    ///
    /// tulip::run(async {
    ///     let mut child = Command::new("wc")
    ///         .arg("-l")
    ///         .stdin(Stdio::piped())
    ///         .stdout(Stdio::piped())
    ///         .spawn()
    ///         .unwrap();
    ///     let mut stdin = child.stdin.take().unwrap().into_stream_writer();
    ///     stdin.write(b"one\ntwo\n");
    ///     stdin.drain().await.unwrap();
    ///     stdin.close();
    ///     stdin.wait_closed().await.unwrap();
    ///     let out = child.communicate(None).await.unwrap();
    ///     assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
    /// });
    /// ```
    pub fn into_stream_writer(self) -> StreamWriter<ChildStdin> {
        StreamWriter::new(self)
    }
}

impl ChildStdout {
    pub(crate) fn new(stdout: std::process::ChildStdout) -> io::Result<ChildStdout> {
        let receiver = nonblocking(Receiver::from(stdout), |r| r.set_nonblocking(true))?;
        Ok(ChildStdout {
            pipe: Pipe::new(receiver, Interest::READABLE)?,
        })
    }

    /// Takes the pipe off the loop and returns its descriptor (blocking again), e.g. to give
    /// it to another child as its standard input: `ls | wc -l` without copying through the
    /// loop. `Stdio::try_from(stdout)` does the same.
    ///
    /// # Errors
    ///
    /// When the OS refuses to change the descriptor's mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::process::{Command, Stdio};
    ///
    /// tulip::run(async {
    ///     let mut ls = Command::new("ls").arg("/").stdout(Stdio::piped()).spawn().unwrap();
    ///     let pipe = ls.stdout.take().unwrap().into_owned_fd().unwrap();
    ///     let out = Command::new("wc").arg("-l").stdin(pipe).output().await.unwrap();
    ///     ls.wait().await.unwrap();
    ///     let lines: u32 = String::from_utf8(out.stdout).unwrap().trim().parse().unwrap();
    ///     assert!(lines > 0);
    /// });
    /// ```
    pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
        self.pipe.into_owned_fd()
    }

    /// The pipe as asyncio's `proc.stdout`: a [`StreamReader`] (`readline`, `readuntil`,
    /// `readexactly`, `read`).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::process::{Command, Stdio};
    ///
    /// tulip::run(async {
    ///     let mut child = Command::new("printf")
    ///         .arg("first\nsecond\n")
    ///         .stdout(Stdio::piped())
    ///         .spawn()
    ///         .unwrap();
    ///     let mut lines = child.stdout.take().unwrap().into_stream_reader();
    ///     assert_eq!(lines.readline().await.unwrap(), b"first\n");
    ///     assert_eq!(lines.readline().await.unwrap(), b"second\n");
    ///     assert_eq!(lines.readline().await.unwrap(), b"");
    ///     child.wait().await.unwrap();
    /// });
    /// ```
    pub fn into_stream_reader(self) -> StreamReader<ChildStdout> {
        StreamReader::new(self)
    }
}

impl ChildStderr {
    pub(crate) fn new(stderr: std::process::ChildStderr) -> io::Result<ChildStderr> {
        let receiver = nonblocking(Receiver::from(stderr), |r| r.set_nonblocking(true))?;
        Ok(ChildStderr {
            pipe: Pipe::new(receiver, Interest::READABLE)?,
        })
    }

    /// Takes the pipe off the loop and returns its descriptor (blocking again).
    ///
    /// # Errors
    ///
    /// When the OS refuses to change the descriptor's mode.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::process::{Command, Stdio};
    ///
    /// tulip::run(async {
    ///     let mut child = Command::new("true").stderr(Stdio::piped()).spawn().unwrap();
    ///     let fd = child.stderr.take().unwrap().into_owned_fd().unwrap();
    ///     drop(fd);
    ///     child.wait().await.unwrap();
    /// });
    /// ```
    pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
        self.pipe.into_owned_fd()
    }

    /// The pipe as asyncio's `proc.stderr`: a [`StreamReader`].
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::process::{Command, Stdio};
    ///
    /// tulip::run(async {
    ///     let mut child = Command::shell("echo warning >&2").stderr(Stdio::piped()).spawn().unwrap();
    ///     let mut errors = child.stderr.take().unwrap().into_stream_reader();
    ///     assert_eq!(errors.readline().await.unwrap(), b"warning\n");
    ///     child.wait().await.unwrap();
    /// });
    /// ```
    pub fn into_stream_reader(self) -> StreamReader<ChildStderr> {
        StreamReader::new(self)
    }
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let (sender, reg) = self.pipe.get()?;
        loop {
            ready!(reg.poll_write_ready(cx))?;
            match (&*sender).write(buf) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => reg.clear_write_ready(),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A pipe has no buffer of ours to flush.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().pipe.close();
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for ChildStdout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        poll_read_pipe(&self.pipe, cx, buf)
    }
}

impl AsyncRead for ChildStderr {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        poll_read_pipe(&self.pipe, cx, buf)
    }
}

macro_rules! fd_traits {
    ($($ty:ident),*) => {$(
        impl AsRawFd for $ty {
            fn as_raw_fd(&self) -> RawFd {
                self.pipe.raw_fd()
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty)).field("fd", &self.pipe.raw_fd()).finish()
            }
        }
    )*};
}

fd_traits!(ChildStdin, ChildStdout, ChildStderr);

impl TryFrom<ChildStdout> for Stdio {
    type Error = io::Error;

    fn try_from(stdout: ChildStdout) -> io::Result<Stdio> {
        stdout.into_owned_fd().map(Stdio::from)
    }
}

impl TryFrom<ChildStderr> for Stdio {
    type Error = io::Error;

    fn try_from(stderr: ChildStderr) -> io::Result<Stdio> {
        stderr.into_owned_fd().map(Stdio::from)
    }
}

impl TryFrom<ChildStdin> for Stdio {
    type Error = io::Error;

    fn try_from(stdin: ChildStdin) -> io::Result<Stdio> {
        stdin.into_owned_fd().map(Stdio::from)
    }
}
