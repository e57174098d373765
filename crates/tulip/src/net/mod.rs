//! Networking: sockets, asyncio's streams API (`open_connection` / `start_server`), DNS and TLS.

mod dns;
mod stream;
mod tcp;
mod tls;
mod udp;
mod unix;
