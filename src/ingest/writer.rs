//! The writing end of an ingest: each batch is deduplicated against the
//! lake's index (and everything earlier in the run), its duplicates
//! dropped, its rows sorted and staged as Parquet files; the index's new
//! runs are staged beside them, for the one commit.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use datafusion::arrow::array::{AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::{concat_batches, filter_record_batch};

use super::batch::{Batch, Item, ItemKind};
use crate::lake::{self, IdIndex, Staging, Table};

pub(super) struct Writer {
    staging: Staging,
    index: IdIndex,
    run_id: String,
    flushes: usize,
    /// Per file: input rows found new, and duplicate.
    pub new: Vec<u64>,
    pub duplicate: Vec<u64>,
}

/// The rows of some pieces of one table, as one batch.
fn concat(table: Table, pieces: &[RecordBatch]) -> Result<RecordBatch> {
    concat_batches(&table.schema(), pieces).context("cannot gather rows")
}

fn keep(batch: &RecordBatch, mask: &[bool]) -> Result<RecordBatch> {
    if mask.iter().all(|k| *k) {
        return Ok(batch.clone());
    }
    filter_record_batch(batch, &BooleanArray::from(mask.to_vec())).context("cannot drop rows")
}

impl Writer {
    pub fn new(staging: Staging, index: IdIndex, run_id: &str, files: usize) -> Writer {
        Writer {
            staging,
            index,
            run_id: run_id.to_owned(),
            flushes: 0,
            new: vec![0; files],
            duplicate: vec![0; files],
        }
    }

    fn count(&mut self, file: usize, weight: u64, new: bool) {
        if new {
            self.new[file] += weight;
        } else {
            self.duplicate[file] += weight;
        }
    }

    /// Writes one batch to staged files.
    pub fn write(&mut self, batch: Batch) -> Result<()> {
        let stem = format!("part-{}-{:05}", self.run_id, self.flushes);
        self.flushes += 1;
        let Batch {
            items,
            reports,
            vendor,
            quarantine,
        } = batch;
        if !reports.is_empty() {
            self.write_reports(&items, reports, &stem)?;
        }
        let mut tables: BTreeMap<Table, Vec<RecordBatch>> = BTreeMap::new();
        for (table, rows) in vendor {
            tables.entry(table).or_default().push(rows);
        }
        for (table, pieces) in tables {
            self.write_rows(&items, table, &pieces, &stem)?;
        }
        let quarantine = concat(Table::Quarantine, &quarantine)?;
        lake::stage_partitioned(
            &mut self.staging,
            Table::Quarantine,
            &quarantine,
            "ingested_at",
            &stem,
        )?;
        crate::fault::point("after-flush")?;
        Ok(())
    }

    fn write_reports(
        &mut self,
        items: &[(usize, Item)],
        pieces: Vec<[RecordBatch; 3]>,
        stem: &str,
    ) -> Result<()> {
        let reports: Vec<(usize, u64, usize, usize)> = items
            .iter()
            .filter_map(|(file, item)| match item.kind {
                ItemKind::Report { policies, settings } => {
                    Some((*file, item.weight, policies, settings))
                }
                _ => None,
            })
            .collect();
        let ids = pieces.iter().flat_map(|piece| {
            piece[0]
                .column_by_name("report_id")
                .expect("reports have a report_id")
                .as_string::<i32>()
                .iter()
                .map(|id| id.expect("report_id is never null"))
        });
        let new = self.index.admit(Table::Reports, ids, &mut self.staging)?;
        for ((file, weight, _, _), new) in reports.iter().zip(&new) {
            self.count(*file, *weight, *new);
        }
        let rows: Vec<(usize, usize)> = reports.iter().map(|r| (r.2, r.3)).collect();
        lake::stage_reports(&mut self.staging, pieces, &new, &rows, stem)
    }

    fn write_rows(
        &mut self,
        items: &[(usize, Item)],
        table: Table,
        pieces: &[RecordBatch],
        stem: &str,
    ) -> Result<()> {
        let rows = concat(table, pieces)?;
        let column = lake::id_column(table).expect("vendor rows have a row id");
        let ids = rows
            .column_by_name(column)
            .expect("the id column exists")
            .as_string::<i32>();
        let new = self.index.admit(
            table,
            ids.iter().map(|id| id.expect("row ids are never null")),
            &mut self.staging,
        )?;
        let of_table = items.iter().filter_map(|(file, item)| match item.kind {
            ItemKind::Row(t) if t == table => Some((*file, item.weight)),
            _ => None,
        });
        for ((file, weight), new) in of_table.zip(&new) {
            self.count(file, weight, *new);
        }
        let rows = keep(&rows, &new)?;
        // Intune per-setting rows share `setting_states` with the reports'
        // setting rows, which are written under `stem`.
        let stem = match table {
            Table::SettingStates => format!("{stem}-settings"),
            _ => stem.to_owned(),
        };
        lake::stage_partitioned(&mut self.staging, table, &rows, "observed_at", &stem)?;
        Ok(())
    }

    /// Stages the index's last runs and the ingest log: everything is then
    /// ready for the commit.
    pub fn finish(mut self, log: &RecordBatch) -> Result<Staging> {
        self.index.finish(&mut self.staging)?;
        let stem = format!("part-{}-log", self.run_id);
        lake::stage_partitioned(
            &mut self.staging,
            Table::IngestLog,
            log,
            "ingested_at",
            &stem,
        )?;
        Ok(self.staging)
    }
}
