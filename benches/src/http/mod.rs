//! The HTTP scenarios (issue 7): `http_client` and `http_server`, tulip-http against reqwest
//! and hyper on tokio and against aiohttp and uvicorn in Python.
//!
//! Like the network scenarios (`src/net/`), every measured program runs in its own process,
//! the server on CPU 0 and the load on CPU 1:
//!
//! - `http_client`: the bench starts nginx (pinned to CPU 0, one worker) serving a small static
//!   file, then each client in turn as a child process on CPU 1 — `tulip-bench --http-client
//!   KIND` for the Rust ones ([`clients`]), `python/http_client.py` for aiohttp — which makes
//!   N GETs with 64 in flight over keep-alive. The client's CPU time and peak RSS come from its
//!   own `/proc/<pid>/stat` and `/proc/<pid>/status`, so they are its alone.
//! - `http_server`: each server in turn as a child process on CPU 0 — `tulip-bench
//!   --serve-http KIND` ([`serve`]) or `python/http_server_app.py` (uvicorn) — loaded by `wrk
//!   -t1 -c64 --latency` on CPU 1; the server's CPU time comes from its `/proc/<pid>/stat`.
//!
//! These scenarios run only when named: they start processes and need nginx and wrk
//! (`apt-get install nginx wrk`); the Python rows need `--python` with a venv that has aiohttp,
//! uvloop, uvicorn and httptools (`python/http.sh` makes one).

mod client;
pub(crate) mod clients;
mod nginx;
pub(crate) mod serve;
mod server;
mod wrk;

use std::path::PathBuf;

use crate::Options;
use crate::report::Table;

/// The clients `http_client` knows: `(key, row label)`. The Rust ones are built in
/// ([`clients::KINDS`]); the `aiohttp-*` ones need `--python`.
const CLIENTS: [(&str, &str); 5] = [
    ("tulip-http", "tulip-http ClientSession"),
    ("reqwest-ct", "reqwest, tokio current_thread"),
    ("reqwest-mt", "reqwest, tokio multi_thread (2)"),
    ("aiohttp-asyncio", "aiohttp, asyncio"),
    ("aiohttp-uvloop", "aiohttp, uvloop"),
];

/// The servers `http_server` knows: `(key, row label)`. `uvicorn` needs `--python`.
const SERVERS: [(&str, &str); 5] = [
    ("tulip-http", "tulip-http server"),
    (
        "tulip-http-no-timeout",
        "tulip-http server, no header timeout",
    ),
    ("hyper-ct", "hyper 1.x, tokio current_thread"),
    (
        "hyper-ct-timer",
        "hyper 1.x, tokio current_thread, header timeout",
    ),
    ("uvicorn", "uvicorn (uvloop + httptools)"),
];

/// The client keys, for the usage text.
pub(crate) const CLIENT_KEYS: [&str; 5] = [
    CLIENTS[0].0,
    CLIENTS[1].0,
    CLIENTS[2].0,
    CLIENTS[3].0,
    CLIENTS[4].0,
];

/// The server keys, for the usage text.
pub(crate) const SERVER_KEYS: [&str; 5] = [
    SERVERS[0].0,
    SERVERS[1].0,
    SERVERS[2].0,
    SERVERS[3].0,
    SERVERS[4].0,
];

/// The `http_client` scenario (prints its own table, whose rows are clients).
pub(crate) fn client(options: &Options) -> Vec<Table> {
    client::run(options)
        .iter()
        .for_each(crate::net::table::Table::print);
    Vec::new()
}

/// The `http_server` scenario (prints its own table, whose rows are servers).
pub(crate) fn server(options: &Options) -> Vec<Table> {
    server::run(options)
        .iter()
        .for_each(crate::net::table::Table::print);
    Vec::new()
}

/// A row of an HTTP table: a client or a server, and how to start it.
#[derive(Debug, Clone)]
struct Subject {
    key: &'static str,
    label: &'static str,
    /// The Python interpreter, for the Python rows; `None` for the built-in ones.
    python: Option<PathBuf>,
}

impl crate::net::table::Subject for Subject {
    fn key(&self) -> &str {
        self.key
    }

    fn label(&self) -> &str {
        self.label
    }
}

/// The subjects a scenario measures: `chosen` (`--clients` / `--servers`) if given, else
/// every built-in one and, with `--python`, every Python one. `known` lists `(key, label)`;
/// keys in `python_keys` run under the interpreter.
fn subjects(
    known: &[(&'static str, &'static str)],
    python_keys: &[&str],
    chosen: &Option<Vec<String>>,
    python: &Option<PathBuf>,
) -> Result<Vec<Subject>, String> {
    let keys: Vec<&str> = match chosen {
        Some(keys) => keys.iter().map(String::as_str).collect(),
        None => known
            .iter()
            .map(|(key, _)| *key)
            .filter(|key| python.is_some() || !python_keys.contains(key))
            .collect(),
    };
    keys.into_iter()
        .map(|key| {
            let (key, label) = known
                .iter()
                .find(|(k, _)| *k == key)
                .ok_or(format!("unknown key `{key}`"))?;
            let python = if python_keys.contains(key) {
                Some(python.clone().unwrap_or_else(|| "python3".into()))
            } else {
                None
            };
            Ok(Subject { key, label, python })
        })
        .collect()
}

/// `benches/python/<name>`.
fn script(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/python")).join(name)
}
