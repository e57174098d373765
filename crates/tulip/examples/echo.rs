//! The classic streams example from asyncio's documentation — a TCP echo server and its
//! client — in one program: the server starts on 127.0.0.1 (a free port the system picks), a
//! client connects, sends a message, reads it back and closes; then the server shuts down
//! gracefully. `003_…` table 5 names the two calls: `open_connection` and `start_server`.
//!
//! ```text
//! $ cargo run -p tulip-rt --example echo
//! Serving on 127.0.0.1
//! [client] Send: "Hello World!"
//! [server] Received "Hello World!" from 127.0.0.1
//! [server] Send: "Hello World!"
//! [server] Close the connection
//! [client] Received: "Hello World!"
//! [client] Close the connection
//! ...
//! ```
//!
//! `echo_server` and `echo_client` are the same two halves as separate programs.

use std::io;
use std::net::SocketAddr;

use tulip::net::{StreamReader, StreamWriter, open_connection, start_server};

/// asyncio's `handle_echo`: read up to 100 bytes, send them back, close.
async fn handle_echo(mut reader: StreamReader, mut writer: StreamWriter) {
    if let Err(err) = echo_once(&mut reader, &mut writer).await {
        println!("[server] connection failed: {err}");
    }
    println!("[server] Close the connection");
    writer.close();
    let _ = writer.wait_closed().await;
}

async fn echo_once(reader: &mut StreamReader, writer: &mut StreamWriter) -> io::Result<()> {
    let data = reader.read(100).await?;
    let message = String::from_utf8_lossy(&data);
    let peer = writer.peer_addr()?;
    println!("[server] Received {message:?} from {}", peer.ip());
    println!("[server] Send: {message:?}");
    writer.write(&data);
    writer.drain().await
}

/// asyncio's `tcp_echo_client`.
async fn tcp_echo_client(addr: SocketAddr, message: &str) -> io::Result<()> {
    let (mut reader, mut writer) = open_connection(addr).await?;
    println!("[client] Send: {message:?}");
    writer.write(message.as_bytes());
    writer.drain().await?;
    let data = reader.read(100).await?;
    println!("[client] Received: {:?}", String::from_utf8_lossy(&data));
    println!("[client] Close the connection");
    writer.close();
    writer.wait_closed().await
}

async fn program() -> io::Result<()> {
    let server = start_server(handle_echo, "127.0.0.1:0").await?;
    let addr = server.local_addrs()[0];
    println!("Serving on {}", addr.ip());
    for message in ["Hello World!", "Goodbye!"] {
        tcp_echo_client(addr, message).await?;
    }
    server.close();
    server.wait_closed().await;
    println!("Server closed");
    Ok(())
}

/// The program; the tour runs it too. A failure is reported and ends the process with status 1.
pub(crate) fn run() {
    if let Err(err) = tulip::run(program()) {
        eprintln!("echo: {err}");
        std::process::exit(1);
    }
}

fn main() {
    run();
}
