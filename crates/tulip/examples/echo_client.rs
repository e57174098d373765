//! asyncio's TCP echo client, on its own: `open_connection(host, port)`, write, drain, read,
//! close. Pair it with `echo_server`.
//!
//! ```text
//! $ cargo run -p tulip-rt --example echo_client -- --port 8888
//! Send: "Hello World!"
//! Received: "Hello World!"
//! Close the connection
//! ```
//!
//! Options: `--host H` (default 127.0.0.1), `--port N` (default 8888), `--message M`.

use std::io;

use tulip::net::open_connection;

async fn tcp_echo_client(host: &str, port: u16, message: &str) -> io::Result<()> {
    let (mut reader, mut writer) = open_connection((host, port)).await?;
    println!("Send: {message:?}");
    writer.write(message.as_bytes());
    writer.drain().await?;
    let data = reader.read(100).await?;
    println!("Received: {:?}", String::from_utf8_lossy(&data));
    println!("Close the connection");
    writer.close();
    writer.wait_closed().await
}

#[tulip::main]
async fn main() -> io::Result<()> {
    let mut host = "127.0.0.1".to_owned();
    let mut port = 8888;
    let mut message = "Hello World!".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        match flag.as_str() {
            "--host" => host = value,
            "--port" => {
                port = value.parse().map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidInput, format!("bad port {value:?}"))
                })?;
            }
            "--message" => message = value,
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("unknown option {flag}; use --host, --port, --message"),
                ));
            }
        }
    }
    tcp_echo_client(&host, port, &message).await
}
