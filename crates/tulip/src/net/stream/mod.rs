//! asyncio's streams API: [`open_connection`] and [`start_server`] hand each connection to
//! you as a [`StreamReader`] and a [`StreamWriter`]. The user-facing overview (with the
//! asyncio → tulip table) is in the `net` module's docs.
//!
//! Layout: `reader` (buffering, framing), `writer` (write queue, flow control and the helper
//! task that sends in the background), `connect` (`open_connection`, with the connect step
//! in one function), `server` (`start_server`, one task per connection, graceful shutdown),
//! `error` (`StreamError`), `info` (`SocketInfo`, addresses of any transport).

mod connect;
mod error;
mod info;
mod reader;
mod server;
mod tls;
mod writer;

pub use connect::{open_connection, open_unix_connection};
pub use error::StreamError;
pub use info::SocketInfo;
pub use reader::{DEFAULT_LIMIT, StreamReader};
pub use server::{Server, start_server, start_server_on, start_unix_server};
pub use tls::{
    TlsReadHalf, TlsStreamReader, TlsStreamWriter, TlsWriteHalf, open_tls_connection, start_tls,
    start_tls_server,
};
pub use writer::{DEFAULT_HIGH_WATER, DEFAULT_LOW_WATER, StreamWriter};
