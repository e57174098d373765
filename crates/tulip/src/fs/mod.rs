//! Async files: the `aiofiles` part of the tutorials.
