//! The client: a pool of connections, round trips, and reconnecting.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;
use std::time::Duration;

use tulip::sync::Semaphore;
use tulip::time::{Instant, sleep};

use crate::cmd::Cmd;
use crate::connection::Connection;
use crate::error::{Error, ErrorKind};
use crate::script::ScriptCall;
use crate::url::ConnectionInfo;
use crate::value::Value;

const DEFAULT_POOL_SIZE: usize = 4;
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_RECONNECT_FOR: Duration = Duration::from_secs(30);
const BACKOFF_START: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// A Redis client on the tulip loop: redis-py's `redis.asyncio.Redis`, aioredis's `Redis`.
///
/// A client holds a pool of up to [`pool_size`](ClientBuilder::pool_size) connections (4 by
/// default). Each call takes a connection for its round trip and gives it back after; calls
/// beyond the pool's size wait their turn, first come first served. Cloning a client is cheap
/// and the clones share the pool. A client belongs to the loop that made it (it is not `Send`).
///
/// # Reconnects
///
/// When a call fails because the connection broke — connection refused, reset, EOF, any I/O
/// error — the client drops that connection (and the idle ones, which most likely broke with
/// it) and runs the whole call again on a fresh connection, waiting 50 ms before the first
/// retry and twice as long before each next one, up to 2 s, until
/// [`reconnect_for`](ClientBuilder::reconnect_for) (30 s by default) has passed since the
/// first failure. Then the call returns the last error, of kind
/// [`Connect`](ErrorKind::Connect) or [`Io`](ErrorKind::Io). Error replies from the server,
/// protocol errors and response timeouts are never retried.
///
/// **A retried call may run twice.** When the connection breaks after a command was sent and
/// before its reply arrived, the client cannot know whether the server applied it (a server
/// killed right after executing `INCR` never answers). The retry sends it again. Retry only
/// idempotent calls (`GET`, `SET k v`, `SADD`, `DEL`, scripts written to be re-run), or
/// accept a possible duplicate — or set `reconnect_for(Duration::ZERO)` and handle the error
/// yourself.
///
/// [`Client::open`] itself does not retry: a wrong address or a server that is down is
/// reported at once.
///
/// # Examples
///
/// ```no_run
/// use tulip_redis::{Client, cmd};
///
/// tulip::run(async {
///     let client = Client::open("redis://127.0.0.1:6379/0").await?;
///     client.query(&cmd!("SET", "greeting", "hello")).await?;
///     let value = client.query(&cmd!("GET", "greeting")).await?;
///     assert_eq!(value.as_str(), Some("hello"));
///     Ok::<_, tulip_redis::Error>(())
/// })
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Rc<Inner>,
}

struct Inner {
    info: ConnectionInfo,
    config: Config,
    /// Connections not in use, most recently used last (reused first, so that a quiet period
    /// leaves the others idle rather than spreading calls over all of them).
    idle: RefCell<Vec<Connection>>,
    /// One permit per connection the pool may have: a call holds one for its whole round trip,
    /// so there are never more than `pool_size` connections, and waiting calls are served in
    /// the order they came.
    permits: Semaphore,
    stats: Cell<ClientStats>,
    closed: Cell<bool>,
}

#[derive(Debug, Clone, Copy)]
struct Config {
    pool_size: usize,
    connect_timeout: Duration,
    response_timeout: Option<Duration>,
    reconnect_for: Duration,
}

/// Options for a [`Client`]: made by [`Client::builder`], finished by
/// [`ClientBuilder::open`].
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use tulip_redis::Client;
///
/// tulip::run(async {
///     let client = Client::builder("redis://127.0.0.1:6379/0")
///         .pool_size(8)
///         .connect_timeout(Duration::from_secs(2))
///         .response_timeout(Some(Duration::from_secs(1)))
///         .reconnect_for(Duration::from_secs(10))
///         .open()
///         .await
///         .unwrap();
/// # let _ = client;
/// });
/// ```
pub struct ClientBuilder {
    // Parsed at once (so Debug can show it without the password), reported by open().
    info: Result<ConnectionInfo, Error>,
    config: Config,
}

/// Counters of what a [`Client`] (and its clones) did, from [`Client::stats`].
///
/// # Examples
///
/// ```no_run
/// use tulip_redis::{Client, cmd};
///
/// tulip::run(async {
///     let client = Client::open("redis://127.0.0.1:6379/0").await.unwrap();
///     let cmds: Vec<_> = (0..10).map(|i| cmd!("SET", format!("k{i}"), i)).collect();
///     client.pipeline(&cmds).await.unwrap();
///     let stats = client.stats();
///     assert_eq!((stats.round_trips, stats.commands), (1, 10));
/// });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Exchanges with the server: one per query, pipeline or `EVALSHA`, one more for an `EVAL`
    /// fallback and for each retry. Logging in on a new connection is not counted.
    pub round_trips: u64,
    /// Commands sent, counting each command of a pipeline (and each retried one again).
    pub commands: u64,
    /// Connections made, the first one and reconnections alike.
    pub connects: u64,
    /// Connections made to retry a call after a connection broke.
    pub reconnects: u64,
}

impl Client {
    /// Connects to the server at `url` with the default options: [`Client::builder`]`(url)`
    /// [`.open()`](ClientBuilder::open).
    ///
    /// `url` is `redis://[[user]:password@]host[:port][/db]`: port 6379 and database 0 unless
    /// given; the user name and password are percent-decoded. Every new connection logs in
    /// with `AUTH` (when there is a password) and `SELECT`s the database (unless it is 0).
    ///
    /// # Errors
    ///
    /// [`InvalidUrl`](ErrorKind::InvalidUrl) for a URL of another form;
    /// [`Connect`](ErrorKind::Connect) when no connection can be made (this is not retried);
    /// [`Server`](ErrorKind::Server) when the server refuses `AUTH` or `SELECT`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the connection attempt.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_redis::{Client, ErrorKind};
    ///
    /// tulip::run(async {
    ///     let err = Client::open("redis://localhost/zero").await.unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::InvalidUrl);
    ///     assert!(err.to_string().contains("not a number"));
    /// });
    /// ```
    pub async fn open(url: &str) -> Result<Client, Error> {
        Client::builder(url).open().await
    }

    /// Starts building a client for `url` (see [`Client::open`] for its form) with
    /// non-default options.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = tulip_redis::Client::builder("redis://:secret@localhost/2").pool_size(1);
    /// assert!(!format!("{builder:?}").contains("secret"));
    /// ```
    pub fn builder(url: &str) -> ClientBuilder {
        ClientBuilder {
            info: ConnectionInfo::parse(url),
            config: Config {
                pool_size: DEFAULT_POOL_SIZE,
                connect_timeout: DEFAULT_CONNECT_TIMEOUT,
                response_timeout: None,
                reconnect_for: DEFAULT_RECONNECT_FOR,
            },
        }
    }

    /// Sends one command and reads its reply: one round trip.
    ///
    /// # Errors
    ///
    /// [`Server`](ErrorKind::Server) when the server answers with an error reply (the message
    /// carries the server's text: `WRONGTYPE Operation against a key holding the wrong kind of
    /// value`); [`Connect`](ErrorKind::Connect) or [`Io`](ErrorKind::Io) when reconnecting
    /// gave up (see [Reconnects](Client#reconnects)); [`Timeout`](ErrorKind::Timeout),
    /// [`Protocol`](ErrorKind::Protocol), [`Closed`](ErrorKind::Closed).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the call and closes the connection it was using (its
    /// reply would otherwise be read by the next call). The command may or may not have run.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tulip_redis::{Client, ErrorKind, cmd};
    ///
    /// tulip::run(async {
    ///     let client = Client::open("redis://127.0.0.1:6379/0").await.unwrap();
    ///     assert_eq!(client.query(&cmd!("INCR", "hits")).await.unwrap().as_int(), Some(1));
    ///     let err = client.query(&cmd!("LPUSH", "hits", "x")).await.unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::Server);
    /// });
    /// ```
    pub async fn query(&self, cmd: &Cmd) -> Result<Value, Error> {
        let reply = self.round_trip(std::slice::from_ref(cmd)).await?;
        self.reply_to_result(reply.into_iter().next())
    }

    /// Sends all of `cmds` in one write and reads all their replies: one round trip however
    /// many commands (redis-py's `pipeline(transaction=False)`). Wrap them in `MULTI` / `EXEC`
    /// to make them a transaction.
    ///
    /// Returns one reply per command, in order. A command's error reply stays in its place as
    /// [`Value::Error`]; the others still ran.
    ///
    /// # Errors
    ///
    /// As [`query`](Client::query), except that error replies are not errors.
    ///
    /// # Cancel safety
    ///
    /// As [`query`](Client::query): some of the commands may have run.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tulip_redis::{Client, Value, cmd};
    ///
    /// tulip::run(async {
    ///     let client = Client::open("redis://127.0.0.1:6379/0").await.unwrap();
    ///     let replies = client
    ///         .pipeline(&[cmd!("SET", "a", 1), cmd!("INCR", "a"), cmd!("NOSUCHCOMMAND")])
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(replies[1], Value::Int(2));
    ///     assert!(matches!(replies[2], Value::Error(_)));
    /// });
    /// ```
    pub async fn pipeline(&self, cmds: &[Cmd]) -> Result<Vec<Value>, Error> {
        if cmds.is_empty() {
            return Ok(Vec::new());
        }
        self.round_trip(cmds).await
    }

    /// Runs a script with `EVALSHA`; when the server does not have it (`NOSCRIPT`, after a
    /// restart or `SCRIPT FLUSH`), sends it with `EVAL`, which also caches it there. The
    /// fallback costs a second round trip.
    ///
    /// # Errors
    ///
    /// As [`query`](Client::query); an error raised by the script is a
    /// [`Server`](ErrorKind::Server) error.
    ///
    /// # Cancel safety
    ///
    /// As [`query`](Client::query).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tulip_redis::{Client, Script};
    ///
    /// tulip::run(async {
    ///     let client = Client::open("redis://127.0.0.1:6379/0").await.unwrap();
    ///     let add = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    ///     let total = client.eval(&add.call().key("total").arg(5)).await.unwrap();
    ///     assert!(total.as_int().is_some());
    /// });
    /// ```
    pub async fn eval(&self, call: &ScriptCall) -> Result<Value, Error> {
        let reply = self.round_trip(&[call.evalsha()]).await?;
        match reply.first() {
            Some(Value::Error(msg)) if msg.starts_with("NOSCRIPT") => {
                let reply = self.round_trip(&[call.eval()]).await?;
                self.reply_to_result(reply.into_iter().next())
            }
            _ => self.reply_to_result(reply.into_iter().next()),
        }
    }

    /// What the client (and its clones) did so far.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// tulip::run(async {
    ///     let client = tulip_redis::Client::open("redis://127.0.0.1:6379/0").await.unwrap();
    ///     assert_eq!(client.stats().connects, 1);
    ///     assert_eq!(client.stats().round_trips, 0);
    /// });
    /// ```
    pub fn stats(&self) -> ClientStats {
        self.inner.stats.get()
    }

    /// The server's `host:port`, as errors name it.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// tulip::run(async {
    ///     let client = tulip_redis::Client::open("redis://127.0.0.1/0").await.unwrap();
    ///     assert_eq!(client.addr(), "127.0.0.1:6379");
    /// });
    /// ```
    pub fn addr(&self) -> &str {
        &self.inner.info.addr
    }

    /// Closes the idle connections; calls in flight finish and close theirs. Later calls
    /// (on this client and its clones) fail with [`Closed`](ErrorKind::Closed).
    ///
    /// # Cancel safety
    ///
    /// The client is closed as soon as this is first polled.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use tulip_redis::{Client, ErrorKind, cmd};
    ///
    /// tulip::run(async {
    ///     let client = Client::open("redis://127.0.0.1:6379/0").await.unwrap();
    ///     client.close().await;
    ///     let err = client.query(&cmd!("PING")).await.unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::Closed);
    /// });
    /// ```
    pub async fn close(&self) {
        self.inner.closed.set(true);
        self.inner.idle.borrow_mut().clear();
    }

    fn reply_to_result(&self, reply: Option<Value>) -> Result<Value, Error> {
        match reply {
            Some(Value::Error(msg)) => Err(Error::new(ErrorKind::Server, self.addr(), msg)),
            Some(value) => Ok(value),
            None => Err(Error::new(
                ErrorKind::Protocol,
                self.addr(),
                "missing reply",
            )),
        }
    }

    /// One exchange of `cmds`, retried on fresh connections while the connection keeps
    /// breaking and `reconnect_for` has not passed (see [Reconnects](Client#reconnects)).
    async fn round_trip(&self, cmds: &[Cmd]) -> Result<Vec<Value>, Error> {
        let mut first_failure: Option<Instant> = None;
        let mut backoff = BACKOFF_START;
        loop {
            let err = match self.attempt(cmds, first_failure.is_some()).await {
                Err(err) if err.is_connection_lost() => err,
                other => return other,
            };
            let since = *first_failure.get_or_insert_with(Instant::now);
            let left = self
                .inner
                .config
                .reconnect_for
                .saturating_sub(since.elapsed());
            if left.is_zero() {
                let waited = self.inner.config.reconnect_for;
                return Err(match waited.is_zero() {
                    true => err,
                    false => err.with_note(&format!("gave up reconnecting after {waited:?}")),
                });
            }
            // Never sleep past the deadline: the last attempt is made right at it.
            sleep(backoff.min(left)).await;
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// One exchange on one connection, pooled or new (counted as a reconnection when
    /// `reconnecting`). A connection goes back to the pool only after a clean exchange.
    async fn attempt(&self, cmds: &[Cmd], reconnecting: bool) -> Result<Vec<Value>, Error> {
        let inner = &*self.inner;
        let _permit = inner.permits.acquire().await;
        inner.check_open()?;
        let pooled = inner.idle.borrow_mut().pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = Connection::open(&inner.info, inner.config.connect_timeout).await?;
                inner.count(|s| {
                    s.connects += 1;
                    s.reconnects += u64::from(reconnecting);
                });
                inner.check_open()?;
                conn
            }
        };
        inner.count(|s| {
            s.round_trips += 1;
            s.commands += cmds.len() as u64;
        });
        let result = match inner.config.response_timeout {
            None => conn.exchange(cmds).await,
            Some(limit) => match tulip::time::wait_for(limit, conn.exchange(cmds)).await {
                Ok(result) => result,
                Err(_) => Err(Error::new(
                    ErrorKind::Timeout,
                    &inner.info.addr,
                    format!("no reply within {limit:?}; connection dropped"),
                )),
            },
        };
        match &result {
            Ok(_) if !inner.closed.get() => inner.idle.borrow_mut().push(conn),
            // The other idle connections most likely went down with this one (a server
            // restart): drop them rather than have the retry find them broken one by one.
            Err(err) if err.is_connection_lost() => inner.idle.borrow_mut().clear(),
            _ => {}
        }
        result
    }
}

impl Inner {
    fn check_open(&self) -> Result<(), Error> {
        if self.closed.get() {
            return Err(Error::new(
                ErrorKind::Closed,
                &self.info.addr,
                "client is closed",
            ));
        }
        Ok(())
    }

    fn count(&self, update: impl FnOnce(&mut ClientStats)) {
        let mut stats = self.stats.get();
        update(&mut stats);
        self.stats.set(stats);
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("Client")
            .field("info", &inner.info)
            .field("config", &inner.config)
            .field("idle", &inner.idle.borrow().len())
            .field("stats", &inner.stats.get())
            .field("closed", &inner.closed.get())
            .finish()
    }
}

impl ClientBuilder {
    /// At most `n` connections (default 4; 0 counts as 1). Calls beyond `n` at once wait,
    /// first come first served, for a connection to be free.
    ///
    /// # Examples
    ///
    /// ```
    /// let builder = tulip_redis::Client::builder("redis://localhost").pool_size(16);
    /// # let _ = builder;
    /// ```
    pub fn pool_size(mut self, n: usize) -> Self {
        self.config.pool_size = n.max(1);
        self
    }

    /// How long making a connection (and logging in on it) may take (default 5 s). Running
    /// out is a [`Connect`](ErrorKind::Connect) error, retried like a refused connection.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = tulip_redis::Client::builder("redis://localhost")
    ///     .connect_timeout(Duration::from_millis(500));
    /// # let _ = builder;
    /// ```
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.config.connect_timeout = d;
        self
    }

    /// How long one exchange (writing the commands and reading all replies) may take once it
    /// has a connection; `None` (the default) waits as long as it takes. Running out is a
    /// [`Timeout`](ErrorKind::Timeout) error: the connection is dropped, the call is not
    /// retried, and the command may still run on the server.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = tulip_redis::Client::builder("redis://localhost")
    ///     .response_timeout(Some(Duration::from_secs(2)));
    /// # let _ = builder;
    /// ```
    pub fn response_timeout(mut self, d: Option<Duration>) -> Self {
        self.config.response_timeout = d;
        self
    }

    /// How long a call keeps retrying on fresh connections after its connection broke
    /// (default 30 s; `Duration::ZERO` never retries). See [Reconnects](Client#reconnects).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let builder = tulip_redis::Client::builder("redis://localhost")
    ///     .reconnect_for(Duration::from_secs(5));
    /// # let _ = builder;
    /// ```
    pub fn reconnect_for(mut self, d: Duration) -> Self {
        self.config.reconnect_for = d;
        self
    }

    /// Checks the URL and opens the first connection (no retry), logging in on it.
    ///
    /// # Errors
    ///
    /// As [`Client::open`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the connection attempt.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_redis::{Client, ErrorKind};
    ///
    /// tulip::run(async {
    ///     // Nothing listens on port 1.
    ///     let err = Client::builder("redis://127.0.0.1:1").open().await.unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::Connect);
    ///     assert!(err.to_string().starts_with("redis 127.0.0.1:1: "));
    /// });
    /// ```
    pub async fn open(self) -> Result<Client, Error> {
        let info = self.info?;
        let conn = Connection::open(&info, self.config.connect_timeout).await?;
        let stats = ClientStats {
            connects: 1,
            ..ClientStats::default()
        };
        Ok(Client {
            inner: Rc::new(Inner {
                permits: Semaphore::new(self.config.pool_size),
                idle: RefCell::new(vec![conn]),
                stats: Cell::new(stats),
                closed: Cell::new(false),
                info,
                config: self.config,
            }),
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("info", &self.info)
            .field("config", &self.config)
            .finish()
    }
}
