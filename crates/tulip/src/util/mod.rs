//! Storage shared by the loop's structures.

pub(crate) mod chunked;
