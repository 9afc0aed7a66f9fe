//! The writing end of an ingest: each batch is deduplicated against the
//! lake's index (and everything earlier in the run), its duplicates
//! dropped, its rows sorted and staged as Parquet files; the index's new
//! runs are staged beside them, for the one commit.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use datafusion::arrow::array::{AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::{concat_batches, filter_record_batch};

use super::batch::{Batch, ItemKind};
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
        if !batch.reports.is_empty() {
            self.write_reports(&batch, &stem)?;
        }
        let mut vendor: BTreeMap<Table, Vec<RecordBatch>> = BTreeMap::new();
        for (table, rows) in &batch.vendor {
            vendor.entry(*table).or_default().push(rows.clone());
        }
        for (table, pieces) in vendor {
            self.write_rows(&batch, table, &pieces, &stem)?;
        }
        let quarantine = concat(Table::Quarantine, &batch.quarantine)?;
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

    fn write_reports(&mut self, batch: &Batch, stem: &str) -> Result<()> {
        let part = |i: usize| {
            batch
                .reports
                .iter()
                .map(|r| r[i].clone())
                .collect::<Vec<_>>()
        };
        let reports = concat(Table::Reports, &part(0))?;
        let policies = concat(Table::PolicyStates, &part(1))?;
        let settings = concat(Table::SettingStates, &part(2))?;
        let items: Vec<(usize, u64, usize, usize)> = batch
            .items
            .iter()
            .filter_map(|(file, item)| match item.kind {
                ItemKind::Report { policies, settings } => {
                    Some((*file, item.weight, policies, settings))
                }
                _ => None,
            })
            .collect();
        let ids = reports
            .column_by_name("report_id")
            .expect("reports have a report_id")
            .as_string::<i32>();
        let new = self.index.admit(
            Table::Reports,
            ids.iter().map(|id| id.expect("report_id is never null")),
            &mut self.staging,
        )?;
        let mut policy_mask = Vec::with_capacity(policies.num_rows());
        let mut setting_mask = Vec::with_capacity(settings.num_rows());
        let mut rows = Vec::new();
        for ((file, weight, p, s), new) in items.iter().zip(&new) {
            self.count(*file, *weight, *new);
            policy_mask.extend(std::iter::repeat_n(*new, *p));
            setting_mask.extend(std::iter::repeat_n(*new, *s));
            if *new {
                rows.push((*p, *s));
            }
        }
        let reports = keep(&reports, &new)?;
        let policies = keep(&policies, &policy_mask)?;
        let settings = keep(&settings, &setting_mask)?;
        lake::stage_reports(
            &mut self.staging,
            [&reports, &policies, &settings],
            &rows,
            stem,
        )
    }

    fn write_rows(
        &mut self,
        batch: &Batch,
        table: Table,
        pieces: &[RecordBatch],
        stem: &str,
    ) -> Result<()> {
        let rows = concat(table, pieces)?;
        let column = lake::id_column(table).expect("vendor tables have a row id");
        let ids = rows
            .column_by_name(column)
            .expect("the id column exists")
            .as_string::<i32>();
        let new = self.index.admit(
            table,
            ids.iter().map(|id| id.expect("row ids are never null")),
            &mut self.staging,
        )?;
        let items = batch
            .items
            .iter()
            .filter_map(|(file, item)| match item.kind {
                ItemKind::Row(t) if t == table => Some((*file, item.weight)),
                _ => None,
            });
        let items: Vec<(usize, u64)> = items.collect();
        for ((file, weight), new) in items.into_iter().zip(&new) {
            self.count(file, weight, *new);
        }
        let rows = keep(&rows, &new)?;
        lake::stage_partitioned(&mut self.staging, table, &rows, "observed_at", stem)?;
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
