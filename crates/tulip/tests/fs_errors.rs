//! Errors of `tulip::fs` name the operation and the path and keep the OS error's kind: a
//! missing file, permission denied (mode 000 files when not root; as root, where permission
//! bits are bypassed, a write through a read-only descriptor), a directory where a file was
//! expected and a file where a directory was expected.

mod fs_common;

use std::io::{self, ErrorKind};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use fs_common::{TempDir, is_root};
use tulip::fs::{self, File, OpenOptions, PathError};

#[track_caller]
fn assert_names(err: &io::Error, kind: ErrorKind, operation: &str, path: &Path) {
    assert_eq!(err.kind(), kind, "{err}");
    let message = err.to_string();
    let prefix = format!("failed to {operation} `{}`", path.display());
    assert!(
        message.starts_with(&prefix),
        "`{message}` should start with `{prefix}`"
    );
    let detail = err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<PathError>())
        .expect("a PathError inside");
    assert_eq!(detail.path(), path);
    assert_eq!(detail.operation(), operation);
}

/// The kind std gives `EBADF` (an unnamed, unstable one).
fn ebadf_kind() -> ErrorKind {
    io::Error::from_raw_os_error(rustix::io::Errno::BADF.raw_os_error()).kind()
}

#[tulip::test]
async fn a_missing_file_is_not_found_naming_it() {
    let missing = Path::new("/nope/x.txt");
    let err = File::open(missing).await.unwrap_err();
    assert_names(&err, ErrorKind::NotFound, "open", missing);
    assert_eq!(
        err.to_string(),
        "failed to open `/nope/x.txt`: No such file or directory (os error 2)"
    );
    let detail = err.get_ref().unwrap().downcast_ref::<PathError>().unwrap();
    assert_eq!(detail.raw_os_error(), Some(2));

    assert_names(
        &fs::read(missing).await.unwrap_err(),
        ErrorKind::NotFound,
        "read",
        missing,
    );
    assert_names(
        &fs::read_to_string(missing).await.unwrap_err(),
        ErrorKind::NotFound,
        "read",
        missing,
    );
    assert_names(
        &File::create(missing).await.unwrap_err(),
        ErrorKind::NotFound,
        "create",
        missing,
    );
    assert_names(
        &fs::write(missing, "x").await.unwrap_err(),
        ErrorKind::NotFound,
        "write",
        missing,
    );
    assert_names(
        &fs::append(missing, "x").await.unwrap_err(),
        ErrorKind::NotFound,
        "append to",
        missing,
    );
    assert_names(
        &fs::metadata(missing).await.unwrap_err(),
        ErrorKind::NotFound,
        "read metadata of",
        missing,
    );
    assert_names(
        &fs::symlink_metadata(missing).await.unwrap_err(),
        ErrorKind::NotFound,
        "read metadata of",
        missing,
    );
    assert_names(
        &fs::remove_file(missing).await.unwrap_err(),
        ErrorKind::NotFound,
        "remove file",
        missing,
    );
    assert_names(
        &fs::remove_dir(missing).await.unwrap_err(),
        ErrorKind::NotFound,
        "remove directory",
        missing,
    );
    assert_names(
        &fs::remove_dir_all(missing).await.unwrap_err(),
        ErrorKind::NotFound,
        "remove directory",
        missing,
    );
    assert_names(
        &fs::create_dir(Path::new("/nope/x/y")).await.unwrap_err(),
        ErrorKind::NotFound,
        "create directory",
        Path::new("/nope/x/y"),
    );
    assert_names(
        &fs::canonicalize(missing).await.unwrap_err(),
        ErrorKind::NotFound,
        "canonicalize",
        missing,
    );
    assert_names(
        &fs::read_dir(missing).await.unwrap_err(),
        ErrorKind::NotFound,
        "read directory",
        missing,
    );
    assert!(!fs::try_exists(missing).await.unwrap());
}

#[tulip::test]
async fn rename_and_copy_name_both_paths() {
    let err = fs::rename("/nope/a", "/nope/b").await.unwrap_err();
    assert_names(&err, ErrorKind::NotFound, "rename", Path::new("/nope/a"));
    assert_eq!(
        err.to_string(),
        "failed to rename `/nope/a` to `/nope/b`: No such file or directory (os error 2)"
    );
    let err = fs::copy("/nope/a", "/nope/b").await.unwrap_err();
    assert_names(&err, ErrorKind::NotFound, "copy", Path::new("/nope/a"));
    let detail = err.get_ref().unwrap().downcast_ref::<PathError>().unwrap();
    assert_eq!(detail.destination(), Some(Path::new("/nope/b")));
}

#[tulip::test]
async fn permission_denied_names_the_path() {
    let dir = TempDir::new("denied");
    let locked = dir.join("locked.txt");
    std::fs::write(&locked, "secret").unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if is_root() {
        // Root passes permission checks; the descriptor's own access mode still holds.
        let mut file = File::open(&locked).await.unwrap();
        file.write_all(b"not allowed").await.unwrap(); // buffered
        let err = file.flush().await.unwrap_err();
        assert_names(&err, ebadf_kind(), "write to", &locked);
        assert!(err.to_string().contains("Bad file descriptor"), "{err}");
        // Reading from a write-only descriptor.
        let mut file = OpenOptions::new().write(true).open(&locked).await.unwrap();
        let mut buf = [0; 4];
        let err = file.read(&mut buf).await.unwrap_err();
        assert_names(&err, ebadf_kind(), "read from", &locked);
    } else {
        assert_names(
            &File::open(&locked).await.unwrap_err(),
            ErrorKind::PermissionDenied,
            "open",
            &locked,
        );
        assert_names(
            &fs::read(&locked).await.unwrap_err(),
            ErrorKind::PermissionDenied,
            "read",
            &locked,
        );
        assert_names(
            &fs::append(&locked, "x").await.unwrap_err(),
            ErrorKind::PermissionDenied,
            "append to",
            &locked,
        );
        let sealed = dir.join("sealed");
        std::fs::create_dir(&sealed).unwrap();
        std::fs::set_permissions(&sealed, std::fs::Permissions::from_mode(0o500)).unwrap();
        let inside = sealed.join("new.txt");
        assert_names(
            &File::create(&inside).await.unwrap_err(),
            ErrorKind::PermissionDenied,
            "create",
            &inside,
        );
        std::fs::set_permissions(&sealed, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[tulip::test]
async fn a_directory_where_a_file_was_expected() {
    let dir = TempDir::new("is-a-dir");
    let path = dir.path();
    assert_names(
        &File::create(path).await.unwrap_err(),
        ErrorKind::IsADirectory,
        "create",
        path,
    );
    assert_names(
        &OpenOptions::new().write(true).open(path).await.unwrap_err(),
        ErrorKind::IsADirectory,
        "open",
        path,
    );
    assert_names(
        &fs::read(path).await.unwrap_err(),
        ErrorKind::IsADirectory,
        "read",
        path,
    );
    assert_names(
        &fs::write(path, "x").await.unwrap_err(),
        ErrorKind::IsADirectory,
        "write",
        path,
    );
    assert_names(
        &fs::remove_file(path).await.unwrap_err(),
        ErrorKind::IsADirectory,
        "remove file",
        path,
    );
    // Linux lets a directory be opened read-only; reading it is the error.
    let mut file = File::open(path).await.unwrap();
    let mut buf = [0; 8];
    assert_names(
        &file.read(&mut buf).await.unwrap_err(),
        ErrorKind::IsADirectory,
        "read from",
        path,
    );
    let mut lines = File::open(path).await.unwrap().lines();
    assert_names(
        &lines.next_line().await.unwrap_err(),
        ErrorKind::IsADirectory,
        "read from",
        path,
    );
}

#[tulip::test]
async fn a_file_where_a_directory_was_expected() {
    let dir = TempDir::new("not-a-dir");
    let file = dir.join("plain.txt");
    std::fs::write(&file, "x").unwrap();
    assert_names(
        &fs::read_dir(&file).await.unwrap_err(),
        ErrorKind::NotADirectory,
        "read directory",
        &file,
    );
    assert_names(
        &fs::remove_dir(&file).await.unwrap_err(),
        ErrorKind::NotADirectory,
        "remove directory",
        &file,
    );
    let below = file.join("sub");
    assert_names(
        &fs::create_dir_all(&below).await.unwrap_err(),
        ErrorKind::NotADirectory,
        "create directory",
        &below,
    );
    assert_names(
        &File::open(&below).await.unwrap_err(),
        ErrorKind::NotADirectory,
        "open",
        &below,
    );
}

#[tulip::test]
async fn create_dir_on_an_existing_directory_is_already_exists() {
    let dir = TempDir::new("exists");
    assert_names(
        &fs::create_dir(dir.path()).await.unwrap_err(),
        ErrorKind::AlreadyExists,
        "create directory",
        dir.path(),
    );
    fs::create_dir_all(dir.path()).await.unwrap();
}
