//! Header maps passed on from requests to responses, so that a request and its answer
//! allocate none.
//!
//! A `HeaderMap` that holds anything owns two allocations (its index table and its entries).
//! Otherwise every request's map would be freed when the handler drops the
//! [`Request`](super::Request), and every response would allocate a new one for its
//! `Content-Type`. So a request hands its map, emptied, to a small list of this thread's, a
//! response takes its map from there, and once the response is written its map goes back to
//! the list for the next request's head (HTTP/1.1, `h1`; on HTTP/2 hyper keeps it): in a
//! steady keep-alive exchange one set of maps goes round, with no allocation.
//!
//! The list is bounded ([`SPARE_MAX`] maps per thread, each no larger than
//! [`CAPACITY_MAX`] entries), so a burst of requests with many headers leaves little behind.

use std::cell::RefCell;

use http::HeaderMap;

/// The most maps kept per thread.
const SPARE_MAX: usize = 64;

/// Maps with room for more entries than this are freed rather than kept.
const CAPACITY_MAX: usize = 64;

thread_local! {
    static SPARE: RefCell<Vec<HeaderMap>> = const { RefCell::new(Vec::new()) };
}

/// Keeps `headers`, emptied, for a later [`take`] on this thread (unless the list is full,
/// the map is too large or has no room at all).
pub(crate) fn give(mut headers: HeaderMap) {
    let room = headers.capacity();
    if room == 0 || room > CAPACITY_MAX {
        return;
    }
    headers.clear();
    // `try_with`: a request dropped while the thread's locals are torn down frees its map.
    let _ = SPARE.try_with(|spare| {
        if let Ok(mut spare) = spare.try_borrow_mut()
            && spare.len() < SPARE_MAX
        {
            spare.push(headers);
        }
    });
}

/// An empty map: one given back on this thread if there is one (so it has room and
/// inserting allocates nothing), else a new one, which allocates nothing until used.
#[inline]
pub(crate) fn take() -> HeaderMap {
    SPARE
        .try_with(|spare| spare.try_borrow_mut().ok()?.pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{CONTENT_TYPE, HOST, HeaderValue};

    #[test]
    fn a_given_map_comes_back_empty_with_its_room() {
        while take().capacity() > 0 {} // whatever other tests on this thread left
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_static("example.com"));
        let room = headers.capacity();
        give(headers);
        let again = take();
        assert!(again.is_empty());
        assert_eq!(again.capacity(), room);
        // Only one was given.
        assert_eq!(take().capacity(), 0);
    }

    #[test]
    fn maps_without_room_or_with_too_much_are_not_kept() {
        while take().capacity() > 0 {}
        give(HeaderMap::new());
        give(HeaderMap::with_capacity(CAPACITY_MAX * 4));
        assert_eq!(take().capacity(), 0);
    }

    #[test]
    fn the_list_is_bounded() {
        while take().capacity() > 0 {}
        for _ in 0..SPARE_MAX + 10 {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            give(headers);
        }
        let mut kept = 0;
        while take().capacity() > 0 {
            kept += 1;
        }
        assert_eq!(kept, SPARE_MAX);
    }
}
