//! The reactor: readiness from the OS (epoll, through mio) for anything with a file
//! descriptor — what asyncio's selector event loop does with `add_reader` / `add_writer`.
//!
//! [`Registration`] is the building block the socket, pipe and signal types are built on:
//! register a non-blocking [`mio`] source once (edge-triggered), then wait for
//! readiness, try the operation, and clear readiness when it would block.
//!
//! ```
//! use std::io::{Read, Write};
//! use tulip::io::{Interest, Registration};
//!
//! tulip::run(async {
//!     let (mut a, mut b) = mio::net::UnixStream::pair().unwrap();
//!     let reg = Registration::new(&mut b, Interest::READABLE).unwrap();
//!     a.write_all(b"ping").unwrap();
//!     let mut buf = [0u8; 4];
//!     let n = reg.read_with(|| b.read(&mut buf)).await.unwrap();
//!     assert_eq!(&buf[..n], b"ping");
//!     reg.deregister(&mut b).unwrap();
//! });
//! ```

pub(crate) mod reactor;
mod registration;

pub use mio::Interest;
pub(crate) use registration::PollIo;
pub use registration::Registration;
