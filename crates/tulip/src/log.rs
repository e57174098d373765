//! The loop's own log lines: through `tracing` when the program has a subscriber, else stderr,
//! so a lost panic is never silent (asyncio's logging has the same last-resort behaviour).

use tracing::subscriber::NoSubscriber;

fn has_subscriber() -> bool {
    tracing::dispatcher::get_default(|dispatch| !dispatch.is::<NoSubscriber>())
}

pub(crate) fn error(message: &str) {
    if has_subscriber() {
        tracing::error!(target: "tulip", "{message}");
    } else {
        eprintln!("ERROR tulip: {message}");
    }
}

pub(crate) fn warn(message: &str) {
    if has_subscriber() {
        tracing::warn!(target: "tulip", "{message}");
    } else {
        eprintln!("WARNING tulip: {message}");
    }
}
