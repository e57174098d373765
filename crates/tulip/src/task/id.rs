use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// A task's identity, unique among all tasks of the process for its whole run.
///
/// Displayed as `Task-N`, the name asyncio gives tasks that were not named.
///
/// # Examples
///
/// ```
/// tulip::run(async {
///     let a = tulip::spawn(async {});
///     let b = tulip::spawn(async {});
///     assert_ne!(a.id(), b.id());
///     assert!(a.id().to_string().starts_with("Task-"));
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    pub(crate) fn next() -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        // Wrapping would take centuries at a billion spawns per second.
        Id(NonZeroU64::new(n).unwrap_or(NonZeroU64::MIN))
    }

    /// The number behind the id.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let task = tulip::spawn(async {});
    ///     assert!(task.id().as_u64() > 0);
    /// });
    /// ```
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Task-{}", self.0)
    }
}
