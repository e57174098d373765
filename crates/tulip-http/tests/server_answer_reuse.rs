//! The server reuses, on a kept-alive connection, the box of a handler's answer for the next
//! request to the same handler, and passes each request's header map on to a response.
//! What must hold whatever is reused: every request gets its own handler's answer (routes
//! alternating, parameters, bodies, a panic in between), and a handler's future — with the
//! request it holds — is dropped as soon as its answer is ready, not kept in the reused box.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;

use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use tulip::net::TcpStream;
use tulip_http::Bytes;
use tulip_http::rt::TulipIo;
use tulip_http::server::{Request, Router, Server, ServerHandle};

/// Counts the values alive; each handler's future holds one until it is dropped.
struct Live(Rc<Cell<usize>>);

impl Live {
    fn new(count: &Rc<Cell<usize>>) -> Live {
        count.set(count.get() + 1);
        Live(count.clone())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

fn router(live: Rc<Cell<usize>>) -> Router {
    let in_echo = live.clone();
    Router::new()
        .get("/", |_req| async { "hello" })
        .get("/n/{n}", move |req: Request| {
            let guard = Live::new(&live);
            async move {
                let _guard = guard;
                let n = req.param("n").unwrap().to_owned();
                format!("n={n} host={}", req.header("host").unwrap_or(""))
            }
        })
        .post("/echo", move |req: Request| {
            let guard = Live::new(&in_echo);
            async move {
                let _guard = guard;
                req.body().await
            }
        })
        .get("/panic", |_req| async {
            if true {
                panic!("a handler that fails");
            }
            "never"
        })
}

async fn connect(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http1::handshake(TulipIo::new(stream))
        .await
        .unwrap();
    tulip::spawn(connection).detach();
    sender
}

async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    method: &str,
    path: &str,
    body: &'static str,
) -> (u16, String) {
    sender.ready().await.unwrap();
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", format!("host-{path}"))
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn serve(live: &Rc<Cell<usize>>) -> ServerHandle {
    Server::bind("127.0.0.1:0")
        .await
        .unwrap()
        .serve(router(live.clone()))
}

#[tulip::test]
async fn each_request_gets_its_own_handlers_answer_on_one_connection() {
    let live = Rc::new(Cell::new(0));
    let server = serve(&live).await;
    let mut sender = connect(server.local_addr()).await;
    // The same handler twice running (its box reused), then others in turn, then back.
    let exchanges = [
        ("GET", "/n/1", "", 200, "n=1 host=host-/n/1"),
        ("GET", "/n/2", "", 200, "n=2 host=host-/n/2"),
        ("GET", "/", "", 200, "hello"),
        ("POST", "/echo", "first body", 200, "first body"),
        ("POST", "/echo", "second", 200, "second"),
        ("GET", "/n/3", "", 200, "n=3 host=host-/n/3"),
        ("GET", "/missing", "", 404, "404 Not Found"),
        ("GET", "/n/4", "", 200, "n=4 host=host-/n/4"),
        ("GET", "/", "", 200, "hello"),
    ];
    for (method, path, body, status, expected) in exchanges {
        let answer = send(&mut sender, method, path, body).await;
        assert_eq!(answer, (status, expected.to_owned()), "{method} {path}");
    }
    let stats = server.stats();
    assert_eq!(stats.connections_accepted, 1);
    assert_eq!(stats.requests_served, exchanges.len() as u64);
    server.shutdown().await;
}

#[tulip::test]
async fn a_handlers_future_is_dropped_once_its_answer_is_ready() {
    let live = Rc::new(Cell::new(0));
    let server = serve(&live).await;
    let mut sender = connect(server.local_addr()).await;
    for n in 0..3 {
        let path = format!("/n/{n}");
        let (status, _) = send(&mut sender, "GET", &path, "").await;
        assert_eq!(status, 200);
        // The connection is still open, its answer box kept for the next request: the
        // future (with its guard and its request) must not be in it.
        assert_eq!(live.get(), 0, "after request {n}");
    }
    let (status, body) = send(&mut sender, "POST", "/echo", "abc").await;
    assert_eq!((status, body.as_str()), (200, "abc"));
    assert_eq!(live.get(), 0);
    server.shutdown().await;
}

#[tulip::test]
async fn a_panic_between_reused_answers_leaves_the_next_one_whole() {
    let live = Rc::new(Cell::new(0));
    let server = serve(&live).await;
    let mut sender = connect(server.local_addr()).await;
    assert_eq!(send(&mut sender, "GET", "/panic", "").await.0, 500);
    assert_eq!(send(&mut sender, "GET", "/panic", "").await.0, 500);
    assert_eq!(
        send(&mut sender, "GET", "/n/7", "").await,
        (200, "n=7 host=host-/n/7".to_owned())
    );
    assert_eq!(send(&mut sender, "GET", "/panic", "").await.0, 500);
    assert_eq!(
        send(&mut sender, "GET", "/", "").await,
        (200, "hello".to_owned())
    );
    assert_eq!(server.stats().connections_accepted, 1);
    assert_eq!(live.get(), 0);
    server.shutdown().await;
}
