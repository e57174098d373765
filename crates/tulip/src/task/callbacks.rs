//! Done callbacks (asyncio's `add_done_callback`), kept per thread: a loop and its tasks live
//! on one thread, and keeping them here (not in the loop) lets a callback be added while the
//! loop is not running, as asyncio allows.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;

use super::Id;
use super::raw::TaskMeta;

pub(crate) type DoneCallback = Box<dyn FnOnce(&dyn Any)>;

thread_local! {
    static CALLBACKS: RefCell<HashMap<Id, Vec<DoneCallback>>> = RefCell::new(HashMap::new());
}

pub(crate) fn add(id: Id, callback: DoneCallback) {
    CALLBACKS.with(|all| all.borrow_mut().entry(id).or_default().push(callback));
}

/// Runs the task's callbacks with its outcome; a panicking one is reported, not propagated.
pub(crate) fn run(meta: &TaskMeta, outcome: &dyn Any) {
    let callbacks = CALLBACKS
        .try_with(|all| all.borrow_mut().remove(&meta.id))
        .ok()
        .flatten()
        .unwrap_or_default();
    for callback in callbacks {
        let called = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback(outcome)));
        if let Err(payload) = called {
            let message = super::error::panic_payload_message(&*payload);
            let context = meta.exception_context("Exception in a task's done callback", message);
            meta.shared.report(&context);
        }
    }
}
