//! Query results as people and programs read them: an aligned table, CSV
//! (RFC 4180, header row) or a JSON array of objects. Timestamps print as
//! RFC 3339 in UTC with a `Z`, whatever the format.

use std::io::Write;
use std::sync::Arc;

use anyhow::Result;
use chrono::{DateTime, SecondsFormat};
use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion::arrow::csv::writer::Terminator;
use datafusion::arrow::csv::{QuoteStyle, WriterBuilder as CsvWriterBuilder};
use datafusion::arrow::datatypes::{
    DataType, Field, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType,
};
use datafusion::arrow::json::{ArrayWriter, WriterBuilder as JsonWriterBuilder};
use datafusion::arrow::util::pretty::pretty_format_batches;

use super::QueryResult;

/// Formats a timestamp in UTC microseconds as RFC 3339 with a `Z`, with as
/// many fractional digits as it needs (none, 3 or 6).
pub fn rfc3339(micros: i64) -> String {
    DateTime::from_timestamp_micros(micros)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| micros.to_string())
}

/// Rewrites microsecond timestamp columns as RFC 3339 text.
pub fn with_text_timestamps(result: &QueryResult) -> Result<QueryResult> {
    let is_ts = |t: &DataType| matches!(t, DataType::Timestamp(TimeUnit::Microsecond, _));
    let fields: Vec<Field> = result
        .schema
        .fields()
        .iter()
        .map(|f| {
            if is_ts(f.data_type()) {
                Field::new(f.name(), DataType::Utf8, f.is_nullable())
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let batches = result
        .batches
        .iter()
        .map(|batch| {
            let columns: Vec<ArrayRef> = batch
                .columns()
                .iter()
                .map(|c| {
                    if is_ts(c.data_type()) {
                        let ts = c.as_primitive::<TimestampMicrosecondType>();
                        let text: StringArray = ts.iter().map(|t| t.map(rfc3339)).collect();
                        Arc::new(text) as ArrayRef
                    } else {
                        c.clone()
                    }
                })
                .collect();
            RecordBatch::try_new(schema.clone(), columns)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(QueryResult { schema, batches })
}

pub fn write_table(result: &QueryResult, out: &mut dyn Write) -> Result<()> {
    let result = with_text_timestamps(result)?;
    let batches = if result.batches.is_empty() {
        vec![RecordBatch::new_empty(result.schema.clone())]
    } else {
        result.batches
    };
    writeln!(out, "{}", pretty_format_batches(&batches)?)?;
    Ok(())
}

/// RFC 4180: CRLF line ends, fields quoted when needed, a header row even
/// when there are no rows.
pub fn write_csv(result: &QueryResult, out: &mut dyn Write) -> Result<()> {
    let result = with_text_timestamps(result)?;
    let mut writer = CsvWriterBuilder::new()
        .with_header(true)
        .with_quote_style(QuoteStyle::Necessary)
        .with_line_terminator(Terminator::CRLF)
        .build(out);
    if result.batches.is_empty() {
        writer.write(&RecordBatch::new_empty(result.schema.clone()))?;
    }
    for batch in &result.batches {
        writer.write(batch)?;
    }
    Ok(())
}

/// A JSON array of objects, every column present (null when empty).
pub fn write_json(result: &QueryResult, out: &mut dyn Write) -> Result<()> {
    let result = with_text_timestamps(result)?;
    if result.num_rows() == 0 {
        writeln!(out, "[]")?;
        return Ok(());
    }
    let mut writer: ArrayWriter<&mut dyn Write> = JsonWriterBuilder::new()
        .with_explicit_nulls(true)
        .build(out);
    for batch in &result.batches {
        writer.write(batch)?;
    }
    writer.finish()?;
    writeln!(writer.into_inner())?;
    Ok(())
}

/// Parquet keeps the result's own types (timestamps stay timestamps).
pub fn write_parquet(result: &QueryResult, path: &std::path::Path) -> Result<()> {
    use anyhow::Context;
    let file = std::fs::File::create(path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    let mut writer =
        datafusion::parquet::arrow::ArrowWriter::try_new(file, result.schema.clone(), None)?;
    for batch in &result.batches {
        writer.write(batch)?;
    }
    writer
        .close()
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_with_z() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_500), "1970-01-01T00:00:00.001500Z");
    }

    #[test]
    fn empty_results_keep_their_header() {
        let schema = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, false)]));
        let result = QueryResult {
            schema,
            batches: vec![],
        };
        let mut csv = Vec::new();
        write_csv(&result, &mut csv).unwrap();
        assert_eq!(String::from_utf8(csv).unwrap(), "a\r\n");
        let mut json = Vec::new();
        write_json(&result, &mut json).unwrap();
        assert_eq!(String::from_utf8(json).unwrap(), "[]\n");
    }
}
