//! The shell and scripts of `posture sql`: statements read from a terminal
//! (line editing and history with rustyline, several lines until `;`), a
//! file or standard input, and run one after another in one session, in
//! the habits of datafusion-cli and the DuckDB CLI. `\d` and friends list
//! the tables. A failed statement is reported and the next one runs.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use rustyline::error::ReadlineError;
use rustyline::history::{FileHistory, History};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Config, Editor};

use crate::cli::Format;
use crate::query::{
    Bounds, Engine, EngineKind, Location, QueryResult, SnapshotOptions, SqlSession, output,
    split_statements,
};

/// Where statements come from.
#[derive(Debug, Clone)]
pub enum Source {
    Terminal,
    File(PathBuf),
    Stdin,
}

/// Rows the shell shows of a result; the rest are counted.
const SHELL_ROWS: usize = 40;

const HELP: &str = "\
Statements end with `;` and may span lines; each is read-only.
  \\d, .tables        the tables and views, with their columns
  \\d NAME, .schema NAME  the columns of one table or view, with their types
  \\?, .help          this help
  \\q, .quit          leave (or Ctrl-D)
Ctrl-C drops the statement being typed, or stops the one running.";

/// The lake a shell reads, opened for each statement: an open lake holds
/// its read lock, which would hold up the nightly commit for as long as the
/// shell stays open, and each statement sees the lake as it is then.
pub struct Lake {
    pub location: Location,
    pub engine: EngineKind,
    pub bounds: Bounds,
}

impl Lake {
    /// The lake opened, and a session on it.
    pub async fn open(&self) -> Result<(Engine, SqlSession)> {
        let engine = Engine::open(&self.location, None)
            .await?
            .on(self.engine.clone())
            .await?;
        // The snapshot views analysts see are as of the newest day, with
        // the default staleness.
        let session = engine
            .sql_session(&SnapshotOptions::default(), &self.bounds)
            .await?;
        Ok((engine, session))
    }

    async fn run(&self, sql: &str) -> Result<QueryResult> {
        let (_engine, session) = self.open().await?;
        session.run(sql).await
    }
}

pub struct Shell<'a> {
    lake: &'a Lake,
    runtime: &'a tokio::runtime::Runtime,
    format: Format,
    interactive: bool,
    /// What errors are located in: `` `FILE` `` or `stdin`; none on a
    /// terminal.
    origin: Option<String>,
    /// The statement being read, and the line it starts on.
    pending: String,
    pending_line: usize,
    /// Lines read so far.
    line: usize,
    failed: usize,
}

enum Flow {
    Continue,
    Quit,
}

impl<'a> Shell<'a> {
    pub fn new(
        lake: &'a Lake,
        runtime: &'a tokio::runtime::Runtime,
        format: Format,
        source: &Source,
    ) -> Shell<'a> {
        Shell {
            lake,
            runtime,
            format,
            interactive: matches!(source, Source::Terminal),
            origin: match source {
                Source::Terminal => None,
                Source::File(path) => Some(format!("`{}`", path.display())),
                Source::Stdin => Some("stdin".to_owned()),
            },
            pending: String::new(),
            pending_line: 1,
            line: 0,
            failed: 0,
        }
    }

    /// Runs every statement of a script; exit status 1 if any failed.
    pub fn script(mut self, input: impl BufRead) -> Result<ExitCode> {
        for line in input.lines() {
            let line = line.with_context(|| {
                format!(
                    "cannot read {} after line {}",
                    self.origin.as_deref().unwrap_or("the input"),
                    self.line
                )
            })?;
            if let Flow::Quit = self.feed(&line)? {
                return Ok(self.exit_code());
            }
        }
        self.finish()?;
        Ok(self.exit_code())
    }

    /// The shell on a terminal, until `\q` or Ctrl-D.
    /// `greeting` names the lake and its as-of day.
    pub fn interactive(mut self, greeting: &str) -> Result<ExitCode> {
        let config = Config::builder()
            .max_history_size(1000)?
            .history_ignore_dups(true)?
            .history_ignore_space(true)
            .auto_add_history(false)
            .build();
        let mut editor: Editor<StatementHelper, FileHistory> = Editor::with_config(config)?;
        editor.set_helper(Some(StatementHelper));
        let history = history_file();
        if let Some(file) = &history
            && file.exists()
            && let Err(e) = editor.load_history(file)
        {
            eprintln!("warning: cannot read the history `{}`: {e}", file.display());
        }
        eprintln!(
            "posture sql: {greeting}; `\\d` lists the tables, `\\?` the commands, `\\q` quits"
        );
        loop {
            match editor.readline("posture> ") {
                Ok(text) => {
                    if !text.trim().is_empty() {
                        editor.add_history_entry(text.as_str())?;
                    }
                    let mut quit = false;
                    for line in text.lines() {
                        if let Flow::Quit = self.feed(line)? {
                            quit = true;
                            break;
                        }
                    }
                    if quit {
                        break;
                    }
                }
                // Ctrl-C at the prompt drops what was typed.
                Err(ReadlineError::Interrupted) => self.pending.clear(),
                Err(ReadlineError::Eof) => break,
                Err(e) => return Err(e).context("cannot read from the terminal"),
            }
        }
        if let Some(file) = &history
            && !editor.history().is_empty()
        {
            save_history(&mut editor, file);
        }
        Ok(ExitCode::SUCCESS)
    }

    /// One line of input: a shell command, or part of the statements.
    fn feed(&mut self, line: &str) -> Result<Flow> {
        self.line += 1;
        let pending_sql = split_statements(&self.pending).rest_has_sql();
        if !pending_sql && is_command(line) {
            self.pending.clear();
            return self.command(line.trim());
        }
        if !pending_sql {
            self.pending.clear();
            self.pending_line = self.line;
        }
        self.pending.push_str(line);
        self.pending.push('\n');
        let split = split_statements(&self.pending);
        for statement in &split.complete {
            self.statement(&statement.text, self.pending_line + statement.line - 1)?;
        }
        if split.rest_has_sql() {
            self.pending_line += split.rest_line - 1;
            self.pending = split.rest;
        } else {
            self.pending.clear();
        }
        Ok(Flow::Continue)
    }

    /// The end of a script: a last statement without its `;` runs too.
    fn finish(&mut self) -> Result<()> {
        let rest = std::mem::take(&mut self.pending);
        if split_statements(&rest).rest_has_sql() {
            self.statement(rest.trim(), self.pending_line)?;
        }
        Ok(())
    }

    fn exit_code(&self) -> ExitCode {
        if self.failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }

    /// Runs one statement and prints its rows, or its error. Only failing
    /// to print is an error here.
    fn statement(&mut self, sql: &str, line: usize) -> Result<()> {
        let started = Instant::now();
        let lake = self.lake;
        let outcome = if self.interactive {
            self.runtime.block_on(async {
                tokio::select! {
                    outcome = lake.run(sql) => outcome,
                    _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("stopped (Ctrl-C)")),
                }
            })
        } else {
            self.runtime.block_on(lake.run(sql))
        };
        match outcome {
            Ok(result) => {
                self.print(&result)?;
                if self.interactive {
                    let rows = result.num_rows();
                    eprintln!(
                        "{rows} row{} in {:.3} s",
                        if rows == 1 { "" } else { "s" },
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            Err(e) => self.report(&e, line),
        }
        Ok(())
    }

    /// `\d`, `.tables` and the rest.
    fn command(&mut self, text: &str) -> Result<Flow> {
        let text = text.trim_end_matches(';').trim();
        let (name, argument) = match text.split_once(char::is_whitespace) {
            Some((name, argument)) => (name, Some(argument.trim())),
            None => (text, None),
        };
        let listing = match (name, argument) {
            ("\\q" | "\\quit" | ".quit" | ".exit", _) => return Ok(Flow::Quit),
            ("\\?" | "\\h" | "\\help" | ".help", _) => {
                eprintln!("{HELP}");
                return Ok(Flow::Continue);
            }
            ("\\d" | "\\dt" | ".tables", None) => self.runtime.block_on(async {
                let (_engine, session) = self.lake.open().await?;
                session.tables().await
            }),
            ("\\d" | ".schema", Some(table)) => self.runtime.block_on(async {
                let (_engine, session) = self.lake.open().await?;
                session.columns(table).await
            }),
            _ => Err(crate::Hinted::new(
                format!("unknown command `{text}`"),
                "`\\?` lists the shell's commands; SQL statements end with `;`",
            )
            .into()),
        };
        match listing {
            Ok(result) => self.print(&result)?,
            Err(e) => self.report(&e, self.line),
        }
        Ok(Flow::Continue)
    }

    /// An error, located in a script by its line, with its hint; the shell
    /// goes on.
    fn report(&mut self, e: &anyhow::Error, line: usize) {
        self.failed += 1;
        let place = match &self.origin {
            Some(origin) => format!("{origin} line {line}: "),
            None => String::new(),
        };
        eprintln!("error: {place}{e:#}");
        if let Some(hint) = super::hint(e) {
            eprintln!("hint: {hint}");
        }
    }

    /// Rows on stdout in the asked format; the shell shows the first rows
    /// of a long result and says how many there are.
    fn print(&self, result: &QueryResult) -> Result<()> {
        let rows = result.num_rows();
        let shown = if self.interactive && rows > SHELL_ROWS {
            head(result, SHELL_ROWS)
        } else {
            result.clone()
        };
        let mut text = Vec::new();
        match self.format {
            Format::Table => output::write_table(&shown, &mut text)?,
            Format::Csv => output::write_csv(&shown, &mut text)?,
            Format::Json => output::write_json(&shown, &mut text)?,
            Format::Parquet => unreachable!("refused before the shell starts"),
        }
        let mut out = std::io::stdout().lock();
        out.write_all(&text)?;
        out.flush()?;
        if shown.num_rows() < rows {
            eprintln!(
                "(the first {SHELL_ROWS} of {rows} rows; add a LIMIT, or run it with --file and --format csv for all)"
            );
        }
        Ok(())
    }
}

/// A shell command rather than SQL: a line starting with `\` or `.`.
fn is_command(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with('\\') || line.starts_with('.')
}

/// The first `rows` rows of a result.
fn head(result: &QueryResult, rows: usize) -> QueryResult {
    let mut left = rows;
    let mut batches = Vec::new();
    for batch in &result.batches {
        if left == 0 {
            break;
        }
        let take = batch.num_rows().min(left);
        batches.push(batch.slice(0, take));
        left -= take;
    }
    QueryResult {
        schema: result.schema.clone(),
        batches,
    }
}

/// The shell's history: `$XDG_DATA_HOME/posture/sql_history`, else
/// `~/.local/share/posture/sql_history`; none without either variable.
fn history_file() -> Option<PathBuf> {
    let non_empty = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    let data = non_empty("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| non_empty("HOME").map(|home| Path::new(&home).join(".local/share")))?;
    Some(data.join("posture").join("sql_history"))
}

/// Saves the history (readable by its owner only, as rustyline writes it);
/// a failure costs the history, not the session.
fn save_history(editor: &mut Editor<StatementHelper, FileHistory>, file: &Path) {
    let saved = file
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .map_err(ReadlineError::Io)
        .and_then(|()| editor.save_history(file));
    if let Err(e) = saved {
        eprintln!(
            "warning: cannot save the history to `{}`: {e}",
            file.display()
        );
    }
}

/// Enter runs what is typed once it ends with `;` (outside strings and
/// comments) or is a shell command; before that it starts a new line.
struct StatementHelper;

impl Validator for StatementHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if is_command(input) || !split_statements(input).rest_has_sql() {
            Ok(ValidationResult::Valid(None))
        } else {
            Ok(ValidationResult::Incomplete)
        }
    }
}

impl rustyline::completion::Completer for StatementHelper {
    type Candidate = String;
}

impl rustyline::hint::Hinter for StatementHelper {
    type Hint = String;
}

impl rustyline::highlight::Highlighter for StatementHelper {}

impl rustyline::Helper for StatementHelper {}
