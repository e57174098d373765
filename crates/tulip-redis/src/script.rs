//! Lua scripts run with `EVALSHA`, falling back to `EVAL` when the server does not have them.

use std::sync::Arc;

use crate::cmd::{Arg, Cmd};

/// A Lua script and its SHA1 digest: redis-py's `register_script`.
///
/// [`Client::eval`](crate::Client::eval) sends the digest (`EVALSHA`) so the script's text
/// crosses the network only when the server does not have it cached yet.
///
/// # Examples
///
/// ```
/// use tulip_redis::Script;
///
/// let script = Script::new("return 1");
/// assert_eq!(script.sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
/// let call = script.call().key("counter").arg(5);
/// # let _ = call;
/// ```
#[derive(Debug, Clone)]
pub struct Script {
    // Shared: every ScriptCall holds the script, and a script may be long. Arc, not Rc, so a
    // Script can live in a static or be handed to another thread's loop.
    inner: Arc<ScriptInner>,
}

#[derive(Debug)]
struct ScriptInner {
    source: String,
    sha1: String,
}

impl Script {
    /// A script with the given Lua source.
    ///
    /// # Examples
    ///
    /// ```
    /// let script = tulip_redis::Script::new("return redis.call('GET', KEYS[1])");
    /// assert_eq!(script.sha1().len(), 40);
    /// ```
    pub fn new(source: &str) -> Script {
        let sha1 = sha1_smol::Sha1::from(source).digest().to_string();
        Script {
            inner: Arc::new(ScriptInner {
                source: source.to_owned(),
                sha1,
            }),
        }
    }

    /// The script's SHA1 digest in lower-case hex, as `SCRIPT LOAD` returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// let script = tulip_redis::Script::new("");
    /// assert_eq!(script.sha1(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    /// ```
    pub fn sha1(&self) -> &str {
        &self.inner.sha1
    }

    /// Starts a call of the script, with no keys or arguments yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let script = tulip_redis::Script::new("return ARGV[1]");
    /// let call = script.call().arg("hello");
    /// # let _ = call;
    /// ```
    pub fn call(&self) -> ScriptCall {
        ScriptCall {
            script: self.clone(),
            keys: Vec::new(),
            args: Vec::new(),
        }
    }
}

/// One invocation of a [`Script`]: its keys (`KEYS[i]`) and arguments (`ARGV[i]`), for
/// [`Client::eval`](crate::Client::eval).
///
/// # Examples
///
/// ```
/// use tulip_redis::Script;
///
/// let script = Script::new("return redis.call('SET', KEYS[1], ARGV[1])");
/// let mut call = script.call();
/// call.push_key("k");
/// call.push_arg(42);
/// let call = call.key("other").arg("x");
/// # let _ = call;
/// ```
#[derive(Debug, Clone)]
pub struct ScriptCall {
    script: Script,
    keys: Vec<Arg>,
    args: Vec<Arg>,
}

impl ScriptCall {
    /// Adds a key (`KEYS[n]` in the script), builder style.
    ///
    /// # Examples
    ///
    /// ```
    /// let call = tulip_redis::Script::new("return KEYS[1]").call().key("k");
    /// # let _ = call;
    /// ```
    pub fn key(mut self, k: impl Into<Arg>) -> Self {
        self.push_key(k);
        self
    }

    /// Adds an argument (`ARGV[n]` in the script), builder style.
    ///
    /// # Examples
    ///
    /// ```
    /// let call = tulip_redis::Script::new("return ARGV[1]").call().arg(1.5);
    /// # let _ = call;
    /// ```
    pub fn arg(mut self, a: impl Into<Arg>) -> Self {
        self.push_arg(a);
        self
    }

    /// Adds a key in place.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut call = tulip_redis::Script::new("return #KEYS").call();
    /// for key in ["a", "b"] {
    ///     call.push_key(key);
    /// }
    /// ```
    pub fn push_key(&mut self, k: impl Into<Arg>) {
        self.keys.push(k.into());
    }

    /// Adds an argument in place.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut call = tulip_redis::Script::new("return #ARGV").call();
    /// call.push_arg("x");
    /// ```
    pub fn push_arg(&mut self, a: impl Into<Arg>) {
        self.args.push(a.into());
    }

    /// `EVALSHA sha1 numkeys keys... args...`
    pub(crate) fn evalsha(&self) -> Cmd {
        self.command("EVALSHA", self.script.sha1())
    }

    /// `EVAL source numkeys keys... args...`
    pub(crate) fn eval(&self) -> Cmd {
        self.command("EVAL", &self.script.inner.source)
    }

    fn command(&self, name: &str, script: &str) -> Cmd {
        let mut cmd = Cmd::new(name).arg(script).arg(self.keys.len());
        for a in self.keys.iter().chain(&self.args) {
            cmd.push_arg(a);
        }
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_list_keys_then_args() {
        let call = Script::new("return 1").call().key("k1").arg("a1").key("k2");
        let evalsha = call.evalsha();
        assert_eq!(evalsha.name(), "EVALSHA");
        let args: Vec<&[u8]> = evalsha.args().iter().map(Arg::as_bytes).collect();
        assert_eq!(
            args,
            [
                &b"e0e1f9fabfc9d4800c877a703b823ac0578ff8db"[..],
                b"2",
                b"k1",
                b"k2",
                b"a1"
            ]
        );
        assert_eq!(call.eval().args()[0].as_bytes(), b"return 1");
    }
}
