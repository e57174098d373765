//! Following redirects, as aiohttp's `ClientSession._request` does: which statuses are
//! followed, how the method and body change, which headers do not cross to another host; and
//! [`Redirect`], one hop of a response's history.

use http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, COOKIE};
use http::{HeaderMap, Method, StatusCode};
use url::Url;

use crate::{Error, ErrorKind, Result};

/// One redirect followed on the way to a [`Response`](crate::Response): aiohttp's entries of
/// `resp.history`, without their bodies (read and discarded so their connections could be
/// reused).
///
/// # Examples
///
/// ```
/// fn hops(response: &tulip_http::Response) -> Vec<String> {
///     response
///         .history()
///         .iter()
///         .map(|hop| format!("{} {}", hop.status().as_u16(), hop.url()))
///         .collect()
/// }
/// # let _ = hops;
/// ```
#[derive(Clone, Debug)]
pub struct Redirect {
    status: StatusCode,
    url: Url,
    headers: HeaderMap,
}

impl Redirect {
    pub(crate) fn new(status: StatusCode, url: Url, headers: HeaderMap) -> Redirect {
        Redirect {
            status,
            url,
            headers,
        }
    }

    /// The redirect's status (301, 302, 303, 307 or 308).
    ///
    /// # Examples
    ///
    /// ```
    /// fn permanent(hop: &tulip_http::client::Redirect) -> bool {
    ///     matches!(hop.status().as_u16(), 301 | 308)
    /// }
    /// # let _ = permanent;
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The URL that answered with the redirect.
    ///
    /// # Examples
    ///
    /// ```
    /// fn first_url(response: &tulip_http::Response) -> &url::Url {
    ///     response.history().first().map_or(response.url(), |hop| hop.url())
    /// }
    /// # let _ = first_url;
    /// ```
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The redirect response's headers (its `Location` among them).
    ///
    /// # Examples
    ///
    /// ```
    /// fn location(hop: &tulip_http::client::Redirect) -> Option<&http::HeaderValue> {
    ///     hop.headers().get(http::header::LOCATION)
    /// }
    /// # let _ = location;
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }
}

/// Whether `status` is a redirect the client follows.
pub(crate) fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Where the redirect from `from` with `headers` points: its `Location` resolved against
/// `from`.
///
/// # Errors
///
/// [`ErrorKind::InvalidRedirect`] when there is no `Location`, it does not parse, or it names
/// a scheme other than http and https (`file:`, `javascript:`, ...).
pub(crate) fn target(from: &Url, headers: &HeaderMap) -> Result<Url> {
    let invalid = |why: String| Error::with_source(ErrorKind::InvalidRedirect, from.as_str(), why);
    let location = headers
        .get(http::header::LOCATION)
        .ok_or_else(|| invalid("the redirect has no Location header".into()))?;
    let location = std::str::from_utf8(location.as_bytes())
        .map_err(|_| invalid("the Location header is not UTF-8".into()))?;
    let next = from
        .join(location)
        .map_err(|e| invalid(format!("the Location `{location}` is not a URL: {e}")))?;
    if !matches!(next.scheme(), "http" | "https") || next.host_str().is_none() {
        return Err(invalid(format!(
            "the Location `{next}` is not an http(s) URL with a host"
        )));
    }
    Ok(next)
}

/// The method for the request after a `status` redirect: 301, 302 and 303 turn everything
/// but `HEAD` into a bodiless `GET` (what browsers and aiohttp do); 307 and 308 keep the
/// method and body. Returns whether the body is kept.
pub(crate) fn next_method(status: StatusCode, method: &Method) -> (Method, bool) {
    match status.as_u16() {
        307 | 308 => (method.clone(), true),
        _ if method == Method::HEAD => (Method::HEAD, false),
        _ => (Method::GET, false),
    }
}

/// Removes what describes a body that is no longer sent.
pub(crate) fn drop_body_headers(headers: &mut HeaderMap) {
    headers.remove(CONTENT_TYPE);
    headers.remove(CONTENT_LENGTH);
    headers.remove(CONTENT_ENCODING);
}

/// Removes the credentials the user set for `from` when the redirect leaves for another
/// server: another host, or another port (except http on 80 upgrading to https on 443).
pub(crate) fn strip_credentials(from: &Url, to: &Url, headers: &mut HeaderMap) {
    let same_host = from.host_str() == to.host_str();
    let same_port = from.port_or_known_default() == to.port_or_known_default();
    let upgrade = from.scheme() == "http"
        && to.scheme() == "https"
        && from.port_or_known_default() == Some(80)
        && to.port_or_known_default() == Some(443);
    if !(same_host && (same_port || upgrade)) {
        headers.remove(AUTHORIZATION);
        headers.remove(COOKIE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn methods_follow_the_status() {
        let post = Method::POST;
        assert_eq!(next_method(StatusCode::FOUND, &post), (Method::GET, false));
        assert_eq!(
            next_method(StatusCode::SEE_OTHER, &post),
            (Method::GET, false)
        );
        assert_eq!(
            next_method(StatusCode::MOVED_PERMANENTLY, &Method::HEAD),
            (Method::HEAD, false)
        );
        assert_eq!(
            next_method(StatusCode::TEMPORARY_REDIRECT, &post),
            (Method::POST, true)
        );
        assert_eq!(
            next_method(StatusCode::PERMANENT_REDIRECT, &Method::PUT),
            (Method::PUT, true)
        );
    }

    #[test]
    fn locations_resolve_and_bad_ones_are_refused() {
        let from = url("http://a.test/x/y?q=1");
        let mut h = HeaderMap::new();
        h.insert("location", "../z".parse().unwrap());
        assert_eq!(target(&from, &h).unwrap().as_str(), "http://a.test/z");
        h.insert("location", "//b.test/p".parse().unwrap());
        assert_eq!(target(&from, &h).unwrap().as_str(), "http://b.test/p");
        h.insert("location", "ftp://b.test/".parse().unwrap());
        let err = target(&from, &h).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidRedirect);
        assert_eq!(err.url(), from.as_str());
        h.insert("location", "javascript:alert(1)".parse().unwrap());
        assert_eq!(
            target(&from, &h).unwrap_err().kind(),
            &ErrorKind::InvalidRedirect
        );
        assert_eq!(
            target(&from, &HeaderMap::new()).unwrap_err().kind(),
            &ErrorKind::InvalidRedirect
        );
    }

    #[test]
    fn credentials_stay_on_their_server() {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, "Bearer x".parse().unwrap());
        h.insert(COOKIE, "a=b".parse().unwrap());
        strip_credentials(&url("http://a.test/"), &url("https://a.test/"), &mut h);
        assert_eq!(h.len(), 2, "an upgrade to https keeps them");
        strip_credentials(&url("http://a.test/"), &url("http://a.test/other"), &mut h);
        assert_eq!(h.len(), 2);
        strip_credentials(&url("http://a.test/"), &url("http://a.test:8080/"), &mut h);
        assert!(h.is_empty(), "another port is another server");
        h.insert(AUTHORIZATION, "Bearer x".parse().unwrap());
        strip_credentials(&url("http://a.test/"), &url("http://b.test/"), &mut h);
        assert!(h.is_empty());
    }
}
