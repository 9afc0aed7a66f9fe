//! The input cut into units of work that can be parsed on any core: the
//! reader walks the files in order and cuts each into chunks of whole
//! records (NDJSON lines, array elements), numbered in input order; a
//! worker turns a chunk into a [`Piece`]: the rows of its reports, built
//! and validated, and its quarantined records. A vendor export is one unit,
//! read whole by a worker (exports are one tenant's report, not a stream);
//! its per-setting rows are filed later, in input order, by the collector
//! ([`super::batch`]).

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use anyhow::Result;

use super::batch::{Item, ItemKind, Piece};
use super::exports;
use super::report;
use super::rows::{ExportRows, QuarantineRows, ReportRows};
use super::source::{self, FileDigest, Limits, Position, Record, SourceError};
use super::statuses;
use crate::lake::Table;

/// The text a chunk gathers before it is handed to a worker: large enough
/// that handing it over costs nothing, small enough that both cores get
/// work from one big file and that the chunks in flight stay small.
const CHUNK_BYTES: usize = 2 << 20;
/// Items per piece of an export, so that a large export is cut into
/// pieces as a file is into chunks.
const EXPORT_PIECE_ITEMS: usize = 16_384;

/// How a file ended: its checksum, or why it could not be read to its end.
#[derive(Debug, Clone)]
pub(super) struct FileEnd {
    pub digest: Option<FileDigest>,
    pub error: Option<String>,
}

/// One unit of work, numbered in input order.
pub(super) struct Work {
    pub unit: u64,
    pub file: usize,
    pub body: Body,
}

pub(super) enum Body {
    /// Records of a file; the last chunk of a file carries its end.
    Chunk { chunk: Chunk, end: Option<FileEnd> },
    /// A vendor export, read whole by the worker.
    Export(exports::Kind),
}

/// Whole records of one file, their text side by side in one buffer.
#[derive(Default)]
pub(super) struct Chunk {
    text: Vec<u8>,
    records: Vec<Rec>,
    /// Bytes held: the text and the raw bytes of unreadable records.
    bytes: usize,
}

enum Rec {
    Report(Position, Range<usize>),
    Unreadable(Position, String, Vec<u8>),
}

impl Chunk {
    fn push(&mut self, record: Record<'_>) {
        match record {
            Record::Report(position, text) => {
                let start = self.text.len();
                self.text.extend_from_slice(text);
                self.records
                    .push(Rec::Report(position, start..self.text.len()));
            }
            Record::Unreadable(position, reason, raw) => {
                self.bytes += raw.len();
                self.records.push(Rec::Unreadable(position, reason, raw));
            }
        }
    }

    fn is_full(&self) -> bool {
        self.text.len() + self.bytes >= CHUNK_BYTES
    }
}

/// Reads every file in order and hands out its units of work through
/// `send`, which may block (that is what bounds the work in flight). A
/// failure of `send` (the run is stopping) stops the reading.
pub(super) fn read_inputs(
    files: &[std::path::PathBuf],
    kinds: &[Option<exports::Kind>],
    limits: &Limits,
    send: &mut dyn FnMut(Work) -> Result<()>,
) -> Result<()> {
    let mut unit = 0u64;
    for (file, path) in files.iter().enumerate() {
        // Vendor exports are told apart by their first bytes; a file that
        // cannot even be opened goes to the agent-report reader, which says so.
        if let Some(kind) = kinds[file] {
            send(Work {
                unit,
                file,
                body: Body::Export(kind),
            })?;
            unit += 1;
            continue;
        }
        let mut chunk = Chunk::default();
        let outcome = source::read_file(path, limits, &mut |record| {
            chunk.push(record);
            if chunk.is_full() {
                let full = std::mem::take(&mut chunk);
                send(Work {
                    unit,
                    file,
                    body: Body::Chunk {
                        chunk: full,
                        end: None,
                    },
                })?;
                unit += 1;
            }
            Ok(())
        });
        let end = match outcome {
            Ok(digest) => FileEnd {
                digest: Some(digest),
                error: None,
            },
            Err(SourceError::Sink(e)) => return Err(e),
            Err(e @ SourceError::Read { .. }) => FileEnd {
                digest: None,
                error: Some(e.to_string()),
            },
        };
        send(Work {
            unit,
            file,
            body: Body::Chunk {
                chunk,
                end: Some(end),
            },
        })?;
        unit += 1;
    }
    Ok(())
}

/// What a worker needs besides the work itself.
pub(super) struct Context<'a> {
    pub files: &'a [std::path::PathBuf],
    pub names: &'a [String],
    /// Per file: the vendor export it is, if it is one.
    pub kinds: &'a [Option<exports::Kind>],
    /// Per file: whether it is a per-setting export (read last).
    pub per_setting: &'a [bool],
    pub limits: &'a Limits,
    pub run_id: &'a str,
    pub ingested_at_us: i64,
}

/// Parses one unit of work into pieces, handed to `each` in order.
pub(super) fn process(
    work: Work,
    context: &Context<'_>,
    each: &mut dyn FnMut(Piece) -> Result<()>,
) -> Result<()> {
    let Work { unit, file, body } = work;
    let name = context.names[file].as_str();
    match body {
        Body::Chunk { chunk, end } => {
            let mut piece = Building::new(unit, 0, file, context.run_id, context.ingested_at_us);
            for record in chunk.records {
                match record {
                    Rec::Report(position, range) => {
                        let text = &chunk.text[range];
                        match report::parse_borrowed(text) {
                            Ok(report) => piece.push_report(&report, name, None, 1),
                            Err(reason) => piece.quarantine(name, position, &reason, text),
                        }
                    }
                    Rec::Unreadable(position, reason, raw) => {
                        piece.quarantine(name, position, &reason, &raw);
                    }
                }
            }
            piece.end = end;
            each(piece.finish(true)?)
        }
        Body::Export(kind) => read_export(unit, file, kind, context, each),
    }
}

/// A vendor export, its items cut into pieces of [`EXPORT_PIECE_ITEMS`].
/// A per-setting file is read whole first, so that its first piece names
/// every device whose statuses the lake may hold (one pass over the lake
/// per file).
fn read_export(
    unit: u64,
    file: usize,
    kind: exports::Kind,
    context: &Context<'_>,
    each: &mut dyn FnMut(Piece) -> Result<()>,
) -> Result<()> {
    let path: &Path = &context.files[file];
    let new_piece =
        |part: u32| Building::new(unit, part, file, context.run_id, context.ingested_at_us);
    let mut piece = new_piece(0);
    let mut add = |name: &str, item: exports::Item, piece: &mut Building| -> Result<()> {
        use exports::Item as E;
        match item {
            E::Report { report, source } => {
                let at = piece.items.len();
                piece.push_report(&*report, name, Some(source), 1);
                for (device, status) in statuses::keys(&report) {
                    piece.statuses.push((at, device, status));
                }
            }
            E::Row(row) => {
                let table = row.table;
                piece.exports.push(row, name);
                piece.push_row(table, 1);
            }
            E::Setting(pending) => {
                piece
                    .settings
                    .push((piece.items.len(), name.to_owned(), pending));
                piece.items.push(Item {
                    kind: ItemKind::Setting,
                    weight: 1,
                });
            }
            E::Rejected {
                position,
                reason,
                raw,
            } => piece.quarantine(name, position, &reason, raw.as_bytes()),
        }
        if piece.items.len() >= EXPORT_PIECE_ITEMS {
            let part = piece.part + 1;
            let full = std::mem::replace(piece, new_piece(part));
            each(full.finish(false)?)?;
        }
        Ok(())
    };
    let name = context.names[file].as_str();
    let outcome = if context.per_setting[file] {
        let mut items = Vec::new();
        let read = exports::read_file(path, name, kind, context.limits, &mut |name, item| {
            items.push((name.to_owned(), item));
            Ok(())
        });
        // What was read before an error is ingested, as for any file.
        piece.lake_devices = Some(
            items
                .iter()
                .filter_map(|(_, item)| match item {
                    exports::Item::Setting(p) => Some(p.device_id.clone()),
                    _ => None,
                })
                .collect::<HashSet<String>>(),
        );
        for (name, item) in items {
            add(&name, item, &mut piece)?;
        }
        read
    } else {
        exports::read_file(path, name, kind, context.limits, &mut |name, item| {
            add(name, item, &mut piece)
        })
    };
    piece.end = Some(match outcome {
        Ok(digest) => FileEnd {
            digest: Some(digest),
            error: None,
        },
        Err(SourceError::Sink(e)) => return Err(e),
        Err(e @ SourceError::Read { .. }) => FileEnd {
            digest: None,
            error: Some(e.to_string()),
        },
    });
    each(piece.finish(true)?)
}

/// A piece being built by a worker.
pub(super) struct Building {
    unit: u64,
    part: u32,
    file: usize,
    items: Vec<Item>,
    reports: ReportRows,
    exports: ExportRows,
    quarantine: QuarantineRows,
    end: Option<FileEnd>,
    statuses: Vec<(usize, String, exports::StatusKey)>,
    settings: Vec<(usize, String, Box<exports::PendingSetting>)>,
    lake_devices: Option<HashSet<String>>,
}

impl Building {
    fn new(unit: u64, part: u32, file: usize, run_id: &str, ingested_at_us: i64) -> Building {
        Building {
            unit,
            part,
            file,
            items: Vec::new(),
            reports: ReportRows::new(ingested_at_us),
            exports: ExportRows::new(ingested_at_us),
            quarantine: QuarantineRows::new(run_id, ingested_at_us),
            end: None,
            statuses: Vec::new(),
            settings: Vec::new(),
            lake_devices: None,
        }
    }

    fn push_report<S: AsRef<str>>(
        &mut self,
        report: &report::Report<S>,
        file: &str,
        source: Option<&str>,
        weight: u64,
    ) {
        self.reports.push(report, file, source);
        let settings = report.policies.iter().map(|p| p.settings.len()).sum();
        self.items.push(Item {
            kind: ItemKind::Report {
                policies: report.policies.len(),
                settings,
            },
            weight,
        });
    }

    fn push_row(&mut self, table: Table, weight: u64) {
        self.items.push(Item {
            kind: ItemKind::Row(table),
            weight,
        });
    }

    fn quarantine(&mut self, file: &str, position: Position, reason: &str, raw: &[u8]) {
        self.quarantine.push(file, position, reason, raw);
        self.items.push(Item {
            kind: ItemKind::Quarantined { raw: raw.len() },
            weight: 1,
        });
    }

    /// The piece as built; `last` when it is the last of its unit.
    fn finish(mut self, last: bool) -> Result<Piece> {
        let [(_, reports), (_, policies), (_, settings)] = self.reports.take();
        Ok(Piece {
            unit: self.unit,
            part: self.part,
            last,
            file: self.file,
            items: self.items,
            reports: [reports, policies, settings],
            vendor: self.exports.take()?,
            quarantine: self.quarantine.take(),
            end: self.end,
            statuses: self.statuses,
            settings: self.settings,
            lake_devices: self.lake_devices,
        })
    }
}
