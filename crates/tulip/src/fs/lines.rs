//! [`Lines`]: a file read line by line, as a stream.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, ErrorKind};
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;

use super::error::with_path;
use super::file::{File, READ_BUFFER};

/// The lines of a [`File`], from [`File::lines`]: a [`Stream`] of `io::Result<String>`, each
/// line without its `\n` or `\r\n` (aiofiles' `async for line in f`, which keeps them).
///
/// Lines are cut from the file's 64 KiB read-ahead, so a line costs a scan and a `String`, not
/// a thread hop. A last line without a newline is still a line; an empty file has none.
///
/// # Errors
///
/// A read error, or `InvalidData` for a line that is not UTF-8 (the stream goes on with the
/// next line); both name the path.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
///
/// # let path = std::env::temp_dir().join(format!("tulip-doc-lines-{}.txt", std::process::id()));
/// tulip::run(async {
///     tulip::fs::write(&path, "one\r\ntwo\nthree").await.unwrap();
///     let lines: Vec<String> = tulip::fs::File::open(&path)
///         .await
///         .unwrap()
///         .lines()
///         .map(|line| line.unwrap())
///         .collect()
///         .await;
///     assert_eq!(lines, ["one", "two", "three"]);
///     # tulip::fs::remove_file(&path).await.unwrap();
/// });
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct Lines {
    file: File,
    /// The start of a line that runs past the read-ahead.
    partial: Vec<u8>,
}

impl Lines {
    pub(crate) fn new(file: File) -> Lines {
        Lines {
            file,
            partial: Vec::new(),
        }
    }

    /// The next line, or `None` at the end of the file: the stream's next item, without
    /// needing `StreamExt`.
    ///
    /// # Errors
    ///
    /// As the stream's items.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a line begun before the drop is finished by the next call.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let mut lines = tulip::fs::File::open("Cargo.toml").await.unwrap().lines();
    ///     let mut count = 0;
    ///     while let Some(line) = lines.next_line().await.unwrap() {
    ///         count += usize::from(!line.is_empty());
    ///     }
    ///     assert!(count > 3);
    /// });
    /// ```
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        poll_fn(|cx| self.poll_line(cx)).await.transpose()
    }

    fn poll_line(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<String>>> {
        loop {
            if let Err(err) = ready!(self.file.poll_fill(cx, READ_BUFFER)) {
                return Poll::Ready(Some(Err(err)));
            }
            let available = self.file.buffered();
            if available.is_empty() {
                if self.partial.is_empty() {
                    return Poll::Ready(None);
                }
                let last = mem::take(&mut self.partial);
                return Poll::Ready(Some(self.text(last)));
            }
            match available.iter().position(|&byte| byte == b'\n') {
                Some(end) => {
                    let line = if self.partial.is_empty() {
                        // The common case: the whole line is in the read-ahead.
                        let line = strip_cr(&available[..end]);
                        std::str::from_utf8(line).map(str::to_owned).map_err(|_| ())
                    } else {
                        Err(())
                    };
                    let line = match line {
                        Ok(line) => Ok(line),
                        Err(()) => {
                            let mut bytes = mem::take(&mut self.partial);
                            bytes.extend_from_slice(&available[..end]);
                            if bytes.last() == Some(&b'\r') {
                                bytes.pop();
                            }
                            self.text(bytes)
                        }
                    };
                    self.file.consume_buffered(end + 1);
                    return Poll::Ready(Some(line));
                }
                None => {
                    let n = available.len();
                    self.partial.extend_from_slice(available);
                    self.file.consume_buffered(n);
                }
            }
        }
    }

    fn text(&self, bytes: Vec<u8>) -> io::Result<String> {
        String::from_utf8(bytes).map_err(|err| {
            let err = io::Error::new(ErrorKind::InvalidData, err.utf8_error());
            with_path("read a line from", &self.file.name(), err)
        })
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r'] => rest,
        _ => line,
    }
}

impl Stream for Lines {
    type Item = io::Result<String>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_line(cx)
    }
}

impl fmt::Debug for Lines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lines")
            .field("file", &self.file)
            .field("partial", &self.partial.len())
            .finish()
    }
}
