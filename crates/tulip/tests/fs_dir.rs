//! Directories and the path helpers of `tulip::fs`: `read_dir` lists every entry (across
//! several batches) with names, paths, types and metadata; `create_dir(_all)`, `remove_*`,
//! `rename`, `copy`, `canonicalize`, `try_exists`, `metadata` / `symlink_metadata`, and the
//! whole-file helpers `read`, `read_to_string`, `write`, `append`.

mod fs_common;

use std::collections::BTreeSet;
use std::ffi::OsString;

use fs_common::TempDir;
use futures_lite::StreamExt;
use tulip::fs;

#[tulip::test]
async fn read_dir_lists_every_entry() {
    let dir = TempDir::new("read-dir");
    // More than one batch of entries, files and directories mixed.
    let mut expected = BTreeSet::new();
    for i in 0..300 {
        let name = format!("entry-{i:03}");
        if i % 10 == 0 {
            std::fs::create_dir(dir.join(&name)).unwrap();
        } else {
            std::fs::write(dir.join(&name), vec![b'x'; i]).unwrap();
        }
        expected.insert(OsString::from(name));
    }
    std::os::unix::fs::symlink("entry-001", dir.join("link")).unwrap();
    expected.insert(OsString::from("link"));

    let mut seen = BTreeSet::new();
    let mut entries = fs::read_dir(dir.path()).await.unwrap();
    while let Some(entry) = entries.next().await {
        let entry = entry.unwrap();
        let name = entry.file_name();
        assert_eq!(entry.path(), dir.path().join(&name));
        let file_type = entry.file_type().await.unwrap();
        let metadata = entry.metadata().await.unwrap();
        let text = name.to_string_lossy();
        if text == "link" {
            assert!(file_type.is_symlink() && metadata.file_type().is_symlink());
        } else {
            let i: usize = text["entry-".len()..].parse().unwrap();
            assert_eq!(file_type.is_dir(), i % 10 == 0, "{text}");
            if i % 10 != 0 {
                assert!(file_type.is_file());
                assert_eq!(metadata.len(), i as u64);
            }
        }
        assert!(seen.insert(name), "an entry came twice");
    }
    assert_eq!(seen, expected);
    // Exhausted streams stay exhausted.
    assert!(entries.next_entry().await.unwrap().is_none());
}

#[tulip::test]
async fn read_dir_of_an_empty_directory_is_empty() {
    let dir = TempDir::new("empty-dir");
    let entries: Vec<_> = fs::read_dir(dir.path()).await.unwrap().collect().await;
    assert!(entries.is_empty());
}

#[tulip::test]
async fn directories_are_created_renamed_and_removed() {
    let dir = TempDir::new("dirs");
    let deep = dir.join("a/b/c");
    fs::create_dir_all(&deep).await.unwrap();
    fs::create_dir_all(&deep).await.unwrap();
    assert!(fs::metadata(&deep).await.unwrap().is_dir());
    fs::create_dir(dir.join("a/b/d")).await.unwrap();
    fs::write(deep.join("f.txt"), "f").await.unwrap();

    fs::rename(dir.join("a/b"), dir.join("a/moved"))
        .await
        .unwrap();
    assert!(!fs::try_exists(dir.join("a/b")).await.unwrap());
    assert_eq!(
        fs::read_to_string(dir.join("a/moved/c/f.txt"))
            .await
            .unwrap(),
        "f"
    );

    fs::remove_dir(dir.join("a/moved/d")).await.unwrap();
    let err = fs::remove_dir(dir.join("a/moved")).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::DirectoryNotEmpty);
    fs::remove_dir_all(dir.join("a")).await.unwrap();
    assert!(!fs::try_exists(dir.join("a")).await.unwrap());
}

#[tulip::test]
async fn files_are_written_copied_canonicalized_and_removed() {
    let dir = TempDir::new("files");
    let path = dir.join("data.txt");
    fs::write(&path, b"one\n").await.unwrap();
    fs::append(&path, "two\n").await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), b"one\ntwo\n");
    fs::write(&path, "replaced").await.unwrap();
    assert_eq!(fs::read_to_string(&path).await.unwrap(), "replaced");

    let copy = dir.join("copy.txt");
    assert_eq!(fs::copy(&path, &copy).await.unwrap(), 8);
    assert_eq!(fs::read_to_string(&copy).await.unwrap(), "replaced");

    let link = dir.join("link.txt");
    std::os::unix::fs::symlink(&copy, &link).unwrap();
    assert!(fs::symlink_metadata(&link).await.unwrap().is_symlink());
    assert!(fs::metadata(&link).await.unwrap().is_file());
    let real = fs::canonicalize(dir.path().join("./sub/../link.txt").as_path()).await;
    assert!(
        real.is_err(),
        "sub does not exist, so the path cannot resolve"
    );
    let real = fs::canonicalize(&link).await.unwrap();
    assert_eq!(real, std::fs::canonicalize(&copy).unwrap());

    fs::remove_file(&link).await.unwrap();
    fs::remove_file(&copy).await.unwrap();
    assert!(fs::try_exists(&path).await.unwrap());
    assert!(!fs::try_exists(&copy).await.unwrap());
}

#[tulip::test]
async fn whole_file_helpers_handle_large_files() {
    let dir = TempDir::new("large");
    let path = dir.join("big.bin");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 249) as u8).collect();
    fs::write(&path, &data).await.unwrap();
    assert_eq!(fs::read(&path).await.unwrap(), data);
    assert_eq!(fs::metadata(&path).await.unwrap().len(), data.len() as u64);
}
