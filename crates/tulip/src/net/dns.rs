//! Name resolution off the loop (`getaddrinfo` on the thread pool: asyncio's
//! `loop.getaddrinfo`) and Happy Eyeballs (RFC 8305) for connecting to a name with several
//! addresses.

use std::future::{Future, poll_fn};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use crate::time::{Instant, Sleep, sleep_until};

/// RFC 8305's "Connection Attempt Delay": how long one attempt runs alone before the next
/// address is tried alongside it.
pub const CONNECTION_ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Resolves `host` to socket addresses with `port`: asyncio's `loop.getaddrinfo`.
///
/// A literal IPv4 or IPv6 address (`"127.0.0.1"`, `"::1"`, `"[::1]"`) is parsed on the spot;
/// a name is looked up with the system resolver (`getaddrinfo`) on the loop's thread pool, so
/// the loop keeps running while the resolver waits.
///
/// # Errors
///
/// `NotFound`, naming the host, when it does not resolve or resolves to no address; an empty
/// host is `InvalidInput`.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let addrs = tulip::net::lookup_host("localhost", 8080).await.unwrap();
///     assert!(addrs.iter().all(|a| a.port() == 8080 && a.ip().is_loopback()));
///
///     let err = tulip::net::lookup_host("no-such-host.invalid", 80).await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
///     assert!(err.to_string().contains("no-such-host.invalid"));
/// });
/// ```
pub async fn lookup_host(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    if let Some(ip) = parse_ip(host) {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if host.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "cannot look up an empty host name",
        ));
    }
    let name = host.to_owned();
    let resolved =
        crate::to_thread(move || std::net::ToSocketAddrs::to_socket_addrs(&(name.as_str(), port)))
            .await
            .map_err(io::Error::from)?;
    match resolved {
        Ok(addrs) => {
            let addrs: Vec<SocketAddr> = addrs.collect();
            if addrs.is_empty() {
                Err(not_found(host, "it has no address"))
            } else {
                Ok(addrs)
            }
        }
        Err(err) => Err(not_found(host, &err.to_string())),
    }
}

fn not_found(host: &str, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("host not found: `{host}` ({why})"),
    )
}

/// A literal address, with or without the brackets URLs put around IPv6.
pub(crate) fn parse_ip(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

/// RFC 8305 §4: alternate the address families, starting with the family of the first
/// address (the resolver's preference, normally IPv6), keeping each family's own order.
pub(crate) fn interleave_families(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let Some(first) = addrs.first() else {
        return addrs;
    };
    let first_is_v6 = first.is_ipv6();
    let (preferred, other): (Vec<_>, Vec<_>) =
        addrs.into_iter().partition(|a| a.is_ipv6() == first_is_v6);
    let mut out = Vec::with_capacity(preferred.len() + other.len());
    let mut preferred = preferred.into_iter();
    let mut other = other.into_iter();
    loop {
        match (preferred.next(), other.next()) {
            (None, None) => return out,
            (a, b) => out.extend(a.into_iter().chain(b)),
        }
    }
}

/// Connects to one of `addrs` with Happy Eyeballs (RFC 8305): the addresses are tried in
/// interleaved family order; each attempt gets [`CONNECTION_ATTEMPT_DELAY`] alone before the
/// next one starts beside it, and a failure starts the next one at once. The first connection
/// made wins and the other attempts are dropped (closing their sockets).
///
/// When every attempt fails, the error is the first one's (usually the most telling: the
/// preferred address), its kind and message kept.
pub(crate) async fn happy_eyeballs<S, F, Fut>(
    addrs: Vec<SocketAddr>,
    attempt_delay: Duration,
    mut connect: F,
) -> io::Result<S>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<S>>,
{
    let mut pending = interleave_families(addrs).into_iter();
    // One address: no racing, no timer.
    if pending.len() == 1 {
        if let Some(addr) = pending.next() {
            return connect(addr).await;
        }
    }
    let mut attempts: Vec<Pin<Box<Fut>>> = Vec::new();
    let mut first_error: Option<io::Error> = None;
    let mut stagger: Pin<Box<Sleep>> = Box::pin(sleep_until(Instant::now()));
    let mut start_next = true;
    poll_fn(|cx| {
        loop {
            if start_next {
                start_next = false;
                if let Some(addr) = pending.next() {
                    attempts.push(Box::pin(connect(addr)));
                    stagger.as_mut().reset(Instant::now() + attempt_delay);
                }
            }
            let mut progressed = false;
            let mut i = 0;
            while i < attempts.len() {
                match attempts[i].as_mut().poll(cx) {
                    Poll::Ready(Ok(stream)) => return Poll::Ready(Ok(stream)),
                    Poll::Ready(Err(err)) => {
                        drop(attempts.swap_remove(i));
                        first_error.get_or_insert(err);
                        // A failure starts the next attempt without waiting for the delay.
                        start_next = true;
                        progressed = true;
                    }
                    Poll::Pending => i += 1,
                }
            }
            if attempts.is_empty() && pending.len() == 0 {
                let err = first_error
                    .take()
                    .unwrap_or_else(|| io::Error::other("no address to connect to"));
                return Poll::Ready(Err(err));
            }
            if pending.len() > 0 && stagger.as_mut().poll(cx).is_ready() {
                start_next = true;
                progressed = true;
            }
            if !progressed {
                return Poll::Pending;
            }
        }
    })
    .await
}

/// Something that names one or more socket addresses: a [`SocketAddr`], `(ip, port)`,
/// `(host, port)`, `"host:port"` (`"[::1]:80"` for IPv6), or a slice of addresses. Unlike
/// [`std::net::ToSocketAddrs`], names are looked up without blocking the loop
/// ([`lookup_host`]).
///
/// # Examples
///
/// ```
/// use std::net::SocketAddr;
/// use tulip::net::TcpListener;
///
/// tulip::run(async {
///     let a = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let b = TcpListener::bind(("localhost", 0)).await.unwrap();
///     let c = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
///     # let _ = (a, b, c);
/// });
/// ```
pub trait ToSocketAddrs: sealed::Sealed {}

mod sealed {
    use std::io;
    use std::net::SocketAddr;

    /// What an address argument turned out to be, before any lookup.
    #[derive(Debug)]
    pub enum Target {
        Addrs(Vec<SocketAddr>),
        Host(String, u16),
        Invalid(io::Error),
    }

    pub trait Sealed {
        fn target(&self) -> Target;
    }
}

use sealed::{Sealed, Target};

macro_rules! literal_addrs {
    ($($ty:ty),*) => {$(
        impl Sealed for $ty {
            fn target(&self) -> Target {
                Target::Addrs(vec![SocketAddr::from(*self)])
            }
        }
        impl ToSocketAddrs for $ty {}
    )*};
}

literal_addrs!(
    SocketAddr,
    std::net::SocketAddrV4,
    std::net::SocketAddrV6,
    (IpAddr, u16),
    (std::net::Ipv4Addr, u16),
    (std::net::Ipv6Addr, u16),
    ([u8; 4], u16)
);

impl Sealed for (&str, u16) {
    fn target(&self) -> Target {
        match parse_ip(self.0) {
            Some(ip) => Target::Addrs(vec![SocketAddr::new(ip, self.1)]),
            None => Target::Host(self.0.to_owned(), self.1),
        }
    }
}
impl ToSocketAddrs for (&str, u16) {}

impl Sealed for (String, u16) {
    fn target(&self) -> Target {
        (self.0.as_str(), self.1).target()
    }
}
impl ToSocketAddrs for (String, u16) {}

impl Sealed for str {
    fn target(&self) -> Target {
        if let Ok(addr) = self.parse::<SocketAddr>() {
            return Target::Addrs(vec![addr]);
        }
        let parsed = self
            .rsplit_once(':')
            .and_then(|(host, port)| Some((host, port.parse::<u16>().ok()?)))
            // An IPv6 address with a port needs brackets (`[::1]:80`, parsed above): without
            // them `::1:80` is itself an address, and no split is right.
            .filter(|(host, _)| !host.is_empty() && !host.contains(':'));
        match parsed {
            Some((host, port)) => (host, port).target(),
            None => Target::Invalid(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "invalid socket address `{self}`: expected `host:port` (`[::1]:80` for IPv6)"
                ),
            )),
        }
    }
}
impl ToSocketAddrs for str {}

impl Sealed for String {
    fn target(&self) -> Target {
        self.as_str().target()
    }
}
impl ToSocketAddrs for String {}

impl Sealed for [SocketAddr] {
    fn target(&self) -> Target {
        Target::Addrs(self.to_vec())
    }
}
impl ToSocketAddrs for [SocketAddr] {}

impl Sealed for Vec<SocketAddr> {
    fn target(&self) -> Target {
        Target::Addrs(self.clone())
    }
}
impl ToSocketAddrs for Vec<SocketAddr> {}

impl<T: Sealed + ?Sized> Sealed for &T {
    fn target(&self) -> Target {
        (**self).target()
    }
}
impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}

/// Every address `addr` names, looking names up on the thread pool.
pub(crate) async fn resolve(addr: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Vec<SocketAddr>> {
    match addr.target() {
        Target::Addrs(addrs) if addrs.is_empty() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no socket address given",
        )),
        Target::Addrs(addrs) => Ok(addrs),
        Target::Host(host, port) => lookup_host(&host, port).await,
        Target::Invalid(err) => Err(err),
    }
}

/// Resolves `addr`, then connects with [`happy_eyeballs`] using `connect` for each attempt.
pub(crate) async fn connect_with<S, F, Fut>(
    addr: &(impl ToSocketAddrs + ?Sized),
    connect: F,
) -> io::Result<S>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<S>>,
{
    let addrs = resolve(addr).await?;
    happy_eyeballs(addrs, CONNECTION_ATTEMPT_DELAY, connect).await
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::time::sleep;

    fn v4(last: u8) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, last], 80))
    }

    fn v6(last: u16) -> SocketAddr {
        SocketAddr::from(([0xfd00, 0, 0, 0, 0, 0, 0, last], 80))
    }

    /// How each fake address behaves: after how long it answers, and whether it connects.
    fn outcome(addr: SocketAddr) -> (Duration, bool) {
        match addr.port() {
            _ if addr == v6(1) => (Duration::from_secs(3600), false), // a black hole
            _ if addr == v6(2) => (Duration::ZERO, false),            // refused at once
            _ if addr == v4(1) => (Duration::from_millis(10), true),
            _ if addr == v4(2) => (Duration::from_millis(100), true),
            _ => (Duration::from_millis(5), false),
        }
    }

    /// Runs happy_eyeballs over fake attempts on the test clock; returns the winner (or the
    /// error's message) and each attempt's address with its start time in ms.
    fn race(addrs: Vec<SocketAddr>) -> (Result<SocketAddr, String>, Vec<(SocketAddr, u128)>) {
        let mut rt = crate::Runtime::builder().test_clock().build().unwrap();
        rt.block_on(async move {
            let start = Instant::now();
            let log = Rc::new(RefCell::new(Vec::new()));
            let attempts = log.clone();
            let result = happy_eyeballs(addrs, CONNECTION_ATTEMPT_DELAY, move |addr| {
                attempts
                    .borrow_mut()
                    .push((addr, start.elapsed().as_millis()));
                async move {
                    let (after, ok) = outcome(addr);
                    sleep(after).await;
                    if ok {
                        Ok(addr)
                    } else {
                        Err(io::Error::new(
                            io::ErrorKind::ConnectionRefused,
                            format!("connection to {addr} refused"),
                        ))
                    }
                }
            })
            .await
            .map_err(|e| e.to_string());
            let log = log.borrow().clone();
            (result, log)
        })
    }

    #[test]
    fn families_alternate_starting_with_the_first() {
        let addrs = vec![v6(1), v6(2), v6(3), v4(1), v4(2)];
        assert_eq!(
            interleave_families(addrs),
            vec![v6(1), v4(1), v6(2), v4(2), v6(3)]
        );
        let addrs = vec![v4(1), v4(2), v6(1)];
        assert_eq!(interleave_families(addrs), vec![v4(1), v6(1), v4(2)]);
        assert!(interleave_families(Vec::new()).is_empty());
    }

    #[test]
    fn a_silent_address_gets_company_after_the_delay() {
        let (result, log) = race(vec![v6(1), v4(1)]);
        assert_eq!(result, Ok(v4(1)));
        assert_eq!(log, vec![(v6(1), 0), (v4(1), 250)]);
    }

    #[test]
    fn a_failure_starts_the_next_attempt_at_once() {
        let (result, log) = race(vec![v6(2), v4(2)]);
        assert_eq!(result, Ok(v4(2)));
        assert_eq!(log, vec![(v6(2), 0), (v4(2), 0)]);
    }

    #[test]
    fn a_fast_first_address_is_the_only_attempt() {
        let (result, log) = race(vec![v4(1), v6(1)]);
        assert_eq!(result, Ok(v4(1)));
        assert_eq!(log, vec![(v4(1), 0)]);
    }

    #[test]
    fn when_all_fail_the_first_error_is_returned() {
        let (result, log) = race(vec![v6(2), v4(9), v6(9)]);
        assert_eq!(result, Err(format!("connection to {} refused", v6(2))));
        assert_eq!(log.len(), 3);
    }

    #[test]
    fn the_earlier_attempt_can_still_win() {
        // v4(2) answers after 100 ms; the staggered attempts behind it never start.
        let (result, log) = race(vec![v4(2), v6(1), v4(9)]);
        assert_eq!(result, Ok(v4(2)));
        assert_eq!(log, vec![(v4(2), 0)]);
    }

    fn targets(addr: &(impl ToSocketAddrs + ?Sized)) -> String {
        format!("{:?}", addr.target())
    }

    #[test]
    fn address_arguments_are_classified_without_a_lookup() {
        assert_eq!(targets("127.0.0.1:80"), "Addrs([127.0.0.1:80])");
        assert_eq!(targets("[::1]:443"), "Addrs([[::1]:443])");
        assert_eq!(targets("example.com:80"), r#"Host("example.com", 80)"#);
        assert_eq!(targets(&("10.0.0.1", 5)), "Addrs([10.0.0.1:5])");
        assert_eq!(
            targets(&("localhost".to_string(), 5)),
            r#"Host("localhost", 5)"#
        );
        assert_eq!(targets(&([127, 0, 0, 1], 9)), "Addrs([127.0.0.1:9])");
        for bad in ["example.com", ":80", "host:99999", "::1:80", ""] {
            let target = targets(bad);
            assert!(target.starts_with("Invalid"), "{bad}: {target}");
        }
    }

    #[test]
    fn literal_addresses_parse_with_or_without_brackets() {
        assert_eq!(parse_ip("127.0.0.1"), Some(IpAddr::from([127, 0, 0, 1])));
        assert_eq!(parse_ip("[::1]"), Some("::1".parse().unwrap()));
        assert_eq!(parse_ip("::1"), Some("::1".parse().unwrap()));
        assert_eq!(parse_ip("example.com"), None);
    }
}
