//! An async file copy and line count, the aiofiles way: write an input file line by line,
//! copy it through `tulip::fs` in 16 KiB reads and writes, count the copy's lines with the
//! `lines()` stream, check the copy against the original, and clean up.
//!
//! Every small `write_all` and `read` is served from `File`'s memory buffers; the pool sees a
//! job per 128 KiB written and per 64 KiB read, not one per call.
//!
//! ```text
//! $ cargo run -p tulip-rt --example file_copy
//! wrote input: 20000 lines, 1040969 bytes
//! copied 1040969 bytes with File::read / File::write_all
//! copy: 20000 lines, 1040969 bytes, longest line 97 bytes, 1177 empty-word lines
//! copy identical to input: yes
//! fs::copy: 1040969 bytes, identical: yes
//! removed 3 temporary files
//! ```

use std::io;
use std::path::{Path, PathBuf};

use futures_lite::StreamExt;
use tulip::fs::{self, File};

const LINES: usize = 20_000;

/// The i-th line of the input: a number and a few words, of varying length.
fn line(i: usize) -> String {
    let words = ["alpha", "beta", "gamma", "delta"];
    let text: Vec<&str> = (0..i % 17).map(|w| words[(i + w) % words.len()]).collect();
    format!("{i:05} {}\n", text.join(" "))
}

/// A path in the temp directory that no other run uses.
fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tulip-file-copy-{}-{name}", std::process::id()))
}

async fn write_input(path: &Path) -> io::Result<u64> {
    let mut file = File::create(path).await?;
    for i in 0..LINES {
        file.write_all(line(i).as_bytes()).await?;
    }
    file.close().await?;
    Ok(fs::metadata(path).await?.len())
}

/// `shutil.copyfileobj` with aiofiles: read a chunk, write it, until the end.
async fn copy(from: &Path, to: &Path) -> io::Result<u64> {
    let mut input = File::open(from).await?;
    let mut output = File::create(to).await?;
    let mut buf = vec![0; 16 * 1024];
    let mut total = 0;
    loop {
        let n = input.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        output.write_all(&buf[..n]).await?;
        total += n as u64;
    }
    output.close().await?;
    Ok(total)
}

/// Counts lines, bytes (newlines included), the longest line and lines with no words.
async fn count(path: &Path) -> io::Result<(usize, u64, usize, usize)> {
    let mut lines = File::open(path).await?.lines();
    let (mut n, mut bytes, mut longest, mut bare) = (0, 0, 0, 0);
    while let Some(line) = lines.next().await {
        let line = line?;
        n += 1;
        bytes += line.len() as u64 + 1;
        longest = longest.max(line.len());
        bare += usize::from(line.trim_end().len() == 5);
    }
    Ok((n, bytes, longest, bare))
}

async fn main_task() -> io::Result<()> {
    let (input, output, second) = (scratch("in.txt"), scratch("out.txt"), scratch("out2.txt"));
    let size = write_input(&input).await?;
    println!("wrote input: {LINES} lines, {size} bytes");

    let copied = copy(&input, &output).await?;
    println!("copied {copied} bytes with File::read / File::write_all");

    let (lines, bytes, longest, bare) = count(&output).await?;
    println!(
        "copy: {lines} lines, {bytes} bytes, longest line {longest} bytes, {bare} empty-word lines"
    );
    let same = fs::read(&input).await? == fs::read(&output).await?;
    println!(
        "copy identical to input: {}",
        if same { "yes" } else { "no" }
    );

    let copied = fs::copy(&input, &second).await?;
    let same = fs::read(&input).await? == fs::read(&second).await?;
    println!(
        "fs::copy: {copied} bytes, identical: {}",
        if same { "yes" } else { "no" }
    );

    for path in [&input, &output, &second] {
        fs::remove_file(path).await?;
    }
    println!("removed 3 temporary files");
    Ok(())
}

/// The program.
pub(crate) fn run() {
    if let Err(err) = tulip::run(main_task()) {
        eprintln!("file_copy: {err}");
        std::process::exit(1);
    }
}

fn main() {
    run();
}
