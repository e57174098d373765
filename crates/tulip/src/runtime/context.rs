//! Which loop, if any, runs on this thread: a scoped thread-local set while the loop turns.

use std::sync::Arc;

use super::core::Core;
use super::shared::Shared;
use crate::task::raw::{Runnable, TaskMeta};

scoped_tls::scoped_thread_local!(static CORE: Core);

/// Runs `f` with `core` as this thread's loop.
pub(crate) fn enter<R>(core: &Core, f: impl FnOnce() -> R) -> R {
    CORE.set(core, f)
}

pub(crate) fn is_set() -> bool {
    CORE.is_set()
}

/// Runs `f` on this thread's loop.
///
/// # Panics
///
/// Outside a tulip runtime, with a message saying so.
#[track_caller]
pub(crate) fn with_core<R>(f: impl FnOnce(&Core) -> R) -> R {
    if !CORE.is_set() {
        panic!(
            "this must be called from inside a tulip runtime (tulip::run, Runtime::block_on or a task)"
        );
    }
    CORE.with(f)
}

pub(crate) fn try_with_core<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    if CORE.is_set() {
        Some(CORE.with(f))
    } else {
        None
    }
}

/// This thread's loop, if it is the loop behind `shared`.
pub(crate) fn with_loop_of<R>(shared: &Arc<Shared>, f: impl FnOnce(&Core) -> R) -> Option<R> {
    if !CORE.is_set() {
        return None;
    }
    CORE.with(|core| Arc::ptr_eq(&core.shared, shared).then(|| f(core)))
}

/// This thread's loop, if it is the loop with this id.
pub(crate) fn with_loop_id<R>(loop_id: u32, f: impl FnOnce(&Core) -> R) -> Option<R> {
    if !CORE.is_set() {
        return None;
    }
    CORE.with(|core| (core.shared.id == loop_id).then(|| f(core)))
}

/// This thread runs the loop behind `shared`.
pub(crate) fn is_on_loop(shared: &Arc<Shared>) -> bool {
    with_loop_of(shared, |_| ()).is_some()
}

/// Pushes a woken task onto its loop's ready queue if this thread runs that loop; otherwise
/// hands it back.
pub(crate) fn push_if_on_loop(runnable: Runnable) -> Option<Runnable> {
    if !CORE.is_set() {
        return Some(runnable);
    }
    CORE.with(|core| {
        if Arc::ptr_eq(&core.shared, &runnable.metadata().shared) {
            core.push_ready(runnable);
            None
        } else {
            Some(runnable)
        }
    })
}

pub(crate) fn unregister_task(meta: &TaskMeta) {
    let _ = with_loop_of(&meta.shared, |core| core.unregister(meta));
}
