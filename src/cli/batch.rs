//! `reelsmith batch`: one video per row of a table, one progress display, a summary table.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use reelsmith::batch::{self, BatchOptions, BatchProgress, Row, RowResult, RowStatus};

use crate::{print_json, write_json, Failure, RenderArgs};

/// Render one video per row of a table from a template spec.
///
/// The template declares its variables ("variables": {"site": {}, …}) and uses them as
/// {{site}} in any string. Each row of the table gives the values: a CSV file with a header
/// row of variable names, or JSON Lines (one object a line). A column `id` names the row
/// (else its number) and the default output. Every row is checked before the first is
/// rendered (unknown columns, values that do not fit their variable, two rows writing the same
/// file); then a row that fails is reported and the others go on. Each output is recorded
/// with the key of everything that made it (.reelsmith-batch.json beside it): a re-run skips
/// the rows already rendered from the same inputs. Scenes and audio that rows share are
/// encoded once (the scene and audio caches).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  reelsmith batch examples/template.json --rows examples/sites.csv -o 'out/{{id}}.mp4'
  reelsmith batch course.json --rows langs.jsonl --jobs 2 --report batch.json

Exit codes: 0 every row done or skipped, 3 the template or the table cannot be used (nothing
rendered), 6 some rows failed (the others are done), 130 cancelled.")]
pub struct BatchArgs {
    /// The template spec (JSON with "variables").
    spec: PathBuf,
    /// The table: .csv (a header row of variable names) or .jsonl (a JSON object a line).
    #[arg(long, value_name = "TABLE")]
    rows: PathBuf,
    /// Where each row's video goes: a path with {{column}} placeholders ({{id}}, {{row}}: the
    /// row's number, or any column), made file-name safe. Default:
    /// <media-root>/videos/<spec name>/{{id}}.mp4.
    #[arg(short, long, value_name = "PATTERN")]
    output: Option<String>,
    /// Rows rendered at once; the cores are shared between them.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Render every row again, even those already rendered from the same inputs.
    #[arg(long)]
    force: bool,
    /// Also write the summary as JSON to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    #[command(flatten)]
    render: RenderArgs,
    /// No progress display (the summary is still printed).
    #[arg(short, long)]
    quiet: bool,
    /// Print the summary as JSON on stdout instead of a table.
    #[arg(long)]
    json: bool,
}

/// The batch's one progress display: a bar of rows, the rows being rendered with their
/// frames, failures printed above it as they happen.
struct Display {
    bar: ProgressBar,
    interrupted: Arc<AtomicBool>,
    running: Mutex<BTreeMap<usize, (String, u64, u64)>>,
}

impl Display {
    fn new(rows: usize, quiet: bool) -> Display {
        let interrupted = crate::progress::ctrl_c_flag();
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            let b = ProgressBar::with_draw_target(Some(rows as u64), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("[{bar:30.cyan/blue}] {pos}/{len} rows  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            b
        };
        Display {
            bar,
            interrupted,
            running: Mutex::new(BTreeMap::new()),
        }
    }

    fn refresh(&self, running: &BTreeMap<usize, (String, u64, u64)>) {
        let msg = running
            .values()
            .map(|(id, done, total)| match total {
                0 => format!("{id} planning"),
                _ => format!("{id} {}%", done * 100 / total),
            })
            .collect::<Vec<_>>()
            .join(", ");
        self.bar.set_message(msg);
    }
}

impl BatchProgress for Display {
    fn row_started(&self, row: &Row) {
        let mut r = self.running.lock().unwrap_or_else(|p| p.into_inner());
        r.insert(row.number, (row.id.clone(), 0, 0));
        self.refresh(&r);
    }

    fn frames(&self, row: &Row, done: u64, total: u64) -> bool {
        let mut r = self.running.lock().unwrap_or_else(|p| p.into_inner());
        r.insert(row.number, (row.id.clone(), done, total));
        self.refresh(&r);
        !self.interrupted.load(Ordering::SeqCst)
    }

    fn row_finished(&self, result: &RowResult) {
        let mut r = self.running.lock().unwrap_or_else(|p| p.into_inner());
        r.remove(&result.row);
        if let Some(e) = &result.error {
            self.bar
                .println(format!("row {} ({}) failed: {e}", result.row, result.id));
        }
        self.bar.inc(1);
        self.refresh(&r);
    }
}

/// Runs `reelsmith batch`.
pub fn run(args: BatchArgs) -> Result<(), Failure> {
    let template = std::fs::read_to_string(&args.spec).map_err(|source| {
        reelsmith::Error::from(reelsmith::SpecError::Read {
            path: args.spec.clone(),
            source,
        })
    })?;
    let rows = batch::read_rows(&args.rows)?;
    let opts = args.render.options(&args.spec);
    let display = Display::new(rows.len(), args.quiet);
    let report = batch::run(
        &template,
        &rows,
        &opts,
        &BatchOptions {
            output: args.output,
            jobs: args.jobs,
            force: args.force,
        },
        &display,
    );
    display.bar.finish_and_clear();
    let report = report?;
    if let Some(path) = &args.report {
        write_json(path, &report)?;
    }
    if args.json {
        print_json(&report)?;
    } else {
        print!("{}", report.table());
    }
    if display.interrupted.load(Ordering::SeqCst) || report.count(RowStatus::Cancelled) > 0 {
        return Err(reelsmith::Error::Cancelled.into());
    }
    match report.count(RowStatus::Failed) {
        0 => Ok(()),
        n => Err(Failure::RowsFailed(n, report.rows.len())),
    }
}
