//! A line-based chat server on asyncio's streams API, and a scripted conversation.
//!
//! The server (`start_server`) greets each connection, asks for a name, then relays every
//! line a member sends to everyone else, announcing who joins and leaves. Each connection is
//! its own task; they share the room (a map from name to `StreamWriter`) because all tasks
//! run on one thread — no locks, as in asyncio.
//!
//! The program then connects three clients (alice, bob, carol) with `open_connection`,
//! has them talk, lets them leave one by one, shuts the server down gracefully
//! (`close` + `wait_closed` waits for the last handler), and prints what each client got.
//!
//! ```text
//! $ cargo run -p tulip-rt --example chat
//! [server] alice joined (1 online)
//! ...
//! alice got:
//!   Welcome! What is your name?
//!   Hello, alice! Nobody else is here yet.
//!   * bob joined
//!   ...
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use tulip::net::{StreamError, StreamReader, StreamWriter, open_connection, start_server};

/// A member whose unsent backlog grows past this is not reading: the room drops them
/// instead of buffering without bound.
const MAX_BACKLOG: usize = 256 * 1024;

/// Everyone connected, by name.
#[derive(Default)]
struct Room {
    members: RefCell<BTreeMap<String, StreamWriter>>,
}

impl Room {
    /// Sends `line` to every member but `from`. `write` queues without waiting, so one slow
    /// member cannot hold up the others; one that falls too far behind is disconnected.
    fn broadcast(&self, from: &str, line: &str) {
        for (name, writer) in self.members.borrow_mut().iter_mut() {
            if name != from {
                writer.write(line.as_bytes());
                if writer.write_buffer_size() > MAX_BACKLOG {
                    writer.abort();
                }
            }
        }
    }
}

async fn read_text_line(reader: &mut StreamReader) -> Result<Option<String>, StreamError> {
    let line = reader.readline().await?;
    if line.is_empty() {
        return Ok(None); // end of stream
    }
    Ok(Some(String::from_utf8_lossy(&line).trim_end().to_owned()))
}

/// One connection, from greeting to goodbye.
async fn handle_member(room: Rc<Room>, mut reader: StreamReader, mut writer: StreamWriter) {
    writer.write(b"Welcome! What is your name?\n");
    let name = match read_text_line(&mut reader).await {
        Ok(Some(name)) if !name.is_empty() => name,
        _ => return,
    };
    if room.members.borrow().contains_key(&name) {
        writer.write(format!("Sorry, {name} is taken.\n").as_bytes());
        writer.close();
        let _ = writer.wait_closed().await;
        return;
    }
    let others: Vec<String> = room.members.borrow().keys().cloned().collect();
    let hello = if others.is_empty() {
        format!("Hello, {name}! Nobody else is here yet.\n")
    } else {
        format!("Hello, {name}! Here already: {}.\n", others.join(", "))
    };
    writer.write(hello.as_bytes());
    room.broadcast(&name, &format!("* {name} joined\n"));
    room.members.borrow_mut().insert(name.clone(), writer);
    println!("[server] {name} joined ({} online)", others.len() + 1);

    let mut said_bye = false;
    // Ends at end of stream, on "/quit", or on an overlong line (LimitOverrun).
    while let Ok(Some(line)) = read_text_line(&mut reader).await {
        if line == "/quit" {
            said_bye = true;
            break;
        }
        room.broadcast(&name, &format!("{name}: {line}\n"));
    }

    let writer = room.members.borrow_mut().remove(&name);
    room.broadcast(&name, &format!("* {name} left\n"));
    println!("[server] {name} left");
    if let Some(mut writer) = writer {
        if said_bye {
            writer.write(format!("Bye, {name}!\n").as_bytes());
        }
        writer.close();
        let _ = writer.wait_closed().await;
    }
}

/// A scripted chat client that remembers every line it receives.
struct Client {
    name: &'static str,
    reader: StreamReader,
    writer: StreamWriter,
    got: Vec<String>,
}

impl Client {
    async fn join(addr: SocketAddr, name: &'static str) -> io::Result<Client> {
        let (reader, writer) = open_connection(addr).await?;
        let mut client = Client {
            name,
            reader,
            writer,
            got: Vec::new(),
        };
        client.receive().await?; // the prompt
        client.say(name).await?;
        client.receive().await?; // the hello
        Ok(client)
    }

    async fn say(&mut self, line: &str) -> io::Result<()> {
        self.writer.write(format!("{line}\n").as_bytes());
        self.writer.drain().await
    }

    /// Reads one line (waiting for it) into the transcript.
    async fn receive(&mut self) -> io::Result<()> {
        let line = self.reader.readline().await?;
        if line.is_empty() {
            self.got.push("<connection closed>".to_owned());
        } else {
            self.got
                .push(String::from_utf8_lossy(&line).trim_end().to_owned());
        }
        Ok(())
    }
}

/// Each of `clients` reads one line.
async fn everyone_receives(clients: &mut [&mut Client]) -> io::Result<()> {
    for client in clients.iter_mut() {
        client.receive().await?;
    }
    Ok(())
}

async fn program() -> io::Result<()> {
    let room = Rc::new(Room::default());
    let server = start_server(
        move |reader, writer| handle_member(room.clone(), reader, writer),
        "127.0.0.1:0",
    )
    .await?;
    let addr = server.local_addrs()[0];

    let mut alice = Client::join(addr, "alice").await?;
    let mut bob = Client::join(addr, "bob").await?;
    alice.receive().await?; // * bob joined
    let mut carol = Client::join(addr, "carol").await?;
    everyone_receives(&mut [&mut alice, &mut bob]).await?; // * carol joined

    alice.say("hi everyone").await?;
    everyone_receives(&mut [&mut bob, &mut carol]).await?;
    bob.say("hello alice, hello carol").await?;
    everyone_receives(&mut [&mut alice, &mut carol]).await?;
    carol.say("hey! I can only stay a second").await?;
    everyone_receives(&mut [&mut alice, &mut bob]).await?;

    carol.say("/quit").await?;
    carol.receive().await?; // Bye, carol!
    carol.receive().await?; // the server closed the connection
    everyone_receives(&mut [&mut alice, &mut bob]).await?; // * carol left
    bob.writer.close(); // hang up without a word
    bob.writer.wait_closed().await?;
    alice.receive().await?; // * bob left
    alice.say("/quit").await?;
    alice.receive().await?;
    alice.receive().await?;

    server.close();
    server.wait_closed().await;
    println!("[server] closed");

    for client in [&alice, &bob, &carol] {
        println!("{} got:", client.name);
        for line in &client.got {
            println!("  {line}");
        }
    }
    Ok(())
}

/// The program; the tour runs it too. A failure is reported and ends the process with status 1.
pub(crate) fn run() {
    if let Err(err) = tulip::run(program()) {
        eprintln!("chat: {err}");
        std::process::exit(1);
    }
}

fn main() {
    run();
}
