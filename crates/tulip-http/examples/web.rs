//! The seed's test web service, `web.py` (`004_…`, FastAPI on uvicorn): `GET /` sleeps one
//! second and answers `{"msg": "ok"}`, `GET /random` sleeps one second and answers
//! `{"msg": <a random float in [0, 1)>}`. It serves until Ctrl+C, then shuts down
//! gracefully (requests in flight finish) and says how much it served.
//!
//! ```text
//! $ cargo run -p tulip-http --example web -- [--host 127.0.0.1] [--port 8000] [--seed N]
//! serving on http://127.0.0.1:8000 (press Ctrl+C to quit)
//! ^Cshutting down
//! served 6 requests on 3 connections
//! ```
//!
//! `--port 0` picks a free port (the first line says which); `--seed N` makes `/random`
//! repeat the same numbers. The client programs `test1` … `test8` talk to it with
//! `--url http://127.0.0.1:8000/`; without `--url` they start this same service inside their
//! own process (see [`client`] below).

use std::cell::Cell;
use std::hash::BuildHasher;
use std::rc::Rc;
use std::time::Duration;

use serde_json::json;
use tulip::time::sleep;
use tulip_http::server::{Json, Router, Server, ServerHandle};

/// uvicorn's default port.
pub(crate) const DEFAULT_PORT: u16 = 8000;

/// The seed of `/random` when the service runs inside a client program: the same numbers on
/// every run, so the programs' output can be checked (the date of the seed's article).
pub(crate) const IN_PROCESS_SEED: u64 = 20_220_711;

/// The seed's `random()`: SplitMix64, enough for a demo and reproducible from a seed.
#[derive(Debug, Clone)]
pub(crate) struct Random {
    state: Rc<Cell<u64>>,
}

impl Random {
    pub(crate) fn with_seed(seed: u64) -> Random {
        Random {
            state: Rc::new(Cell::new(seed)),
        }
    }

    /// A seed from the process's hash keys, which std draws from the OS.
    pub(crate) fn from_entropy() -> Random {
        Random::with_seed(std::collections::hash_map::RandomState::new().hash_one("tulip"))
    }

    /// The next float in `[0, 1)`, with 53 random bits as Python's `random()`.
    pub(crate) fn next_f64(&self) -> f64 {
        let state = self.state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        self.state.set(state);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The service: `app = FastAPI()` with its two routes.
pub(crate) fn router(random: Random) -> Router {
    Router::new()
        .get("/", |_req| async {
            sleep(Duration::from_secs(1)).await;
            Json(json!({"msg": "ok"}))
        })
        .get("/random", move |_req| {
            let random = random.clone();
            async move {
                sleep(Duration::from_secs(1)).await;
                // Drawn after the sleep, as the seed's `return {"msg": random()}`.
                Json(json!({"msg": random.next_f64()}))
            }
        })
}

/// Starts the service on `host:port` on the current loop.
pub(crate) async fn start(host: &str, port: u16, random: Random) -> std::io::Result<ServerHandle> {
    Ok(Server::bind((host, port)).await?.serve(router(random)))
}

struct Options {
    host: String,
    port: u16,
    seed: Option<u64>,
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        host: "127.0.0.1".to_owned(),
        port: DEFAULT_PORT,
        seed: None,
    };
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        if !matches!(name.as_str(), "--host" | "--port" | "--seed") {
            return Err(format!("unexpected argument {arg:?}"));
        }
        let value = match inline {
            Some(value) => value,
            None => args.next().ok_or(format!("{name} needs a value"))?,
        };
        let bad = |err: std::num::ParseIntError| format!("{name} {value:?}: {err}");
        match name.as_str() {
            "--host" => options.host = value,
            "--port" => options.port = value.parse().map_err(bad)?,
            _ => options.seed = Some(value.parse().map_err(bad)?),
        }
    }
    Ok(options)
}

/// The program: `uvicorn.run(app)`, until Ctrl+C.
pub(crate) fn run(args: impl Iterator<Item = String>) {
    let options = match parse_options(args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("web: {message}\nusage: web [--host HOST] [--port N] [--seed N]");
            std::process::exit(2);
        }
    };
    let random = options
        .seed
        .map_or_else(Random::from_entropy, Random::with_seed);
    tulip::run(async move {
        // Listen for Ctrl+C before saying we serve, so a Ctrl+C right after is not lost.
        let ctrl_c = tulip::signal::ctrl_c();
        let server = match start(&options.host, options.port, random).await {
            Ok(server) => server,
            Err(err) => {
                eprintln!("web: {err}");
                std::process::exit(1);
            }
        };
        println!(
            "serving on http://{} (press Ctrl+C to quit)",
            server.local_addr()
        );
        if let Err(err) = ctrl_c.await {
            eprintln!("web: cannot wait for Ctrl+C: {err}");
        }
        println!("shutting down");
        server.clone().shutdown().await;
        let stats = server.stats();
        println!(
            "served {} requests on {} connections",
            stats.requests_served, stats.connections_accepted
        );
    });
}

/// What the client programs `test1` … `test8` and `fetch_url_async` share: how they find
/// the service, and how they print what it answers.
#[allow(dead_code)] // the service's own `main` uses none of it
pub(crate) mod client {
    use std::future::Future;

    use serde_json::Value;
    use tulip_http::server::{Router, ServerHandle};

    /// A client program's `main`: `--url URL` points `program` at a service already running
    /// (`web`, or the seed's own `web.py`), on the real clock; without it, `in_process` runs
    /// (the program's `run`, which calls [`in_process`] below).
    pub(crate) fn main<F, Fut>(name: &str, in_process: fn(), program: F)
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = ()>,
    {
        match url_option(std::env::args().skip(1)) {
            Ok(Some(url)) => tulip::run(program(url)),
            Ok(None) => in_process(),
            Err(message) => {
                eprintln!("{name}: {message}\nusage: {name} [--url URL]");
                std::process::exit(2);
            }
        }
    }

    /// The service (`router`) inside this process, on `127.0.0.1` and a free port, and
    /// `program` against `path` on it, all on tulip's test clock: the service's one-second
    /// sleeps then take no real time and every printed duration is exact.
    pub(crate) fn in_process<F, Fut>(router: fn() -> Router, path: &str, program: F)
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = ()>,
    {
        let mut runtime = tulip::Runtime::builder()
            .test_clock()
            .build()
            .expect("a tulip runtime");
        runtime.block_on(async {
            let server = serve(router).await;
            program(format!("http://{}{path}", server.local_addr())).await;
            server.shutdown().await;
        });
    }

    async fn serve(router: fn() -> Router) -> ServerHandle {
        tulip_http::server::Server::bind("127.0.0.1:0")
            .await
            .expect("binding 127.0.0.1 with a free port")
            .serve(router())
    }

    /// The service with the seeded `/random`.
    pub(crate) fn seeded_router() -> Router {
        super::router(super::Random::with_seed(super::IN_PROCESS_SEED))
    }

    fn url_option(mut args: impl Iterator<Item = String>) -> Result<Option<String>, String> {
        let mut url = None;
        while let Some(arg) = args.next() {
            url = Some(match arg.strip_prefix("--url") {
                Some("") => args.next().ok_or("--url needs a value")?,
                Some(rest) if rest.starts_with('=') => rest[1..].to_owned(),
                _ => return Err(format!("unexpected argument {arg:?}")),
            });
        }
        Ok(url)
    }

    /// A JSON value as Python prints the dict `resp.json()` returned: `{'msg': 'ok'}`.
    pub(crate) fn py(value: &Value) -> String {
        match value {
            Value::Null => "None".to_owned(),
            Value::Bool(true) => "True".to_owned(),
            Value::Bool(false) => "False".to_owned(),
            Value::Number(n) if n.is_f64() => {
                let shown = n.as_f64().map_or_else(|| n.to_string(), |f| f.to_string());
                // Python always shows a float's point: 1.0, not 1.
                if shown.contains(['.', 'e', 'N', 'i']) {
                    shown
                } else {
                    format!("{shown}.0")
                }
            }
            Value::Number(n) => n.to_string(),
            Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(py).collect();
                format!("[{}]", items.join(", "))
            }
            Value::Object(map) => {
                let items: Vec<String> = map
                    .iter()
                    .map(|(k, v)| format!("{}: {}", py(&Value::String(k.clone())), py(v)))
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
        }
    }

    /// Seconds on the loop's clock since `start`, as the programs print them.
    pub(crate) fn secs(start: tulip::time::Instant) -> String {
        format!("{:.2}", start.elapsed().as_secs_f64())
    }
}

fn main() {
    run(std::env::args().skip(1));
}
