//! `tulip::fs::File`: round trips, append mode, create_new, seeking over buffered writes and
//! read-ahead, switching between reading and writing, `lines()` with and without a final
//! newline and with `\r\n`, the futures-io traits, `into_std`/`from_std`, and that a dropped
//! file loses nothing.

mod fs_common;

use std::future::poll_fn;
use std::io::{ErrorKind, Read, SeekFrom};
use std::pin::Pin;

use fs_common::TempDir;
use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
use futures_lite::StreamExt;
use tulip::fs::{self, File, OpenOptions};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn file_and_streams_are_send_and_sync() {
    assert_send_sync::<File>();
    assert_send_sync::<fs::Lines>();
    assert_send_sync::<fs::ReadDir>();
    assert_send_sync::<fs::DirEntry>();
    assert_send_sync::<fs::OpenOptions>();
}

#[tulip::test]
async fn write_then_read_round_trip() {
    let dir = TempDir::new("round-trip");
    let path = dir.join("data.bin");
    // Large enough to pass through both write buffers several times; odd-sized pieces.
    let data: Vec<u8> = (0..1_000_003u32).map(|i| (i % 251) as u8).collect();
    let mut file = File::create(&path).await.unwrap();
    for piece in data.chunks(997) {
        file.write_all(piece).await.unwrap();
    }
    file.close().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), data);

    let mut file = File::open(&path).await.unwrap();
    let mut back = Vec::new();
    let mut buf = [0; 1000];
    loop {
        let n = file.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        back.extend_from_slice(&buf[..n]);
    }
    assert_eq!(back, data);
    // At the end, reads keep returning 0.
    assert_eq!(file.read(&mut buf).await.unwrap(), 0);

    let mut whole = Vec::new();
    let mut file = File::open(&path).await.unwrap();
    assert_eq!(file.read_to_end(&mut whole).await.unwrap(), data.len());
    assert_eq!(whole, data);
    assert_eq!(fs::read(&path).await.unwrap(), data);
}

#[tulip::test]
async fn read_to_end_after_a_partial_read_appends_the_rest() {
    let dir = TempDir::new("read-to-end");
    let path = dir.join("text.txt");
    std::fs::write(&path, "hello, world").unwrap();
    let mut file = File::open(&path).await.unwrap();
    let mut head = [0; 5];
    file.read_exact(&mut head).await.unwrap();
    let mut rest = b">".to_vec();
    assert_eq!(file.read_to_end(&mut rest).await.unwrap(), 7);
    assert_eq!(rest, b">, world");

    let mut file = File::open(&path).await.unwrap();
    let mut text = String::from("<");
    assert_eq!(file.read_to_string(&mut text).await.unwrap(), 12);
    assert_eq!(text, "<hello, world");

    let mut short = [0; 20];
    let mut file = File::open(&path).await.unwrap();
    let err = file.read_exact(&mut short).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
}

#[tulip::test]
async fn read_to_string_rejects_invalid_utf8_naming_the_path() {
    let dir = TempDir::new("utf8");
    let path = dir.join("bad.txt");
    std::fs::write(&path, b"ok\xff\xfe").unwrap();
    let mut text = String::from("kept");
    let err = File::open(&path)
        .await
        .unwrap()
        .read_to_string(&mut text)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
    assert_eq!(text, "kept");
}

#[tulip::test]
async fn writes_stay_buffered_until_flush() {
    let dir = TempDir::new("buffered");
    let path = dir.join("lines.txt");
    let mut file = File::create(&path).await.unwrap();
    for i in 0..100 {
        file.write_all(format!("line {i}\n").as_bytes())
            .await
            .unwrap();
    }
    // Small writes have not left the loop yet: that is the point of the buffer.
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    file.flush().await.unwrap();
    let expected: String = (0..100).map(|i| format!("line {i}\n")).collect();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    // metadata() counts pending writes: it flushes first.
    file.write_all(b"more").await.unwrap();
    assert_eq!(
        file.metadata().await.unwrap().len(),
        expected.len() as u64 + 4
    );
}

#[tulip::test]
async fn append_mode_adds_to_the_end() {
    let dir = TempDir::new("append");
    let path = dir.join("log.txt");
    std::fs::write(&path, "first\n").unwrap();
    let mut file = OpenOptions::new().append(true).open(&path).await.unwrap();
    file.write_all(b"second\n").await.unwrap();
    file.close().await.unwrap();

    // Seeking an append-mode file does not move where writes go.
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .open(&path)
        .await
        .unwrap();
    let mut first = String::new();
    file.read_to_string(&mut first).await.unwrap();
    assert_eq!(first, "first\nsecond\n");
    file.seek(SeekFrom::Start(0)).await.unwrap();
    file.write_all(b"third\n").await.unwrap();
    file.close().await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "first\nsecond\nthird\n"
    );

    // The helper creates the file when it is missing.
    let fresh = dir.join("fresh.log");
    fs::append(&fresh, "a\n").await.unwrap();
    fs::append(&fresh, "b\n").await.unwrap();
    assert_eq!(std::fs::read_to_string(&fresh).unwrap(), "a\nb\n");
}

#[tulip::test]
async fn create_new_on_an_existing_file_is_already_exists_naming_it() {
    let dir = TempDir::new("create-new");
    let path = dir.join("once.txt");
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .await
        .unwrap();
    file.write_all(b"mine").await.unwrap();
    file.close().await.unwrap();

    let err = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert_eq!(
        err.to_string(),
        format!(
            "failed to create `{}`: File exists (os error 17)",
            path.display()
        )
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"mine");
}

#[tulip::test]
async fn truncate_and_read_write_modes() {
    let dir = TempDir::new("modes");
    let path = dir.join("f.txt");
    std::fs::write(&path, "0123456789").unwrap();
    // "r+": overwrite in place.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .await
        .unwrap();
    file.write_all(b"ab").await.unwrap();
    file.close().await.unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "ab23456789");
    // create(true) + truncate(true) empties it.
    let file = File::create(&path).await.unwrap();
    drop(file);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
}

#[tulip::test]
async fn seek_after_buffered_writes_and_reads() {
    let dir = TempDir::new("seek");
    let path = dir.join("f.txt");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .await
        .unwrap();
    file.write_all(b"hello world").await.unwrap();
    // The write is still buffered: the position counts it.
    assert_eq!(file.stream_position().await.unwrap(), 11);
    assert_eq!(file.seek(SeekFrom::Start(6)).await.unwrap(), 6);
    file.write_all(b"WORLD").await.unwrap();
    assert_eq!(file.seek(SeekFrom::Current(-11)).await.unwrap(), 0);

    // A small read fetches the whole file ahead; the position is still the reader's.
    let mut five = [0; 5];
    file.read_exact(&mut five).await.unwrap();
    assert_eq!(&five, b"hello");
    assert_eq!(file.stream_position().await.unwrap(), 5);
    file.read_exact(&mut five[..1]).await.unwrap();
    assert_eq!(file.seek(SeekFrom::Current(1)).await.unwrap(), 7);
    file.read_exact(&mut five[..2]).await.unwrap();
    assert_eq!(&five[..2], b"OR");
    assert_eq!(file.seek(SeekFrom::End(-1)).await.unwrap(), 10);
    file.read_exact(&mut five[..1]).await.unwrap();
    assert_eq!(&five[..1], b"D");

    let err = file.seek(SeekFrom::Current(-100)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello WORLD");
}

#[tulip::test]
async fn writing_after_a_read_writes_where_the_reader_is() {
    let dir = TempDir::new("switch");
    let path = dir.join("f.txt");
    std::fs::write(&path, "abcdefghij").unwrap();
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .await
        .unwrap();
    let mut two = [0; 2];
    file.read_exact(&mut two).await.unwrap(); // read ahead to the end of the file
    file.write_all(b"XY").await.unwrap(); // lands at 2, not at 10
    file.read_exact(&mut two).await.unwrap(); // the write goes out first; then "ef"
    assert_eq!(&two, b"ef");
    file.write_all(b"Z").await.unwrap();
    assert_eq!(file.stream_position().await.unwrap(), 7);
    file.close().await.unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "abXYefZhij");
}

#[tulip::test]
async fn set_len_and_sync() {
    let dir = TempDir::new("set-len");
    let path = dir.join("f.txt");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .await
        .unwrap();
    file.write_all(b"0123456789").await.unwrap();
    file.set_len(4).await.unwrap();
    file.sync_all().await.unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "0123");
    // set_len leaves the position alone: the next write goes at 10, leaving a hole of zeros.
    file.write_all(b"!").await.unwrap();
    file.sync_data().await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"0123\0\0\0\0\0\0!");

    let mut reader = File::open(&path).await.unwrap();
    let err = reader.set_len(0).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
}

async fn lines_of(dir: &TempDir, name: &str, contents: &[u8]) -> Vec<String> {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    File::open(&path)
        .await
        .unwrap()
        .lines()
        .map(|line| line.unwrap())
        .collect()
        .await
}

#[tulip::test]
async fn lines_with_and_without_a_final_newline_and_with_crlf() {
    let dir = TempDir::new("lines");
    assert_eq!(lines_of(&dir, "a", b"one\ntwo\n").await, ["one", "two"]);
    assert_eq!(lines_of(&dir, "b", b"one\ntwo").await, ["one", "two"]);
    assert_eq!(lines_of(&dir, "c", b"one\r\ntwo\r\n").await, ["one", "two"]);
    assert_eq!(lines_of(&dir, "d", b"one\r\ntwo").await, ["one", "two"]);
    assert_eq!(lines_of(&dir, "e", b"\n\n").await, ["", ""]);
    assert_eq!(lines_of(&dir, "f", b"").await, Vec::<String>::new());
    assert_eq!(lines_of(&dir, "g", b"a\rb\n").await, ["a\rb"]);
    assert_eq!(lines_of(&dir, "h", b"tail\r").await, ["tail\r"]);

    // A line longer than the read-ahead, and a \r\n split across two fetches (the file is
    // fetched 64 KiB at a time from its start).
    let mut text = format!("{}\nshort\n", "x".repeat(200_000));
    let boundary = 4 * 64 * 1024;
    text.push_str(&"y".repeat(boundary - 1 - text.len()));
    text.push_str("\r\nend");
    let lines = lines_of(&dir, "long", text.as_bytes()).await;
    let expected: Vec<String> = text
        .split('\n')
        .map(|l| l.trim_end_matches('\r').to_owned())
        .collect();
    assert_eq!(lines, expected);
}

#[tulip::test]
async fn lines_report_invalid_utf8_and_go_on() {
    let dir = TempDir::new("lines-utf8");
    let path = dir.join("bad.txt");
    std::fs::write(&path, b"good\nba\xffd\nfine\n").unwrap();
    let mut lines = File::open(&path).await.unwrap().lines();
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("good"));
    let err = lines.next_line().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("fine"));
    assert_eq!(lines.next_line().await.unwrap(), None);
}

/// Copies `from` to `to` through the futures-io traits alone, the way generic code would.
async fn copy_through_traits<R, W>(from: &mut R, to: &mut W) -> std::io::Result<u64>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut total = 0;
    loop {
        let chunk = poll_fn(|cx| {
            Pin::new(&mut *from)
                .poll_fill_buf(cx)
                .map_ok(<[u8]>::to_vec)
        })
        .await?;
        if chunk.is_empty() {
            poll_fn(|cx| Pin::new(&mut *to).poll_close(cx)).await?;
            return Ok(total);
        }
        let mut written = 0;
        while written < chunk.len() {
            written += poll_fn(|cx| Pin::new(&mut *to).poll_write(cx, &chunk[written..])).await?;
        }
        Pin::new(&mut *from).consume(chunk.len());
        total += chunk.len() as u64;
    }
}

#[tulip::test]
async fn futures_io_traits() {
    let dir = TempDir::new("traits");
    let path = dir.join("f.txt");
    let mut file = File::create(&path).await.unwrap();
    let n = poll_fn(|cx| Pin::new(&mut file).poll_write(cx, b"alpha\nbeta\n"))
        .await
        .unwrap();
    assert_eq!(n, 11);
    poll_fn(|cx| Pin::new(&mut file).poll_flush(cx))
        .await
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"alpha\nbeta\n");
    drop(file);

    let mut file = File::open(&path).await.unwrap();
    let pos = poll_fn(|cx| Pin::new(&mut file).poll_seek(cx, SeekFrom::Start(1)))
        .await
        .unwrap();
    assert_eq!(pos, 1);
    let mut four = [0; 4];
    let n = poll_fn(|cx| Pin::new(&mut file).poll_read(cx, &mut four))
        .await
        .unwrap();
    assert_eq!(&four[..n], &b"lpha"[..n]);

    let copy = dir.join("copy.txt");
    let mut from = File::open(&path).await.unwrap();
    let mut to = File::create(&copy).await.unwrap();
    assert_eq!(copy_through_traits(&mut from, &mut to).await.unwrap(), 11);
    assert_eq!(std::fs::read(&copy).unwrap(), b"alpha\nbeta\n");
}

#[tulip::test]
async fn into_std_and_from_std_keep_the_position() {
    let dir = TempDir::new("std");
    let path = dir.join("f.txt");
    std::fs::write(&path, "0123456789").unwrap();
    let mut file = File::open(&path).await.unwrap();
    let mut three = [0; 3];
    file.read_exact(&mut three).await.unwrap();
    let mut std = file.into_std().await.unwrap();
    let mut next = [0; 2];
    std.read_exact(&mut next).unwrap();
    assert_eq!(&next, b"34");

    let mut file = File::from_std(std);
    let mut rest = String::new();
    file.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "56789");

    // Pending writes are flushed by into_std.
    let mut file = File::create(dir.join("g.txt")).await.unwrap();
    file.write_all(b"pending").await.unwrap();
    let std = file.into_std().await.unwrap();
    assert_eq!(std.metadata().unwrap().len(), 7);

    // A file from std names its path in errors (the OS knows it).
    let std = std::fs::File::open(&path).unwrap();
    let mut file = File::from_std(std);
    let err = file
        .write_all(b"x")
        .await
        .and(file.flush().await)
        .unwrap_err();
    assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
}

#[test]
fn a_dropped_file_loses_nothing_after_the_loop_closes() {
    let dir = TempDir::new("drop");
    let small = dir.join("small.txt");
    let big = dir.join("big.txt");
    let outside = dir.join("outside.txt");
    let in_task = dir.join("in-task.txt");
    let big_data: Vec<u8> = (0..700_001u32).map(|i| (i % 253) as u8).collect();
    let (small2, big2, outside2, in_task2, big_data2) = (
        small.clone(),
        big.clone(),
        outside.clone(),
        in_task.clone(),
        big_data.clone(),
    );
    let escaped = tulip::run(async move {
        // Nothing flushed: everything is in the write buffer.
        let mut file = File::create(&small2).await.unwrap();
        for i in 0..1000 {
            file.write_all(format!("{i}\n").as_bytes()).await.unwrap();
        }
        drop(file);
        // Past the buffer size: a write job is in flight when the rest is dropped.
        let mut file = File::create(&big2).await.unwrap();
        for piece in big_data2.chunks(4096) {
            file.write_all(piece).await.unwrap();
        }
        drop(file);
        // A task cancelled when the loop closes, holding a file with pending data.
        let in_task = in_task2.clone();
        let (written, wrote) = tulip::sync::oneshot::channel::<()>();
        tulip::spawn(async move {
            let mut file = File::create(&in_task).await.unwrap();
            file.write_all(b"written by a task that never finished\n")
                .await
                .unwrap();
            written.set_result(()).unwrap();
            std::future::pending::<()>().await;
        })
        .detach();
        // The task has its data buffered (not yet written) when the loop closes.
        wrote.await.unwrap();
        // A file that leaves the loop and is dropped after it closed.
        let mut file = File::create(&outside2).await.unwrap();
        file.write_all(b"dropped outside the loop").await.unwrap();
        file
    });
    drop(escaped);
    let expected: String = (0..1000).map(|i| format!("{i}\n")).collect();
    assert_eq!(std::fs::read_to_string(&small).unwrap(), expected);
    assert_eq!(std::fs::read(&big).unwrap(), big_data);
    assert_eq!(
        std::fs::read_to_string(&in_task).unwrap(),
        "written by a task that never finished\n"
    );
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "dropped outside the loop"
    );
}

#[test]
fn a_cancelled_read_keeps_its_data_for_the_next_read() {
    let dir = TempDir::new("cancel-read");
    let path = dir.join("f.txt");
    std::fs::write(&path, "abcdef").unwrap();
    // One pool thread, kept busy, so the read's job is certainly still queued when the read is
    // dropped.
    let mut rt = tulip::Runtime::builder()
        .thread_pool_size(1)
        .build()
        .unwrap();
    rt.block_on(async move {
        let mut file = File::open(&path).await.unwrap();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let blocker = tulip::to_thread(move || wait.recv());
        let mut buf = [0; 3];
        {
            let read = file.read(&mut buf);
            let mut read = std::pin::pin!(read);
            let first = futures_lite::future::poll_once(&mut read).await;
            assert!(first.is_none(), "the read waits for the busy pool");
        }
        release.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        file.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"abc");
    });
}
