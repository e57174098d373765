//! [`OpenOptions`]: how to open a file (aiofiles' mode strings, spelt out).

use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;

use super::error::with_path;
use super::file::File;
use super::pool;

/// How to open a file: Python's mode strings spelt out.
///
/// | aiofiles / `open()` mode | `OpenOptions` |
/// |---|---|
/// | `"r"` | `.read(true)` ([`File::open`]) |
/// | `"w"` | `.write(true).create(true).truncate(true)` ([`File::create`]) |
/// | `"a"` | `.append(true).create(true)` |
/// | `"x"` | `.write(true).create_new(true)` |
/// | `"r+"` | `.read(true).write(true)` |
/// | `"a+"` | `.read(true).append(true).create(true)` |
///
/// # Examples
///
/// ```
/// use std::io::ErrorKind;
/// use tulip::fs::OpenOptions;
///
/// # let path = std::env::temp_dir().join(format!("tulip-doc-open-options-{}.txt", std::process::id()));
/// tulip::run(async {
///     let mut file = OpenOptions::new().write(true).create_new(true).open(&path).await.unwrap();
///     file.write_all(b"first").await.unwrap();
///     file.close().await.unwrap();
///
///     // "x" mode on a file that exists fails, naming it.
///     let err = OpenOptions::new().write(true).create_new(true).open(&path).await.unwrap_err();
///     assert_eq!(err.kind(), ErrorKind::AlreadyExists);
///     assert!(err.to_string().contains(&*path.to_string_lossy()));
///     # tulip::fs::remove_file(&path).await.unwrap();
/// });
/// ```
#[derive(Debug, Clone)]
pub struct OpenOptions {
    std: std::fs::OpenOptions,
    /// Whether opening may create the file (only changes the error's wording).
    creates: bool,
}

impl OpenOptions {
    /// No access at all: set at least one of read, write or append.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let file = tulip::fs::OpenOptions::new().read(true).open("Cargo.toml").await;
    ///     assert!(file.is_ok());
    /// });
    /// ```
    pub fn new() -> OpenOptions {
        OpenOptions {
            std: std::fs::OpenOptions::new(),
            creates: false,
        }
    }

    /// Open for reading.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = tulip::fs::OpenOptions::new().read(true).clone();
    /// # let _ = options;
    /// ```
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.std.read(read);
        self
    }

    /// Open for writing (at the start, over what is there, unless `append` or `truncate`).
    ///
    /// # Examples
    ///
    /// ```
    /// let options = tulip::fs::OpenOptions::new().read(true).write(true).clone(); // "r+"
    /// # let _ = options;
    /// ```
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.std.write(write);
        self
    }

    /// Every write goes to the end of the file, even with several writers (`O_APPEND`).
    /// Implies `write`.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = tulip::fs::OpenOptions::new().append(true).create(true).clone(); // "a"
    /// # let _ = options;
    /// ```
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.std.append(append);
        self
    }

    /// Empty the file when opening it (needs `write`).
    ///
    /// # Examples
    ///
    /// ```
    /// let options = tulip::fs::OpenOptions::new().write(true).create(true).truncate(true).clone();
    /// # let _ = options;
    /// ```
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.std.truncate(truncate);
        self
    }

    /// Create the file if it does not exist (needs `write` or `append`).
    ///
    /// # Examples
    ///
    /// ```
    /// let options = tulip::fs::OpenOptions::new().write(true).create(true).clone();
    /// # let _ = options;
    /// ```
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.std.create(create);
        self.creates |= create;
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists (Python's `"x"` mode; needs
    /// `write` or `append`). Checked and created in one step, so two openers cannot both win.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = tulip::fs::OpenOptions::new().write(true).create_new(true).clone();
    /// # let _ = options;
    /// ```
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.std.create_new(create_new);
        self.creates |= create_new;
        self
    }

    /// The permission bits of a file this call creates (before the umask); default `0o666`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    ///
    /// # let path = std::env::temp_dir().join(format!("tulip-doc-mode-{}.txt", std::process::id()));
    /// tulip::run(async {
    ///     let file = tulip::fs::OpenOptions::new()
    ///         .write(true)
    ///         .create(true)
    ///         .mode(0o600)
    ///         .open(&path)
    ///         .await
    ///         .unwrap();
    ///     drop(file);
    ///     let mode = tulip::fs::metadata(&path).await.unwrap().permissions().mode();
    ///     assert_eq!(mode & 0o777, 0o600);
    ///     # tulip::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        self.std.mode(mode);
        self
    }

    /// Extra `open(2)` flags (`O_NOFOLLOW`, `O_DIRECT`, …), or'ed into the ones the options
    /// above set.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = tulip::fs::OpenOptions::new()
    ///     .read(true)
    ///     .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
    ///     .clone();
    /// # let _ = options;
    /// ```
    pub fn custom_flags(&mut self, flags: i32) -> &mut OpenOptions {
        self.std.custom_flags(flags);
        self
    }

    /// Opens `path` with these options, on the thread pool.
    ///
    /// # Errors
    ///
    /// Any error of `open(2)`, naming the path and keeping its kind: `NotFound`,
    /// `PermissionDenied`, `AlreadyExists` (`create_new`), `IsADirectory` (a directory opened
    /// for writing), `InvalidInput` (no access mode set), …
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a dropped call may still create (or truncate) the file; the file it
    /// opened is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::ErrorKind;
    ///
    /// tulip::run(async {
    ///     let err = tulip::fs::OpenOptions::new().write(true).open("/").await.unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::IsADirectory);
    ///     assert_eq!(err.to_string(), "failed to open `/`: Is a directory (os error 21)");
    /// });
    /// ```
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path: Arc<Path> = Arc::from(path.as_ref());
        let options = self.std.clone();
        let operation = if self.creates { "create" } else { "open" };
        let opened = {
            let path = path.clone();
            pool::run(move || options.open(&path)).await
        };
        match opened {
            Ok(file) => Ok(File::from_parts(file, Some(path))),
            Err(err) => Err(with_path(operation, &path, err)),
        }
    }
}

impl Default for OpenOptions {
    fn default() -> OpenOptions {
        OpenOptions::new()
    }
}
