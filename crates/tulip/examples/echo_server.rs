//! asyncio's TCP echo server, on its own: `start_server(handle_echo, host, port)` then
//! `serve_forever()`. Pair it with `echo_client`.
//!
//! ```text
//! $ cargo run -p tulip-rt --example echo_server -- --port 8888
//! Serving on 127.0.0.1:8888
//! Received "Hello World!" from 127.0.0.1
//! Send: "Hello World!"
//! Close the connection
//! ```
//!
//! Options: `--host H` (default 127.0.0.1), `--port N` (default 8888; 0 picks a free port),
//! `--connections N` to close gracefully after serving N connections (for scripts and tests;
//! without it the server runs until Ctrl+C).

use std::cell::Cell;
use std::io;
use std::rc::Rc;

use tulip::net::{StreamReader, StreamWriter, start_server};
use tulip::sync::Event;

async fn handle_echo(mut reader: StreamReader, mut writer: StreamWriter) -> io::Result<()> {
    let data = reader.read(100).await?;
    let message = String::from_utf8_lossy(&data);
    println!("Received {message:?} from {}", writer.peer_addr()?.ip());
    println!("Send: {message:?}");
    writer.write(&data);
    writer.drain().await?;
    println!("Close the connection");
    writer.close();
    writer.wait_closed().await
}

struct Options {
    host: String,
    port: u16,
    connections: Option<usize>,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        host: "127.0.0.1".to_owned(),
        port: 8888,
        connections: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--host" => options.host = value,
            "--port" => options.port = value.parse().map_err(|_| format!("bad port {value:?}"))?,
            "--connections" => {
                let n = value.parse().map_err(|_| format!("bad count {value:?}"))?;
                options.connections = Some(n);
            }
            _ => {
                return Err(format!(
                    "unknown option {flag}; use --host, --port, --connections"
                ));
            }
        }
    }
    Ok(options)
}

#[tulip::main]
async fn main() -> io::Result<()> {
    let options = parse_args().map_err(|msg| io::Error::new(io::ErrorKind::InvalidInput, msg))?;
    let served = Rc::new(Cell::new(0));
    let enough = Rc::new(Event::new());
    let limit = options.connections;
    let (count, done) = (served.clone(), enough.clone());
    let server = start_server(
        move |reader, writer| {
            let (count, done) = (count.clone(), done.clone());
            async move {
                if let Err(err) = handle_echo(reader, writer).await {
                    println!("connection failed: {err}");
                }
                count.set(count.get() + 1);
                if Some(count.get()) == limit {
                    done.set();
                }
            }
        },
        (options.host.as_str(), options.port),
    )
    .await?;
    for addr in server.local_addrs() {
        println!("Serving on {addr}");
    }
    if limit.is_some() {
        enough.wait().await;
        server.close();
        server.wait_closed().await;
        println!("Served {} connection(s); closed", served.get());
    } else {
        server.serve_forever().await;
    }
    Ok(())
}
