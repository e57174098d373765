//! One TCP connection to the server: writes commands, reads replies, logs in.

use std::future::poll_fn;
use std::io;
use std::time::Duration;

use bytes::BytesMut;
use tulip::net::TcpStream;

use crate::cmd::Cmd;
use crate::error::{Error, ErrorKind};
use crate::url::ConnectionInfo;
use crate::value::{self, Value};

/// How much room to make in the read buffer before each read: a few replies' worth, so a
/// pipeline's answers come in a handful of system calls.
const READ_CHUNK: usize = 16 * 1024;

/// A connection, with its buffers. Requests and replies are matched by order (RESP has no
/// request ids), so a connection is only reused after a call read every reply it was owed;
/// a call that fails or is dropped half-way drops its connection instead.
pub(crate) struct Connection {
    stream: TcpStream,
    addr: String,
    read_buf: BytesMut,
    write_buf: BytesMut,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("addr", &self.addr)
            .field("buffered", &self.read_buf.len())
            .finish()
    }
}

impl Connection {
    /// Connects and logs in (`AUTH`, then `SELECT` unless the database is 0), all within
    /// `timeout`.
    pub(crate) async fn open(
        info: &ConnectionInfo,
        timeout: Duration,
    ) -> Result<Connection, Error> {
        match tulip::time::wait_for(timeout, Connection::open_now(info)).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(
                ErrorKind::Connect,
                &info.addr,
                format!("connecting timed out after {timeout:?}"),
            )),
        }
    }

    async fn open_now(info: &ConnectionInfo) -> Result<Connection, Error> {
        let stream = TcpStream::connect(info.addr.as_str())
            .await
            .map_err(|e| Error::io(ErrorKind::Connect, &info.addr, "cannot connect", e))?;
        // Commands are small and latency-bound: never let Nagle hold one back.
        let _ = stream.set_nodelay(true);
        let mut conn = Connection {
            stream,
            addr: info.addr.clone(),
            read_buf: BytesMut::with_capacity(READ_CHUNK),
            write_buf: BytesMut::new(),
        };
        let mut login = Vec::new();
        if let Some(password) = &info.password {
            let mut auth = Cmd::new("AUTH");
            if let Some(user) = &info.username {
                auth.push_arg(user);
            }
            login.push(auth.arg(password));
        }
        if info.db != 0 {
            login.push(Cmd::new("SELECT").arg(info.db));
        }
        if login.is_empty() {
            return Ok(conn);
        }
        let replies = conn.exchange(&login).await.map_err(|e| match e.kind() {
            // The connection broke while logging in: still a failure to connect.
            ErrorKind::Io => Error::new(ErrorKind::Connect, &info.addr, e.message()),
            _ => e,
        })?;
        for (cmd, reply) in login.iter().zip(replies) {
            if let Value::Error(msg) = reply {
                return Err(Error::new(
                    ErrorKind::Server,
                    &info.addr,
                    format!("{} on connect failed: {msg}", cmd.name()),
                ));
            }
        }
        Ok(conn)
    }

    /// Writes `cmds` in one go and reads one reply for each: one round trip. Error replies
    /// are returned as [`Value::Error`]; `Err` means the connection is no longer usable.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropped half-way, the connection is owed replies and must be dropped.
    pub(crate) async fn exchange(&mut self, cmds: &[Cmd]) -> Result<Vec<Value>, Error> {
        self.write_buf.clear();
        for cmd in cmds {
            cmd.encode(&mut self.write_buf);
        }
        self.write_all().await?;
        let mut replies = Vec::with_capacity(cmds.len());
        for _ in cmds {
            replies.push(self.read_value().await?);
        }
        if !self.read_buf.is_empty() {
            // More than one reply per command: replies and requests no longer line up, so
            // none of these replies can be trusted to be the answer to its command.
            return Err(Error::new(
                ErrorKind::Protocol,
                &self.addr,
                "server sent more replies than commands were sent",
            ));
        }
        Ok(replies)
    }

    async fn write_all(&mut self) -> Result<(), Error> {
        let mut written = 0;
        while written < self.write_buf.len() {
            let rest = &self.write_buf[written..];
            match poll_fn(|cx| self.stream.poll_write(cx, rest)).await {
                Ok(0) => return Err(self.io_error("writing", io::ErrorKind::WriteZero.into())),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error("writing", e)),
            }
        }
        Ok(())
    }

    /// Reads one whole reply, however many reads it takes: a reply may arrive split anywhere,
    /// and the bytes after it (the next pipelined reply) stay buffered.
    async fn read_value(&mut self) -> Result<Value, Error> {
        loop {
            match value::decode(&mut self.read_buf) {
                Ok(Some(value)) => return Ok(value),
                Ok(None) => {}
                Err(msg) => {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        &self.addr,
                        format!("invalid reply from server: {msg}"),
                    ));
                }
            }
            self.fill().await?;
        }
    }

    /// Appends at least one byte from the socket to the read buffer.
    async fn fill(&mut self) -> Result<(), Error> {
        let start = self.read_buf.len();
        self.read_buf.resize(start + READ_CHUNK, 0);
        let result = loop {
            let space = &mut self.read_buf[start..];
            match poll_fn(|cx| self.stream.poll_read(cx, space)).await {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let n = *result.as_ref().unwrap_or(&0);
        self.read_buf.truncate(start + n);
        match result {
            Ok(0) => Err(Error::new(
                ErrorKind::Io,
                &self.addr,
                "connection closed by the server before it answered",
            )),
            Ok(_) => Ok(()),
            Err(e) => Err(self.io_error("reading", e)),
        }
    }

    fn io_error(&self, context: &str, err: io::Error) -> Error {
        Error::io(ErrorKind::Io, &self.addr, context, err)
    }
}
