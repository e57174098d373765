//! Runs the networking examples as child processes (on the test clock, as every example test
//! does) and checks what they print: `echo` (server and client in one program), the
//! standalone `echo_server` + `echo_client` pair talking across two processes, the `chat`
//! server with its three scripted clients, and seed `002_…`'s crawler in its three stages
//! (`crawler_blocking`, `crawler_callbacks`, `crawler_coroutines`), which must all fetch the
//! same ten pages from their local site.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use support::{assert_output, build_examples, profile_dir, run_example, watchdog};

/// Builds the examples (which can take minutes on a cold cache), then starts the watchdog, so
/// only the run itself is timed: a hung network example fails the test instead of CI.
fn watch(what: &'static str) -> support::Watchdog {
    // A failed build is reported by `run_example`, which falls back on existing binaries.
    let _ = build_examples();
    watchdog(what)
}

const ECHO: &str = "\
Serving on 127.0.0.1
[client] Send: \"Hello World!\"
[server] Received \"Hello World!\" from 127.0.0.1
[server] Send: \"Hello World!\"
[server] Close the connection
[client] Received: \"Hello World!\"
[client] Close the connection
[client] Send: \"Goodbye!\"
[server] Received \"Goodbye!\" from 127.0.0.1
[server] Send: \"Goodbye!\"
[server] Close the connection
[client] Received: \"Goodbye!\"
[client] Close the connection
Server closed
";

#[test]
fn echo() {
    let _watchdog = watch("example echo");
    assert_output("echo", &run_example("echo", &[]), ECHO);
}

#[test]
fn echo_server_and_client_in_two_processes() {
    let _watchdog = watch("examples echo_server + echo_client");
    let binary = profile_dir().join("examples").join("echo_server");
    let mut server = Command::new(&binary)
        .args(["--port", "0", "--connections", "2"])
        .env("TULIP_TEST_CLOCK", "1")
        .env_remove("TULIP_DEBUG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("could not run {}: {err}", binary.display()));
    let mut out = BufReader::new(server.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let port = first
        .trim_end()
        .strip_prefix("Serving on 127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();

    let client = run_example("echo_client", &["--port", &port]);
    assert_output(
        "echo_client",
        &client,
        "Send: \"Hello World!\"\nReceived: \"Hello World!\"\nClose the connection\n",
    );
    let client = run_example("echo_client", &["--port", &port, "--message", "second"]);
    assert_output(
        "echo_client",
        &client,
        "Send: \"second\"\nReceived: \"second\"\nClose the connection\n",
    );

    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let status = server.wait().unwrap();
    let mut stderr = String::new();
    server
        .stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "echo_server failed: {status}; {stderr}");
    assert!(stderr.is_empty(), "echo_server wrote to stderr:\n{stderr}");
    assert_output(
        "echo_server",
        &rest,
        "\
Received \"Hello World!\" from 127.0.0.1
Send: \"Hello World!\"
Close the connection
Received \"second\" from 127.0.0.1
Send: \"second\"
Close the connection
Served 2 connection(s); closed
",
    );
}

const CHAT: &str = "\
[server] alice joined (1 online)
[server] bob joined (2 online)
[server] carol joined (3 online)
[server] carol left
[server] bob left
[server] alice left
[server] closed
alice got:
  Welcome! What is your name?
  Hello, alice! Nobody else is here yet.
  * bob joined
  * carol joined
  bob: hello alice, hello carol
  carol: hey! I can only stay a second
  * carol left
  * bob left
  Bye, alice!
  <connection closed>
bob got:
  Welcome! What is your name?
  Hello, bob! Here already: alice.
  * carol joined
  alice: hi everyone
  carol: hey! I can only stay a second
  * carol left
carol got:
  Welcome! What is your name?
  Hello, carol! Here already: alice, bob.
  alice: hi everyone
  bob: hello alice, hello carol
  Bye, carol!
  <connection closed>
";

#[test]
fn chat() {
    let _watchdog = watch("example chat");
    assert_output("chat", &run_example("chat", &[]), CHAT);
}

/// What every crawler stage fetches: the same ten pages, in page order.
const PAGES: &str = "\
/   HTTP/1.0 200 OK, 85 bytes of body
/1  HTTP/1.0 200 OK, 100 bytes of body
/2  HTTP/1.0 200 OK, 115 bytes of body
/3  HTTP/1.0 200 OK, 130 bytes of body
/4  HTTP/1.0 200 OK, 145 bytes of body
/5  HTTP/1.0 200 OK, 160 bytes of body
/6  HTTP/1.0 200 OK, 175 bytes of body
/7  HTTP/1.0 200 OK, 190 bytes of body
/8  HTTP/1.0 200 OK, 205 bytes of body
/9  HTTP/1.0 200 OK, 220 bytes of body
";

#[test]
fn crawler_blocking() {
    let _watchdog = watch("example crawler_blocking");
    let expected = format!("{PAGES}fetched 10 pages, one after another\n");
    assert_output(
        "crawler_blocking",
        &run_example("crawler_blocking", &[]),
        &expected,
    );
}

#[test]
fn crawler_callbacks() {
    let _watchdog = watch("example crawler_callbacks");
    let expected = format!("{PAGES}fetched 10 pages with callbacks on one thread\n");
    assert_output(
        "crawler_callbacks",
        &run_example("crawler_callbacks", &[]),
        &expected,
    );
}

#[test]
fn crawler_coroutines() {
    let _watchdog = watch("example crawler_coroutines");
    let expected = format!("{PAGES}fetched 10 pages as 10 tasks on one thread\n");
    assert_output(
        "crawler_coroutines",
        &run_example("crawler_coroutines", &[]),
        &expected,
    );
}
