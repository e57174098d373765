//! [`SocketInfo`]: what a transport can say about its connection, asyncio's
//! `get_extra_info('peername' / 'sockname')`.

use std::io;
use std::net::SocketAddr;
use std::os::unix::net::SocketAddr as UnixSocketAddr;

use crate::net::tcp::{OwnedReadHalf, OwnedWriteHalf, TcpStream};
use crate::net::unix::UnixStream;

/// A transport that knows the addresses of its connection, so [`StreamReader`] and
/// [`StreamWriter`] can offer `peer_addr` / `local_addr` (asyncio's
/// `writer.get_extra_info('peername')` and `'sockname'`).
///
/// Implemented for the TCP and Unix socket halves; implement it for your own transport to get
/// the same methods.
///
/// # Examples
///
/// ```
/// use std::io;
/// use std::net::SocketAddr;
/// use tulip::net::{SocketInfo, StreamReader};
///
/// struct Fake;
///
/// impl SocketInfo for Fake {
///     type Addr = SocketAddr;
///     fn peer_addr(&self) -> io::Result<SocketAddr> {
///         Ok("10.0.0.1:80".parse().unwrap())
///     }
///     fn local_addr(&self) -> io::Result<SocketAddr> {
///         Ok("10.0.0.2:5000".parse().unwrap())
///     }
/// }
///
/// let reader = StreamReader::new(Fake);
/// assert_eq!(reader.peer_addr().unwrap().port(), 80);
/// ```
///
/// [`StreamReader`]: super::StreamReader
/// [`StreamWriter`]: super::StreamWriter
pub trait SocketInfo {
    /// The address type: `std::net::SocketAddr` for TCP, a Unix socket address for Unix.
    type Addr;

    /// The address of the other end.
    ///
    /// # Errors
    ///
    /// The operating system's, e.g. `NotConnected`.
    fn peer_addr(&self) -> io::Result<Self::Addr>;

    /// The address of this end.
    ///
    /// # Errors
    ///
    /// The operating system's.
    fn local_addr(&self) -> io::Result<Self::Addr>;
}

impl SocketInfo for OwnedReadHalf<TcpStream> {
    type Addr = SocketAddr;

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.as_ref().peer_addr()
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.as_ref().local_addr()
    }
}

impl SocketInfo for OwnedWriteHalf<TcpStream> {
    type Addr = SocketAddr;

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.as_ref().peer_addr()
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.as_ref().local_addr()
    }
}

impl SocketInfo for OwnedReadHalf<UnixStream> {
    type Addr = UnixSocketAddr;

    fn peer_addr(&self) -> io::Result<UnixSocketAddr> {
        self.as_ref().peer_addr()
    }

    fn local_addr(&self) -> io::Result<UnixSocketAddr> {
        self.as_ref().local_addr()
    }
}

impl SocketInfo for OwnedWriteHalf<UnixStream> {
    type Addr = UnixSocketAddr;

    fn peer_addr(&self) -> io::Result<UnixSocketAddr> {
        self.as_ref().peer_addr()
    }

    fn local_addr(&self) -> io::Result<UnixSocketAddr> {
        self.as_ref().local_addr()
    }
}
