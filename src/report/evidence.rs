//! Every row of every view the report used, kept once in the bundle in the
//! forms analysts and auditors open: zstd Parquet for tools (the query's own
//! types), and CSV for people: plain while it is small, gzip beyond that, in
//! parts of at most a million rows so that each part, unzipped, opens in a
//! spreadsheet. Written batch by batch as the query's rows arrive.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use anyhow::{Context, Result};
use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::csv::writer::Terminator;
use datafusion::arrow::csv::{QuoteStyle, WriterBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use flate2::write::GzEncoder;
use serde::Serialize;

use crate::query::QueryResult;
use crate::query::output::with_text_timestamps;

/// A view's CSV stays plain text up to this size; beyond it, gzip.
pub const CSV_PLAIN_MAX_BYTES: usize = 4 << 20;
/// Rows of one gzip CSV part: a spreadsheet holds 1,048,576 rows.
pub const CSV_ROWS_PER_PART: usize = 1_000_000;
/// Rows of one Parquet row group: what the writer holds before it writes.
const PARQUET_ROWS_PER_GROUP: usize = 1 << 20;
/// gzip's level for CSV parts: the default. On `device_detail` it is 18%
/// smaller than level 3 for 40% more time (zlib-rs, about 150 MB/s of CSV).
const GZIP_LEVEL: u32 = 6;
/// The largest dictionary page of an evidence Parquet column (memory held
/// per column while a row group is written).
const DICTIONARY_PAGE_BYTES: usize = 16 << 20;

/// Where a view's rows are in the bundle, as the pages link them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Evidence {
    pub name: String,
    pub rows: usize,
    /// `data/NAME.parquet`.
    pub parquet: String,
    /// `csv/NAME.csv`, `csv/NAME.csv.gz`, or the parts
    /// `csv/NAME-0001.csv.gz`, ….
    pub csv: Vec<String>,
    pub gzip: bool,
}

/// Writes one view's rows as they come: the Parquet file on the caller's
/// thread, the CSV (text conversion and gzip, the costlier half) on a
/// thread of its own, so that a big view's two files are written on two
/// cores.
pub struct EvidenceWriter {
    name: String,
    parquet: ArrowWriter<BufWriter<File>>,
    schema: SchemaRef,
    /// Batches to the CSV thread (a few in flight at most).
    to_csv: Option<SyncSender<RecordBatch>>,
    csv_thread: Option<JoinHandle<Result<CsvFiles>>>,
    rows: usize,
}

/// Batches in flight to a view's CSV thread.
const CSV_BATCHES_IN_FLIGHT: usize = 4;

/// A view's CSV files, written batch by batch.
struct CsvFiles {
    name: String,
    out: PathBuf,
    schema: SchemaRef,
    csv: Csv,
    /// The gzip parts started so far.
    parts: Vec<PathBuf>,
    rows: usize,
}

enum Csv {
    /// The CSV so far, header included, while it is small.
    Plain(Vec<u8>),
    /// The part being written, and its rows so far.
    Gzip {
        encoder: Box<GzEncoder<BufWriter<File>>>,
        rows: usize,
    },
}

/// The schema with text as plain `Utf8`: the planner may hand some text
/// columns over as `Utf8View` (a `CAST(NULL AS VARCHAR)` in a union, on
/// this process but not on a cluster), and the evidence files must not
/// depend on where the query ran.
fn plain_strings(schema: &SchemaRef) -> SchemaRef {
    if !schema
        .fields()
        .iter()
        .any(|f| f.data_type() == &DataType::Utf8View)
    {
        return Arc::clone(schema);
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8View => f.as_ref().clone().with_data_type(DataType::Utf8),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `batch` with the columns cast to `schema`'s types where they differ.
fn with_schema(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    if batch.schema().fields() == schema.fields() {
        return Ok(batch.clone());
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| cast(column, field.data_type()))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create `{}`", parent.display()))?;
    }
    let file = File::create(path).with_context(|| format!("cannot create `{}`", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 16, file))
}

impl EvidenceWriter {
    /// Starts the files of the view `name` under `out`.
    pub fn new(out: &Path, name: &str, schema: SchemaRef) -> Result<EvidenceWriter> {
        let schema = plain_strings(&schema);
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
            .set_max_row_group_row_count(Some(PARQUET_ROWS_PER_GROUP))
            // A device id repeats on each of its rows (every policy of it in
            // policy_devices): a dictionary of every id (40 bytes each) keeps
            // one copy and a small index per row, where the default 1 MiB
            // dictionary page falls back to the plain ids after 25,000
            // devices (policy_devices at 100,000 devices: 12.3 MiB).
            .set_dictionary_page_size_limit(DICTIONARY_PAGE_BYTES)
            .build();
        let path = out.join(parquet_path(name));
        let parquet = ArrowWriter::try_new(create(&path)?, Arc::clone(&schema), Some(properties))?;
        let mut csv = CsvFiles {
            name: name.to_owned(),
            out: out.to_path_buf(),
            schema: Arc::clone(&schema),
            csv: Csv::Plain(Vec::new()),
            parts: Vec::new(),
            rows: 0,
        };
        let (to_csv, batches) = sync_channel::<RecordBatch>(CSV_BATCHES_IN_FLIGHT);
        let csv_thread = std::thread::Builder::new()
            .name(format!("csv-{name}"))
            .spawn(move || {
                for batch in batches {
                    csv.write(&batch)?;
                }
                Ok(csv)
            })
            .context("cannot start a thread to write CSV")?;
        Ok(EvidenceWriter {
            name: name.to_owned(),
            parquet,
            schema,
            to_csv: Some(to_csv),
            csv_thread: Some(csv_thread),
            rows: 0,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let batch = with_schema(batch, &self.schema)?;
        let sent = self
            .to_csv
            .as_ref()
            .is_some_and(|to_csv| to_csv.send(batch.clone()).is_ok());
        if !sent {
            // The CSV thread stopped: its error says why.
            self.to_csv = None;
            self.join_csv()?;
            anyhow::bail!("the CSV of `{}` stopped", self.name);
        }
        self.parquet.write(&batch)?;
        self.rows += batch.num_rows();
        Ok(())
    }

    /// Waits for the CSV thread to end.
    fn join_csv(&mut self) -> Result<CsvFiles> {
        let thread = self.csv_thread.take().context("the CSV thread has ended")?;
        match thread.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// Closes the files; returns where the rows are and every file written.
    pub fn finish(mut self) -> Result<(Evidence, Vec<PathBuf>)> {
        self.to_csv = None;
        let csv = self.join_csv()?;
        let parquet = parquet_path(&self.name);
        self.parquet
            .close()
            .with_context(|| format!("cannot write `{parquet}`"))?;
        let mut files = vec![csv.out.join(&parquet)];
        let rows = self.rows;
        let (csv, gzip, csv_files) = csv.finish()?;
        files.extend(csv_files);
        Ok((
            Evidence {
                name: self.name,
                rows,
                parquet,
                csv,
                gzip,
            },
            files,
        ))
    }
}

impl CsvFiles {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let text = for_people(batch)?;
        let mut start = 0;
        while start < text.num_rows() {
            let so_far = self.rows + start;
            let room = match &self.csv {
                Csv::Plain(_) => CSV_ROWS_PER_PART - so_far,
                Csv::Gzip { rows, .. } => CSV_ROWS_PER_PART - rows,
            };
            if room == 0 {
                if matches!(self.csv, Csv::Plain(_)) {
                    self.start_gzip(so_far)?;
                }
                self.next_part()?;
                continue;
            }
            let take = room.min(text.num_rows() - start);
            let slice = text.slice(start, take);
            match &mut self.csv {
                Csv::Plain(bytes) => {
                    write_csv(&slice, bytes.is_empty(), bytes)?;
                    if bytes.len() > CSV_PLAIN_MAX_BYTES {
                        self.start_gzip(so_far + take)?;
                    }
                }
                Csv::Gzip { encoder, rows } => {
                    write_csv(&slice, *rows == 0, encoder)?;
                    *rows += take;
                }
            }
            start += take;
        }
        self.rows += batch.num_rows();
        Ok(())
    }

    /// The CSV outgrew plain text: what it holds (`rows` rows, header
    /// included) becomes the start of the first gzip part.
    fn start_gzip(&mut self, rows: usize) -> Result<()> {
        let Csv::Plain(bytes) = std::mem::replace(&mut self.csv, Csv::Plain(Vec::new())) else {
            return Ok(());
        };
        self.next_part()?;
        if let Csv::Gzip {
            encoder,
            rows: part_rows,
        } = &mut self.csv
        {
            encoder
                .write_all(&bytes)
                .with_context(|| format!("cannot write `{}`", self.parts[0].display()))?;
            *part_rows = rows;
        }
        Ok(())
    }

    /// Closes the gzip part being written, if any, and starts the next.
    fn next_part(&mut self) -> Result<()> {
        let path = self.out.join(format!(
            "csv/{}-{:04}.csv.gz",
            self.name,
            self.parts.len() + 1
        ));
        let encoder = Box::new(GzEncoder::new(
            create(&path)?,
            flate2::Compression::new(GZIP_LEVEL),
        ));
        let previous = std::mem::replace(&mut self.csv, Csv::Gzip { encoder, rows: 0 });
        if let (Csv::Gzip { encoder, .. }, Some(last)) = (previous, self.parts.last()) {
            finish_gzip(encoder, last)?;
        }
        self.parts.push(path);
        Ok(())
    }

    /// Closes the files; returns the CSV's paths in the bundle, whether it
    /// is gzip, and the files written.
    fn finish(self) -> Result<(Vec<String>, bool, Vec<PathBuf>)> {
        let mut files = Vec::new();
        let mut parts = self.parts;
        let (csv, gzip) = match self.csv {
            Csv::Plain(mut bytes) => {
                if bytes.is_empty() {
                    let empty = RecordBatch::new_empty(self.schema.clone());
                    write_csv(&for_people(&empty)?, true, &mut bytes)?;
                }
                let relative = format!("csv/{}.csv", self.name);
                let path = self.out.join(&relative);
                let mut file = create(&path)?;
                file.write_all(&bytes)
                    .and_then(|()| file.flush())
                    .with_context(|| format!("cannot write `{}`", path.display()))?;
                files.push(path);
                (vec![relative], false)
            }
            Csv::Gzip { encoder, .. } => {
                finish_gzip(encoder, parts.last().expect("a part is open"))?;
                if parts.len() == 1 {
                    // One part: no number in its name.
                    let single = self.out.join(format!("csv/{}.csv.gz", self.name));
                    std::fs::rename(&parts[0], &single)
                        .with_context(|| format!("cannot write `{}`", single.display()))?;
                    parts[0] = single;
                }
                let relative = parts
                    .iter()
                    .map(|p| {
                        p.strip_prefix(&self.out)
                            .unwrap_or(p)
                            .to_string_lossy()
                            .replace('\\', "/")
                    })
                    .collect();
                files.extend(parts);
                (relative, true)
            }
        };
        Ok((csv, gzip, files))
    }
}

fn parquet_path(name: &str) -> String {
    format!("data/{name}.parquet")
}

fn finish_gzip(encoder: Box<GzEncoder<BufWriter<File>>>, path: &Path) -> Result<()> {
    encoder
        .finish()
        .and_then(|mut file| file.flush())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

/// RFC 4180, as `posture query --format csv` writes it: CRLF, fields quoted
/// when needed, the header only where asked.
fn write_csv(batch: &RecordBatch, header: bool, out: &mut dyn Write) -> Result<()> {
    let mut writer = WriterBuilder::new()
        .with_header(header)
        .with_quote_style(QuoteStyle::Necessary)
        .with_line_terminator(Terminator::CRLF)
        .build(out);
    writer.write(batch)?;
    Ok(())
}

/// A batch as CSV for people shows it: timestamps as RFC 3339 text, and
/// text that a spreadsheet would run as a formula (leading `=`, `+`, `-`,
/// `@`, tab or carriage return) behind a `'`.
pub fn for_people(batch: &RecordBatch) -> Result<RecordBatch> {
    let result = with_text_timestamps(&QueryResult {
        schema: batch.schema(),
        batches: vec![batch.clone()],
    })?;
    let batch = &result.batches[0];
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (field, column) in result.schema.fields().iter().zip(batch.columns()) {
        let text = matches!(
            field.data_type(),
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
        );
        if !text {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
            continue;
        }
        let column = cast(column, &DataType::Utf8)?;
        let text = column.as_string::<i32>();
        fields.push(Field::new(
            field.name(),
            DataType::Utf8,
            field.is_nullable(),
        ));
        // Most columns hold no formula: those are kept as they are.
        if !text.iter().flatten().any(is_formula) {
            columns.push(column);
            continue;
        }
        let neutralised: StringArray = text.iter().map(|v| v.map(neutralise)).collect();
        columns.push(Arc::new(neutralised) as ArrayRef);
    }
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

fn is_formula(text: &str) -> bool {
    matches!(
        text.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    )
}

fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    if is_formula(text) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;
    use std::io::Read;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("+1"), "'+1");
        assert_eq!(neutralise("-2016281112"), "'-2016281112");
        assert_eq!(neutralise("@SUM"), "'@SUM");
        assert_eq!(neutralise("\tx"), "'\tx");
        assert_eq!(neutralise("ws-0042"), "ws-0042");
        assert_eq!(neutralise(""), "");
    }

    fn batch(from: i64, rows: i64) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("text", DataType::Utf8, true),
        ]));
        let numbers: Int64Array = (from..from + rows).collect();
        let text: StringArray = (from..from + rows)
            .map(|n| Some(format!("=row {n} {}", "x".repeat(40))))
            .collect();
        RecordBatch::try_new(schema, vec![Arc::new(numbers), Arc::new(text)]).unwrap()
    }

    fn gunzip(path: &Path) -> String {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(File::open(path).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    #[test]
    fn a_small_view_is_plain_csv_and_parquet() {
        let dir = tempfile::tempdir().unwrap();
        let first = batch(0, 3);
        let mut writer = EvidenceWriter::new(dir.path(), "v", first.schema()).unwrap();
        writer.write(&first).unwrap();
        let (evidence, files) = writer.finish().unwrap();
        assert_eq!(evidence.csv, ["csv/v.csv"]);
        assert!(!evidence.gzip);
        assert_eq!(evidence.rows, 3);
        assert_eq!(files.len(), 2);
        let csv = std::fs::read_to_string(dir.path().join("csv/v.csv")).unwrap();
        assert!(csv.starts_with("n,text\r\n0,'=row 0 "), "{csv}");
        assert_eq!(csv.lines().count(), 4);
    }

    #[test]
    fn text_views_are_written_as_plain_text_whichever_engine_gave_them() {
        let dir = tempfile::tempdir().unwrap();
        let plain = batch(0, 3);
        let view = cast(plain.column(1), &DataType::Utf8View).unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("text", DataType::Utf8View, true),
        ]));
        let batch = RecordBatch::try_new(schema, vec![plain.column(0).clone(), view]).unwrap();
        let mut writer = EvidenceWriter::new(dir.path(), "v", batch.schema()).unwrap();
        writer.write(&batch).unwrap();
        writer.finish().unwrap();
        let file = File::open(dir.path().join("data/v.parquet")).unwrap();
        let read =
            datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                file,
            )
            .unwrap();
        assert_eq!(read.schema().fields(), plain.schema().fields());
        let rows: Vec<RecordBatch> = read.build().unwrap().map(|b| b.unwrap()).collect();
        assert_eq!(rows, [plain]);
    }

    #[test]
    fn an_empty_view_keeps_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let writer = EvidenceWriter::new(dir.path(), "v", batch(0, 0).schema()).unwrap();
        let (evidence, _) = writer.finish().unwrap();
        assert_eq!(evidence.rows, 0);
        let csv = std::fs::read_to_string(dir.path().join("csv/v.csv")).unwrap();
        assert_eq!(csv, "n,text\r\n");
    }

    #[test]
    fn a_big_view_is_gzip_in_parts_each_with_its_header_and_no_row_lost() {
        let dir = tempfile::tempdir().unwrap();
        let rows = CSV_ROWS_PER_PART as i64 + 50_000;
        let schema = batch(0, 0).schema();
        let mut writer = EvidenceWriter::new(dir.path(), "v", schema).unwrap();
        let mut from = 0;
        while from < rows {
            let n = 65_536.min(rows - from);
            writer.write(&batch(from, n)).unwrap();
            from += n;
        }
        let (evidence, files) = writer.finish().unwrap();
        assert!(evidence.gzip);
        assert_eq!(evidence.csv, ["csv/v-0001.csv.gz", "csv/v-0002.csv.gz"]);
        assert_eq!(files.len(), 3);
        let first = gunzip(&dir.path().join("csv/v-0001.csv.gz"));
        let second = gunzip(&dir.path().join("csv/v-0002.csv.gz"));
        assert_eq!(first.lines().count(), CSV_ROWS_PER_PART + 1);
        assert_eq!(second.lines().count(), 50_000 + 1);
        assert!(second.starts_with("n,text\r\n1000000,'=row 1000000 "));
        let mut numbers = Vec::new();
        for text in [&first, &second] {
            for line in text.lines().skip(1) {
                numbers.push(line.split(',').next().unwrap().parse::<i64>().unwrap());
            }
        }
        assert_eq!(numbers, (0..rows).collect::<Vec<_>>());
        // The Parquet file holds every row, in order.
        let file = File::open(dir.path().join("data/v.parquet")).unwrap();
        let reader =
            datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(file, 8192)
                .unwrap();
        let mut count = 0;
        for b in reader {
            let b = b.unwrap();
            let n = b
                .column(0)
                .as_primitive::<datafusion::arrow::datatypes::Int64Type>();
            for i in 0..b.num_rows() {
                assert_eq!(n.value(i), count);
                count += 1;
            }
        }
        assert_eq!(count, rows);
    }

    #[test]
    fn one_gzip_part_has_no_number() {
        let dir = tempfile::tempdir().unwrap();
        let rows = 100_000;
        let mut writer = EvidenceWriter::new(dir.path(), "v", batch(0, 0).schema()).unwrap();
        writer.write(&batch(0, rows)).unwrap();
        let (evidence, _) = writer.finish().unwrap();
        assert_eq!(evidence.csv, ["csv/v.csv.gz"]);
        let text = gunzip(&dir.path().join("csv/v.csv.gz"));
        assert_eq!(text.lines().count(), rows as usize + 1);
    }
}
