//! `fetch_url_async` from the seed `003_…`: three URLs fetched concurrently by tasks sharing
//! one session (`asyncio.create_task` + `asyncio.gather`). Each task prints when it starts,
//! waits for the response, "processes" it for two seconds (`asyncio.sleep(2)`), reads the
//! text and prints when it is done; the results come back in the order of the URLs.
//!
//! ```text
//! $ cargo run -p tulip-http --example fetch_url_async -- [--url https://httpbin.org]
//! all tasks created, running them concurrently...
//! start fetching /get
//! start fetching /delay/1
//! start fetching /headers
//! done fetching /get
//! done fetching /headers
//! done fetching /delay/1
//!
//! async version took 3.00 s
//! data from /get (length: 24)
//! data from /delay/1 (length: 11)
//! data from /headers (length: 43)
//! ```
//!
//! The seed fetches from httpbin.org; `--url` takes the base of any httpbin. Without it, a
//! stand-in for the three httpbin routes runs inside the program on tulip's test clock (see
//! `web.rs`): `/delay/1` answers after a second, so the whole takes 1 + 2 = 3 seconds, not
//! the 3 × 2 + 1 of fetching one after another.

#[allow(dead_code)]
#[path = "web.rs"]
mod web;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;
use tulip::time::{Instant, sleep};
use tulip_http::ClientSession;
use tulip_http::server::{Json, Request, RequestError, Router};
use web::client::secs;

/// The paths the seed fetches from httpbin.org.
const PATHS: [&str; 3] = ["/get", "/delay/1", "/headers"];

/// A stand-in for the three httpbin routes, with answers that do not depend on the port.
fn httpbin() -> Router {
    Router::new()
        .get("/get", |req: Request| async move {
            let args: BTreeMap<String, String> = req.query()?;
            Ok::<_, RequestError>(Json(json!({"args": args, "path": req.path()})))
        })
        .get("/delay/{n}", |req: Request| async move {
            let n: u64 = req.param("n").and_then(|n| n.parse().ok()).unwrap_or(0);
            sleep(Duration::from_secs(n.min(10))).await;
            Json(json!({"delay": n}))
        })
        .get("/headers", |req: Request| async move {
            Json(json!({"headers": {"User-Agent": req.header("user-agent")}}))
        })
}

/// `fetch_url_async(session, url)`: "a slow network request, the async version".
async fn fetch_url_async(session: ClientSession, base: String, path: &'static str) -> String {
    println!("start fetching {path}");
    let response = session
        .get(format!("{base}{path}"))
        .send()
        .await
        .expect("GET");
    // The seed's stand-in for processing the response: a sleep that blocks nobody else.
    sleep(Duration::from_secs(2)).await;
    let text = response.text().await.expect("a text body");
    println!("done fetching {path}");
    format!("data from {path} (length: {})", text.chars().count())
}

/// `main_async()` with the timing the seed does around `asyncio.run`.
async fn program(base: String) {
    let start = Instant::now();
    let session = ClientSession::new();
    let tasks: Vec<_> = PATHS
        .iter()
        .map(|path| tulip::spawn(fetch_url_async(session.clone(), base.clone(), path)))
        .collect();
    println!("all tasks created, running them concurrently...");
    // `asyncio.gather(*tasks)`: the results in the order of the tasks.
    let results = tulip::combine::try_gather_all(tasks)
        .await
        .expect("no fetch task fails");
    session.close().await;
    println!("\nasync version took {} s", secs(start));
    for result in results {
        println!("{result}");
    }
}

/// The program against the stand-in started in-process (what the tour runs).
pub(crate) fn run() {
    web::client::in_process(httpbin, "", program);
}

fn main() {
    web::client::main("fetch_url_async", run, |base| {
        program(base.trim_end_matches('/').to_owned())
    });
}
