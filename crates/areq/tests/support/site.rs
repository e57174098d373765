//! A scripted site for politeness tests: fixed answers per path, served in process with
//! tulip-http's server, and a log of when each request started and ended (on the loop's clock,
//! so exact on the test clock).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use tulip::time::Instant;
use tulip_http::StatusCode;
use tulip_http::server::{Request, Response, Router, Server, ServerHandle};
use url::Url;

/// One path's answer.
#[derive(Clone)]
pub enum Reply {
    /// 200, text/html.
    Html(String),
    /// 200, text/html, after a wait.
    SlowHtml(String, Duration),
    /// 200, text/plain.
    Text(String),
    /// 200 with this Content-Type and these bytes.
    Bytes(&'static str, Vec<u8>),
    /// 301 to this location.
    Redirect(String),
}

/// One request the site answered.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Path and query.
    pub path: String,
    /// When it arrived and when its answer was ready, from the site's start.
    pub start: Duration,
    pub end: Duration,
}

pub struct Site {
    pub base: Url,
    handle: ServerHandle,
    hits: Rc<RefCell<Vec<Hit>>>,
    /// Requests being answered now, and the most at once.
    busy: Rc<RefCell<(usize, usize)>>,
}

impl Site {
    /// Serves `routes` (path with query → answer; anything else 404) on 127.0.0.1.
    pub async fn serve(routes: Vec<(&str, Reply)>) -> Site {
        let routes: Rc<HashMap<String, Reply>> =
            Rc::new(routes.into_iter().map(|(p, r)| (p.to_owned(), r)).collect());
        let server = Server::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!("http://{}/", server.local_addr())).unwrap();
        let hits = Rc::new(RefCell::new(Vec::new()));
        let busy = Rc::new(RefCell::new((0, 0)));
        let started = Instant::now();
        let handler = {
            let (hits, busy) = (hits.clone(), busy.clone());
            move |request: Request| {
                let (routes, hits, busy) = (routes.clone(), hits.clone(), busy.clone());
                async move {
                    let path = match request.uri().query() {
                        Some(q) => format!("{}?{q}", request.path()),
                        None => request.path().to_owned(),
                    };
                    let start = started.elapsed();
                    {
                        let mut b = busy.borrow_mut();
                        b.0 += 1;
                        b.1 = b.1.max(b.0);
                    }
                    let response = match routes.get(&path).cloned() {
                        Some(Reply::Html(html)) => Response::html(html),
                        Some(Reply::SlowHtml(html, wait)) => {
                            tulip::time::sleep(wait).await;
                            Response::html(html)
                        }
                        Some(Reply::Text(text)) => Response::text(text),
                        Some(Reply::Bytes(content_type, body)) => {
                            Response::bytes(body).with_header("content-type", content_type)
                        }
                        Some(Reply::Redirect(to)) => {
                            Response::redirect(StatusCode::MOVED_PERMANENTLY, &to)
                        }
                        None => Response::not_found(),
                    };
                    busy.borrow_mut().0 -= 1;
                    hits.borrow_mut().push(Hit {
                        path,
                        start,
                        end: started.elapsed(),
                    });
                    response
                }
            }
        };
        let handle = server.serve(Router::new().fallback(handler));
        Site {
            base,
            handle,
            hits,
            busy,
        }
    }

    /// `base` joined with `path`.
    pub fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap()
    }

    /// The requests answered so far, in the order they arrived.
    pub fn hits(&self) -> Vec<Hit> {
        let mut hits = self.hits.borrow().clone();
        hits.sort_by_key(|h| h.start);
        hits
    }

    /// The most requests it was answering at once.
    pub fn most_at_once(&self) -> usize {
        self.busy.borrow().1
    }

    pub async fn shutdown(self) {
        self.handle.shutdown().await;
    }
}
