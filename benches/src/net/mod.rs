//! The network scenarios (issue 6): `echo`, `c10k` and `connect_rate`.
//!
//! Each run starts the server as a separate process pinned to CPU 0 (`tulip-bench --serve
//! KIND`, a Python script, or any command that prints `LISTENING <addr>`), and the load
//! generator — this process, on raw mio, with no allocation per request — pins itself to
//! CPU 1. The server's CPU time comes from `/proc/<pid>/stat`, its memory from
//! `/proc/<pid>/status`.
//!
//! These scenarios run only when named: they take minutes and start processes.

mod c10k;
mod connect;
mod echo;
pub(crate) mod proc;
pub(crate) mod serve;
pub(crate) mod table;
mod waker_floor;

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::Options;
use proc::Server;

/// The `echo` scenario. Network tables have servers for rows, so each scenario prints its own
/// and gives `main` none.
pub(crate) fn echo(options: &Options) -> Vec<crate::report::Table> {
    echo::run(options).iter().for_each(table::Table::print);
    Vec::new()
}

/// The `c10k` scenario (prints its table).
pub(crate) fn c10k(options: &Options) -> Vec<crate::report::Table> {
    c10k::run(options).iter().for_each(table::Table::print);
    Vec::new()
}

/// The `connect_rate` scenario (prints its table).
pub(crate) fn connect_rate(options: &Options) -> Vec<crate::report::Table> {
    connect::run(options).iter().for_each(table::Table::print);
    Vec::new()
}

/// The Python servers `benches/python/echo_servers.py` runs: `(key, its argument, row label)`.
const PYTHON_KINDS: [(&str, &str, &str); 4] = [
    ("py-streams", "asyncio-streams", "Python asyncio streams"),
    ("py-protocol", "asyncio-protocol", "Python asyncio Protocol"),
    (
        "uvloop-protocol",
        "uvloop-protocol",
        "Python uvloop Protocol",
    ),
    ("uvloop-streams", "uvloop-streams", "Python uvloop streams"),
];

/// The Python servers measured when `--python` is given and `--servers` is not.
const PYTHON_DEFAULT: [&str; 3] = ["py-streams", "py-protocol", "uvloop-protocol"];

/// Options only the network scenarios take.
#[derive(Debug, Clone, Default)]
pub(crate) struct NetOptions {
    /// `--servers`: the keys of the servers to measure, in order.
    pub(crate) servers: Option<Vec<String>>,
    /// `--clients`: the keys of the HTTP clients to measure (`http_client`), in order.
    pub(crate) clients: Option<Vec<String>>,
    /// `--python`: the interpreter (with uvloop) for the Python servers.
    pub(crate) python: Option<PathBuf>,
    /// `--external-server NAME=COMMAND`, any number of times.
    external: Vec<(String, String)>,
    /// `--duration SECS`: the measured window (echo: per size; c10k: the whole run; http_server:
    /// wrk's `-d`).
    pub(crate) duration: Option<Duration>,
    /// `--requests N`: GETs per client run (`http_client`).
    pub(crate) requests: Option<usize>,
    /// `--sizes B,...`: the echo scenario's message sizes.
    pub(crate) sizes: Option<Vec<usize>>,
    /// `--server-prefix CMD`: a command line the built-in and Python servers run under
    /// (`valgrind --tool=callgrind`, `strace -c -f`), split at spaces.
    pub(crate) prefix: Vec<String>,
    /// `--reps`, when given: otherwise 3 rotations (1 under `--quick`).
    pub(crate) reps: Option<usize>,
}

impl NetOptions {
    /// Whether `arg` is an option of the network scenarios (it then takes a value).
    pub(crate) fn takes(arg: &str) -> bool {
        matches!(
            arg,
            "--servers"
                | "--python"
                | "--external-server"
                | "--duration"
                | "--server-prefix"
                | "--sizes"
                | "--clients"
                | "--requests"
        )
    }

    /// Records option `arg` with its `value`.
    pub(crate) fn set(&mut self, arg: &str, value: Option<String>) -> Result<(), String> {
        let value = value.ok_or(format!("{arg} takes a value"))?;
        match arg {
            "--servers" => self.servers = Some(value.split(',').map(String::from).collect()),
            "--clients" => self.clients = Some(value.split(',').map(String::from).collect()),
            "--requests" => {
                let n = value.parse().ok().filter(|&n: &usize| n > 0);
                self.requests = Some(n.ok_or(format!("--requests takes a count, not `{value}`"))?);
            }
            "--python" => self.python = Some(value.into()),
            "--external-server" => {
                let (name, command) = value.split_once('=').ok_or(format!(
                    "--external-server takes NAME=COMMAND, not `{value}`"
                ))?;
                self.external.push((name.to_string(), command.to_string()));
            }
            "--duration" => {
                let secs: f64 = value
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0)
                    .ok_or(format!("--duration takes seconds, not `{value}`"))?;
                self.duration = Some(Duration::from_secs_f64(secs));
            }
            "--sizes" => {
                let sizes: Option<Vec<usize>> = value
                    .split(',')
                    .map(|n| n.parse().ok().filter(|&n| n > 0))
                    .collect();
                self.sizes =
                    Some(sizes.ok_or(format!("--sizes takes byte counts, not `{value}`"))?);
            }
            "--server-prefix" => self.prefix = value.split_whitespace().map(String::from).collect(),
            other => return Err(format!("unknown option `{other}`")),
        }
        Ok(())
    }

    /// Usage lines for these options.
    pub(crate) fn usage() -> String {
        let mut keys: Vec<&str> = serve::KINDS.iter().map(|(k, _)| *k).collect();
        keys.extend(PYTHON_KINDS.iter().map(|(k, _, _)| *k));
        format!(
            "network scenarios (echo, c10k, connect_rate) also take:\n  \
             --servers KEY,...  (keys: {})\n  \
             --python PATH      add the Python servers, run by this interpreter (with uvloop)\n  \
             --external-server NAME=COMMAND  any server that prints `LISTENING <addr>`\n  \
             --duration SECS    measured window (echo: per size; c10k: the whole run)\n  \
             --sizes B,...      the echo scenario's message sizes (100,1024,65536)\n  \
             --server-prefix CMD  run the built-in and Python servers under CMD (a profiler)\n\
             http_client and http_server also take --python, --duration and --server-prefix, and:\n  \
             --servers KEY,...  (http_server: {})\n  \
             --clients KEY,...  (http_client: {})\n  \
             --requests N       GETs per client run (http_client; 100000)",
            keys.join(", "),
            crate::http::SERVER_KEYS.join(", "),
            crate::http::CLIENT_KEYS.join(", ")
        )
    }
}

/// Rotations for a network scenario.
pub(crate) fn reps(options: &Options) -> usize {
    options
        .net
        .reps
        .unwrap_or(if options.quick { 1 } else { 3 })
}

/// How a server is started.
#[derive(Debug, Clone)]
enum Launch {
    /// `tulip-bench --serve KEY`.
    Builtin,
    /// `echo_servers.py KIND` under this interpreter.
    Python(PathBuf, &'static str),
    /// A shell command.
    Shell(String),
}

/// A server the scenarios can measure.
#[derive(Debug, Clone)]
pub(crate) struct ServerSpec {
    /// Short name (`--servers`, ratio columns).
    pub(crate) key: String,
    /// Row label.
    pub(crate) label: String,
    launch: Launch,
    /// `--server-prefix`, for built-in and Python servers.
    prefix: Vec<String>,
}

impl table::Subject for ServerSpec {
    fn key(&self) -> &str {
        &self.key
    }

    fn label(&self) -> &str {
        &self.label
    }
}

impl ServerSpec {
    /// Starts the server, pinned to its CPU, reading at most `buf` bytes at once (built-in and
    /// Python servers), and waits until it listens.
    fn start(&self, buf: usize) -> io::Result<Server> {
        let cpu = proc::SERVER_CPU.to_string();
        let buf = buf.to_string();
        let mut line: Vec<OsString> = self.prefix.iter().map(OsString::from).collect();
        match &self.launch {
            Launch::Builtin => {
                line.push(std::env::current_exe()?.into());
                let args = ["--serve", &self.key, "--cpu", &cpu, "--buf", &buf];
                line.extend(args.map(OsString::from));
            }
            Launch::Python(python, kind) => {
                let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/echo_servers.py");
                line.push(python.into());
                line.extend([script, kind, "--cpu", &cpu, "--buf", &buf].map(OsString::from));
            }
            Launch::Shell(command) => {
                let args = ["sh".into(), "-c".into(), format!("exec {command}")];
                line = args.map(OsString::from).to_vec();
            }
        }
        let mut command = Command::new(&line[0]);
        command.args(&line[1..]);
        Server::spawn(command)
    }

    fn named(key: &str, python: &Option<PathBuf>) -> Result<ServerSpec, String> {
        if let Some((key, label)) = serve::KINDS.iter().find(|(k, _)| *k == key) {
            return Ok(ServerSpec {
                key: key.to_string(),
                label: label.to_string(),
                launch: Launch::Builtin,
                prefix: Vec::new(),
            });
        }
        if let Some((key, arg, label)) = PYTHON_KINDS.iter().find(|(k, _, _)| *k == key) {
            let python = python.clone().unwrap_or_else(|| "python3".into());
            return Ok(ServerSpec {
                key: key.to_string(),
                label: label.to_string(),
                launch: Launch::Python(python, arg),
                prefix: Vec::new(),
            });
        }
        Err(format!("unknown server `{key}`"))
    }
}

/// The servers a scenario measures: `--servers` if given, else `defaults` and, with
/// `--python`, the default Python servers; then every `--external-server`.
fn servers(options: &Options, defaults: &[&str]) -> Result<Vec<ServerSpec>, String> {
    let net = &options.net;
    let mut keys: Vec<String> = match &net.servers {
        Some(keys) => keys.clone(),
        None => defaults.iter().map(|k| k.to_string()).collect(),
    };
    if net.servers.is_none() && net.python.is_some() {
        keys.extend(PYTHON_DEFAULT.iter().map(|k| k.to_string()));
    }
    let mut specs: Vec<ServerSpec> = keys
        .iter()
        .map(|key| ServerSpec::named(key, &net.python))
        .map(|spec| {
            spec.map(|spec| ServerSpec {
                prefix: net.prefix.clone(),
                ..spec
            })
        })
        .collect::<Result<_, _>>()?;
    specs.extend(net.external.iter().map(|(name, command)| ServerSpec {
        key: name.clone(),
        label: name.clone(),
        launch: Launch::Shell(command.clone()),
        prefix: Vec::new(),
    }));
    Ok(specs)
}

/// Pins the load generator (this thread) to its CPU while alive; gives the old affinity back
/// when dropped, for the scenarios that run after.
pub(crate) struct ClientPin(Option<rustix::thread::CpuSet>);

impl ClientPin {
    /// Pins the calling thread to [`proc::CLIENT_CPU`].
    pub(crate) fn new() -> ClientPin {
        ClientPin(proc::pin_current_thread(proc::CLIENT_CPU).ok())
    }
}

impl Drop for ClientPin {
    fn drop(&mut self) {
        if let Some(old) = &self.0 {
            proc::restore_affinity(old);
        }
    }
}
