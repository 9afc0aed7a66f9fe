//! Pieces put back in input order, and cut into batches at the same reports
//! whatever the number of threads: a batch ends right after the item that
//! brings its rows to `--batch-rows` (or its quarantined text to 256 MiB),
//! so what a run writes depends on its input alone.
//!
//! Intune per-setting rows are filed here, in input order, under the
//! policy statuses known at that point of the run (and in the lake, for a
//! per-setting file): the one step that depends on what came before.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use anyhow::{Context, Result};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::interleave_record_batch;

use super::exports::{PendingSetting, StatusKey};
use super::rows::{FileCounts, QuarantineRows, ReportRows};
use super::statuses::{self, Statuses};
use super::work::FileEnd;
use crate::lake::Table;

/// Quarantined raw text a batch holds at most before it is written out.
const QUARANTINE_BYTES: usize = 256 << 20;

/// One thing read, in input order: a report, a vendor row, or a
/// quarantined record; `weight` input rows stand behind it (an Intune
/// policy-status report is made of several export rows).
#[derive(Debug, Clone, Copy)]
pub(super) struct Item {
    pub kind: ItemKind,
    pub weight: u64,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum ItemKind {
    /// A row of `reports` and this many rows of the other two tables.
    Report { policies: usize, settings: usize },
    /// A row of a vendor table.
    Row(Table),
    /// A row of `quarantine`, with this many bytes of raw text.
    Quarantined { raw: usize },
    /// An Intune per-setting row not yet filed: the collector makes it a
    /// `Row(SettingStates)` or a `Quarantined` before it counts.
    Setting,
}

impl Item {
    /// Rows of the report and vendor tables: what a batch is measured in.
    fn rows(&self) -> usize {
        match self.kind {
            ItemKind::Report { policies, settings } => 1 + policies + settings,
            ItemKind::Row(_) | ItemKind::Setting => 1,
            ItemKind::Quarantined { .. } => 0,
        }
    }
}

/// What a worker made of one unit of work (or part of one): its items and
/// their rows, table by table, in input order.
pub(super) struct Piece {
    pub unit: u64,
    pub part: u32,
    /// The last piece of its unit.
    pub last: bool,
    pub file: usize,
    pub items: Vec<Item>,
    /// `reports`, `policy_states`, `setting_states`.
    pub reports: [RecordBatch; 3],
    pub vendor: Vec<(Table, RecordBatch)>,
    pub quarantine: RecordBatch,
    /// On the last piece of a file: how the file ended.
    pub end: Option<FileEnd>,
    /// The Intune policy statuses of the piece's export reports, with
    /// their item's index.
    pub statuses: Vec<(usize, String, StatusKey)>,
    /// The per-setting rows to file (item index, name of the file they
    /// were read from).
    pub settings: Vec<(usize, String, Box<PendingSetting>)>,
    /// On the first piece of a per-setting file: the devices of its rows,
    /// whose statuses in the lake are loaded before any row is filed.
    pub lake_devices: Option<HashSet<String>>,
}

fn split_at(batch: &RecordBatch, rows: usize) -> (RecordBatch, RecordBatch) {
    (
        batch.slice(0, rows),
        batch.slice(rows, batch.num_rows() - rows),
    )
}

impl Piece {
    /// Cuts the piece after its first `n` items (zero-copy slices).
    fn split(self, n: usize) -> (Piece, Piece) {
        let (mut reports, mut policies, mut settings, mut quarantined) = (0, 0, 0, 0);
        let mut rows: BTreeMap<Table, usize> = BTreeMap::new();
        for item in &self.items[..n] {
            match item.kind {
                ItemKind::Report {
                    policies: p,
                    settings: s,
                } => {
                    reports += 1;
                    policies += p;
                    settings += s;
                }
                ItemKind::Row(table) => *rows.entry(table).or_default() += 1,
                ItemKind::Quarantined { .. } => quarantined += 1,
                ItemKind::Setting => unreachable!("settings are filed before a piece is cut"),
            }
        }
        let [r, p, s] = &self.reports;
        let (r, p, s) = (
            split_at(r, reports),
            split_at(p, policies),
            split_at(s, settings),
        );
        let (mut head_vendor, mut tail_vendor) = (Vec::new(), Vec::new());
        for (table, batch) in &self.vendor {
            let (head, tail) = split_at(batch, rows.get(table).copied().unwrap_or(0));
            head_vendor.push((*table, head));
            tail_vendor.push((*table, tail));
        }
        let q = split_at(&self.quarantine, quarantined);
        let mut items = self.items;
        let tail_items = items.split_off(n);
        let head = Piece {
            unit: self.unit,
            part: self.part,
            last: false,
            file: self.file,
            items,
            reports: [r.0, p.0, s.0],
            vendor: head_vendor,
            quarantine: q.0,
            end: None,
            statuses: Vec::new(),
            settings: Vec::new(),
            lake_devices: None,
        };
        let tail = Piece {
            unit: self.unit,
            part: self.part,
            last: self.last,
            file: self.file,
            items: tail_items,
            reports: [r.1, p.1, s.1],
            vendor: tail_vendor,
            quarantine: q.1,
            end: self.end,
            statuses: Vec::new(),
            settings: Vec::new(),
            lake_devices: None,
        };
        (head, tail)
    }
}

/// The rows a batch holds, from the pieces it was cut from, with each
/// item's file.
#[derive(Default)]
pub(super) struct Batch {
    pub items: Vec<(usize, Item)>,
    pub reports: Vec<[RecordBatch; 3]>,
    pub vendor: Vec<(Table, RecordBatch)>,
    pub quarantine: Vec<RecordBatch>,
}

/// Puts pieces back in input order and cuts them into batches.
pub(super) struct Collector {
    batch_rows: usize,
    lake: PathBuf,
    run_id: String,
    ingested_at_us: i64,
    /// The Intune policy statuses seen so far, in input order, and loaded
    /// from the lake: what per-setting rows are filed under.
    statuses: Statuses,
    next: (u64, u32),
    waiting: BTreeMap<(u64, u32), Piece>,
    batch: Batch,
    rows: usize,
    quarantined_bytes: usize,
    /// Per file: what was read and quarantined (new and duplicate are the
    /// writer's to count).
    pub counts: Vec<FileCounts>,
    pub ends: Vec<Option<FileEnd>>,
    pub files_done: usize,
    pub totals: FileCounts,
}

impl Collector {
    pub fn new(
        files: usize,
        batch_rows: usize,
        lake: PathBuf,
        run_id: &str,
        ingested_at_us: i64,
    ) -> Collector {
        Collector {
            batch_rows: batch_rows.max(1),
            lake,
            run_id: run_id.to_owned(),
            ingested_at_us,
            statuses: Statuses::default(),
            next: (0, 0),
            waiting: BTreeMap::new(),
            batch: Batch::default(),
            rows: 0,
            quarantined_bytes: 0,
            counts: vec![FileCounts::default(); files],
            ends: vec![None; files],
            files_done: 0,
            totals: FileCounts::default(),
        }
    }

    /// Takes a piece in any order; hands `flush` every batch that is full,
    /// in input order.
    pub fn take(&mut self, piece: Piece, flush: &mut dyn FnMut(Batch) -> Result<()>) -> Result<()> {
        self.waiting.insert((piece.unit, piece.part), piece);
        while let Some(piece) = self.waiting.remove(&self.next) {
            self.next = if piece.last {
                (piece.unit + 1, 0)
            } else {
                (piece.unit, piece.part + 1)
            };
            let piece = self.file_settings(piece)?;
            self.append(piece, flush)?;
        }
        Ok(())
    }

    /// Remembers the piece's policy statuses and files its per-setting
    /// rows, in item order: a row found a status becomes a `setting_states`
    /// row of the piece (deduplicated by its `row_id` like a vendor row),
    /// one without is quarantined with the reason.
    fn file_settings(&mut self, mut piece: Piece) -> Result<Piece> {
        if let Some(devices) = piece.lake_devices.take() {
            self.statuses.load_from_lake(&self.lake, devices)?;
        }
        let mut statuses = std::mem::take(&mut piece.statuses).into_iter().peekable();
        let settings = std::mem::take(&mut piece.settings);
        if settings.is_empty() {
            for (_, device, status) in statuses {
                self.statuses.add(device, status);
            }
            return Ok(piece);
        }
        let mut filed = ReportRows::new(self.ingested_at_us);
        let mut unmatched = QuarantineRows::new(&self.run_id, self.ingested_at_us);
        let mut was_setting = vec![false; piece.items.len()];
        let mut any_filed = false;
        for (at, file, pending) in settings {
            while let Some((_, device, status)) = statuses.next_if(|(i, ..)| *i < at) {
                self.statuses.add(device, status);
            }
            was_setting[at] = true;
            piece.items[at].kind = match self.statuses.find(&pending) {
                Some(status) => {
                    filed.push_export_setting(&pending.filed(&status));
                    any_filed = true;
                    ItemKind::Row(Table::SettingStates)
                }
                None => {
                    let reason = statuses::unmatched(&pending);
                    let raw = pending.raw.as_bytes();
                    unmatched.push(&file, pending.position, &reason, raw);
                    ItemKind::Quarantined { raw: raw.len() }
                }
            };
        }
        for (_, device, status) in statuses {
            self.statuses.add(device, status);
        }
        if any_filed {
            let [_, _, (table, rows)] = filed.take();
            piece.vendor.push((table, rows));
        }
        // The piece's quarantine rows stay in item order, which is how a
        // piece is cut.
        let unmatched = unmatched.take();
        if unmatched.num_rows() > 0 {
            let (mut old, mut new) = (0, 0);
            let mut order = Vec::new();
            for (item, setting) in piece.items.iter().zip(&was_setting) {
                if let ItemKind::Quarantined { .. } = item.kind {
                    if *setting {
                        order.push((1, new));
                        new += 1;
                    } else {
                        order.push((0, old));
                        old += 1;
                    }
                }
            }
            piece.quarantine = interleave_record_batch(&[&piece.quarantine, &unmatched], &order)
                .context("cannot gather quarantined rows")?;
        }
        Ok(piece)
    }

    fn append(
        &mut self,
        mut piece: Piece,
        flush: &mut dyn FnMut(Batch) -> Result<()>,
    ) -> Result<()> {
        loop {
            let (mut rows, mut quarantined) = (self.rows, self.quarantined_bytes);
            let mut cut = None;
            for (i, item) in piece.items.iter().enumerate() {
                rows += item.rows();
                if let ItemKind::Quarantined { raw } = item.kind {
                    quarantined += raw;
                }
                if rows >= self.batch_rows || quarantined >= QUARANTINE_BYTES {
                    cut = Some(i + 1);
                    break;
                }
            }
            let Some(n) = cut else {
                self.rows = rows;
                self.quarantined_bytes = quarantined;
                self.add(piece);
                return Ok(());
            };
            let (head, tail) = piece.split(n);
            self.add(head);
            flush(std::mem::take(&mut self.batch))?;
            self.rows = 0;
            self.quarantined_bytes = 0;
            piece = tail;
        }
    }

    fn add(&mut self, piece: Piece) {
        let counts = &mut self.counts[piece.file];
        for item in &piece.items {
            counts.read += item.weight;
            self.totals.read += item.weight;
            if let ItemKind::Quarantined { .. } = item.kind {
                counts.quarantined += item.weight;
                self.totals.quarantined += item.weight;
            }
            self.batch.items.push((piece.file, *item));
        }
        if piece.reports[0].num_rows() > 0 {
            self.batch.reports.push(piece.reports);
        }
        for (table, rows) in piece.vendor {
            if rows.num_rows() > 0 {
                self.batch.vendor.push((table, rows));
            }
        }
        if piece.quarantine.num_rows() > 0 {
            self.batch.quarantine.push(piece.quarantine);
        }
        if let Some(end) = piece.end {
            if let Some(error) = &end.error {
                eprintln!("error: {error}");
            }
            self.ends[piece.file] = Some(end);
            self.files_done += 1;
        }
    }

    /// The rows still held: the run's last batch.
    pub fn last_batch(&mut self) -> Batch {
        debug_assert!(self.waiting.is_empty(), "every piece arrived");
        std::mem::take(&mut self.batch)
    }
}
