//! asyncio's `Event`: a flag that tasks can wait to see set.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::waiters::{WaitList, store_waker};

/// A flag tasks wait on (asyncio's `Event`): [`wait`](Event::wait) returns once
/// [`set`](Event::set) has been called; [`clear`](Event::clear) makes later waits wait again.
/// Every waiting task wakes on `set`, and one woken still returns if the flag is cleared
/// before it runs.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use tulip::sync::Event;
///
/// tulip::run(async {
///     let ready = Rc::new(Event::new());
///     let waiter = tulip::spawn({
///         let ready = ready.clone();
///         async move {
///             ready.wait().await;
///             "saw it"
///         }
///     });
///     tulip::task::yield_now().await;
///     assert!(!waiter.is_finished());
///     ready.set();
///     assert_eq!(waiter.await.unwrap(), "saw it");
/// });
/// ```
pub struct Event {
    state: Mutex<State>,
}

struct State {
    set: bool,
    /// A waiter served (unlinked) has seen the flag set.
    waiters: WaitList<Option<Waker>>,
}

impl Event {
    /// A new event, not set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!tulip::sync::Event::new().is_set());
    /// ```
    pub const fn new() -> Event {
        Event {
            state: Mutex::new(State {
                set: false,
                waiters: WaitList::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the flag and wakes every task waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = tulip::sync::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn set(&self) {
        let mut state = self.lock();
        state.set = true;
        let mut wake = Vec::with_capacity(state.waiters.len());
        while let Some(waiter) = state.waiters.pop_front() {
            wake.extend(waiter.take());
        }
        drop(state);
        wake.into_iter().for_each(Waker::wake);
    }

    /// Clears the flag: later [`wait`](Event::wait) calls wait for the next `set`.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = tulip::sync::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        self.lock().set = false;
    }

    /// Whether the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = tulip::sync::Event::new();
    /// assert!(!event.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.lock().set
    }

    /// Waits until the flag is set; returns at once if it already is.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it changes nothing in the event.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let event = tulip::sync::Event::new();
    ///     event.set();
    ///     event.wait().await;
    /// });
    /// ```
    pub async fn wait(&self) {
        Wait {
            event: self,
            key: None,
        }
        .await
    }
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Event")
            .field("set", &state.set)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

struct Wait<'a> {
    event: &'a Event,
    key: Option<usize>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.event.lock();
        let replaced = match self.key {
            None if state.set => return Poll::Ready(()),
            None => {
                self.key = Some(state.waiters.push_back(Some(cx.waker().clone())));
                return Poll::Pending;
            }
            Some(key) if !state.waiters.is_linked(key) => {
                self.key = None;
                let waker = state.waiters.remove(key);
                drop(state);
                drop(waker);
                return Poll::Ready(());
            }
            Some(key) => store_waker(state.waiters.get_mut(key), cx.waker()),
        };
        drop(state);
        drop(replaced);
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut state = self.event.lock();
        let waker = state.waiters.remove(key);
        drop(state);
        drop(waker);
    }
}
