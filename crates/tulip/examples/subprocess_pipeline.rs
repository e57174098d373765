//! Subprocesses (`003_…`, table 5: `asyncio.create_subprocess_exec`): an `ls | wc -l`
//! pipeline, built three ways, and `communicate` pushing 10 MiB through `cat` and back.
//!
//! ```text
//! $ cargo run -p tulip-rt --example subprocess_pipeline
//! ls | wc -l, copied through tulip: 12 (96 bytes passed from ls to wc)
//! ls | wc -l, ls writing straight into wc: 12
//! ls | wc -l, in the shell: 12
//! cat: sent 10485760 bytes, got 10485760 back
//! cat: checksum in 0x65d1c9e2b3e4a4a5, out 0x65d1c9e2b3e4a4a5: same
//! head -c 10: got 10 bytes of the 10485760 sent, exit status 0
//! ```
//!
//! The first pipeline runs `ls` and `wc -l` as two children and copies `ls`'s output into
//! `wc`'s input through the loop (what a program does when it wants to look at, or change, the
//! data on the way); the second hands `ls`'s stdout pipe to `wc` directly; the third asks
//! `/bin/sh` (asyncio's `create_subprocess_shell`). `communicate` writes and reads at the same
//! time, so 10 MiB each way — far more than a pipe holds — cannot deadlock; and when the child
//! stops reading early (`head -c 10`), the broken pipe is not an error, as in asyncio.

use std::io;
use std::path::{Path, PathBuf};

use futures_lite::AsyncWriteExt;
use tulip::process::{Command, Stdio};

/// Files in the listed directory.
const FILES: usize = 12;
/// Bytes sent through `cat`.
const SIZE: usize = 10 * 1024 * 1024;

/// A fresh directory with [`FILES`] files, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> io::Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("tulip-pipeline-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        for i in 1..=FILES {
            std::fs::write(dir.join(format!("file-{i:02}")), b"")?;
        }
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn count(output: &[u8]) -> String {
    String::from_utf8_lossy(output).trim().to_owned()
}

/// `ls dir | wc -l`, the bytes copied from one child to the other by the loop.
async fn copied_through_tulip(dir: &Path) -> io::Result<(String, u64)> {
    let mut ls = Command::new("ls").arg(dir).stdout(Stdio::piped()).spawn()?;
    let mut wc = Command::new("wc")
        .arg("-l")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let (Some(mut from), Some(mut to)) = (ls.stdout.take(), wc.stdin.take()) else {
        unreachable!("both pipes were asked for");
    };
    let copied = futures_lite::io::copy(&mut from, &mut to).await?;
    // wc counts until end of input: close its stdin.
    to.close().await?;
    ls.wait().await?;
    let output = wc.communicate(None).await?;
    Ok((count(&output.stdout), copied))
}

/// `ls dir | wc -l` with `ls`'s stdout pipe given to `wc` as its stdin.
async fn connected_directly(dir: &Path) -> io::Result<String> {
    let mut ls = Command::new("ls").arg(dir).stdout(Stdio::piped()).spawn()?;
    let Some(pipe) = ls.stdout.take() else {
        unreachable!("the pipe was asked for");
    };
    let output = Command::new("wc")
        .arg("-l")
        .stdin(Stdio::try_from(pipe)?)
        .output()
        .await?;
    ls.wait().await?;
    Ok(count(&output.stdout))
}

/// Deterministic bytes (xorshift64), so the run is the same every time.
fn data(len: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// FNV-1a, 64 bits.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

async fn main_task() -> io::Result<()> {
    let scratch = Scratch::new()?;
    let dir = &scratch.0;

    let (lines, copied) = copied_through_tulip(dir).await?;
    println!("ls | wc -l, copied through tulip: {lines} ({copied} bytes passed from ls to wc)");
    println!(
        "ls | wc -l, ls writing straight into wc: {}",
        connected_directly(dir).await?
    );
    let shell = Command::shell(format!("ls '{}' | wc -l", dir.display()))
        .output()
        .await?;
    println!("ls | wc -l, in the shell: {}", count(&shell.stdout));

    let input = data(SIZE);
    let mut cat = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let output = cat.communicate(Some(&input)).await?;
    println!(
        "cat: sent {} bytes, got {} back",
        input.len(),
        output.stdout.len()
    );
    let (sent, got) = (checksum(&input), checksum(&output.stdout));
    let verdict = if sent == got { "same" } else { "DIFFERENT" };
    println!("cat: checksum in {sent:#018x}, out {got:#018x}: {verdict}");

    let mut head = Command::new("head")
        .args(["-c", "10"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let output = head.communicate(Some(&input)).await?;
    println!(
        "head -c 10: got {} bytes of the {} sent, exit status {}",
        output.stdout.len(),
        input.len(),
        output.status.code().unwrap_or(-1)
    );
    Ok(())
}

/// The program; a failure is reported and ends the process with status 1.
pub(crate) fn run() {
    if let Err(err) = tulip::run(main_task()) {
        eprintln!("subprocess_pipeline: {err}");
        std::process::exit(1);
    }
}

fn main() {
    run();
}
