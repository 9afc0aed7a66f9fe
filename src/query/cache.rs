//! Shared views computed once per session. `latest_reports` is read by
//! every snapshot view (`current_policy_states`, `current_setting_states`,
//! `device_status`, ...), so a query or a report would rank the whole
//! history of `reports` again for each of them; and the policy and setting
//! rows of history they join to can only match on the days that hold one
//! of the reports they join. On the local engine a session therefore
//!
//! - computes `latest_reports` and `current_export_policy_states` once,
//!   when a plan first reads them, and keeps their rows (one per device,
//!   or device and policy, and snapshot day) for the session's other plans
//!   ([`CachedView`]); DataFusion then also knows how small they are and
//!   builds its hash joins on them;
//! - gives `current_policy_states` and `current_setting_states` the
//!   `day_end_*` tables cut to the days of those rows' `observed_at`
//!   ([`OnReportDays`]). They join a policy or setting row to one of those
//!   rows on its report's `observed_at`, and every row of a report is in
//!   the `date` partition of its `observed_at` (the UTC day), so the other
//!   days hold no row they can join: the rows are the same.
//!
//! A Ballista cluster gets the plain views: rows kept in this process
//! cannot travel in a plan.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::DateTime;
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{SchemaRef, TimestampMicrosecondType};
use datafusion::catalog::Session;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::{col, lit};

use crate::lake::PARTITION_COLUMN;

/// A view whose rows are computed the first time a plan scans it, then
/// kept for the session.
#[derive(Debug)]
pub(super) struct CachedView {
    name: String,
    plan: LogicalPlan,
    schema: SchemaRef,
    rows: tokio::sync::OnceCell<Vec<RecordBatch>>,
}

impl CachedView {
    /// The view `name`'s `plan` (as `CREATE VIEW` planned it), to be
    /// computed once.
    pub(super) fn new(name: &str, plan: LogicalPlan) -> CachedView {
        let schema = Arc::new(plan.schema().as_arrow().clone());
        CachedView {
            name: name.to_owned(),
            plan,
            schema,
            rows: tokio::sync::OnceCell::new(),
        }
    }

    /// The view's rows, computed on the first call.
    async fn rows(&self, state: &dyn Session) -> Result<&Vec<RecordBatch>> {
        self.rows
            .get_or_try_init(|| async {
                let plan = state.create_physical_plan(&self.plan).await?;
                let batches = collect(Arc::clone(&plan), state.task_ctx()).await?;
                if super::shared::profiling() {
                    super::shared::print_plan(&self.name, &plan);
                }
                // In the view's own schema (the executed plan may differ
                // in nullability alone).
                batches
                    .into_iter()
                    .map(|b| {
                        RecordBatch::try_new(Arc::clone(&self.schema), b.columns().to_vec())
                            .map_err(DataFusionError::from)
                    })
                    .collect()
            })
            .await
    }

    /// The UTC days (`YYYY-MM-DD`, as the `date` partitions name them) of
    /// the view's `observed_at`.
    async fn observed_days(&self, state: &dyn Session) -> Result<BTreeSet<String>> {
        let mut days = BTreeSet::new();
        for batch in self.rows(state).await? {
            let Some(times) = batch
                .column_by_name("observed_at")
                .and_then(|c| c.as_primitive_opt::<TimestampMicrosecondType>())
            else {
                return Err(DataFusionError::Internal(
                    "a cached view has no `observed_at` timestamp".to_owned(),
                ));
            };
            for at in times.iter().flatten() {
                if let Some(t) = DateTime::from_timestamp_micros(at) {
                    days.insert(t.date_naive().format("%Y-%m-%d").to_string());
                }
            }
        }
        Ok(days)
    }
}

#[async_trait]
impl TableProvider for CachedView {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let rows = self.rows(state).await?;
        let exec = MemorySourceConfig::try_new_exec(
            std::slice::from_ref(rows),
            Arc::clone(&self.schema),
            projection.cloned(),
        )?;
        Ok(exec)
    }
}

/// A `day_end_*` table read only on the days of the reports of some cached
/// views' rows.
#[derive(Debug)]
pub(super) struct OnReportDays {
    rows: Arc<dyn TableProvider>,
    reports: Vec<Arc<CachedView>>,
}

impl OnReportDays {
    pub(super) fn new(rows: Arc<dyn TableProvider>, reports: Vec<Arc<CachedView>>) -> OnReportDays {
        OnReportDays { rows, reports }
    }
}

#[async_trait]
impl TableProvider for OnReportDays {
    fn schema(&self) -> SchemaRef {
        self.rows.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut days = BTreeSet::new();
        for view in &self.reports {
            days.extend(view.observed_days(state).await?);
        }
        let days: Vec<Expr> = days.into_iter().map(lit).collect();
        // A filter on the partition column: the listing tables under the
        // view open only these days' folders.
        let on_days = col(PARTITION_COLUMN).in_list(days, false);
        self.rows.scan(state, projection, &[on_days], limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    #[tokio::test]
    async fn a_cached_view_is_computed_once_and_gives_its_rows_on_each_scan() {
        let ctx = SessionContext::new();
        ctx.sql("CREATE VIEW v AS SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS t(n, s)")
            .await
            .unwrap();
        let plan = ctx
            .table_provider("v")
            .await
            .unwrap()
            .get_logical_plan()
            .unwrap()
            .into_owned();
        let view = Arc::new(CachedView::new("v", plan));
        ctx.deregister_table("v").unwrap();
        ctx.register_table("v", Arc::clone(&view) as Arc<dyn TableProvider>)
            .unwrap();
        for _ in 0..2 {
            let batches = ctx
                .sql("SELECT sum(n) AS total, max(s) AS last FROM v")
                .await
                .unwrap()
                .collect()
                .await
                .unwrap();
            let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
                .unwrap()
                .to_string();
            assert!(text.contains("| 3     | b    |"), "{text}");
        }
        let kept = view.rows.get().expect("computed");
        assert_eq!(kept.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    }
}
