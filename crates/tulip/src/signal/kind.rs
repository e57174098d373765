use std::fmt;

/// Which signal to listen for or to send: asyncio's `signal.SIGINT`, `signal.SIGTERM`, ….
///
/// The named constructors cover the signals programs usually handle; [`from_raw`] takes any
/// number, which is checked when it is used (listening for `SIGKILL` is an error naming it).
///
/// [`from_raw`]: SignalKind::from_raw
///
/// # Examples
///
/// ```
/// use tulip::signal::SignalKind;
///
/// assert_eq!(SignalKind::interrupt().as_raw_value(), 2);
/// assert_eq!(SignalKind::terminate().to_string(), "SIGTERM");
/// assert_eq!(SignalKind::from_raw(10), SignalKind::user_defined1());
/// assert_eq!(SignalKind::from_raw(40).to_string(), "SIGRTMIN+6");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SignalKind(i32);

/// The signal numbers tulip names (Linux's).
pub(crate) mod num {
    pub(crate) const SIGHUP: i32 = 1;
    pub(crate) const SIGINT: i32 = 2;
    pub(crate) const SIGQUIT: i32 = 3;
    pub(crate) const SIGILL: i32 = 4;
    pub(crate) const SIGBUS: i32 = 7;
    pub(crate) const SIGFPE: i32 = 8;
    pub(crate) const SIGKILL: i32 = 9;
    pub(crate) const SIGUSR1: i32 = 10;
    pub(crate) const SIGSEGV: i32 = 11;
    pub(crate) const SIGUSR2: i32 = 12;
    pub(crate) const SIGPIPE: i32 = 13;
    pub(crate) const SIGALRM: i32 = 14;
    pub(crate) const SIGTERM: i32 = 15;
    pub(crate) const SIGCHLD: i32 = 17;
    pub(crate) const SIGCONT: i32 = 18;
    pub(crate) const SIGSTOP: i32 = 19;
    pub(crate) const SIGTSTP: i32 = 20;
    pub(crate) const SIGTTIN: i32 = 21;
    pub(crate) const SIGTTOU: i32 = 22;
    pub(crate) const SIGURG: i32 = 23;
    pub(crate) const SIGWINCH: i32 = 28;
    /// The first real-time signal the C library leaves to programs (glibc keeps 32 and 33).
    pub(crate) const SIGRTMIN: i32 = 34;
    pub(crate) const SIGRTMAX: i32 = 64;
}

const NAMES: [&str; 31] = [
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

impl SignalKind {
    /// Any signal by number. Whether it can be listened for is checked when it is used.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::signal::SignalKind;
    ///
    /// let kind = SignalKind::from_raw(15);
    /// assert_eq!(kind, SignalKind::terminate());
    /// ```
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::signal::SignalKind::hangup().as_raw_value(), 1);
    /// ```
    pub const fn as_raw_value(self) -> i32 {
        self.0
    }

    /// `SIGINT`: Ctrl+C in a terminal.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::signal::SignalKind::interrupt().to_string(), "SIGINT");
    /// ```
    pub const fn interrupt() -> SignalKind {
        SignalKind(num::SIGINT)
    }

    /// `SIGTERM`: the polite request to stop (what `kill` sends by default).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::signal::SignalKind::terminate().as_raw_value(), 15);
    /// ```
    pub const fn terminate() -> SignalKind {
        SignalKind(num::SIGTERM)
    }

    /// `SIGHUP`: the terminal went away; daemons take it as "reload your configuration".
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::signal::SignalKind::hangup().to_string(), "SIGHUP");
    /// ```
    pub const fn hangup() -> SignalKind {
        SignalKind(num::SIGHUP)
    }

    /// `SIGQUIT`: Ctrl+\ in a terminal.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::signal::SignalKind::quit().as_raw_value(), 3);
    /// ```
    pub const fn quit() -> SignalKind {
        SignalKind(num::SIGQUIT)
    }

    /// `SIGUSR1`: no meaning of its own, for programs to agree on.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::signal::SignalKind::user_defined1().to_string(), "SIGUSR1");
    /// ```
    pub const fn user_defined1() -> SignalKind {
        SignalKind(num::SIGUSR1)
    }

    /// `SIGUSR2`: no meaning of its own, for programs to agree on.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::signal::SignalKind::user_defined2().to_string(), "SIGUSR2");
    /// ```
    pub const fn user_defined2() -> SignalKind {
        SignalKind(num::SIGUSR2)
    }

    /// `SIGCHLD`: a child process stopped or exited.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::signal::SignalKind::child().to_string(), "SIGCHLD");
    /// ```
    pub const fn child() -> SignalKind {
        SignalKind(num::SIGCHLD)
    }

    /// `SIGALRM`: a timer set with `alarm(2)` expired.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::signal::SignalKind::alarm().to_string(), "SIGALRM");
    /// ```
    pub const fn alarm() -> SignalKind {
        SignalKind(num::SIGALRM)
    }

    /// `SIGPIPE`: a write to a pipe nobody reads. Rust programs ignore it from the start (the
    /// write fails with `BrokenPipe` instead), so listening for it is rarely useful.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::signal::SignalKind::pipe().to_string(), "SIGPIPE");
    /// ```
    pub const fn pipe() -> SignalKind {
        SignalKind(num::SIGPIPE)
    }

    /// `SIGWINCH`: the terminal window changed size.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip::signal::SignalKind::window_change().to_string(), "SIGWINCH");
    /// ```
    pub const fn window_change() -> SignalKind {
        SignalKind(num::SIGWINCH)
    }

    /// The real-time signal `SIGRTMIN + n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::signal::SignalKind;
    ///
    /// assert_eq!(SignalKind::realtime(2).to_string(), "SIGRTMIN+2");
    /// ```
    pub const fn realtime(n: i32) -> SignalKind {
        SignalKind(num::SIGRTMIN.saturating_add(n))
    }

    /// The conventional name: `SIGINT`, `SIGRTMIN+3`, or `signal 99` for a number no signal has.
    fn name(self) -> Option<String> {
        let n = self.0;
        if n >= 1 && (n as usize) <= NAMES.len() {
            return Some(NAMES[n as usize - 1].to_owned());
        }
        if (num::SIGRTMIN..=num::SIGRTMAX).contains(&n) {
            return Some(format!("SIGRTMIN+{}", n - num::SIGRTMIN));
        }
        if n == 32 || n == 33 {
            return Some(format!("signal {n} (reserved by the C library)"));
        }
        None
    }
}

impl From<i32> for SignalKind {
    fn from(signum: i32) -> SignalKind {
        SignalKind(signum)
    }
}

impl fmt::Display for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(&name),
            None => write!(f, "signal {}", self.0),
        }
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignalKind({self} = {})", self.0)
    }
}
