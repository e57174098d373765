//! Helpers shared by areq's integration tests: temporary directories and reading outputs.

#![allow(dead_code, unreachable_pub)]

pub mod nginx;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A fresh directory under the system's temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("areq-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The lines of an output file after its header, checking the file is valid TSV: the header
/// exactly once, first; every line two http(s) URLs separated by one tab; a final newline.
pub fn read_tsv(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let body = text
        .strip_prefix("source_url\tparsed_url\n")
        .unwrap_or_else(|| panic!("{} does not start with the header", path.display()));
    assert!(body.is_empty() || body.ends_with('\n'), "torn last line");
    body.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 2, "bad line {line:?}");
            for f in &fields {
                assert!(
                    f.starts_with("http://") || f.starts_with("https://"),
                    "bad URL in {line:?}"
                );
            }
            (fields[0].to_owned(), fields[1].to_owned())
        })
        .collect()
}

/// The lines as a set, asserting none is repeated.
pub fn line_set(lines: Vec<(String, String)>) -> BTreeSet<(String, String)> {
    let n = lines.len();
    let set: BTreeSet<_> = lines.into_iter().collect();
    assert_eq!(set.len(), n, "duplicate output lines");
    set
}
