//! Property test: a random sequence of reads, writes (small and larger than the write
//! buffer), seeks, flushes, `set_len` and `read_to_end` on a `tulip::fs::File` gives the same
//! results, position and final contents as the same sequence on a `std::fs::File`, in
//! read-write and in append mode.

mod fs_common;

use std::io::{Read, Seek, SeekFrom, Write};

use fs_common::TempDir;
use proptest::prelude::*;
use tulip::fs::{File, OpenOptions};

#[derive(Debug, Clone)]
enum Op {
    Write(Vec<u8>),
    /// `len` bytes of `byte`: big ones cross the 128 KiB write buffer.
    WriteRun(u8, usize),
    /// Read until `n` bytes or the end of the file.
    Read(usize),
    ReadToEnd,
    Seek(SeekFrom),
    Position,
    Flush,
    SetLen(u64),
    Len,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 1..40).prop_map(Op::Write),
        1 => (any::<u8>(), prop_oneof![1usize..5_000, 100_000usize..300_000])
            .prop_map(|(b, n)| Op::WriteRun(b, n)),
        4 => prop_oneof![3 => 1usize..5_000, 1 => 5_000usize..200_000].prop_map(Op::Read),
        1 => Just(Op::ReadToEnd),
        1 => (0u64..400_000).prop_map(|n| Op::Seek(SeekFrom::Start(n))),
        1 => (-300_000i64..300_000).prop_map(|n| Op::Seek(SeekFrom::Current(n))),
        1 => (-300_000i64..10).prop_map(|n| Op::Seek(SeekFrom::End(n))),
        1 => Just(Op::Position),
        1 => Just(Op::Flush),
        1 => (0u64..300_000).prop_map(Op::SetLen),
        1 => Just(Op::Len),
    ]
}

/// A file's initial contents: up to `max` bytes of a seeded pattern (cheap to generate and to
/// shrink, unlike a vector of random bytes).
fn contents(max: usize) -> impl Strategy<Value = Vec<u8>> {
    (0..max, any::<u8>()).prop_map(|(len, seed)| {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    })
}

/// What an operation observed; errors compare by kind.
#[derive(Debug, PartialEq)]
enum Seen {
    Bytes(Vec<u8>),
    Number(u64),
    Unit,
    Error(std::io::ErrorKind),
}

fn on_std(file: &mut std::fs::File, op: &Op) -> Seen {
    let seen = match op {
        Op::Write(bytes) => file.write_all(bytes).map(|()| Seen::Unit),
        Op::WriteRun(byte, len) => file.write_all(&vec![*byte; *len]).map(|()| Seen::Unit),
        // A read of a regular file returns what is there up to `n` (the tulip side may return
        // less at a read-ahead boundary, so both sides read until `n` or the end).
        Op::Read(n) => {
            let mut buf = Vec::new();
            Read::by_ref(file)
                .take(*n as u64)
                .read_to_end(&mut buf)
                .map(|_| Seen::Bytes(buf))
        }
        Op::ReadToEnd => {
            let mut buf = Vec::new();
            file.read_to_end(&mut buf).map(|_| Seen::Bytes(buf))
        }
        Op::Seek(pos) => file.seek(*pos).map(Seen::Number),
        Op::Position => file.stream_position().map(Seen::Number),
        Op::Flush => file.flush().map(|()| Seen::Unit),
        Op::SetLen(n) => file.set_len(*n).map(|()| Seen::Unit),
        Op::Len => file.metadata().map(|m| Seen::Number(m.len())),
    };
    seen.unwrap_or_else(|err| Seen::Error(err.kind()))
}

async fn read_up_to(file: &mut File, n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0; n];
    let mut filled = 0;
    while filled < n {
        match file.read(&mut buf[filled..]).await? {
            0 => break,
            got => filled += got,
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

async fn on_tulip(file: &mut File, op: &Op) -> Seen {
    let seen = match op {
        Op::Write(bytes) => file.write_all(bytes).await.map(|()| Seen::Unit),
        Op::WriteRun(byte, len) => file
            .write_all(&vec![*byte; *len])
            .await
            .map(|()| Seen::Unit),
        Op::Read(n) => read_up_to(file, *n).await.map(Seen::Bytes),
        Op::ReadToEnd => {
            let mut buf = Vec::new();
            file.read_to_end(&mut buf).await.map(|_| Seen::Bytes(buf))
        }
        Op::Seek(pos) => file.seek(*pos).await.map(Seen::Number),
        Op::Position => file.stream_position().await.map(Seen::Number),
        Op::Flush => file.flush().await.map(|()| Seen::Unit),
        Op::SetLen(n) => file.set_len(*n).await.map(|()| Seen::Unit),
        Op::Len => file.metadata().await.map(|m| Seen::Number(m.len())),
    };
    seen.unwrap_or_else(|err| Seen::Error(err.kind()))
}

fn check(initial: &[u8], ops: &[Op], append: bool) -> Result<(), TestCaseError> {
    let dir = TempDir::new("proptest");
    let std_path = dir.join("std.bin");
    let tulip_path = dir.join("tulip.bin");
    std::fs::write(&std_path, initial).unwrap();
    std::fs::write(&tulip_path, initial).unwrap();
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    if append {
        options.append(true);
    } else {
        options.write(true);
    }
    let mut std_file = options.open(&std_path).unwrap();
    let expected: Vec<Seen> = ops.iter().map(|op| on_std(&mut std_file, op)).collect();
    drop(std_file);

    let ops = ops.to_vec();
    let path = tulip_path.clone();
    let seen = tulip::run(async move {
        let mut options = OpenOptions::new();
        options.read(true);
        if append {
            options.append(true);
        } else {
            options.write(true);
        }
        let mut file = options.open(&path).await.unwrap();
        let mut seen = Vec::new();
        for op in &ops {
            seen.push(on_tulip(&mut file, op).await);
        }
        file.close().await.unwrap();
        seen
    });
    for (i, (got, want)) in seen.iter().zip(&expected).enumerate() {
        prop_assert_eq!(got, want, "operation {} differs", i);
    }
    prop_assert!(
        std::fs::read(&tulip_path).unwrap() == std::fs::read(&std_path).unwrap(),
        "final contents differ"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn read_write_seek_agree_with_std(
        initial in contents(200_000),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        check(&initial, &ops, false)?;
    }

    #[test]
    fn append_mode_agrees_with_std(
        initial in contents(100_000),
        ops in prop::collection::vec(op(), 1..30),
    ) {
        check(&initial, &ops, true)?;
    }
}

/// A case the property found: a seek that fails (before the start) after a read that fetched
/// ahead must leave the position where the reader is, so the next write lands there.
#[test]
fn a_failed_seek_after_read_ahead_keeps_the_position() {
    let initial: Vec<u8> = (0..95_806u32).map(|i| (i % 256) as u8).collect();
    let ops = [
        Op::Read(1),
        Op::Seek(SeekFrom::End(-95_807)),
        Op::Write(vec![0]),
        Op::Position,
    ];
    check(&initial, &ops, false).unwrap();
}
