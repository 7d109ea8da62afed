//! `reelsmith bench`: one spec rendered several times, each stage's time per run and the
//! median.

use std::path::Path;

use crate::error::Error;
use crate::pipeline::options::RenderOptions;
use crate::pipeline::report::RenderReport;
use crate::pipeline::workspace::Workspace;
use crate::spec::Composition;

/// Renders `comp` `runs` times (at least once) with `opts` and returns each run's report. The
/// outputs go to a temporary folder under the temp root and are removed after each run
/// (`opts.output` is not used). `on_run(i, runs)` is called before the `i`-th run (from 1).
///
/// # Errors
/// The first run's error, as [`crate::pipeline::render`]'s; [`Error::Io`] if the temporary
/// folder cannot be made.
pub fn bench(
    comp: &Composition,
    opts: &RenderOptions,
    runs: usize,
    mut on_run: impl FnMut(usize, usize),
) -> Result<Vec<RenderReport>, Error> {
    let runs = runs.max(1);
    let ws = Workspace::create(&opts.temp_root(), false)?;
    let out = ws.dir().join("bench.mp4");
    let opts = opts.clone().with_output(&out);
    let mut reports = Vec::with_capacity(runs);
    for i in 1..=runs {
        on_run(i, runs);
        let r = crate::pipeline::render(comp, &opts);
        let _ = std::fs::remove_file(&out);
        reports.push(r?);
    }
    Ok(reports)
}

/// The median of `v` (the upper one of an even count); `v` must not be empty.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A per-run count shown as a row of the bench table.
type Count = fn(&RenderReport) -> f64;

/// The `reelsmith bench` table: what was rendered (`spec` names it), then each stage's
/// seconds for each run and their median, the totals and counts, frames/s, realtime factor,
/// peak memory and output size. `reports` must not be empty.
pub fn table(spec: &Path, reports: &[RenderReport]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let first = &reports[0];
    let _ = writeln!(
        s,
        "{}: {}x{} {} fps, {} frames ({} distinct), quality {}, {} threads",
        spec.display(),
        first.width,
        first.height,
        first.fps,
        first.frames,
        first.unique_frames,
        first.quality,
        first.threads
    );
    let _ = write!(s, "{:<12}", "stage (s)");
    for i in 0..reports.len() {
        let _ = write!(s, " {:>8}", format!("run {}", i + 1));
    }
    let _ = writeln!(s, " {:>8}", "median");
    let mut row = |name: &str, values: Vec<f64>, digits: usize| {
        let _ = write!(s, "{name:<12}");
        for v in &values {
            let _ = write!(s, " {v:>8.digits$}");
        }
        let _ = writeln!(s, " {:>8.digits$}", median(values));
    };
    for (k, stage) in first.stages.iter().enumerate() {
        let v = reports
            .iter()
            .map(|r| r.stages.get(k).map_or(0.0, |x| x.wall_s))
            .collect();
        row(stage.stage.as_str(), v, 2);
    }
    row("wall", reports.iter().map(|r| r.wall_s).collect(), 2);
    row(
        "CPU s",
        reports.iter().map(|r| r.cpu_s.unwrap_or(0.0)).collect(),
        1,
    );
    let counts: [(&str, Count); 5] = [
        ("x264 pics", |r| r.encoded_frames as f64),
        ("patched", |r| r.patched_frames as f64),
        ("segments", |r| r.segments as f64),
        ("reused", |r| r.segments_reused as f64),
        ("audio cached", |r| f64::from(u8::from(r.audio_cached))),
    ];
    for (name, count) in counts {
        row(name, reports.iter().map(count).collect(), 0);
    }
    row(
        "frames/s",
        reports.iter().map(|r| r.frames as f64 / r.wall_s).collect(),
        1,
    );
    row(
        "x realtime",
        reports.iter().map(|r| r.realtime_factor).collect(),
        2,
    );
    row(
        "peak MB",
        reports
            .iter()
            .map(|r| r.peak_rss_bytes.unwrap_or(0) as f64 / 1e6)
            .collect(),
        0,
    );
    row(
        "output MB",
        reports
            .iter()
            .map(|r| r.output_bytes as f64 / 1e6)
            .collect(),
        2,
    );
    let _ = writeln!(
        s,
        "(compose and encode overlap: their figures are busy time; peak MB is the process peak so far)"
    );
    s
}
