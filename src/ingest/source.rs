//! Input files: finding them, undoing gzip and the BOM, and cutting them into
//! one JSON text per report (NDJSON lines, or the elements of one array),
//! each with the position an operator needs to find it again.
//!
//! Everything here streams: one report's text is in memory at a time.

use std::cell::RefCell;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use flate2::read::MultiGzDecoder;
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

/// Where a report sits in its file: a 1-based line for NDJSON, a 0-based
/// element index for a JSON array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Line(u64),
    Index(u64),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Line(n) => write!(f, "line {n}"),
            Position::Index(i) => write!(f, "array index {i}"),
        }
    }
}

/// What a file yields: a report's JSON text, or a stretch of the file that
/// cannot be cut into reports at all (a broken array), kept raw so nothing is
/// lost.
pub enum Record<'a> {
    Report(Position, &'a [u8]),
    Unreadable(Position, String, Vec<u8>),
}

/// What one file may cost, so that a hostile or broken file (a gzip bomb,
/// a line of a gigabyte) is quarantined instead of exhausting the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest report text (an NDJSON line, an array element) parsed;
    /// a longer one is quarantined.
    pub max_report_bytes: u64,
    /// The most bytes that one compressed file may expand to; past it the
    /// rest of the file is quarantined, unread.
    pub max_decompressed_bytes: u64,
}

impl Limits {
    pub const DEFAULT_MAX_REPORT_BYTES: u64 = 16 << 20;
    pub const DEFAULT_MAX_DECOMPRESSED_BYTES: u64 = 4 << 30;
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_report_bytes: Self::DEFAULT_MAX_REPORT_BYTES,
            max_decompressed_bytes: Self::DEFAULT_MAX_DECOMPRESSED_BYTES,
        }
    }
}

/// How much of a record that is too long to keep whole is kept in
/// `quarantine.raw`: enough to recognise it, never the gigabyte.
pub const RAW_PREFIX_BYTES: usize = 64 << 10;

/// How much of a too-long record is kept: its first 64 KiB, or less when
/// the limit itself is smaller.
fn raw_prefix(limits: &Limits) -> usize {
    RAW_PREFIX_BYTES.min(usize::try_from(limits.max_report_bytes).unwrap_or(usize::MAX))
}

fn too_long_reason(what: &str, bytes: u64, kept: usize, limits: &Limits) -> String {
    format!(
        "{what} is {bytes} bytes, longer than the limit of {} bytes (--max-report-bytes); \
         raw keeps its first {kept} bytes",
        limits.max_report_bytes
    )
}

fn expansion_reason(limits: &Limits) -> String {
    format!(
        "the file expands past the limit of {} bytes (--max-decompressed-bytes): \
         a gzip bomb, or a file to split; the rest of it is not read, and raw keeps \
         the start of the record it stopped in",
        limits.max_decompressed_bytes
    )
}

/// Lists the files under each path, recursively, in a stable order (sorted
/// by path) so that "the first delivery wins" means the same on every run.
/// Files and folders whose names start with `.` are skipped, and so is the
/// folder `skip` (the lake itself, should it sit inside the inbox).
///
/// A folder reached twice (a symlink loop, or two links to one folder) is
/// walked once. An entry inside a folder that cannot be examined (a
/// dangling link, a link to itself, a folder that cannot be listed) is
/// listed as a file anyway: reading it then fails, and that failure is
/// logged against it while the run goes on. Only a path given on the
/// command line that does not exist stops the run.
pub fn discover(paths: &[PathBuf], skip: &Path) -> io::Result<Vec<PathBuf>> {
    let skip = std::fs::canonicalize(skip).ok();
    let mut files = Vec::new();
    let mut walked = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot read `{}`: {e}", path.display()))
        })?;
        if meta.is_dir() {
            walk(path, skip.as_deref(), &mut walked, &mut files);
        } else {
            files.push(path.clone());
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn walk(dir: &Path, skip: Option<&Path>, walked: &mut Vec<PathBuf>, files: &mut Vec<PathBuf>) {
    let Ok(real) = std::fs::canonicalize(dir) else {
        files.push(dir.to_path_buf());
        return;
    };
    if Some(real.as_path()) == skip || walked.contains(&real) {
        return;
    }
    walked.push(real);
    let Ok(entries) = std::fs::read_dir(dir) else {
        files.push(dir.to_path_buf());
        return;
    };
    for entry in entries {
        let Ok(entry) = entry else {
            files.push(dir.to_path_buf());
            continue;
        };
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        // metadata() follows symlinks, so a linked folder is walked too.
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => walk(&path, skip, walked, files),
            _ => files.push(path),
        }
    }
}

/// Counts and hashes the bytes of the file as stored (compressed or not), so
/// that the ingest log names exactly the file that was read.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Ends the stream (as an end of file would) once `limit` bytes have come
/// out of it, and says so, so that a gzip bomb expands only so far.
struct Limited<R> {
    inner: R,
    left: u64,
    hit: Rc<std::cell::Cell<bool>>,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            if !self.hit.get() && self.inner.read(&mut [0u8])? > 0 {
                self.hit.set(true);
            }
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// What reading a whole file tells the ingest log.
#[derive(Debug, Clone)]
pub struct FileDigest {
    pub sha256: String,
    pub bytes: u64,
}

/// Why a file could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The input itself: unreadable, or a corrupt gzip stream. The file is
    /// logged with the error and the run goes on.
    #[error("cannot read `{path}`: {source}")]
    Read { path: PathBuf, source: io::Error },
    /// What `each` returned: the lake failed, and the run stops.
    #[error(transparent)]
    Sink(anyhow::Error),
}

/// `each` receives every record of a file; its error stops the file.
pub type Each<'e> = dyn FnMut(Record<'_>) -> anyhow::Result<()> + 'e;

/// Reads one file, calling `each` for every record in it, and returns the
/// file's checksum. gzip is recognised by its magic bytes, not its name.
/// Only regular files are read: opening a FIFO would wait for a writer
/// forever, so it (like a socket or a device) is a file that cannot be read.
pub fn read_file(
    path: &Path,
    limits: &Limits,
    each: &mut Each<'_>,
) -> Result<FileDigest, SourceError> {
    let read_error = |source: io::Error| SourceError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if !meta.is_file() {
        return Err(read_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, socket, device or folder is not read)",
        )));
    }
    let file = File::open(path).map_err(read_error)?;
    let hashing = Hashing {
        inner: file,
        hasher: Sha256::new(),
        bytes: 0,
    };
    let mut raw = BufReader::with_capacity(1 << 16, hashing);
    let gzip = raw
        .fill_buf()
        .map_err(read_error)?
        .starts_with(&[0x1f, 0x8b]);
    let expanded_too_far = Rc::new(std::cell::Cell::new(false));
    let mut text: Box<dyn BufRead> = if gzip {
        Box::new(BufReader::with_capacity(
            1 << 16,
            Limited {
                inner: MultiGzDecoder::new(&mut raw),
                left: limits.max_decompressed_bytes,
                hit: Rc::clone(&expanded_too_far),
            },
        ))
    } else {
        Box::new(&mut raw)
    };
    skip_bom(&mut text).map_err(read_error)?;
    let (first, blank_lines) = first_non_space(&mut text).map_err(read_error)?;
    let cut = Cut {
        limits,
        expanded_too_far: &expanded_too_far,
    };
    if first == Some(b'[') {
        read_array(&mut text, &cut, each)
    } else {
        read_lines(&mut text, blank_lines, &cut, each)
    }
    .map_err(|e| match e {
        Stop::Io(e) => read_error(e),
        Stop::Sink(e) => SourceError::Sink(e),
    })?;
    drop(text);
    // Hash to the end even if the decoder stopped early (trailing bytes).
    io::copy(&mut raw, &mut io::sink()).map_err(read_error)?;
    let hashing = raw.into_inner();
    Ok(FileDigest {
        sha256: format!("{:x}", hashing.hasher.finalize()),
        bytes: hashing.bytes,
    })
}

/// Why reading a file stopped early, before the path is attached.
enum Stop {
    Io(io::Error),
    Sink(anyhow::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Stop {
        Stop::Io(e)
    }
}

fn skip_bom(r: &mut dyn BufRead) -> io::Result<()> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    if r.fill_buf()?.starts_with(BOM) {
        r.consume(BOM.len());
    }
    Ok(())
}

/// Peeks at the first byte that is not white space, consuming only the
/// white space before it, and says how many whole lines that was.
fn first_non_space(r: &mut dyn BufRead) -> io::Result<(Option<u8>, u64)> {
    let mut lines = 0;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok((None, lines));
        }
        let end = buf.iter().position(|b| !b.is_ascii_whitespace());
        let skipped = &buf[..end.unwrap_or(buf.len())];
        // Consume whole lines only, so a line keeps its leading spaces.
        let cut = match skipped.iter().rposition(|b| *b == b'\n') {
            Some(i) => i + 1,
            None if end.is_some() => 0,
            None => skipped.len(),
        };
        lines += skipped[..cut].iter().filter(|b| **b == b'\n').count() as u64;
        let first = end.map(|i| buf[i]);
        r.consume(cut);
        if first.is_some() {
            return Ok((first, lines));
        }
    }
}

/// The limits in force while a file is cut into records.
struct Cut<'a> {
    limits: &'a Limits,
    /// Set once the decompressed stream was cut at `max_decompressed_bytes`.
    expanded_too_far: &'a std::cell::Cell<bool>,
}

/// Reads the rest of a line without keeping it; says how many bytes it
/// had before its line end.
fn skip_line(r: &mut dyn BufRead) -> io::Result<u64> {
    let mut scratch = Vec::with_capacity(1 << 16);
    let mut skipped = 0;
    loop {
        scratch.clear();
        let n = (&mut *r).take(1 << 16).read_until(b'\n', &mut scratch)?;
        if scratch.ends_with(b"\n") {
            return Ok(skipped + n as u64 - 1);
        }
        skipped += n as u64;
        if n == 0 {
            return Ok(skipped);
        }
    }
}

fn read_lines(
    r: &mut dyn BufRead,
    lines_before: u64,
    cut: &Cut<'_>,
    each: &mut Each<'_>,
) -> Result<(), Stop> {
    let max = cut.limits.max_report_bytes;
    let mut line = Vec::with_capacity(1 << 14);
    let mut number = lines_before;
    loop {
        line.clear();
        // Up to the limit plus the line end: enough to tell a line that is
        // too long from one that fits, never more.
        if (&mut *r).take(max + 2).read_until(b'\n', &mut line)? == 0 {
            if cut.expanded_too_far.get() {
                // Cut right at a line end: the rest of the file is unread.
                let reason = expansion_reason(cut.limits);
                let position = Position::Line(number + 1);
                each(Record::Unreadable(position, reason, Vec::new())).map_err(Stop::Sink)?;
            }
            return Ok(());
        }
        number += 1;
        let ended = line.ends_with(b"\n");
        let mut length = line.len() as u64 - u64::from(ended);
        if length > max && !ended {
            length += skip_line(r)?;
        }
        if cut.expanded_too_far.get() && (!ended || length > max) {
            // The stream was cut inside this line.
            line.truncate(RAW_PREFIX_BYTES);
            let reason = expansion_reason(cut.limits);
            each(Record::Unreadable(Position::Line(number), reason, line)).map_err(Stop::Sink)?;
            return Ok(());
        }
        if length > max {
            line.truncate(raw_prefix(cut.limits));
            let reason = too_long_reason("the line", length, line.len(), cut.limits);
            let raw = std::mem::take(&mut line);
            each(Record::Unreadable(Position::Line(number), reason, raw)).map_err(Stop::Sink)?;
            continue;
        }
        // The record is the line without its `\n` or `\r\n`, kept whole so
        // that a quarantined line is stored exactly as it came.
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if !text.iter().all(u8::is_ascii_whitespace) {
            each(Record::Report(Position::Line(number), text)).map_err(Stop::Sink)?;
        }
    }
}

/// Keeps the bytes the JSON parser read since the last good element so that,
/// if the array breaks, the broken element and the rest of the file can be
/// kept raw. Holds at most one element: an element longer than the limit
/// stops the parser (as an I/O error it can only pass on).
struct Remembering<'a> {
    inner: &'a mut dyn BufRead,
    since_last_element: Rc<RefCell<Vec<u8>>>,
    max: u64,
    too_long: Rc<std::cell::Cell<bool>>,
}

impl Read for Remembering<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut kept = self.since_last_element.borrow_mut();
        // Kept even when over the limit, so that no byte read is lost from
        // the quarantined record's count.
        kept.extend_from_slice(&buf[..n]);
        if kept.len() as u64 > self.max + 2 {
            self.too_long.set(true);
            return Err(io::Error::other(
                "an array element is longer than the limit",
            ));
        }
        Ok(n)
    }
}

fn read_array(r: &mut dyn BufRead, cut: &Cut<'_>, each: &mut Each<'_>) -> Result<(), Stop> {
    struct Elements<'f, 'e> {
        each: &'f mut Each<'e>,
        count: u64,
        failed: Option<anyhow::Error>,
        since_last_element: Rc<RefCell<Vec<u8>>>,
    }
    impl<'de> Visitor<'de> for &mut Elements<'_, '_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON array of reports")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
                let position = Position::Index(self.count);
                self.count += 1;
                self.since_last_element.borrow_mut().clear();
                if let Err(e) = (self.each)(Record::Report(position, raw.get().as_bytes())) {
                    self.failed = Some(e);
                    return Err(serde::de::Error::custom("stopped"));
                }
            }
            Ok(())
        }
    }

    let since_last_element = Rc::new(RefCell::new(Vec::new()));
    let too_long = Rc::new(std::cell::Cell::new(false));
    let mut remembering = Remembering {
        inner: r,
        since_last_element: Rc::clone(&since_last_element),
        max: cut.limits.max_report_bytes,
        too_long: Rc::clone(&too_long),
    };
    let mut elements = Elements {
        each,
        count: 0,
        failed: None,
        since_last_element: Rc::clone(&since_last_element),
    };
    let outcome = {
        let mut de = serde_json::Deserializer::from_reader(&mut remembering);
        de.deserialize_seq(&mut elements).and_then(|()| de.end())
    };
    if let Some(e) = elements.failed {
        return Err(Stop::Sink(e));
    }
    let Err(e) = outcome else {
        return Ok(());
    };
    if e.is_io() && !too_long.get() {
        return Err(Stop::Io(io::Error::other(e)));
    }
    // Everything after the last good element is kept, raw, as one
    // quarantined record: the file cannot be cut into reports past it.
    // What is longer than a report may be keeps only its start.
    let max = cut.limits.max_report_bytes;
    let mut rest = since_last_element.take();
    let mut length = rest.len() as u64;
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let n = match remembering.inner.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Stop::Io(e)),
        };
        length += n as u64;
        if (rest.len() as u64) <= max {
            rest.extend_from_slice(&chunk[..n]);
        }
    }
    if length > max {
        rest.truncate(raw_prefix(cut.limits));
    }
    let position = Position::Index(elements.count);
    let at = elements.count;
    let reason = if cut.expanded_too_far.get() {
        expansion_reason(cut.limits)
    } else if too_long.get() {
        too_long_reason(
            &format!("array element {at} with the rest of the file"),
            length,
            rest.len(),
            cut.limits,
        )
    } else {
        format!(
            "not valid JSON: {e} (the array breaks at element {at}; the rest of the file is kept here)"
        )
    };
    (elements.each)(Record::Unreadable(position, reason, rest)).map_err(Stop::Sink)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(bytes: &[u8]) -> Vec<(Position, String)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, bytes).unwrap();
        let mut out = Vec::new();
        read_file(&path, &Limits::default(), &mut |r| {
            match r {
                Record::Report(p, b) => out.push((p, String::from_utf8_lossy(b).into_owned())),
                Record::Unreadable(p, why, raw) => {
                    out.push((p, format!("!{why}|{}", String::from_utf8_lossy(&raw))))
                }
            }
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn ndjson_with_bom_crlf_and_blank_lines() {
        let got = records(b"\xEF\xBB\xBF{\"a\":1}\r\n\r\n  \n{\"b\":2} \r\n");
        assert_eq!(
            got,
            vec![
                (Position::Line(1), "{\"a\":1}".to_owned()),
                (Position::Line(4), "{\"b\":2} ".to_owned())
            ]
        );
    }

    #[test]
    fn leading_blank_lines_keep_line_numbers() {
        let got = records(b"\n\n{\"a\":1}\n");
        assert_eq!(got, vec![(Position::Line(3), "{\"a\":1}".to_owned())]);
    }

    #[test]
    fn json_array_elements_by_index() {
        let got = records(b" [ {\"a\":1},\n{\"b\":[2]} ] ");
        assert_eq!(
            got,
            vec![
                (Position::Index(0), "{\"a\":1}".to_owned()),
                (Position::Index(1), "{\"b\":[2]}".to_owned())
            ]
        );
    }

    #[test]
    fn broken_array_keeps_the_rest() {
        let got = records(b"[{\"a\":1}, {\"b\": oops}]");
        assert_eq!(got[0], (Position::Index(0), "{\"a\":1}".to_owned()));
        assert_eq!(got[1].0, Position::Index(1));
        assert!(got[1].1.starts_with("!not valid JSON"), "{}", got[1].1);
        // The broken element and the rest of the file are kept, raw.
        assert!(got[1].1.ends_with("|, {\"b\": oops}]"), "{}", got[1].1);
    }

    #[test]
    fn gzip_is_sniffed_not_named() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"{\"a\":1}\n").unwrap();
        let got = records(&gz.finish().unwrap());
        assert_eq!(got, vec![(Position::Line(1), "{\"a\":1}".to_owned())]);
    }
}
