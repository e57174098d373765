//! The futures behind `put`, `get` and `join`. Each holds the key of its node in a wait list
//! while it waits; its `Drop` is where cancellation safety lives.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::error::{QueueShutDown, TryGetError};
use super::state::{Getter, Putter};
use super::{Order, Shared};
use crate::sync::waiters::{self, store_waker};

pub(super) struct Get<'a, T, O: Order<T>> {
    pub(super) shared: &'a Shared<T, O>,
    pub(super) key: Option<usize>,
}

impl<T, O: Order<T>> Future for Get<'_, T, O> {
    type Output = Result<T, QueueShutDown>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.shared.lock();
        if let Some(key) = self.key {
            if state.getters.is_linked(key) {
                let replaced = store_waker(&mut state.getters.get_mut(key).waker, cx.waker());
                drop(state);
                drop(replaced);
                return Poll::Pending;
            }
            self.key = None;
            let Getter { waker, item } = state.getters.remove(key);
            if let Some(item) = item {
                state.handed -= 1;
                let granted = state.grant();
                drop(state);
                drop(waker);
                waiters::wake(granted);
                return Poll::Ready(Ok(item));
            }
            // Woken by `shutdown`: take what is left, or fail like any late getter.
        }
        match state.try_get() {
            Ok((item, granted)) => {
                drop(state);
                waiters::wake(granted);
                Poll::Ready(Ok(item))
            }
            Err(TryGetError::ShutDown) => Poll::Ready(Err(QueueShutDown(()))),
            Err(TryGetError::Empty) => {
                self.key = Some(state.getters.push_back(Getter {
                    waker: Some(cx.waker().clone()),
                    item: None,
                }));
                Poll::Pending
            }
        }
    }
}

impl<T, O: Order<T>> Drop for Get<'_, T, O> {
    #[inline]
    fn drop(&mut self) {
        // Almost every `get` completes: keep that path free of the cancellation code.
        if let Some(key) = self.key {
            self.cancel(key);
        }
    }
}

impl<T, O: Order<T>> Get<'_, T, O> {
    #[cold]
    fn cancel(&mut self, key: usize) {
        let mut state = self.shared.lock();
        let getter = state.getters.remove(key);
        // Handed an item but dropped before collecting it: the item must not be lost.
        let woken = getter.item.and_then(|item| state.return_handed(item));
        drop(state);
        drop(getter.waker);
        waiters::wake(woken);
    }
}

pub(super) struct Put<'a, T, O: Order<T>> {
    pub(super) shared: &'a Shared<T, O>,
    pub(super) item: Option<T>,
    pub(super) key: Option<usize>,
}

// Nothing is ever pinned through `Put`: the item is moved out by value.
impl<T, O: Order<T>> Unpin for Put<'_, T, O> {}

impl<T, O: Order<T>> Future for Put<'_, T, O> {
    type Output = Result<(), QueueShutDown<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut state = this.shared.lock();
        let mut granted = false;
        if let Some(key) = this.key {
            if state.putters.is_linked(key) {
                let replaced = store_waker(&mut state.putters.get_mut(key).waker, cx.waker());
                drop(state);
                drop(replaced);
                return Poll::Pending;
            }
            this.key = None;
            let putter: Putter = state.putters.remove(key);
            if putter.granted {
                state.reserved -= 1;
                granted = true;
            }
        }
        let item = this.item.take().expect("Put polled after it completed");
        if state.shutdown {
            return Poll::Ready(Err(QueueShutDown(item)));
        }
        // A granted putter fills its reserved slot; a new one needs room and an empty line.
        if granted || !state.is_full() {
            let woken = state.insert(item);
            drop(state);
            waiters::wake(woken);
            return Poll::Ready(Ok(()));
        }
        this.item = Some(item);
        this.key = Some(state.putters.push_back(Putter {
            waker: Some(cx.waker().clone()),
            granted: false,
        }));
        Poll::Pending
    }
}

impl<T, O: Order<T>> Drop for Put<'_, T, O> {
    #[inline]
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.cancel(key);
        }
    }
}

impl<T, O: Order<T>> Put<'_, T, O> {
    #[cold]
    fn cancel(&mut self, key: usize) {
        let mut state = self.shared.lock();
        let putter = state.putters.remove(key);
        // Granted a slot but dropped before filling it: the next putter gets the slot.
        let woken = if putter.granted {
            state.reserved -= 1;
            state.grant()
        } else {
            None
        };
        drop(state);
        drop(putter.waker);
        waiters::wake(woken);
    }
}

pub(super) struct Join<'a, T, O: Order<T>> {
    pub(super) shared: &'a Shared<T, O>,
    pub(super) key: Option<usize>,
}

impl<T, O: Order<T>> Future for Join<'_, T, O> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.shared.lock();
        let replaced: Option<Waker> = match self.key {
            None if state.unfinished == 0 => return Poll::Ready(()),
            None => {
                self.key = Some(state.joiners.push_back(Some(cx.waker().clone())));
                return Poll::Pending;
            }
            // Served: the count reached zero after this joiner started waiting, even if new
            // items have come in since (asyncio's `join` waits on an `Event` the same way).
            Some(key) if !state.joiners.is_linked(key) || state.unfinished == 0 => {
                self.key = None;
                let waker = state.joiners.remove(key);
                drop(state);
                drop(waker);
                return Poll::Ready(());
            }
            Some(key) => store_waker(state.joiners.get_mut(key), cx.waker()),
        };
        drop(state);
        drop(replaced);
        Poll::Pending
    }
}

impl<T, O: Order<T>> Drop for Join<'_, T, O> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut state = self.shared.lock();
        let waker = state.joiners.remove(key);
        drop(state);
        drop(waker);
    }
}
