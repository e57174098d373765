//! Loop-level signal handlers: asyncio's `loop.add_signal_handler` / `remove_signal_handler`,
//! behind [`Handle::add_signal_handler`](crate::runtime::Handle::add_signal_handler).
//!
//! A handler is a small task on its loop, named `signal handler SIGxxx`, that waits on a
//! listener and calls the callback each time the signal arrives. Being a task ties its life to
//! the loop: closing the loop cancels it, which removes the handler. The listener itself is
//! registered at once, on the caller's thread, so a signal that arrives right after
//! `add_signal_handler` returns is already the handler's, never the default action's.

use std::future::poll_fn;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use super::registry::{self, Listener};
use super::{SignalError, SignalKind, driver};
use crate::runtime::{ExceptionContext, Handle, context};
use crate::task::Builder;

/// The installed handlers: (loop id, signal number, entry). Few, so a vector.
static HANDLERS: Mutex<Vec<(u32, i32, Arc<Entry>)>> = Mutex::new(Vec::new());

fn handlers() -> MutexGuard<'static, Vec<(u32, i32, Arc<Entry>)>> {
    HANDLERS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One handler's listener, shared by the table (to remove it) and its task (to wait on it).
#[derive(Debug)]
struct Entry {
    listener: Mutex<Option<Listener>>,
}

impl Entry {
    /// `true` for each arrival of the signal, `false` once the handler was removed.
    fn poll(&self, cx: &mut Context<'_>) -> Poll<bool> {
        let mut listener = self.listener.lock().unwrap_or_else(PoisonError::into_inner);
        match listener.as_mut() {
            Some(listener) => listener.poll_recv(cx).map(|()| true),
            None => Poll::Ready(false),
        }
    }

    /// Stops listening and wakes the task so it ends.
    fn close(&self) {
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(listener) = listener {
            listener.close();
        }
    }
}

pub(crate) fn add(
    handle: &Handle,
    kind: SignalKind,
    callback: Box<dyn Fn() + Send + 'static>,
) -> Result<(), SignalError> {
    if handle.is_closed() {
        registry::validate(kind)?;
        return Err(SignalError::no_loop(kind, "the loop is closed"));
    }
    let listener = Listener::new(kind, false)?;
    let signum = listener.signum();
    let loop_id = handle.shared.id;
    let entry = Arc::new(Entry {
        listener: Mutex::new(Some(listener)),
    });
    let replaced = {
        let mut table = handlers();
        let existing = table
            .iter_mut()
            .find(|(id, sig, _)| *id == loop_id && *sig == signum);
        match existing {
            Some((_, _, old)) => Some(std::mem::replace(old, entry.clone())),
            None => {
                table.push((loop_id, signum, entry.clone()));
                None
            }
        }
    };
    if let Some(old) = replaced {
        old.close();
    }
    let handle_for_task = handle.clone();
    let start = move || {
        Builder::new()
            .name(format!("signal handler {kind}"))
            .spawn(run_handler(handle_for_task, kind, signum, entry, callback))
            .detach();
    };
    if context::is_on_loop(&handle.shared) {
        start();
    } else {
        handle.call_soon(start);
    }
    Ok(())
}

pub(crate) fn remove(handle: &Handle, kind: SignalKind) -> bool {
    let Ok(signum) = registry::validate(kind) else {
        return false;
    };
    let loop_id = handle.shared.id;
    let removed = {
        let mut table = handlers();
        let position = table
            .iter()
            .position(|(id, sig, _)| *id == loop_id && *sig == signum);
        position.map(|i| table.swap_remove(i).2)
    };
    match removed {
        Some(entry) => {
            entry.close();
            true
        }
        None => false,
    }
}

/// The handler's task: calls `callback` on every arrival until the handler is removed or the
/// loop closes.
async fn run_handler(
    handle: Handle,
    kind: SignalKind,
    signum: i32,
    entry: Arc<Entry>,
    callback: Box<dyn Fn() + Send + 'static>,
) {
    let _unlink = Unlink {
        loop_id: handle.shared.id,
        signum,
        entry: entry.clone(),
    };
    let _driver = match driver::current() {
        Some(Ok(driver)) => driver,
        Some(Err(err)) => {
            crate::log::error(&format!(
                "the signal handler for {kind} cannot listen on this loop: {err}"
            ));
            return;
        }
        None => return,
    };
    while poll_fn(|cx| entry.poll(cx)).await {
        // Like a callback scheduled with call_soon: a panic is reported, the handler stays.
        if let Err(payload) = catch_unwind(AssertUnwindSafe(&callback)) {
            let message = crate::task::error::panic_payload_message(&*payload).map(str::to_owned);
            handle.shared.report(&ExceptionContext {
                message: format!("Exception in signal handler for {kind}"),
                task_id: None,
                task_name: None,
                spawned_at: None,
                panic_message: message,
            });
        }
    }
}

/// Takes a handler out of the table when its task ends (removed, replaced, or cancelled by the
/// loop closing), unless another handler replaced it there already.
struct Unlink {
    loop_id: u32,
    signum: i32,
    entry: Arc<Entry>,
}

impl Drop for Unlink {
    fn drop(&mut self) {
        {
            let mut table = handlers();
            table.retain(|(id, sig, entry)| {
                !(*id == self.loop_id && *sig == self.signum && Arc::ptr_eq(entry, &self.entry))
            });
        }
        self.entry.close();
    }
}
