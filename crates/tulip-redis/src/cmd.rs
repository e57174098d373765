//! Commands: a name and its arguments, each a byte string on the wire.

use bytes::{Bytes, BytesMut};
use redis_protocol::resp2::types::BytesFrame;

/// One argument of a command: a byte string, as Redis sees every argument.
///
/// Numbers become their decimal text (`5` → `"5"`, `1.5` → `"1.5"`), as redis-py sends them.
///
/// # Examples
///
/// ```
/// use tulip_redis::Arg;
///
/// assert_eq!(Arg::from(42i64).as_bytes(), b"42");
/// assert_eq!(Arg::from(0.25f64).as_bytes(), b"0.25");
/// assert_eq!(Arg::from("key").as_bytes(), b"key");
/// assert_eq!(Arg::from(vec![0u8, 255]).as_bytes(), &[0, 255]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Arg(pub Bytes);

impl Arg {
    /// The argument's bytes, as sent.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip_redis::Arg::from(-7i32).as_bytes(), b"-7");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The argument's bytes, as a shared buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// let bytes = tulip_redis::Arg::from("v").into_bytes();
    /// assert_eq!(&bytes[..], b"v");
    /// ```
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg(Bytes::from(s))
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::from(s.as_str())
    }
}

impl From<&[u8]> for Arg {
    fn from(b: &[u8]) -> Arg {
        Arg(Bytes::copy_from_slice(b))
    }
}

impl<const N: usize> From<&[u8; N]> for Arg {
    fn from(b: &[u8; N]) -> Arg {
        Arg(Bytes::copy_from_slice(b))
    }
}

impl From<Vec<u8>> for Arg {
    fn from(b: Vec<u8>) -> Arg {
        Arg(Bytes::from(b))
    }
}

impl From<Bytes> for Arg {
    fn from(b: Bytes) -> Arg {
        Arg(b)
    }
}

impl From<&Arg> for Arg {
    fn from(a: &Arg) -> Arg {
        a.clone()
    }
}

macro_rules! arg_from_display {
    ($($ty:ty),*) => {$(
        impl From<$ty> for Arg {
            fn from(n: $ty) -> Arg {
                Arg(Bytes::from(n.to_string()))
            }
        }
    )*};
}

// f64's Display never uses an exponent and writes infinities as "inf" / "-inf", which is what
// Redis parses (ZADD, INCRBYFLOAT, ZRANGEBYSCORE all accept "inf").
arg_from_display!(i64, u64, u32, usize, i32, f64);

/// A command and its arguments, ready to send with [`Client::query`](crate::Client::query)
/// or in a [`Client::pipeline`](crate::Client::pipeline). The [`cmd!`](crate::cmd!) macro
/// builds one in a line.
///
/// # Examples
///
/// ```
/// use tulip_redis::{Cmd, cmd};
///
/// let mut set = Cmd::new("SET").arg("counter").arg(5);
/// set.push_arg("NX");
/// assert_eq!(set.name(), "SET");
/// assert_eq!(set.args().len(), 3);
/// assert_eq!(cmd!("SET", "counter", 5, "NX").args(), set.args());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Cmd {
    name: String,
    args: Vec<Arg>,
}

impl Cmd {
    /// A command named `name` (`"GET"`, `"SET"`, `"CLIENT"`...) with no arguments yet.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip_redis::Cmd::new("PING").name(), "PING");
    /// ```
    pub fn new(name: &str) -> Cmd {
        Cmd {
            name: name.to_owned(),
            args: Vec::new(),
        }
    }

    /// Adds an argument, builder style.
    ///
    /// # Examples
    ///
    /// ```
    /// let get = tulip_redis::Cmd::new("GET").arg("key");
    /// assert_eq!(get.args()[0].as_bytes(), b"key");
    /// ```
    pub fn arg(mut self, a: impl Into<Arg>) -> Cmd {
        self.push_arg(a);
        self
    }

    /// Adds an argument in place (for loops).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut del = tulip_redis::Cmd::new("DEL");
    /// for key in ["a", "b", "c"] {
    ///     del.push_arg(key);
    /// }
    /// assert_eq!(del.args().len(), 3);
    /// ```
    pub fn push_arg(&mut self, a: impl Into<Arg>) {
        self.args.push(a.into());
    }

    /// The command's name, as given to [`Cmd::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(tulip_redis::cmd!("INCR", "hits").name(), "INCR");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The arguments after the name.
    ///
    /// # Examples
    ///
    /// ```
    /// let cmd = tulip_redis::cmd!("EXPIRE", "k", 10);
    /// assert_eq!(cmd.args()[1].as_bytes(), b"10");
    /// ```
    pub fn args(&self) -> &[Arg] {
        &self.args
    }

    /// Appends the command to `buf` as a RESP2 array of bulk strings.
    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        let words = std::iter::once(Bytes::copy_from_slice(self.name.as_bytes()))
            .chain(self.args.iter().map(|a| a.0.clone()));
        encode_words(buf, words);
    }
}

/// Appends one RESP2 array of bulk strings (one command) to `buf`.
pub(crate) fn encode_words(buf: &mut BytesMut, words: impl Iterator<Item = Bytes>) {
    let frame = BytesFrame::Array(words.map(BytesFrame::BulkString).collect());
    // Encoding an array of bulk strings into a growable buffer cannot fail: the encoder only
    // errors on a buffer too small, and extend_encode grows it first.
    let _ = redis_protocol::resp2::encode::extend_encode(buf, &frame, false);
}

/// Builds a [`Cmd`] from a name and arguments: `cmd!("SET", "k", 5)` is
/// `Cmd::new("SET").arg("k").arg(5)`. Each argument is anything with `Into<`[`Arg`]`>`.
///
/// # Examples
///
/// ```
/// use tulip_redis::cmd;
///
/// let set = cmd!("SET", "k", 5);
/// assert_eq!(set.name(), "SET");
/// assert_eq!(set.args()[1].as_bytes(), b"5");
/// let ping = cmd!("PING");
/// assert!(ping.args().is_empty());
/// ```
#[macro_export]
macro_rules! cmd {
    ($name:expr $(, $arg:expr)* $(,)?) => {
        $crate::Cmd::new($name)$(.arg($arg))*
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_array_of_bulk_strings() {
        let mut buf = BytesMut::new();
        crate::cmd!("SET", "k", 5).encode(&mut buf);
        assert_eq!(&buf[..], b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n5\r\n");
    }

    #[test]
    fn numbers_are_decimal_text() {
        assert_eq!(Arg::from(u64::MAX).as_bytes(), b"18446744073709551615");
        assert_eq!(Arg::from(1e21f64).as_bytes(), b"1000000000000000000000");
        assert_eq!(Arg::from(f64::NEG_INFINITY).as_bytes(), b"-inf");
    }
}
