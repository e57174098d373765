//! tulip-http's server against clients nobody here wrote: `curl` and Python's `http.client`
//! (GET JSON, POST bodies, keep-alive, HEAD, 404, chunked uploads, a body over the limit → 413).
//! The server runs its own tulip loop in a thread while the test's thread runs the client.

mod peers;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::mpsc;
use std::thread;

use peers::ScratchDir;
use serde_json::{Value, json};
use tulip_http::server::{Json, Request, Router, Server, ServerStats};

/// The server's request body limit. Small, so a body just over it fits in the loopback socket
/// buffers: a client that sends a whole body before reading the answer (as `http.client` does)
/// gets to read the 413 only if the server has not closed on it first.
const LIMIT: usize = 64 * 1024;
/// The size of the uploads under the limit.
const UPLOAD: usize = 48 * 1024;

fn router() -> Router {
    Router::new()
        .get("/", |_req| async { "hello from tulip-http\n" })
        .get("/json", |_req| async {
            Json(json!({"msg": "ok", "n": 42}))
        })
        .post("/echo", |req: Request| async move { req.body().await })
        .post("/json", |req: Request| async move {
            let value: Value = req.json().await?;
            Ok::<_, tulip_http::server::RequestError>(Json(json!({"got": value})))
        })
}

/// tulip-http's server on 127.0.0.1 in a thread of its own; stopped (gracefully) by
/// [`stop`](TestServer::stop) or on drop.
struct TestServer {
    addr: SocketAddr,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<ServerStats>>,
}

impl TestServer {
    fn start() -> TestServer {
        let (addr_tx, addr_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let thread = thread::spawn(move || {
            peers::run(async move {
                let server = Server::builder()
                    .max_body_size(LIMIT)
                    .bind("127.0.0.1:0")
                    .await
                    .unwrap();
                let handle = server.serve(router());
                addr_tx.send(handle.local_addr()).unwrap();
                // Until the test drops its sender.
                let _ = tulip::to_thread(move || stop_rx.recv()).await;
                handle.clone().shutdown().await;
                handle.stats()
            })
        });
        let addr = addr_rx.recv().expect("the server thread failed to start");
        TestServer {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Shuts the server down and returns its final counters.
    fn stop(mut self) -> ServerStats {
        drop(self.stop.take());
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs curl (ignoring any `.curlrc` and proxy settings) with `args`.
fn curl(binary: &Path, args: &[&str]) -> Output {
    let output = Command::new(binary)
        .args([
            "-q",
            "--noproxy",
            "*",
            "--silent",
            "--show-error",
            "--max-time",
            "60",
        ])
        .args(args)
        .output()
        .expect("running curl");
    assert!(
        output.status.success(),
        "curl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A response as `curl -i` prints it: the status, the head's text, the body.
fn split_response(output: &[u8]) -> (u16, String, Vec<u8>) {
    let end = output
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("no end of the head in curl's output");
    let head = String::from_utf8(output[..end].to_vec()).unwrap();
    let status = head[9..12].parse().unwrap();
    (status, head, output[end + 4..].to_vec())
}

/// The value of header `name` in a response head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// `len` bytes of a fixed pattern.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn curl_gets_json_text_and_404() {
    let Some(curl_bin) = peers::require_curl() else {
        return;
    };
    let server = TestServer::start();
    let (status, head, body) =
        split_response(&curl(&curl_bin, &["-i", &server.url("/json")]).stdout);
    assert_eq!(status, 200);
    assert_eq!(header(&head, "content-type"), Some("application/json"));
    let value: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(value, json!({"msg": "ok", "n": 42}));

    let (status, head, body) = split_response(&curl(&curl_bin, &["-i", &server.url("/")]).stdout);
    assert_eq!(status, 200);
    assert!(
        header(&head, "content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(body, b"hello from tulip-http\n");

    let (status, _, _) = split_response(&curl(&curl_bin, &["-i", &server.url("/nope")]).stdout);
    assert_eq!(status, 404);
    // A wrong method on a known path: 405 naming the allowed ones.
    let (status, head, _) =
        split_response(&curl(&curl_bin, &["-i", "-X", "DELETE", &server.url("/json")]).stdout);
    assert_eq!(status, 405);
    assert!(header(&head, "allow").unwrap().contains("GET"), "{head}");
    let stats = server.stop();
    assert_eq!(stats.requests_served, 4);
}

#[test]
fn curl_posts_bodies() {
    let Some(curl_bin) = peers::require_curl() else {
        return;
    };
    let server = TestServer::start();
    let url = server.url("/echo");
    let output = curl(&curl_bin, &["--data-binary", "hello tulip", &url]);
    assert_eq!(output.stdout, b"hello tulip");

    let url = server.url("/json");
    let output = curl(
        &curl_bin,
        &[
            "-H",
            "Content-Type: application/json",
            "--data",
            r#"{"a": [1, 2]}"#,
            &url,
        ],
    );
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value, json!({"got": {"a": [1, 2]}}));

    // Not JSON: the handler's error answers 400.
    let (status, _, _) = split_response(&curl(&curl_bin, &["-i", "--data", "{nope", &url]).stdout);
    assert_eq!(status, 400);
}

/// Two URLs on one curl command line go down one connection: curl says so, and so does the
/// server's count of accepted connections.
#[test]
fn curl_reuses_its_connection() {
    let Some(curl_bin) = peers::require_curl() else {
        return;
    };
    let server = TestServer::start();
    let output = curl(
        &curl_bin,
        &[
            "-v",
            &server.url("/json"),
            &server.url("/"),
            &server.url("/json"),
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Re-using existing connection"), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout.matches(r#""msg":"ok""#).count(), 2, "{stdout}");
    assert!(stdout.contains("hello from tulip-http"));
    let stats = server.stop();
    assert_eq!(stats.connections_accepted, 1, "{stats:?}");
    assert_eq!(stats.requests_served, 3, "{stats:?}");
}

#[test]
fn curl_head_has_the_get_headers_and_no_body() {
    let Some(curl_bin) = peers::require_curl() else {
        return;
    };
    let server = TestServer::start();
    let get = curl(&curl_bin, &[&server.url("/json")]).stdout;
    let output = curl(&curl_bin, &["-I", &server.url("/json")]).stdout;
    let (status, head, body) = split_response(&output);
    assert_eq!(status, 200);
    assert!(body.is_empty());
    assert_eq!(
        header(&head, "content-length"),
        Some(get.len().to_string().as_str())
    );
    assert_eq!(header(&head, "content-type"), Some("application/json"));
}

/// A chunked upload (no Content-Length) arrives whole; over the limit it is refused with 413,
/// chunked or not.
#[test]
fn curl_chunked_upload_and_the_body_limit() {
    let Some(curl_bin) = peers::require_curl() else {
        return;
    };
    let dir = ScratchDir::new("curl-upload");
    let small = dir.path().join("small.bin");
    let large = dir.path().join("large.bin");
    std::fs::write(&small, pattern(UPLOAD)).unwrap();
    std::fs::write(&large, pattern(LIMIT + 1)).unwrap();
    let at = |path: &Path| format!("@{}", path.display());
    let server = TestServer::start();
    let url = server.url("/echo");

    let chunked = [
        "-H",
        "Transfer-Encoding: chunked",
        "-H",
        "Content-Type: application/octet-stream",
    ];
    let mut args = vec!["-v"];
    args.extend(chunked);
    let small_arg = at(&small);
    args.extend(["--data-binary", &small_arg, &url]);
    let output = curl(&curl_bin, &args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("> Transfer-Encoding: chunked"), "{stderr}");
    assert!(
        output.stdout == pattern(UPLOAD),
        "the echoed upload differs"
    );

    let large_arg = at(&large);
    let mut args = vec!["-i"];
    args.extend(chunked);
    args.extend(["--data-binary", &large_arg, &url]);
    let (status, _, _) = split_response(&curl(&curl_bin, &args).stdout);
    assert_eq!(status, 413, "chunked over the limit");

    let output = curl(&curl_bin, &["-i", "--data-binary", &large_arg, &url]);
    let (status, _, _) = split_response(&output.stdout);
    assert_eq!(status, 413, "Content-Length over the limit");

    // The server is fine afterwards.
    let output = curl(&curl_bin, &["--data-binary", &small_arg, &url]);
    assert!(output.stdout == pattern(UPLOAD));
}

/// The script for `http.client`: one connection, several requests; prints a JSON report.
const HTTP_CLIENT_SCRIPT: &str = r#"
import http.client, json, sys
conn = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=30)
report = {}
conn.request("GET", "/json")
r = conn.getresponse()
report["get"] = [r.status, r.getheader("Content-Type"), json.loads(r.read())]
body = bytes(i * 7 % 256 for i in range(50000))
conn.request("POST", "/echo", body=body, headers={"Content-Type": "application/octet-stream"})
r = conn.getresponse()
report["post"] = [r.status, r.read() == body]
conn.request("HEAD", "/json")
r = conn.getresponse()
report["head"] = [r.status, r.getheader("Content-Length"), r.read() == b""]
conn.request("GET", "/missing")
r = conn.getresponse()
r.read()
report["missing"] = r.status
def pieces():
    for i in range(10):
        yield b"%d;" % i
conn.request("POST", "/echo", body=pieces(), encode_chunked=True)
r = conn.getresponse()
report["chunked"] = [r.status, r.read().decode()]
conn.request("POST", "/json", body=json.dumps({"k": "v"}), headers={"Content-Type": "application/json"})
r = conn.getresponse()
report["json"] = [r.status, json.loads(r.read())]
conn.close()
print(json.dumps(report))
"#;

#[test]
fn python_http_client_on_one_connection() {
    let Some(python) = peers::require_python() else {
        return;
    };
    let server = TestServer::start();
    let output = Command::new(python)
        .args(["-c", HTTP_CLIENT_SCRIPT])
        .arg(server.addr.ip().to_string())
        .arg(server.addr.port().to_string())
        .output()
        .expect("running python");
    assert!(
        output.status.success(),
        "http.client script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["get"],
        json!([200, "application/json", {"msg": "ok", "n": 42}])
    );
    assert_eq!(report["post"], json!([200, true]));
    let length = serde_json::to_vec(&json!({"msg": "ok", "n": 42}))
        .unwrap()
        .len();
    assert_eq!(report["head"], json!([200, length.to_string(), true]));
    assert_eq!(report["missing"], 404);
    assert_eq!(report["chunked"], json!([200, "0;1;2;3;4;5;6;7;8;9;"]));
    assert_eq!(report["json"], json!([200, {"got": {"k": "v"}}]));
    let stats = server.stop();
    assert_eq!(stats.connections_accepted, 1, "{stats:?}");
    assert_eq!(stats.requests_served, 6, "{stats:?}");
}

/// `http.client` sends a body over the limit with its Content-Length: 413, which it can read.
#[test]
fn python_http_client_gets_413_over_the_limit() {
    let Some(python) = peers::require_python() else {
        return;
    };
    let server = TestServer::start();
    let script = r#"
import http.client, sys
conn = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=30)
conn.request("POST", "/echo", body=b"z" * int(sys.argv[3]))
r = conn.getresponse()
r.read()
print(r.status)
"#;
    let output = Command::new(python)
        .args(["-c", script])
        .arg(server.addr.ip().to_string())
        .arg(server.addr.port().to_string())
        .arg((LIMIT + 1).to_string())
        .output()
        .expect("running python");
    assert!(
        output.status.success(),
        "http.client script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "413");
}
