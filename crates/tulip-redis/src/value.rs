//! Replies: RESP2 frames as a plain enum.

use bytes::{Bytes, BytesMut};
use redis_protocol::resp2::types::BytesFrame;

/// One reply from the server (a RESP2 frame).
///
/// # Examples
///
/// ```
/// use tulip_redis::Value;
///
/// let reply = Value::Array(vec![Value::Bulk("7".into()), Value::Nil]);
/// let items = reply.into_array().unwrap();
/// assert_eq!(items[0].as_int(), Some(7));
/// assert!(items[1].is_nil());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// The null bulk string or null array (`$-1`, `*-1`): a missing key, a timed-out `BLPOP`.
    Nil,
    /// An integer reply (`:5`).
    Int(i64),
    /// A bulk string (`$3 foo`): the usual reply carrying data, binary safe.
    Bulk(Bytes),
    /// A simple string (`+OK`, `+PONG`).
    Simple(String),
    /// An array reply (`*2 ...`), which may nest.
    Array(Vec<Value>),
    /// An error reply (`-ERR ...`) inside a pipeline or an array; a command's own error reply is
    /// returned as an [`Error`](crate::Error) of kind [`Server`](crate::ErrorKind::Server).
    Error(String),
}

impl Value {
    /// The reply as an integer: an [`Int`](Value::Int), or a bulk or simple string holding a
    /// decimal integer (what `GET` returns after `INCR`).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_redis::Value;
    ///
    /// assert_eq!(Value::Int(3).as_int(), Some(3));
    /// assert_eq!(Value::Bulk("-12".into()).as_int(), Some(-12));
    /// assert_eq!(Value::Bulk("1.5".into()).as_int(), None);
    /// assert_eq!(Value::Nil.as_int(), None);
    /// ```
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            Value::Bulk(_) | Value::Simple(_) => self.as_str()?.parse().ok(),
            _ => None,
        }
    }

    /// The bytes of a bulk or simple string.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_redis::Value;
    ///
    /// assert_eq!(Value::Bulk(vec![0u8, 1].into()).as_bytes(), Some(&[0u8, 1][..]));
    /// assert_eq!(Value::Simple("OK".into()).as_bytes(), Some(&b"OK"[..]));
    /// assert_eq!(Value::Int(1).as_bytes(), None);
    /// ```
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bulk(b) => Some(b),
            Value::Simple(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// The text of a bulk string (when it is UTF-8) or a simple string.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_redis::Value;
    ///
    /// assert_eq!(Value::Bulk("héllo".into()).as_str(), Some("héllo"));
    /// assert_eq!(Value::Simple("PONG".into()).as_str(), Some("PONG"));
    /// assert_eq!(Value::Bulk(vec![0xff].into()).as_str(), None);
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.as_bytes()?).ok()
    }

    /// The items of an array reply.
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip_redis::Value;
    ///
    /// assert_eq!(Value::Array(vec![Value::Int(1)]).into_array(), Some(vec![Value::Int(1)]));
    /// assert_eq!(Value::Nil.into_array(), None);
    /// ```
    pub fn into_array(self) -> Option<Vec<Value>> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    /// Whether the reply is [`Nil`](Value::Nil).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(tulip_redis::Value::Nil.is_nil());
    /// assert!(!tulip_redis::Value::Int(0).is_nil());
    /// ```
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    fn from_frame(frame: BytesFrame) -> Value {
        match frame {
            BytesFrame::SimpleString(s) => Value::Simple(String::from_utf8_lossy(&s).into_owned()),
            BytesFrame::Error(s) => Value::Error(s.to_string()),
            BytesFrame::Integer(n) => Value::Int(n),
            BytesFrame::BulkString(b) if b.len() < COPY_BELOW => {
                Value::Bulk(Bytes::copy_from_slice(&b))
            }
            BytesFrame::BulkString(b) => Value::Bulk(b),
            BytesFrame::Array(items) => {
                Value::Array(items.into_iter().map(Value::from_frame).collect())
            }
            BytesFrame::Null => Value::Nil,
        }
    }
}

/// Bulk strings shorter than this are copied out of the read buffer. A decoded bulk string is
/// a view into the buffer chunk it arrived in, and would keep that whole chunk (16 KiB or more)
/// alive for as long as the caller keeps the value; copying a short one is cheaper than that.
const COPY_BELOW: usize = 4096;

/// Takes one complete reply off the front of `buf`: `Ok(None)` when `buf` holds only part of
/// one (read more and call again), `Err` with the decoder's complaint when the bytes are not
/// RESP2.
pub(crate) fn decode(buf: &mut BytesMut) -> Result<Option<Value>, String> {
    match redis_protocol::resp2::decode::decode_bytes_mut(buf) {
        Ok(Some((frame, _, _))) => Ok(Some(Value::from_frame(frame))),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replies of every type, nested, binary, empty, and several in a row.
    const STREAM: &[u8] =
        b"+OK\r\n-ERR wrong number of arguments\r\n:-42\r\n$5\r\nhe\r\no\r\n$0\r\n\r\n\
        $-1\r\n*-1\r\n*0\r\n*3\r\n:1\r\n*2\r\n$1\r\na\r\n-WRONGTYPE x\r\n$-1\r\n+PONG\r\n";

    fn expected() -> Vec<Value> {
        vec![
            Value::Simple("OK".into()),
            Value::Error("ERR wrong number of arguments".into()),
            Value::Int(-42),
            Value::Bulk(Bytes::from_static(b"he\r\no")),
            Value::Bulk(Bytes::new()),
            Value::Nil,
            Value::Nil,
            Value::Array(vec![]),
            Value::Array(vec![
                Value::Int(1),
                Value::Array(vec![
                    Value::Bulk("a".into()),
                    Value::Error("WRONGTYPE x".into()),
                ]),
                Value::Nil,
            ]),
            Value::Simple("PONG".into()),
        ]
    }

    /// Feeds `chunks` one at a time, as reads from a socket would arrive, decoding after each.
    fn decode_chunks<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> Vec<Value> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(value) = decode(&mut buf).unwrap() {
                out.push(value);
            }
        }
        assert!(buf.is_empty(), "bytes left over: {buf:?}");
        out
    }

    #[test]
    fn decodes_whole_stream() {
        assert_eq!(decode_chunks(std::iter::once(STREAM)), expected());
    }

    #[test]
    fn decodes_split_at_every_byte_boundary() {
        for at in 0..=STREAM.len() {
            let (a, b) = STREAM.split_at(at);
            assert_eq!(
                decode_chunks([a, b].into_iter()),
                expected(),
                "split at {at}"
            );
        }
    }

    #[test]
    fn decodes_one_byte_at_a_time() {
        assert_eq!(decode_chunks(STREAM.chunks(1)), expected());
    }

    #[test]
    fn partial_frame_leaves_buffer_alone() {
        let partial = b"*2\r\n$3\r\nfoo\r\n$3\r\nba";
        let mut buf = BytesMut::from(&partial[..]);
        assert_eq!(decode(&mut buf), Ok(None));
        assert_eq!(&buf[..], partial);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for garbage in [
            &b"!garbage\r\n"[..],
            b"$abc\r\n",
            b":12x\r\n",
            b"*-5\r\n",
            b"\0\0\0",
        ] {
            let mut buf = BytesMut::from(garbage);
            assert!(decode(&mut buf).is_err(), "{garbage:?} accepted");
        }
    }
}
