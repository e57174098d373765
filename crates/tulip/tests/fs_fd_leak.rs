//! No descriptor leaks: opening and closing 10,000 files through `tulip::fs` (closed, dropped
//! with pending writes, dropped mid-read, turned into std files, read through `lines()` and
//! listed by `read_dir`) leaves the count of entries in `/proc/self/fd` where it was.
//!
//! One test in its own binary, so no other test opens descriptors meanwhile.

mod fs_common;

use fs_common::TempDir;
use futures_lite::StreamExt;
use tulip::fs::{self, File};

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd lists this process's descriptors")
        .count()
}

#[test]
fn ten_thousand_files_opened_and_closed_leak_no_descriptor() {
    let dir = TempDir::new("fd-leak");
    let path = dir.join("f.txt");
    std::fs::write(&path, "a\nb\nc\n").unwrap();
    // One loop first, so the loop's own descriptors (poller, waker) are not counted as leaks.
    tulip::run(async {});
    let before = open_descriptors();

    let (dir_path, file) = (dir.path().to_path_buf(), path.clone());
    tulip::run(async move {
        for i in 0..10_000 {
            match i % 6 {
                0 => {
                    let mut f = File::open(&file).await.unwrap();
                    let mut text = String::new();
                    f.read_to_string(&mut text).await.unwrap();
                    f.close().await.unwrap();
                }
                1 => {
                    let mut f = File::create(dir_path.join(format!("w{}", i % 50)))
                        .await
                        .unwrap();
                    f.write_all(b"pending").await.unwrap();
                    drop(f); // written by a last detached job
                }
                2 => {
                    let mut f = File::open(&file).await.unwrap();
                    let mut one = [0; 1];
                    f.read_exact(&mut one).await.unwrap();
                    drop(f); // read-ahead dropped
                }
                3 => {
                    let lines: Vec<String> = File::open(&file)
                        .await
                        .unwrap()
                        .lines()
                        .try_collect()
                        .await
                        .unwrap();
                    assert_eq!(lines.len(), 3);
                }
                4 => {
                    let std = File::open(&file).await.unwrap().into_std().await.unwrap();
                    drop(File::from_std(std));
                }
                _ => {
                    let mut entries = fs::read_dir(&dir_path).await.unwrap();
                    let _first = entries.next_entry().await.unwrap();
                    assert!(fs::read(&file).await.is_ok());
                }
            }
        }
    });

    assert_eq!(open_descriptors(), before, "descriptors leaked");
}
