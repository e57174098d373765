use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::clock::Clock;
use super::core::Core;
use super::shared::Shared;
use super::{DEFAULT_SLOW_POLL, Runtime};

/// asyncio's `THREAD_JOIN_TIMEOUT`: how long closing a loop waits for its thread-pool jobs.
const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(300);
use crate::io::reactor::Reactor;

/// Settings for a new [`Runtime`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let mut rt = tulip::Runtime::builder()
///     .debug(true)
///     .slow_poll_threshold(Duration::from_millis(50))
///     .build()
///     .unwrap();
/// rt.block_on(async {});
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    debug: Option<bool>,
    slow_poll: Duration,
    test_clock: Option<bool>,
    thread_pool_size: usize,
    shutdown_timeout: Duration,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// Default settings; `TULIP_DEBUG` and `TULIP_TEST_CLOCK` apply unless overridden.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::runtime::Builder::new().build().unwrap();
    /// # let _ = rt;
    /// ```
    pub fn new() -> Builder {
        Builder {
            debug: None,
            slow_poll: DEFAULT_SLOW_POLL,
            test_clock: None,
            thread_pool_size: crate::blocking::default_size(),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }

    /// The most threads of the loop's default pool, which runs
    /// [`to_thread`](crate::to_thread) jobs. Default: `min(32, cpus + 4)`, as asyncio's.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut rt = tulip::Runtime::builder().thread_pool_size(2).build().unwrap();
    /// let n = rt.block_on(async { tulip::to_thread(|| 40 + 2).await.unwrap() });
    /// assert_eq!(n, 42);
    /// ```
    pub fn thread_pool_size(mut self, threads: usize) -> Builder {
        self.thread_pool_size = threads.max(1);
        self
    }

    /// How long closing the loop waits for its thread-pool jobs still running (asyncio's
    /// `shutdown_default_executor(timeout)`, 300 s by default); after that it logs a warning
    /// and closes without them.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = tulip::Runtime::builder()
    ///     .executor_shutdown_timeout(Duration::from_secs(5))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn executor_shutdown_timeout(mut self, timeout: Duration) -> Builder {
        self.shutdown_timeout = timeout;
        self
    }

    /// Debug mode: a warning names any task whose single poll blocks the loop longer than
    /// the slow-poll threshold, with the source line where it was spawned. Without this call,
    /// the `TULIP_DEBUG` environment variable decides (`1` = on).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::Runtime::builder().debug(true).build().unwrap();
    /// # let _ = rt;
    /// ```
    pub fn debug(mut self, on: bool) -> Builder {
        self.debug = Some(on);
        self
    }

    /// How long one poll may take in debug mode before it is reported (default 100 ms).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = tulip::Runtime::builder()
    ///     .debug(true)
    ///     .slow_poll_threshold(Duration::from_millis(20))
    ///     .build()
    ///     .unwrap();
    /// # let _ = rt;
    /// ```
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Builder {
        self.slow_poll = threshold;
        self
    }

    /// Runs the loop on a test clock: time stands still while any task can run and jumps to
    /// the next timer when all are idle, so timing can be tested exactly and instantly.
    /// [`time::advance`](crate::time::advance) moves it by hand.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let mut rt = tulip::Runtime::builder().test_clock().build().unwrap();
    /// let start = rt.time();
    /// rt.block_on(tulip::time::sleep(Duration::from_secs(3600))); // returns at once
    /// assert_eq!(rt.time() - start, Duration::from_secs(3600));
    /// ```
    pub fn test_clock(mut self) -> Builder {
        self.test_clock = Some(true);
        self
    }

    /// Runs on the real clock even when `TULIP_TEST_CLOCK` is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::Runtime::builder().real_clock().build().unwrap();
    /// # let _ = rt;
    /// ```
    pub fn real_clock(mut self) -> Builder {
        self.test_clock = Some(false);
        self
    }

    /// Creates the loop.
    ///
    /// # Errors
    ///
    /// When the OS refuses an epoll instance, an eventfd or a timerfd.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tulip::Runtime::builder().build()?;
    /// # let _ = rt;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(&self) -> io::Result<Runtime> {
        let debug = self.debug.unwrap_or_else(|| env_flag("TULIP_DEBUG"));
        let test_clock = self
            .test_clock
            .unwrap_or_else(|| env_flag("TULIP_TEST_CLOCK"));
        let (reactor, os_waker) = Reactor::new()?;
        let slow_poll = debug.then_some(self.slow_poll);
        let shared = Arc::new(Shared::new(
            Clock::new(test_clock),
            os_waker,
            slow_poll,
            self.thread_pool_size,
            self.shutdown_timeout,
        ));
        Ok(Runtime::from_parts(Core::new(shared, reactor)))
    }
}

fn env_flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0")
}
