//! Parsing `redis://` URLs into what a connection needs.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use crate::error::{Error, ErrorKind};

const DEFAULT_PORT: u16 = 6379;

/// Where the server is and how to log in: what a `redis://` URL says.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ConnectionInfo {
    /// `host:port`, with an IPv6 host in brackets: what to connect to and what errors name.
    pub(crate) addr: String,
    pub(crate) db: u32,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
}

// Hand-written so that the password never reaches a log line.
impl std::fmt::Debug for ConnectionInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionInfo")
            .field("addr", &self.addr)
            .field("db", &self.db)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

impl ConnectionInfo {
    /// Parses `redis://[[user]:password@]host[:port][/db]`.
    pub(crate) fn parse(input: &str) -> Result<ConnectionInfo, Error> {
        let fail = |msg: String| Error::new(ErrorKind::InvalidUrl, &redact(input), msg);
        let url = url::Url::parse(input).map_err(|e| {
            fail(format!(
                "invalid URL ({e}); expected redis://[[user]:password@]host[:port][/db]"
            ))
        })?;
        if url.scheme() != "redis" {
            let hint = match url.scheme() {
                "rediss" => " (TLS is not supported)",
                "unix" | "redis+unix" => " (Unix sockets are not supported)",
                _ => "",
            };
            return Err(fail(format!(
                "unsupported scheme {:?}{hint}; use redis://host:port/db",
                url.scheme()
            )));
        }
        let host = match url.host_str() {
            Some(host) if !host.is_empty() => host,
            _ => return Err(fail("no host; use redis://host:port/db".into())),
        };
        let addr = format!("{host}:{}", url.port().unwrap_or(DEFAULT_PORT));
        let fail = |msg: String| Error::new(ErrorKind::InvalidUrl, &addr, msg);
        let db = parse_db(url.path()).map_err(fail)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(fail(
                "query strings and fragments are not supported; give the database as the path (/3)"
                    .into(),
            ));
        }
        let decode = |s: &str| -> Result<String, Error> {
            percent_decode_str(s)
                .decode_utf8()
                .map(Cow::into_owned)
                .map_err(|_| fail("user name or password is not UTF-8 once percent-decoded".into()))
        };
        let username = match url.username() {
            "" => None,
            user => Some(decode(user)?),
        };
        let password = url.password().map(decode).transpose()?;
        if username.is_some() && password.is_none() {
            return Err(fail(
                "a user name needs a password (redis://user:password@host); for the default \
                 user with a password use redis://:password@host"
                    .into(),
            ));
        }
        Ok(ConnectionInfo {
            addr,
            db,
            username,
            password,
        })
    }
}

fn parse_db(path: &str) -> Result<u32, String> {
    let db = path.strip_prefix('/').unwrap_or(path);
    if db.is_empty() {
        return Ok(0);
    }
    db.parse().map_err(|_| {
        format!("database {db:?} is not a number; the path must be a database index such as /0")
    })
}

/// The URL with anything between `scheme://` and the last `@` hidden, for messages about a URL
/// that could not be parsed (it may hold a password).
fn redact(input: &str) -> String {
    match (input.find("://"), input.rfind('@')) {
        (Some(start), Some(at)) if start + 3 <= at => {
            format!("{}***{}", &input[..start + 3], &input[at..])
        }
        _ => input.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str) -> ConnectionInfo {
        ConnectionInfo::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    fn invalid(url: &str) -> String {
        let err = ConnectionInfo::parse(url).expect_err(url);
        assert_eq!(err.kind(), ErrorKind::InvalidUrl, "{url}");
        err.to_string()
    }

    #[test]
    fn host_port_db() {
        let info = ok("redis://127.0.0.1:6380/3");
        assert_eq!(info.addr, "127.0.0.1:6380");
        assert_eq!(info.db, 3);
        assert_eq!((info.username, info.password), (None, None));
    }

    #[test]
    fn defaults() {
        for url in [
            "redis://localhost",
            "redis://localhost/",
            "redis://localhost:6379/0",
        ] {
            let info = ok(url);
            assert_eq!(
                (info.addr.as_str(), info.db),
                ("localhost:6379", 0),
                "{url}"
            );
        }
    }

    #[test]
    fn ipv6_host_keeps_brackets() {
        assert_eq!(ok("redis://[::1]:7000/1").addr, "[::1]:7000");
    }

    #[test]
    fn password_only() {
        let info = ok("redis://:s3cret@host:1234/2");
        assert_eq!(info.username, None);
        assert_eq!(info.password.as_deref(), Some("s3cret"));
        assert_eq!(info.addr, "host:1234");
    }

    #[test]
    fn user_and_percent_encoded_password() {
        let info = ok("redis://alice:p%40ss%3Aw%2Fd@host/5");
        assert_eq!(info.username.as_deref(), Some("alice"));
        assert_eq!(info.password.as_deref(), Some("p@ss:w/d"));
        assert_eq!((info.addr.as_str(), info.db), ("host:6379", 5));
    }

    #[test]
    fn debug_hides_password() {
        let shown = format!("{:?}", ok("redis://:hunter2@host"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn rejects_other_schemes() {
        assert!(invalid("http://localhost:6379").contains("unsupported scheme"));
        assert!(invalid("rediss://localhost").contains("TLS"));
        assert!(invalid("unix:///tmp/redis.sock").contains("Unix"));
    }

    #[test]
    fn rejects_bad_db() {
        assert!(invalid("redis://localhost/abc").contains("not a number"));
        assert!(invalid("redis://localhost/1/2").contains("not a number"));
        assert!(invalid("redis://localhost/-1").contains("not a number"));
    }

    #[test]
    fn rejects_missing_host_and_junk() {
        assert!(invalid("redis://").contains("host"));
        assert!(invalid("redis:///0").contains("host"));
        invalid("localhost:6379");
        invalid("");
        invalid("redis://host:notaport");
        invalid("redis://host?db=1");
        assert!(invalid("redis://alice@host").contains("needs a password"));
    }

    #[test]
    fn messages_never_show_the_password() {
        let msg = invalid("redis://:topsecret@host:99999");
        assert!(!msg.contains("topsecret"), "{msg}");
        let msg = invalid("redis://:topsecret@host/x");
        assert!(!msg.contains("topsecret"), "{msg}");
        assert!(msg.starts_with("redis host:6379: "), "{msg}");
    }
}
