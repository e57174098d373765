use std::error::Error;
use std::fmt;
use std::io;

use super::SignalKind;

/// Why a signal cannot be listened for: the error of [`signal`](super::signal) and
/// [`Handle::add_signal_handler`](crate::runtime::Handle::add_signal_handler), naming the
/// signal. Converts into an [`io::Error`] for `?` in functions returning one.
///
/// # Examples
///
/// ```
/// use tulip::signal::{SignalKind, signal};
///
/// tulip::run(async {
///     let err = signal(SignalKind::from_raw(9)).unwrap_err();
///     assert!(err.is_forbidden());
///     assert_eq!(err.signal(), SignalKind::from_raw(9));
///     assert!(err.to_string().contains("SIGKILL"));
/// });
/// ```
#[derive(Debug)]
pub struct SignalError {
    signal: SignalKind,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// Not a signal number at all.
    Invalid,
    /// A signal no handler may take (`SIGKILL`, `SIGSTOP`) or that must not be caught because
    /// it reports a fault in the program itself (`SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`).
    Forbidden,
    /// No tulip loop to deliver to (called outside a runtime, or the loop is closed).
    NoLoop(&'static str),
    /// The OS refused.
    Os(io::Error),
}

impl SignalError {
    pub(crate) fn invalid(signal: SignalKind) -> SignalError {
        SignalError {
            signal,
            kind: Kind::Invalid,
        }
    }

    pub(crate) fn forbidden(signal: SignalKind) -> SignalError {
        SignalError {
            signal,
            kind: Kind::Forbidden,
        }
    }

    pub(crate) fn no_loop(signal: SignalKind, why: &'static str) -> SignalError {
        SignalError {
            signal,
            kind: Kind::NoLoop(why),
        }
    }

    pub(crate) fn os(signal: SignalKind, err: io::Error) -> SignalError {
        SignalError {
            signal,
            kind: Kind::Os(err),
        }
    }

    /// The signal that was asked for.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::signal::{SignalKind, signal};
    ///
    /// tulip::run(async {
    ///     let err = signal(SignalKind::from_raw(0)).unwrap_err();
    ///     assert_eq!(err.signal().as_raw_value(), 0);
    /// });
    /// ```
    pub fn signal(&self) -> SignalKind {
        self.signal
    }

    /// The number is no signal (0, negative, above 64, or one the C library keeps for itself).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::signal::{SignalKind, signal};
    ///
    /// tulip::run(async {
    ///     assert!(signal(SignalKind::from_raw(1000)).unwrap_err().is_invalid());
    /// });
    /// ```
    pub fn is_invalid(&self) -> bool {
        matches!(self.kind, Kind::Invalid)
    }

    /// The signal cannot or must not be caught: `SIGKILL`, `SIGSTOP`, `SIGSEGV`, `SIGBUS`,
    /// `SIGILL`, `SIGFPE`.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::signal::{SignalKind, signal};
    ///
    /// tulip::run(async {
    ///     assert!(signal(SignalKind::from_raw(19)).unwrap_err().is_forbidden()); // SIGSTOP
    /// });
    /// ```
    pub fn is_forbidden(&self) -> bool {
        matches!(self.kind, Kind::Forbidden)
    }

    /// There was no running tulip loop to deliver the signal to.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::signal::{SignalKind, signal};
    ///
    /// // Outside any runtime.
    /// assert!(signal(SignalKind::hangup()).unwrap_err().is_no_loop());
    /// ```
    pub fn is_no_loop(&self) -> bool {
        matches!(self.kind, Kind::NoLoop(_))
    }
}

impl fmt::Display for SignalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let signal = self.signal;
        match &self.kind {
            Kind::Invalid => write!(
                f,
                "{signal} is not a signal that can be handled (valid: 1 to 31, and 34 to 64)"
            ),
            Kind::Forbidden => write!(
                f,
                "{signal} cannot be handled: the OS reserves it, or it reports a fault in the program itself"
            ),
            Kind::NoLoop(why) => write!(f, "cannot listen for {signal}: {why}"),
            Kind::Os(err) => write!(f, "cannot install a handler for {signal}: {err}"),
        }
    }
}

impl Error for SignalError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.kind {
            Kind::Os(err) => Some(err),
            _ => None,
        }
    }
}

impl From<SignalError> for io::Error {
    fn from(err: SignalError) -> io::Error {
        let kind = match &err.kind {
            Kind::Invalid | Kind::Forbidden => io::ErrorKind::InvalidInput,
            Kind::NoLoop(_) => io::ErrorKind::Other,
            Kind::Os(os) => os.kind(),
        };
        io::Error::new(kind, err)
    }
}
