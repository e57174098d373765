use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

use super::Child;
use crate::runtime::context;

/// What to run and how: asyncio's `create_subprocess_exec` (with [`Command::new`]) and
/// `create_subprocess_shell` (with [`Command::shell`]), as a builder like
/// [`std::process::Command`], whose fork and exec it uses.
///
/// By default the child inherits this process's standard streams, environment and working
/// directory. Use [`Stdio::piped()`](super::Stdio::piped) to talk to it through the loop.
///
/// # Examples
///
/// ```
/// use tulip::process::{Command, Stdio};
///
/// tulip::run(async {
///     let output = Command::new("echo").args(["hello", "world"]).output().await.unwrap();
///     assert_eq!(output.stdout, b"hello world\n");
///
///     let status = Command::shell("test -d /").status().await.unwrap();
///     assert!(status.success());
/// });
/// ```
pub struct Command {
    std: std::process::Command,
    /// The shell command line, for the shell form.
    script: Option<String>,
    kill_on_drop: bool,
    stdin_set: bool,
    stdout_set: bool,
    stderr_set: bool,
}

impl Command {
    /// Runs `program` with the arguments added later, no shell involved (asyncio's
    /// `create_subprocess_exec`). A `program` without a `/` is looked up in `PATH`.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut ls = tulip::process::Command::new("ls");
    /// ls.arg("-l").arg("/tmp");
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from_std(std::process::Command::new(program), None)
    }

    /// Runs `command_line` with `/bin/sh -c` (asyncio's `create_subprocess_shell`): pipes,
    /// redirections and globs work. Arguments added with [`arg`](Command::arg) become `$0`,
    /// `$1`, … of the script.
    ///
    /// Never build the command line from untrusted input: quote it, or use [`Command::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let out = tulip::process::Command::shell("printf 'a\\nb\\n' | wc -l")
    ///         .output()
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
    /// });
    /// ```
    pub fn shell(command_line: impl AsRef<OsStr>) -> Command {
        let line = command_line.as_ref();
        let mut std = std::process::Command::new("/bin/sh");
        std.arg("-c").arg(line);
        Command::from_std(std, Some(line.to_string_lossy().into_owned()))
    }

    fn from_std(std: std::process::Command, script: Option<String>) -> Command {
        Command {
            std,
            script,
            kill_on_drop: false,
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
        }
    }

    /// Adds one argument.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::process::Command::new("grep").arg("-n").arg("needle");
    /// ```
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds several arguments.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::process::Command::new("tar").args(["-c", "-f", "out.tar", "src"]);
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let out = tulip::process::Command::shell("echo $GREETING")
    ///         .env("GREETING", "hi")
    ///         .output()
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(out.stdout, b"hi\n");
    /// });
    /// ```
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets several environment variables.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::process::Command::new("make").envs([("CC", "clang"), ("JOBS", "2")]);
    /// ```
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::process::Command::new("env").env_remove("HOME");
    /// ```
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (then add what it needs with
    /// [`env`](Command::env)).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let out = tulip::process::Command::new("/usr/bin/env")
    ///         .env_clear()
    ///         .env("ONLY", "this")
    ///         .output()
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(out.stdout, b"ONLY=this\n");
    /// });
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let out = tulip::process::Command::new("pwd").current_dir("/").output().await.unwrap();
    ///     assert_eq!(out.stdout, b"/\n");
    /// });
    /// ```
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input: [`Stdio::piped()`](super::Stdio::piped) to write to it
    /// through [`Child::stdin`], [`Stdio::null()`](super::Stdio::null), or inherited (the
    /// default for [`spawn`](Command::spawn) and [`status`](Command::status)).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::process::{Command, Stdio};
    ///
    /// Command::new("cat").stdin(Stdio::piped());
    /// ```
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// The child's standard output; see [`stdin`](Command::stdin).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::process::{Command, Stdio};
    ///
    /// Command::new("ls").stdout(Stdio::piped());
    /// ```
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.stdout_set = true;
        self
    }

    /// The child's standard error; see [`stdin`](Command::stdin).
    ///
    /// # Examples
    ///
    /// ```
    /// use tulip::process::{Command, Stdio};
    ///
    /// Command::new("ls").stderr(Stdio::null());
    /// ```
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.stderr_set = true;
        self
    }

    /// Kill the child (`SIGKILL`) when its [`Child`] is dropped before it exited — e.g. when
    /// the task waiting for it is cancelled. Off by default: a dropped child runs on (and is
    /// still reaped when it exits).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip::process::Command;
    ///
    /// tulip::run(async {
    ///     let mut child = Command::new("sleep").arg("100").kill_on_drop(true).spawn().unwrap();
    ///     let waited = tulip::time::wait_for(Duration::from_millis(10), child.wait()).await;
    ///     assert!(waited.is_err()); // timed out; dropping `child` kills it
    /// });
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// Puts the child in process group `pgroup` (`0`: a new group of its own), so that a
    /// Ctrl+C in the terminal, which signals the foreground group, does not reach it
    /// (asyncio's `start_new_session`, nearly).
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::process::Command::new("server").process_group(0);
    /// ```
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        self.std.process_group(pgroup);
        self
    }

    /// The underlying std command, to reach settings this type does not mirror (`uid`,
    /// `pre_exec`, …).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::CommandExt;
    ///
    /// let mut cmd = tulip::process::Command::new("id");
    /// cmd.as_std_mut().arg0("whoami");
    /// ```
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// The program (or, for [`Command::shell`], the command line) as error messages name it.
    fn what(&self) -> String {
        match &self.script {
            Some(line) => format!("/bin/sh -c '{line}'"),
            None => self.std.get_program().to_string_lossy().into_owned(),
        }
    }

    /// Starts the child. Its piped streams are registered with the current loop, and the loop
    /// notices its exit (through a pidfd, or `SIGCHLD` on kernels without pidfds).
    ///
    /// # Errors
    ///
    /// When the program cannot be started — the message names it: ``failed to spawn
    /// `nosuchprog`: No such file or directory (os error 2)``, with the OS error's kind — or
    /// when called outside a tulip runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use tulip::process::Command;
    ///
    /// tulip::run(async {
    ///     let err = Command::new("nosuchprog").spawn().unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::NotFound);
    ///     assert!(err.to_string().contains("`nosuchprog`"));
    /// });
    /// ```
    pub fn spawn(&mut self) -> io::Result<Child> {
        if !context::is_set() {
            return Err(io::Error::other(format!(
                "failed to spawn `{}`: a child must be spawned inside a tulip runtime (tulip::run, Runtime::block_on or a task)",
                self.what()
            )));
        }
        let child = self.std.spawn().map_err(|err| {
            io::Error::new(
                err.kind(),
                format!("failed to spawn `{}`: {err}", self.what()),
            )
        })?;
        Child::new(child, self.kill_on_drop)
    }

    /// Runs the child to the end and collects what it wrote: stdout and stderr are piped
    /// unless set otherwise, stdin is empty (`/dev/null`) unless set otherwise.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn) and [`Child::communicate`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping it leaves the child running (killed instead with
    /// [`kill_on_drop`](Command::kill_on_drop)) and its output is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let out = tulip::process::Command::shell("echo out; echo err >&2; exit 1")
    ///         .output()
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(out.stdout, b"out\n");
    ///     assert_eq!(out.stderr, b"err\n");
    ///     assert_eq!(out.status.code(), Some(1));
    /// });
    /// ```
    pub async fn output(&mut self) -> io::Result<Output> {
        // The defaults of `output` differ from those of `spawn`; put spawn's back afterwards
        // (inheriting is what an unset stream means to std).
        let defaults = [!self.stdin_set, !self.stdout_set, !self.stderr_set];
        if defaults[0] {
            self.std.stdin(Stdio::null());
        }
        if defaults[1] {
            self.std.stdout(Stdio::piped());
        }
        if defaults[2] {
            self.std.stderr(Stdio::piped());
        }
        let spawned = self.spawn();
        if defaults[0] {
            self.std.stdin(Stdio::inherit());
        }
        if defaults[1] {
            self.std.stdout(Stdio::inherit());
        }
        if defaults[2] {
            self.std.stderr(Stdio::inherit());
        }
        spawned?.communicate(None).await
    }

    /// Runs the child to the end with the streams as configured (inherited by default) and
    /// returns its exit status.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Command::spawn) and [`Child::wait`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in that nothing is lost but the status: the child runs on (killed instead
    /// with [`kill_on_drop`](Command::kill_on_drop)), and is reaped when it exits.
    ///
    /// # Examples
    ///
    /// ```
    /// tulip::run(async {
    ///     let status = tulip::process::Command::new("false").status().await.unwrap();
    ///     assert_eq!(status.code(), Some(1));
    /// });
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("command", &self.std)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}
