//! Content decoding: undoing a response's `Content-Encoding` (gzip, deflate, brotli) as the body
//! streams in, with the decoded size bounded.
//!
//! aiohttp does this in `ClientResponse` with `zlib.decompressobj` and the `brotli` module
//! (`auto_decompress=True`); here a [`ContentDecoder`] is made from the response headers and fed
//! each body frame.
//!
//! # Bounded memory
//!
//! A compressed body can expand a thousandfold (a "gzip bomb": 1 MB on the wire, 1 GB decoded).
//! Every stage decompresses into a fixed scratch buffer of [`STEP`] bytes and hands each step on
//! at once, and the final output is checked against the caller's limit before it is appended, so
//! [`DecodeError::TooLarge`] comes as soon as the output would pass the limit: memory holds the
//! limit plus a few steps, never the bomb. (Brotli also keeps its window, at most 16 MiB for the
//! RFC 7932 streams HTTP uses; the large-window extension is refused.)
//!
//! # What is accepted
//!
//! - `gzip` and `x-gzip` (RFC 1952). Concatenated members are decoded one after another, as
//!   `gzip -d` does; each member's CRC-32 and length are checked.
//! - `deflate`: the zlib format (RFC 1950, Adler-32 checked) as the RFC says, and raw deflate
//!   (RFC 1951) when the first two bytes are not a zlib header, as some servers send and browsers
//!   accept.
//! - `br` (RFC 7932).
//! - `identity`, or no `Content-Encoding`: no decoder.
//! - A list (`Content-Encoding: gzip, br`, or several header lines) names the codings in the
//!   order the server applied them, so they are undone in reverse: `br` first, then `gzip`. At
//!   most [`MAX_STACKED`] codings (curl's limit), anything else is [`DecodeError::Unsupported`].
//!
//! Bytes after the end of the compressed data (after the last gzip member, the zlib or brotli
//! end marker) are ignored, as browsers ignore them. A body that is entirely empty decodes to
//! nothing (servers send `Content-Encoding: gzip` on empty redirects); a body cut short anywhere
//! else is [`DecodeError::Corrupt`] from [`ContentDecoder::finish`].

use std::fmt;
use std::io;

use brotli_decompressor::{
    BrotliDecoderParameter, BrotliDecompressStream, BrotliResult, BrotliState, StandardAlloc,
};
use flate2::{Crc, Decompress, FlushDecompress, Status};
use http::HeaderMap;
use http::header::CONTENT_ENCODING;

/// The size of one decoding step: each stage's scratch buffer, the most output produced before
/// it is checked against the limit.
pub(crate) const STEP: usize = 32 * 1024;

/// The most codings one `Content-Encoding` may stack.
pub(crate) const MAX_STACKED: usize = 5;

/// The longest gzip header accepted (the optional file name and comment have no length limit in
/// RFC 1952; real ones are short).
const MAX_GZIP_HEADER: usize = 64 * 1024;

/// Why a body could not be decoded.
#[derive(Debug)]
pub(crate) enum DecodeError {
    /// The decoded output would pass the limit.
    TooLarge,
    /// The unknown `Content-Encoding`.
    Unsupported(String),
    /// Corrupt compressed data.
    Corrupt(io::Error),
}

impl DecodeError {
    fn corrupt(msg: impl Into<String>) -> DecodeError {
        DecodeError::Corrupt(io::Error::new(io::ErrorKind::InvalidData, msg.into()))
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooLarge => f.write_str("the decoded body is over the size limit"),
            DecodeError::Unsupported(name) => write!(f, "unsupported Content-Encoding `{name}`"),
            DecodeError::Corrupt(err) => write!(f, "corrupt compressed body: {err}"),
        }
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DecodeError::Corrupt(err) => Some(err),
            _ => None,
        }
    }
}

/// Where a stage sends each step of its output: the next stage, or the caller's buffer.
type Sink<'a> = dyn FnMut(&[u8]) -> Result<(), DecodeError> + 'a;

/// Undoes a body's `Content-Encoding`, one frame at a time.
///
/// Feed every frame to [`decode`](ContentDecoder::decode), then call
/// [`finish`](ContentDecoder::finish) at the end of the body. After an error the decoder
/// refuses further input.
pub(crate) struct ContentDecoder {
    /// Outermost coding first (the last one the server applied).
    stages: Vec<Stage>,
    failed: bool,
}

impl fmt::Debug for ContentDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.stages.iter().map(Stage::name).collect();
        f.debug_struct("ContentDecoder")
            .field("stages", &names)
            .field("failed", &self.failed)
            .finish()
    }
}

impl ContentDecoder {
    /// The decoder for the response's `Content-Encoding`; None when the body is not encoded (no
    /// Content-Encoding, or `identity`).
    pub(crate) fn from_headers(headers: &HeaderMap) -> Result<Option<ContentDecoder>, DecodeError> {
        let mut codings = Vec::new();
        for value in headers.get_all(CONTENT_ENCODING) {
            let value = value.to_str().map_err(|_| {
                DecodeError::Unsupported(String::from_utf8_lossy(value.as_bytes()).into_owned())
            })?;
            for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if !name.eq_ignore_ascii_case("identity") {
                    codings.push(name);
                }
            }
        }
        if codings.is_empty() {
            return Ok(None);
        }
        if codings.len() > MAX_STACKED {
            return Err(DecodeError::Unsupported(format!(
                "{} (more than {MAX_STACKED} stacked codings)",
                codings.join(", ")
            )));
        }
        let stages = codings
            .iter()
            .rev()
            .map(|name| Stage::for_name(name))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(ContentDecoder {
            stages,
            failed: false,
        }))
    }

    /// Decodes `input`, appending to `out`; TooLarge as soon as `out` would grow past `limit`
    /// bytes (`out.len()` counts, so pass a fresh buffer with the remaining allowance, or one
    /// buffer for the whole body with the whole limit).
    pub(crate) fn decode(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), DecodeError> {
        self.check_usable()?;
        if input.is_empty() {
            return Ok(());
        }
        let mut sink = |piece: &[u8]| append_limited(out, piece, limit);
        let result = feed_chain(&mut self.stages, input, &mut sink);
        self.failed = result.is_err();
        result
    }

    /// At the end of the body: flushes what is left into `out` (same `limit` rule as
    /// [`decode`](ContentDecoder::decode)); Corrupt if the compressed stream was cut short.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), DecodeError> {
        self.check_usable()?;
        let mut sink = |piece: &[u8]| append_limited(out, piece, limit);
        let result = finish_chain(&mut self.stages, &mut sink);
        self.failed = result.is_err();
        result
    }

    fn check_usable(&self) -> Result<(), DecodeError> {
        if self.failed {
            Err(DecodeError::corrupt("the decoder already failed"))
        } else {
            Ok(())
        }
    }
}

fn append_limited(out: &mut Vec<u8>, piece: &[u8], limit: usize) -> Result<(), DecodeError> {
    if out.len().saturating_add(piece.len()) > limit {
        return Err(DecodeError::TooLarge);
    }
    out.extend_from_slice(piece);
    Ok(())
}

/// Feeds `input` to the first stage, whose every output step goes through the rest.
fn feed_chain(stages: &mut [Stage], input: &[u8], sink: &mut Sink<'_>) -> Result<(), DecodeError> {
    match stages.split_first_mut() {
        None => sink(input),
        Some((first, rest)) => first.feed(input, &mut |piece| feed_chain(rest, piece, sink)),
    }
}

/// Ends the first stage (its last output going through the rest), then the rest.
fn finish_chain(stages: &mut [Stage], sink: &mut Sink<'_>) -> Result<(), DecodeError> {
    match stages.split_first_mut() {
        None => Ok(()),
        Some((first, rest)) => {
            first.finish(&mut |piece| feed_chain(rest, piece, sink))?;
            finish_chain(rest, sink)
        }
    }
}

/// One coding to undo.
enum Stage {
    Gzip(Box<Gzip>),
    Deflate(Box<Deflate>),
    Brotli(Box<Brotli>),
}

impl Stage {
    fn for_name(name: &str) -> Result<Stage, DecodeError> {
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "gzip" | "x-gzip" => Ok(Stage::Gzip(Box::new(Gzip::new()))),
            "deflate" => Ok(Stage::Deflate(Box::new(Deflate::new()))),
            "br" => Ok(Stage::Brotli(Box::new(Brotli::new()))),
            _ => Err(DecodeError::Unsupported(name.to_owned())),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Stage::Gzip(_) => "gzip",
            Stage::Deflate(_) => "deflate",
            Stage::Brotli(_) => "br",
        }
    }

    fn feed(&mut self, input: &[u8], sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        match self {
            Stage::Gzip(g) => g.feed(input, sink),
            Stage::Deflate(d) => d.feed(input, sink),
            Stage::Brotli(b) => b.feed(input, sink),
        }
    }

    fn finish(&mut self, sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        match self {
            Stage::Gzip(g) => g.finish(sink),
            Stage::Deflate(d) => d.finish(sink),
            Stage::Brotli(b) => b.finish(sink),
        }
    }
}

fn scratch() -> Box<[u8]> {
    vec![0; STEP].into_boxed_slice()
}

/// A deflate stream (raw or zlib-wrapped) inflated in [`STEP`]-sized steps.
struct Inflater {
    inner: Decompress,
    done: bool,
}

impl Inflater {
    fn new(zlib_header: bool) -> Inflater {
        Inflater {
            inner: Decompress::new(zlib_header),
            done: false,
        }
    }

    /// Inflates from `input` until it is used up or the stream ends; returns how much of
    /// `input` the stream took (the rest follows the stream's end).
    fn feed(
        &mut self,
        input: &[u8],
        scratch: &mut [u8],
        sink: &mut Sink<'_>,
    ) -> Result<usize, DecodeError> {
        let mut used = 0;
        while !self.done {
            let (consumed, produced, status) =
                self.step(&input[used..], scratch, FlushDecompress::None)?;
            used += consumed;
            if produced > 0 {
                sink(&scratch[..produced])?;
            }
            if status == Status::StreamEnd {
                self.done = true;
            } else if produced < scratch.len() {
                // The output had room, so what is missing is input.
                if used == input.len() {
                    break;
                }
                if consumed == 0 && produced == 0 {
                    return Err(DecodeError::corrupt("the deflate stream made no progress"));
                }
            }
        }
        Ok(used)
    }

    /// Drains what the stream still holds; Corrupt unless it reached its end.
    fn finish(&mut self, scratch: &mut [u8], sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        while !self.done {
            let (_, produced, status) = self.step(&[], scratch, FlushDecompress::Finish)?;
            if produced > 0 {
                sink(&scratch[..produced])?;
            }
            if status == Status::StreamEnd {
                self.done = true;
            } else if produced == 0 {
                return Err(DecodeError::corrupt("the deflate stream is truncated"));
            }
        }
        Ok(())
    }

    fn step(
        &mut self,
        input: &[u8],
        scratch: &mut [u8],
        flush: FlushDecompress,
    ) -> Result<(usize, usize, Status), DecodeError> {
        let (in_before, out_before) = (self.inner.total_in(), self.inner.total_out());
        let status = self
            .inner
            .decompress(input, scratch, flush)
            .map_err(|err| DecodeError::Corrupt(io::Error::new(io::ErrorKind::InvalidData, err)))?;
        let consumed = (self.inner.total_in() - in_before) as usize;
        let produced = (self.inner.total_out() - out_before) as usize;
        Ok((consumed, produced, status))
    }
}

/// `Content-Encoding: deflate`: zlib, or raw deflate when the first two bytes are no zlib
/// header.
struct Deflate {
    /// The first bytes, kept until there are two to decide by.
    sniffed: Vec<u8>,
    inflater: Option<Inflater>,
    scratch: Box<[u8]>,
}

impl Deflate {
    fn new() -> Deflate {
        Deflate {
            sniffed: Vec::with_capacity(2),
            inflater: None,
            scratch: scratch(),
        }
    }

    /// RFC 1950: method 8 (deflate), a window of at most 32 KiB, and a check value making the
    /// two bytes a multiple of 31. A raw deflate stream starts this way only by a rare accident
    /// (browsers decide the same way).
    fn is_zlib_header(cmf: u8, flg: u8) -> bool {
        cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
    }

    fn feed(&mut self, mut input: &[u8], sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        if self.inflater.is_none() {
            let take = input.len().min(2 - self.sniffed.len());
            self.sniffed.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.sniffed.len() < 2 {
                return Ok(());
            }
            let zlib = Deflate::is_zlib_header(self.sniffed[0], self.sniffed[1]);
            let mut inflater = Inflater::new(zlib);
            let head = std::mem::take(&mut self.sniffed);
            let used = inflater.feed(&head, &mut self.scratch, sink)?;
            ignore_trailing("deflate", head.len() - used);
            self.inflater = Some(inflater);
        }
        if let Some(inflater) = self.inflater.as_mut() {
            // Once the stream has ended this uses nothing, and the rest is ignored.
            let used = inflater.feed(input, &mut self.scratch, sink)?;
            ignore_trailing("deflate", input.len() - used);
        }
        Ok(())
    }

    fn finish(&mut self, sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        match self.inflater.as_mut() {
            Some(inflater) => inflater.finish(&mut self.scratch, sink),
            // No byte at all is an empty body, not a cut one.
            None if self.sniffed.is_empty() => Ok(()),
            None => Err(DecodeError::corrupt("the deflate stream is truncated")),
        }
    }
}

fn ignore_trailing(coding: &str, len: usize) {
    if len > 0 {
        tracing::debug!("ignoring {len} bytes after the end of the {coding} stream");
    }
}

/// Where a gzip stream is.
enum GzipState {
    /// Collecting a member's header (RFC 1952 section 2.3); empty before any byte came.
    Header(Vec<u8>),
    /// Inflating a member's body, with the CRC-32 and length of its output so far.
    Body { inflater: Inflater, crc: Crc },
    /// Collecting a member's CRC-32 and length (8 bytes) to check against the output.
    Trailer { crc: Crc, trailer: Vec<u8> },
    /// After a member: the start of a next member, or trailing bytes. Holds up to two bytes.
    Between(Vec<u8>),
    /// Ignoring what follows the last member.
    Ignoring,
}

/// `Content-Encoding: gzip`: one member or several concatenated.
struct Gzip {
    state: GzipState,
    scratch: Box<[u8]>,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

impl Gzip {
    fn new() -> Gzip {
        Gzip {
            state: GzipState::Header(Vec::with_capacity(16)),
            scratch: scratch(),
        }
    }

    fn feed(&mut self, mut input: &[u8], sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        // Every step uses input or moves the state on; a few steps in a row that do neither
        // would be a bug here, reported rather than looped on.
        let mut stalls = 0;
        while !input.is_empty() {
            let used = self.step(input, sink)?;
            input = &input[used..];
            stalls = if used == 0 { stalls + 1 } else { 0 };
            if stalls > 3 {
                return Err(DecodeError::corrupt("the gzip stream made no progress"));
            }
        }
        Ok(())
    }

    /// Moves the stream on with `data`; returns how many bytes of it were used.
    fn step(&mut self, data: &[u8], sink: &mut Sink<'_>) -> Result<usize, DecodeError> {
        match &mut self.state {
            GzipState::Header(collected) => {
                // Bytes collected before did not complete the header, so a complete header
                // ends inside `data`.
                let before = collected.len();
                let take = data.len().min(MAX_GZIP_HEADER - before);
                collected.extend_from_slice(&data[..take]);
                match parse_gzip_header(collected)? {
                    Some(len) => {
                        self.state = GzipState::Body {
                            inflater: Inflater::new(false),
                            crc: Crc::new(),
                        };
                        Ok(len - before)
                    }
                    None if collected.len() >= MAX_GZIP_HEADER => Err(DecodeError::corrupt(
                        "the gzip header is longer than 64 KiB",
                    )),
                    None => Ok(take),
                }
            }
            GzipState::Body { inflater, crc } => {
                let used = inflater.feed(data, &mut self.scratch, &mut |piece| {
                    crc.update(piece);
                    sink(piece)
                })?;
                if inflater.done {
                    let crc = std::mem::take(crc);
                    self.state = GzipState::Trailer {
                        crc,
                        trailer: Vec::with_capacity(8),
                    };
                }
                Ok(used)
            }
            GzipState::Trailer { crc, trailer } => {
                let take = data.len().min(8 - trailer.len());
                trailer.extend_from_slice(&data[..take]);
                if trailer.len() == 8 {
                    check_gzip_trailer(crc, trailer)?;
                    self.state = GzipState::Between(Vec::with_capacity(2));
                }
                Ok(take)
            }
            GzipState::Between(start) => {
                let take = data.len().min(2 - start.len());
                start.extend_from_slice(&data[..take]);
                if start.len() == 2 {
                    if start[..] == GZIP_MAGIC {
                        self.state = GzipState::Header(GZIP_MAGIC.to_vec());
                    } else {
                        ignore_trailing("gzip", 2);
                        self.state = GzipState::Ignoring;
                    }
                }
                Ok(take)
            }
            GzipState::Ignoring => {
                ignore_trailing("gzip", data.len());
                Ok(data.len())
            }
        }
    }

    fn finish(&mut self, _sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        // The body state flushes all it can on every feed, so nothing is left to hand on.
        match &self.state {
            GzipState::Header(collected) if collected.is_empty() => Ok(()),
            GzipState::Between(_) | GzipState::Ignoring => Ok(()),
            GzipState::Header(_) | GzipState::Body { .. } | GzipState::Trailer { .. } => {
                Err(DecodeError::corrupt("the gzip stream is truncated"))
            }
        }
    }
}

/// The length of the gzip member header at the start of `buf`, None if `buf` ends inside it.
fn parse_gzip_header(buf: &[u8]) -> Result<Option<usize>, DecodeError> {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    const RESERVED: u8 = 0xe0;

    // Checks each byte of the fixed part as soon as it is there, so garbage fails at once.
    if buf.first().is_some_and(|&b| b != GZIP_MAGIC[0])
        || buf.get(1).is_some_and(|&b| b != GZIP_MAGIC[1])
    {
        return Err(DecodeError::corrupt("not gzip data (bad magic bytes)"));
    }
    if buf.get(2).is_some_and(|&b| b != 8) {
        return Err(DecodeError::corrupt("unknown gzip compression method"));
    }
    if buf.get(3).is_some_and(|&b| b & RESERVED != 0) {
        return Err(DecodeError::corrupt("reserved gzip header flags are set"));
    }
    if buf.len() < 10 {
        return Ok(None);
    }
    let flags = buf[3];
    let mut pos = 10;
    if flags & FEXTRA != 0 {
        let Some(len) = buf.get(pos..pos + 2) else {
            return Ok(None);
        };
        pos += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let Some(rest) = buf.get(pos..) else {
                return Ok(None);
            };
            match rest.iter().position(|&b| b == 0) {
                Some(nul) => pos += nul + 1,
                None => return Ok(None),
            }
        }
    }
    if flags & FHCRC != 0 {
        let Some(stored) = buf.get(pos..pos + 2) else {
            return Ok(None);
        };
        let mut crc = Crc::new();
        crc.update(&buf[..pos]);
        if crc.sum() as u16 != u16::from_le_bytes([stored[0], stored[1]]) {
            return Err(DecodeError::corrupt(
                "the gzip header checksum does not match",
            ));
        }
        pos += 2;
    }
    Ok((pos <= buf.len()).then_some(pos))
}

/// Checks a member's trailer: the CRC-32 and the length (mod 2^32) of its output.
fn check_gzip_trailer(crc: &Crc, trailer: &[u8]) -> Result<(), DecodeError> {
    let stored_crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let stored_len = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    if stored_crc != crc.sum() {
        return Err(DecodeError::corrupt(
            "the gzip CRC-32 does not match the data",
        ));
    }
    if stored_len != crc.amount() {
        return Err(DecodeError::corrupt(
            "the gzip length does not match the data",
        ));
    }
    Ok(())
}

/// `Content-Encoding: br`.
struct Brotli {
    state: BrotliState<StandardAlloc, StandardAlloc, StandardAlloc>,
    started: bool,
    done: bool,
    scratch: Box<[u8]>,
}

impl Brotli {
    fn new() -> Brotli {
        let mut state = BrotliState::new(
            StandardAlloc::default(),
            StandardAlloc::default(),
            StandardAlloc::default(),
        );
        // HTTP's `br` is RFC 7932, whose window is at most 16 MiB; the large-window extension
        // would let a stream make the decoder hold up to 1 GiB.
        state.set_parameter(BrotliDecoderParameter::BROTLI_DECODER_PARAM_LARGE_WINDOW, 0);
        Brotli {
            state,
            started: false,
            done: false,
            scratch: scratch(),
        }
    }

    fn feed(&mut self, input: &[u8], sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        if self.done {
            ignore_trailing("brotli", input.len());
            return Ok(());
        }
        self.started |= !input.is_empty();
        let mut available_in = input.len();
        let mut input_offset = 0;
        loop {
            let mut available_out = self.scratch.len();
            let mut output_offset = 0;
            let mut total_out = 0;
            let result = BrotliDecompressStream(
                &mut available_in,
                &mut input_offset,
                input,
                &mut available_out,
                &mut output_offset,
                &mut self.scratch,
                &mut total_out,
                &mut self.state,
            );
            if output_offset > 0 {
                sink(&self.scratch[..output_offset])?;
            }
            match result {
                BrotliResult::NeedsMoreOutput => continue,
                BrotliResult::NeedsMoreInput => return Ok(()),
                BrotliResult::ResultSuccess => {
                    self.done = true;
                    ignore_trailing("brotli", available_in);
                    return Ok(());
                }
                BrotliResult::ResultFailure => {
                    return Err(DecodeError::corrupt(format!(
                        "invalid brotli data ({:?})",
                        self.state.error_code
                    )));
                }
            }
        }
    }

    fn finish(&mut self, _sink: &mut Sink<'_>) -> Result<(), DecodeError> {
        // Every feed drains all the output the input allows, so only the end is checked.
        if self.done || !self.started {
            Ok(())
        } else {
            Err(DecodeError::corrupt("the brotli stream is truncated"))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use http::HeaderValue;

    use super::*;

    /// Text-like bytes: compressible, but not trivially.
    fn sample(len: usize) -> Vec<u8> {
        let words = [
            "tulip ", "asyncio ", "event ", "loop ", "gzip ", "bomb ", "é ", "\n",
        ];
        let mut seed = 0x2545_f491_u32;
        let mut out = Vec::with_capacity(len + 16);
        while out.len() < len {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            out.extend_from_slice(words[(seed >> 16) as usize % words.len()].as_bytes());
        }
        out.truncate(len);
        out
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut enc = ZlibEncoder::new(Vec::new(), Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn raw_deflate(data: &[u8]) -> Vec<u8> {
        let mut enc = DeflateEncoder::new(Vec::new(), Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn brotli(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = ::brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            enc.write_all(data).unwrap();
        }
        out
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(CONTENT_ENCODING, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn decoder(values: &[&str]) -> ContentDecoder {
        ContentDecoder::from_headers(&headers(values))
            .unwrap()
            .expect("an encoding")
    }

    /// Decodes `pieces` one after another, then finishes.
    fn decode_pieces(
        encoding: &[&str],
        pieces: &[&[u8]],
        limit: usize,
    ) -> Result<Vec<u8>, DecodeError> {
        let mut dec = decoder(encoding);
        let mut out = Vec::new();
        for piece in pieces {
            dec.decode(piece, &mut out, limit)?;
        }
        dec.finish(&mut out, limit)?;
        Ok(out)
    }

    fn decode_all(encoding: &str, body: &[u8]) -> Result<Vec<u8>, DecodeError> {
        decode_pieces(&[encoding], &[body], usize::MAX)
    }

    fn is_corrupt(r: &Result<Vec<u8>, DecodeError>) -> bool {
        matches!(r, Err(DecodeError::Corrupt(_)))
    }

    type Encoder = fn(&[u8]) -> Vec<u8>;

    /// Every coding's encoder, by `Content-Encoding` name.
    fn encoders() -> Vec<(&'static str, Encoder)> {
        vec![
            ("gzip", gzip),
            ("x-gzip", gzip),
            ("deflate", zlib),
            ("deflate", raw_deflate),
            ("br", brotli),
        ]
    }

    #[test]
    fn no_encoding_or_identity_needs_no_decoder() {
        assert!(
            ContentDecoder::from_headers(&HeaderMap::new())
                .unwrap()
                .is_none()
        );
        assert!(
            ContentDecoder::from_headers(&headers(&["identity"]))
                .unwrap()
                .is_none()
        );
        assert!(
            ContentDecoder::from_headers(&headers(&["Identity, "]))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn unknown_encodings_are_unsupported_by_name() {
        for (value, name) in [
            ("compress", "compress"),
            ("gzip, zstd", "zstd"),
            ("GZIP, x-foo", "x-foo"),
        ] {
            match ContentDecoder::from_headers(&headers(&[value])) {
                Err(DecodeError::Unsupported(n)) => assert_eq!(n, name),
                other => panic!("{value}: {other:?}"),
            }
        }
        let six = ["gzip"; 6].join(", ");
        let err = ContentDecoder::from_headers(&headers(&[&six])).unwrap_err();
        assert!(err.to_string().contains("more than 5 stacked"), "{err}");
    }

    #[test]
    fn round_trips_every_encoding() {
        let data = sample(300_000);
        for (name, encode) in encoders() {
            let body = encode(&data);
            assert!(body.len() < data.len() / 2, "{name} compressed");
            assert_eq!(decode_all(name, &body).unwrap(), data, "{name}");
            // Names are case-insensitive.
            assert_eq!(
                decode_all(&name.to_uppercase(), &body).unwrap(),
                data,
                "{name}"
            );
        }
    }

    #[test]
    fn any_split_of_the_body_decodes_the_same() {
        let data = sample(3_000);
        for (name, encode) in encoders() {
            let body = encode(&data);
            for at in 0..=body.len() {
                let (a, b) = body.split_at(at);
                let out = decode_pieces(&[name], &[a, b], usize::MAX)
                    .unwrap_or_else(|e| panic!("{name} split at {at}: {e}"));
                assert_eq!(out, data, "{name} split at {at}");
            }
            let bytes: Vec<&[u8]> = body.chunks(1).collect();
            assert_eq!(
                decode_pieces(&[name], &bytes, usize::MAX).unwrap(),
                data,
                "{name} bytewise"
            );
        }
    }

    /// A gzip member whose header has every optional field: extra, name, comment, header CRC.
    fn gzip_with_full_header(data: &[u8]) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, 0x02 | 0x04 | 0x08 | 0x10, 0, 0, 0, 0, 0, 255];
        out.extend_from_slice(&[3, 0, b'a', b'b', b'c']);
        out.extend_from_slice(b"file.txt\0a comment\0");
        let mut crc = Crc::new();
        crc.update(&out);
        out.extend_from_slice(&(crc.sum() as u16).to_le_bytes());
        out.extend_from_slice(&raw_deflate(data));
        let mut crc = Crc::new();
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&crc.amount().to_le_bytes());
        out
    }

    #[test]
    fn gzip_header_with_optional_fields_at_every_split() {
        let data = sample(1_000);
        let body = gzip_with_full_header(&data);
        for at in 0..=body.len() {
            let (a, b) = body.split_at(at);
            assert_eq!(
                decode_pieces(&["gzip"], &[a, b], usize::MAX).unwrap(),
                data,
                "at {at}"
            );
        }
        let mut bad = body.clone();
        bad[10] ^= 1; // the extra field, covered by the header CRC
        assert!(is_corrupt(&decode_all("gzip", &bad)));
    }

    #[test]
    fn concatenated_gzip_members_decode_one_after_another() {
        let (a, b) = (sample(5_000), b"second member".to_vec());
        let mut body = gzip(&a);
        body.extend_from_slice(&gzip(&b));
        let mut want = a.clone();
        want.extend_from_slice(&b);
        assert_eq!(decode_all("gzip", &body).unwrap(), want);
        for at in 0..=body.len() {
            let (x, y) = body.split_at(at);
            let out = decode_pieces(&["gzip"], &[x, y], usize::MAX).unwrap();
            assert_eq!(out, want, "split at {at}");
        }
        // A cut second member is a truncated stream.
        assert!(is_corrupt(&decode_all("gzip", &body[..body.len() - 3])));
    }

    #[test]
    fn bytes_after_the_stream_are_ignored() {
        let data = sample(2_000);
        for (name, encode) in encoders() {
            let mut body = encode(&data);
            body.extend_from_slice(b"\0\0 trailing junk");
            assert_eq!(decode_all(name, &body).unwrap(), data, "{name}");
        }
    }

    #[test]
    fn an_empty_body_is_empty_not_truncated() {
        for (name, _) in encoders() {
            assert_eq!(decode_pieces(&[name], &[], 0).unwrap(), b"", "{name}");
            assert_eq!(decode_pieces(&[name], &[b""], 0).unwrap(), b"", "{name}");
        }
    }

    #[test]
    fn every_truncation_is_corrupt() {
        let data = sample(4_000);
        for (name, encode) in encoders() {
            let body = encode(&data);
            for cut in 1..body.len() {
                let r = decode_all(name, &body[..cut]);
                assert!(
                    is_corrupt(&r),
                    "{name} cut at {cut}/{}: {:?}",
                    body.len(),
                    r.map(|o| o.len())
                );
            }
        }
    }

    #[test]
    fn garbage_is_corrupt() {
        let garbage: Vec<u8> = (0..4_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for name in ["gzip", "deflate", "br"] {
            assert!(is_corrupt(&decode_all(name, &garbage)), "{name}");
        }
        // Plain text sent as gzip fails at once, on its first bytes.
        let mut dec = decoder(&["gzip"]);
        let err = dec
            .decode(b"<html>", &mut Vec::new(), usize::MAX)
            .unwrap_err();
        assert!(err.to_string().contains("magic"), "{err}");
        // And the decoder stays failed.
        assert!(
            dec.decode(&gzip(b"ok"), &mut Vec::new(), usize::MAX)
                .is_err()
        );
    }

    #[test]
    fn checksums_are_verified() {
        let data = sample(10_000);
        let body = gzip(&data);
        let n = body.len();
        for (at, what) in [(n - 8, "CRC-32"), (n - 4, "length")] {
            let mut bad = body.clone();
            bad[at] ^= 0x40;
            let err = decode_all("gzip", &bad).unwrap_err();
            assert!(err.to_string().contains(what), "{err}");
        }
        let mut bad = zlib(&data);
        let n = bad.len();
        bad[n - 1] ^= 1; // Adler-32
        assert!(is_corrupt(&decode_all("deflate", &bad)));
    }

    #[test]
    fn stacked_encodings_are_undone_in_reverse() {
        let data = sample(50_000);
        let body = brotli(&gzip(&data));
        assert_eq!(
            decode_pieces(&["gzip, br"], &[&body], usize::MAX).unwrap(),
            data
        );
        // The same list over two header lines.
        let pieces: Vec<&[u8]> = body.chunks(777).collect();
        assert_eq!(
            decode_pieces(&["gzip", "br"], &pieces, usize::MAX).unwrap(),
            data
        );
        // The other order does not decode.
        assert!(decode_pieces(&["br, gzip"], &[&body], usize::MAX).is_err());
        // Identity in the list is skipped.
        let body = zlib(&gzip(&data));
        assert_eq!(
            decode_pieces(&["gzip, identity, deflate"], &[&body], usize::MAX).unwrap(),
            data
        );
    }

    #[test]
    fn the_limit_is_exact() {
        let data = sample(100_000);
        for (name, encode) in encoders() {
            let body = encode(&data);
            assert_eq!(
                decode_pieces(&[name], &[&body], data.len()).unwrap(),
                data,
                "{name}"
            );
            let r = decode_pieces(&[name], &[&body], data.len() - 1);
            assert!(matches!(r, Err(DecodeError::TooLarge)), "{name}");
        }
    }

    #[test]
    fn the_limit_counts_what_out_already_holds() {
        let mut dec = decoder(&["gzip"]);
        let mut out = vec![0; 90];
        assert!(matches!(
            dec.decode(&gzip(&[1; 11]), &mut out, 100),
            Err(DecodeError::TooLarge)
        ));
        let mut dec = decoder(&["gzip"]);
        let mut out = vec![0; 90];
        dec.decode(&gzip(&[1; 10]), &mut out, 100).unwrap();
        dec.finish(&mut out, 100).unwrap();
        assert_eq!(out.len(), 100);
    }

    /// Raw deflate of `len` zero bytes as one fixed-Huffman block: a zero literal, then
    /// (length 258, distance 1) copies. 13 bits per 258 bytes, so 1 GiB is 6.5 MB.
    fn deflate_zeros(len: u64) -> Vec<u8> {
        struct Bits {
            out: Vec<u8>,
            acc: u64,
            n: u32,
        }
        impl Bits {
            fn put(&mut self, value: u64, n: u32) {
                self.acc |= value << self.n;
                self.n += n;
                while self.n >= 8 {
                    self.out.push(self.acc as u8);
                    self.acc >>= 8;
                    self.n -= 8;
                }
            }
            /// Huffman codes go most significant bit first.
            fn code(&mut self, code: u64, n: u32) {
                let reversed = (0..n).fold(0, |r, i| r | ((code >> i) & 1) << (n - 1 - i));
                self.put(reversed, n);
            }
        }
        let mut bits = Bits {
            out: Vec::with_capacity((len / 150) as usize),
            acc: 0,
            n: 0,
        };
        bits.put(1, 1); // final block
        bits.put(1, 2); // fixed Huffman codes
        bits.code(0b0011_0000, 8); // literal 0
        let mut left = len - 1;
        while left >= 258 {
            bits.code(0b1100_0101, 8); // length 258
            bits.code(0, 5); // distance 1
            left -= 258;
        }
        while left >= 3 {
            bits.code(1, 7); // length 3
            bits.code(0, 5);
            left -= 3;
        }
        for _ in 0..left {
            bits.code(0b0011_0000, 8);
        }
        bits.code(0, 7); // end of block
        bits.put(0, 7); // flush to a byte
        bits.out
    }

    #[test]
    fn the_zero_generator_makes_valid_deflate() {
        for len in [1, 2, 3, 4, 258, 259, 262, 100_000] {
            let body = deflate_zeros(len);
            assert_eq!(decode_all("deflate", &body).unwrap(), vec![0; len as usize]);
        }
    }

    #[test]
    fn a_gigabyte_bomb_stops_at_the_limit_after_little_input() {
        const GIB: u64 = 1 << 30;
        const LIMIT: usize = 1 << 20;
        let deflated = deflate_zeros(GIB);
        let mut body = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
        body.extend_from_slice(&deflated);
        let mut crc = Crc::new();
        crc.update(&[0; 1 << 20]);
        let mut total = Crc::new();
        for _ in 0..1024 {
            total.combine(&crc);
        }
        body.extend_from_slice(&total.sum().to_le_bytes());
        body.extend_from_slice(&(GIB as u32).to_le_bytes());
        assert!(body.len() < 7_000_000);

        let mut dec = decoder(&["gzip"]);
        let mut out = Vec::new();
        let mut fed = 0;
        let err = loop {
            let chunk = &body[fed..(fed + 16_384).min(body.len())];
            fed += chunk.len();
            if let Err(err) = dec.decode(chunk, &mut out, LIMIT) {
                break err;
            }
            assert!(fed < body.len(), "the whole bomb was decoded");
        };
        assert!(matches!(err, DecodeError::TooLarge), "{err}");
        // It stopped within one step of the limit: about 1 MiB of output from about 7 KiB of
        // input, never more than the limit in memory.
        assert!(
            out.len() <= LIMIT && out.len() > LIMIT - STEP,
            "{}",
            out.len()
        );
        assert!(out.capacity() <= 2 * LIMIT, "{}", out.capacity());
        assert!(fed <= 2 * 16_384, "fed {fed} bytes");
    }

    #[test]
    fn a_brotli_bomb_stops_at_the_limit() {
        let body = brotli(&vec![0; 64 << 20]);
        assert!(body.len() < 64 << 10, "{}", body.len());
        let mut dec = decoder(&["br"]);
        let mut out = Vec::new();
        let err = dec.decode(&body, &mut out, 1 << 20).unwrap_err();
        assert!(matches!(err, DecodeError::TooLarge));
        assert!(out.len() <= 1 << 20);
    }
}
