//! The `reelsmith` command line. Thin: parses arguments, calls the library, prints results.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};
use reelsmith::pipeline::{bench, inspect};

#[path = "cli/batch.rs"]
mod batch;
#[path = "cli/progress.rs"]
mod progress;
use progress::cli_progress;
use reelsmith::spec::Quality;
use reelsmith::{Composition, Error, RenderOptions};

const EXIT_HELP: &str = "\
Exit codes: 0 success, 1 internal error, 2 bad command line, 3 invalid spec,
4 unusable asset (image, audio), 5 encode or file error, 6 a batch with failed rows,
130 cancelled (Ctrl-C).
Errors go to stderr; with --json, results go to stdout as JSON.";

/// Render declarative compositions (scenes, text, pictures, audio) to web-ready MP4.
///
/// A spec is a JSON file: `reelsmith schema` prints its JSON Schema, and examples/ has
/// samples. Relative asset paths in a spec are resolved against the spec's folder.
#[derive(Parser, Debug)]
#[command(name = "reelsmith", version, after_help = EXIT_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Render a spec to an MP4 (H.264 High + AAC-LC, faststart).
    ///
    /// The output appears only when complete: on any failure or Ctrl-C nothing is left at the
    /// output path (an existing file there is kept) and temporary files are removed.
    #[command(
        after_help = "Example:\n  reelsmith render examples/hello.json -o hello.mp4 --report hello.json"
    )]
    Render {
        /// The composition spec (JSON).
        spec: PathBuf,
        #[command(flatten)]
        vars: VarArgs,
        /// Output file. Default: the spec's output.path, else <media-root>/videos/<spec name>.mp4.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Also write the timing report as JSON to this file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Keep the render's temporary folder under <media-root>/assets/temp for inspection.
        #[arg(long)]
        keep_temp: bool,
        /// Mix, master and encode the audio even when an earlier render left exactly this
        /// audio (same tracks, same source files, same loudness settings and bitrate) in the
        /// audio cache, <media-root>/assets/audio/encoded; and do not add this one to it.
        #[arg(long)]
        no_audio_cache: bool,
        /// Encode every scene again, and do not keep them in the scene cache. By default each
        /// scene's encoded video is kept in <media-root>/assets/video/segments (under 1 GB, least
        /// recently used first) and a scene an earlier render encoded from exactly the same
        /// pictures is copied from there: after editing one slide only that slide is made
        /// again, and a render that failed or was cancelled copies the scenes it had finished.
        #[arg(long)]
        no_scene_cache: bool,
        /// The scene cache is on by default (see --no-scene-cache); kept for older scripts.
        #[arg(long, hide = true, conflicts_with = "no_scene_cache")]
        scene_cache: bool,
        #[command(flatten)]
        render: RenderArgs,
        #[cfg(feature = "farm")]
        #[command(flatten)]
        farm: FarmArgs,
        /// Render only this rendition of `output.renditions` (by name; `main` for the main
        /// output), to the file a render of all of them writes. Repeat it with `main` for
        /// several. Default: all.
        #[arg(long = "rendition", value_name = "NAME")]
        renditions: Vec<String>,
        /// No progress bar.
        #[arg(short, long)]
        quiet: bool,
        /// Print the report as JSON on stdout instead of a table.
        #[arg(long)]
        json: bool,
    },
    Batch(batch::BatchArgs),
    /// Render units of work for coordinators on many machines (`render --broker`).
    ///
    /// A worker takes units (a scene, a chunk of a long scene, a render's audio mastering or
    /// a chunk of its AAC encoding) from the broker, renders them from the plan and files the
    /// coordinator put in the store, and puts the encoded packets there; the coordinator joins them into the MP4. Run any
    /// number, on any machines sharing the broker and the store; a worker that dies has its
    /// unit taken over by another after --lease. Stops on Ctrl-C or SIGTERM (its unit goes
    /// back to the queue).
    #[cfg(feature = "farm")]
    #[command(
        after_help = "Example (one broker, a shared folder, two workers, a coordinator):
  redis-server --port 6379 --save '' &
  reelsmith worker --broker redis://127.0.0.1:6379/0 --store /mnt/farm &
  reelsmith worker --broker redis://127.0.0.1:6379/0 --store /mnt/farm &
  reelsmith render examples/training-module.json --broker redis://127.0.0.1:6379/0 --store /mnt/farm

The store may be s3://bucket/prefix, with AWS_ENDPOINT, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION (and AWS_ALLOW_HTTP=true for a plain-HTTP endpoint)."
    )]
    Worker {
        /// The broker: redis://HOST:PORT/DB.
        #[arg(long, env = "REELSMITH_BROKER")]
        broker: String,
        /// The store the coordinators use: a folder every machine mounts, or
        /// s3://bucket/prefix.
        #[arg(long, env = "REELSMITH_STORE")]
        store: String,
        /// This worker's folder: copies of plans and assets (by content hash), temporary
        /// files.
        #[arg(long, default_value = "media/farm")]
        cache: PathBuf,
        /// Its name on the broker (unique). Default: <hostname>-<pid>.
        #[arg(long)]
        name: Option<String>,
        /// Seconds a unit stays this worker's without a heartbeat (heartbeats go at a third
        /// of it) before another worker takes it over.
        #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
        lease: f64,
        /// No log lines.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Check a spec and every asset it uses, without rendering. Lists all problems at once.
    Validate {
        /// The composition spec (JSON).
        spec: PathBuf,
        #[command(flatten)]
        vars: VarArgs,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the closed captions a spec's narration makes, as WebVTT, without rendering.
    ///
    /// The same captions a render puts in the MP4 (and beside it with output.captions.vtt):
    /// the words of each narration (`text`, or `caption` for a recorded voice), two lines at
    /// most, cut at sentence ends, timed by the voice's pauses. For reviewing the timing or
    /// handing the text to a translator before the video is made.
    #[command(
        after_help = "Example:\n  reelsmith captions examples/training-module.json -o module.vtt"
    )]
    Captions {
        /// The composition spec (JSON).
        spec: PathBuf,
        #[command(flatten)]
        vars: VarArgs,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Storage root (the speech cache for text narration).
        #[arg(long, env = "REELSMITH_MEDIA", default_value = "media")]
        media_root: PathBuf,
    },
    /// Print the JSON Schema of the spec format (or, with --markdown, a field-by-field
    /// reference: the same text as docs/spec.md).
    Schema {
        /// Print a Markdown reference instead of the JSON Schema.
        #[arg(long)]
        markdown: bool,
    },
    /// Show a media file's streams, codecs, duration and frame count (read through libav).
    Probe {
        /// Any file libav reads.
        file: PathBuf,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Save one decoded video frame as PNG: the quickest way to look at a render.
    Frame {
        /// A video file.
        file: PathBuf,
        /// Time in seconds; the frame showing at that time is saved.
        #[arg(long, conflicts_with = "index")]
        at: Option<f64>,
        /// Frame number (0-based).
        #[arg(long)]
        index: Option<u64>,
        /// PNG to write.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// List the font families that specs may name: the bundled ones, plus those a spec's
    /// `fonts` entries bring with --spec.
    Fonts {
        /// Also list the fonts this spec brings.
        #[arg(long)]
        spec: Option<PathBuf>,
    },
    /// Show what the caches under the media root hold (encoded scenes, encoded audio, spoken
    /// narrations), or empty them with --clear.
    ///
    /// Renders keep encoded scenes and audio there so that rendering a spec again after an
    /// edit only makes what changed; the scene and audio caches stay under their limits by
    /// themselves (least recently used entries go first).
    #[command(after_help = "Example:
  reelsmith cache
  reelsmith cache --clear --media-root media")]
    Cache {
        /// Remove every entry (later renders then make everything again the first time).
        #[arg(long)]
        clear: bool,
        /// Storage root.
        #[arg(long, default_value = "media", env = "REELSMITH_MEDIA")]
        media_root: PathBuf,
        /// Print JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Run the render job service: an HTTP API and a web page to submit specs, follow
    /// renders live, download and delete them. Renders survive restarts (SQLite under --media).
    #[command(
        after_help = "Example:\n  reelsmith serve --media media --workers 2\n  \
        curl -X POST -H 'Content-Type: application/json' --data-binary @examples/hello.json \
        http://127.0.0.1:8080/v1/renders\n\n\
        The API is described at /v1/openapi.json; the page at / submits and plays renders.\n\n\
        Safe by default: specs read only files under <media>/assets, <media>/stock and each \
        --asset-root; a request's cost is capped (--max-*); cross-site and DNS-rebinding \
        requests are refused; webhooks may not reach this machine or private networks \
        (--webhook-allow); listening beyond loopback needs --token. See SECURITY.md."
    )]
    #[cfg(feature = "service")]
    Serve(ServeArgs),
    /// Render a spec several times and print each stage's time per run and the median, with
    /// frames/s, realtime factor, peak memory and output size. The outputs are discarded.
    #[command(after_help = "Quote medians, measured side by side in one run: machines are noisy.")]
    Bench {
        /// The composition spec (JSON).
        spec: PathBuf,
        /// Number of renders.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        #[command(flatten)]
        render: RenderArgs,
        /// Let runs copy the encoded audio from the audio cache when an earlier render left
        /// the same audio there (as `render` does). Off by default: every run then mixes,
        /// masters and encodes its audio, so the runs measure a first render.
        #[arg(long)]
        audio_cache: bool,
        /// Let runs copy scenes from the scene cache when an earlier render left the same
        /// encoded scenes there (as `render` does); runs after the first then measure a
        /// re-render. Off by default: every run encodes every scene, as a first render does.
        #[arg(long)]
        scene_cache: bool,
        /// Print every report as JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
}

/// Values for a template's variables (a spec's `variables`, used as `{{name}}`).
#[derive(clap::Args, Debug, Clone, Default)]
struct VarArgs {
    /// Give the template variable NAME this value (repeat for more). Numbers and booleans
    /// are read as the variable's declared type. Wins over --vars.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    var: Vec<(String, String)>,
    /// A JSON object of variable values: {"site": "Leeds", "seconds": 4}.
    #[arg(long, value_name = "FILE.json")]
    vars: Option<PathBuf>,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("expected NAME=VALUE, found {s:?}")),
    }
}

impl VarArgs {
    /// The values: --vars's, then each --var.
    fn values(&self) -> Result<reelsmith::spec::Values, Error> {
        let mut values = reelsmith::spec::Values::new();
        if let Some(path) = &self.vars {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                op: "read the variables",
                path: path.clone(),
                source,
            })?;
            values = serde_json::from_str(&text).map_err(|e| {
                reelsmith::SpecError::Invalid(vec![reelsmith::SpecIssue {
                    path: "variables".into(),
                    message: format!("{}: expected a JSON object of values: {e}", path.display()),
                }])
            })?;
        }
        for (name, value) in &self.var {
            values.insert(name.clone(), serde_json::Value::String(value.clone()));
        }
        Ok(values)
    }
}

/// How to render: the flags `render` and `bench` share (the encoding ones are for
/// measurements; their defaults are what users want).
#[derive(clap::Args, Debug, Clone)]
struct RenderArgs {
    /// Override the spec's quality: fast (x264 veryfast, CRF 23), standard (faster, CRF 20),
    /// high (slow, CRF 18).
    #[arg(long, value_enum)]
    quality: Option<QualityArg>,
    /// Storage root (videos/, assets/temp/).
    #[arg(long, default_value = "media", env = "REELSMITH_MEDIA")]
    media_root: PathBuf,
    /// Worker threads for composition, and x264's threads (0 = one compose worker per core,
    /// x264's own choice).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Extra libx264 settings as in x264's CLI, `key=value:key=value` (e.g. `subme=1:threads=2`),
    /// applied after reelsmith's own. For experiments.
    #[arg(long, value_name = "PARAMS")]
    x264_params: Option<String>,
    /// Encode every repeated frame with x264 (with B-frames) instead of writing each repeat
    /// of a static picture as an exact all-skip copy. Slower; for comparisons.
    #[arg(long)]
    no_skip_repeats: bool,
    /// Send every picture that changed to x264, even one that differs from the last reference
    /// only in a few macroblocks of one row (a progress bar's step), instead of coding just
    /// those macroblocks over the reference. Slower; for comparisons.
    #[arg(long)]
    no_patches: bool,
    /// Lossless H.264 (x264 QP 0, High 4:4:4 Predictive) of the same frames: a reference for
    /// quality measurements (SSIM). Large files.
    #[arg(long)]
    lossless: bool,
    /// One x264 for the whole video instead of a closed segment per scene (x264 flushed and
    /// opened again at every scene's first frame, the default). No keyframe is forced at
    /// scene starts and nothing can be kept in the scene cache. For comparisons.
    #[arg(long)]
    no_segments: bool,
    /// Segments are the default (see --no-segments); kept for older scripts.
    #[arg(long, hide = true, conflicts_with = "no_segments")]
    segments: bool,
    /// While splicing, how many frames x264 is told a picture followed by copies lasts at
    /// most (for measuring that choice: BENCHMARKS.md).
    #[arg(long, hide = true, env = "REELSMITH_SPLICE_HOLD", default_value_t = reelsmith::encode::HOLD_FRAMES)]
    splice_hold: u64,
    /// Cut scenes longer than this many seconds into chunks of this length, each encoded on
    /// its own (a keyframe at each cut), and encode the audio in chunks of this length too
    /// (overlapping at the seams, which stay inaudible). What lets a render farm spread one
    /// long scene and the audio over many workers; a local render with the same value makes
    /// the same pictures and audio stream as the farm. Default: 0 (not cut), 10 with --broker.
    #[arg(long, value_name = "SECONDS")]
    chunk: Option<f64>,
}

/// Where a render is spread over render workers (`reelsmith worker`).
#[cfg(feature = "farm")]
#[derive(clap::Args, Debug, Clone)]
struct FarmArgs {
    /// Render on the workers of this broker (redis://HOST:PORT/DB) instead of here: this
    /// process plans, publishes the units, follows them and joins the result.
    #[arg(long, requires = "store")]
    broker: Option<String>,
    /// The store the workers share: a folder every machine mounts, or s3://bucket/prefix
    /// (endpoint and credentials from the AWS_* variables).
    #[arg(long, requires = "broker")]
    store: Option<String>,
    /// Seconds to wait for a broker that went away mid-render before failing (when it is
    /// back, the units not yet done are published again).
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    broker_wait: f64,
}

impl RenderArgs {
    /// The options for the spec file `spec` with these flags.
    fn options(self, spec: &Path) -> RenderOptions {
        let mut opts = RenderOptions::for_spec_file(spec)
            .with_media_root(self.media_root)
            .with_threads(self.threads)
            .with_skip_repeats(!self.no_skip_repeats)
            .with_patches(!self.no_patches)
            .with_lossless(self.lossless)
            .with_segments(!self.no_segments)
            .with_splice_hold(self.splice_hold)
            .with_chunk_s(self.chunk.unwrap_or(0.0));
        opts.quality = self.quality.map(Into::into);
        opts.x264_params = self.x264_params;
        opts
    }
}

#[cfg(feature = "service")]
#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080", env = "REELSMITH_ADDR")]
    addr: std::net::SocketAddr,
    /// Storage root: reelsmith.db, videos/, assets/ (uploads, temp), stock/.
    #[arg(long, default_value = "media", env = "REELSMITH_MEDIA")]
    media: PathBuf,
    /// Renders at a time. Default: half the cores, at least 2.
    #[arg(long)]
    workers: Option<usize>,
    /// Renders that may wait beyond the running ones; more are refused with 429.
    #[arg(long, default_value_t = 64)]
    queue: usize,
    /// Remove finished renders (files and records) older than this: 90s, 15m, 24h, 7d;
    /// 0 keeps them forever.
    #[arg(long, default_value = "24h")]
    retention: String,
    /// A folder specs may read assets from (repeatable), besides <media>/assets and
    /// <media>/stock.
    #[arg(long = "asset-root")]
    asset_roots: Vec<PathBuf>,
    /// Require `Authorization: Bearer <TOKEN>` on the API.
    #[arg(long, env = "REELSMITH_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Sign completion webhooks with HMAC-SHA256 using this secret.
    #[arg(long, env = "REELSMITH_WEBHOOK_SECRET", hide_env_values = true)]
    webhook_secret: Option<String>,
    /// Largest spec body in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    max_spec_bytes: usize,
    /// Compose threads per render (0: the cores divided among the workers).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Listen on a non-loopback address without a --token (anyone who can reach it may render
    /// and delete).
    #[arg(long)]
    insecure_no_token: bool,
    /// A Host name the service answers to besides localhost, the loopback addresses and the
    /// --addr address (repeatable; `*`: any). Stops DNS rebinding.
    #[arg(long = "allow-host")]
    allow_hosts: Vec<String>,
    /// A network webhooks may reach although it is loopback, private or link-local
    /// (repeatable), e.g. 10.0.0.0/8 or 127.0.0.1.
    #[arg(long = "webhook-allow")]
    webhook_allow: Vec<reelsmith::service::webhook::Cidr>,
    /// Renders one client address may have queued or running; more get 429.
    #[arg(long, default_value_t = reelsmith::service::Config::default().max_per_client)]
    max_per_client: usize,
    /// Scenes in one spec.
    #[arg(long, default_value_t = reelsmith::resolve::limits::Limits::default().max_scenes)]
    max_scenes: usize,
    /// Layers in one spec, all scenes together.
    #[arg(long, default_value_t = reelsmith::resolve::limits::Limits::default().max_layers)]
    max_layers: usize,
    /// Characters of narration text to speak in one spec.
    #[arg(long, default_value_t = reelsmith::resolve::limits::Limits::default().max_narration_chars)]
    max_narration_chars: usize,
    /// Frames of one render (default: an hour at 30 fps).
    #[arg(long, default_value_t = reelsmith::resolve::limits::Limits::default().max_frames)]
    max_render_frames: u64,
    /// Pixels of one render, frames x width x height (default: an hour of 1080p30).
    #[arg(long, default_value_t = reelsmith::resolve::limits::Limits::default().max_pixels)]
    max_render_pixels: u64,
    /// Wall time one render may take: 90s, 15m, 2h; 0: no limit.
    #[arg(long, default_value = "2h")]
    max_render_time: String,
    /// Starts of one render when the process dies under it (a crash, out of memory); then it
    /// fails.
    #[arg(long, default_value_t = reelsmith::service::Config::default().max_attempts)]
    max_attempts: u32,
    /// Render on the workers of this broker (redis://HOST:PORT/DB; see `reelsmith worker`)
    /// instead of in this process: each render is planned here and its units spread over
    /// the workers.
    #[cfg(feature = "farm")]
    #[arg(long, requires = "store")]
    broker: Option<String>,
    /// The store the workers share (with --broker): a folder or s3://bucket/prefix.
    #[cfg(feature = "farm")]
    #[arg(long, requires = "broker")]
    store: Option<String>,
    /// Bytes of uploaded assets kept at once (uploads expire with --retention).
    #[arg(long, default_value_t = reelsmith::service::Config::default().max_uploads_bytes)]
    max_uploads_bytes: u64,
}

#[cfg(feature = "service")]
fn serve(args: ServeArgs) -> Result<(), Error> {
    use reelsmith::service;
    let retention = service::parse_duration(&args.retention)
        .map_err(|e| Error::Internal(format!("--retention: {e}")))?;
    let render_time = service::parse_duration(&args.max_render_time)
        .map_err(|e| Error::Internal(format!("--max-render-time: {e}")))?;
    let token = args.token.filter(|t| !t.is_empty());
    if !args.addr.ip().is_loopback() && token.is_none() && !args.insecure_no_token {
        eprintln!(
            "reelsmith serve: refusing to listen on {} without --token: anyone who can reach it \
             could render, read and delete. Give --token (or REELSMITH_TOKEN), or \
             --insecure-no-token behind your own gate.",
            args.addr
        );
        std::process::exit(2);
    }
    let limits = reelsmith::resolve::limits::Limits::default()
        .with_max_scenes(args.max_scenes)
        .with_max_layers(args.max_layers)
        .with_max_narration_chars(args.max_narration_chars)
        .with_max_frames(args.max_render_frames)
        .with_max_pixels(args.max_render_pixels);
    let config = service::Config::default()
        .with_addr(args.addr)
        .with_media(args.media)
        .with_workers(args.workers.unwrap_or_else(service::default_workers).max(1))
        .with_queue_limit(args.queue)
        .with_retention((!retention.is_zero()).then_some(retention))
        .with_asset_roots(args.asset_roots)
        .with_token(token)
        .with_webhook_secret(args.webhook_secret.filter(|t| !t.is_empty()))
        .with_max_spec_bytes(args.max_spec_bytes)
        .with_threads_per_render(args.threads)
        .with_allow_hosts(args.allow_hosts)
        .with_webhook_allow(args.webhook_allow)
        .with_max_per_client(args.max_per_client.max(1))
        .with_max_attempts(args.max_attempts.max(1))
        .with_max_render_time((!render_time.is_zero()).then_some(render_time))
        .with_max_uploads_bytes(args.max_uploads_bytes)
        .with_limits(limits);
    #[cfg(feature = "farm")]
    let config = match (args.broker, args.store) {
        (Some(broker), Some(store)) => {
            let store = reelsmith::farm::Store::open(&store, aws_options())
                .map_err(|e| Error::Internal(e.to_string()))?;
            config.with_farm(reelsmith::farm::Farm::new(broker, store))
        }
        _ => config,
    };
    let workers = config.workers;
    service::run_until_signal(
        config,
        |addr| {
            println!("reelsmith serve: listening on http://{addr} ({workers} workers)");
            use std::io::Write as _;
            let _ = std::io::stdout().flush();
        },
        || eprintln!("reelsmith serve: stopping; running renders go back to the queue"),
    )
    .map_err(|e| Error::Internal(e.to_string()))
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum QualityArg {
    Fast,
    Standard,
    High,
}

impl From<QualityArg> for Quality {
    fn from(q: QualityArg) -> Quality {
        match q {
            QualityArg::Fast => Quality::Fast,
            QualityArg::Standard => Quality::Standard,
            QualityArg::High => Quality::High,
        }
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("REELSMITH_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// The spec file `spec` (its variables given `vars`) and the options to render it with
/// `media_root`.
fn load(
    spec: &Path,
    vars: &VarArgs,
    media_root: PathBuf,
) -> Result<(Composition, RenderOptions), Error> {
    let (comp, _) = reelsmith::load_template(spec, &vars.values()?)?;
    Ok((
        comp,
        RenderOptions::for_spec_file(spec).with_media_root(media_root),
    ))
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Internal(e.to_string()))?;
    std::fs::write(path, text + "\n").map_err(|source| Error::Io {
        op: "write",
        path: path.into(),
        source,
    })
}

fn print_json(value: &impl serde::Serialize) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Internal(e.to_string()))?;
    println!("{text}");
    Ok(())
}

/// What a command can fail with: a render's error, or the render farm's.
#[derive(Debug)]
enum Failure {
    Render(Error),
    /// A batch that could not start.
    Batch(reelsmith::batch::BatchError),
    /// A batch with failed rows (failed, all).
    RowsFailed(usize, usize),
    #[cfg(feature = "farm")]
    Farm(reelsmith::farm::FarmError),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Render(e)
    }
}

impl From<reelsmith::media::error::ProbeError> for Failure {
    fn from(e: reelsmith::media::error::ProbeError) -> Self {
        Failure::Render(e.into())
    }
}

impl From<reelsmith::batch::BatchError> for Failure {
    fn from(e: reelsmith::batch::BatchError) -> Self {
        Failure::Batch(e)
    }
}

impl From<reelsmith::SpecError> for Failure {
    fn from(e: reelsmith::SpecError) -> Self {
        Failure::Render(e.into())
    }
}

#[cfg(feature = "farm")]
impl From<reelsmith::farm::FarmError> for Failure {
    fn from(e: reelsmith::farm::FarmError) -> Self {
        match e {
            reelsmith::farm::FarmError::Render(e) => Failure::Render(e),
            e => Failure::Farm(e),
        }
    }
}

impl Failure {
    fn exit_code(&self) -> i32 {
        match self {
            Failure::Render(e) => e.exit_code(),
            Failure::Batch(reelsmith::batch::BatchError::Read { .. }) => 5,
            Failure::Batch(_) => 3,
            Failure::RowsFailed(..) => 6,
            #[cfg(feature = "farm")]
            Failure::Farm(e) => e.exit_code(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Render(e) => e.fmt(f),
            Failure::Batch(e) => e.fmt(f),
            Failure::RowsFailed(n, all) => write!(f, "{n} of {all} rows failed (see the table)"),
            #[cfg(feature = "farm")]
            Failure::Farm(e) => e.fmt(f),
        }
    }
}

/// The store's options from the `AWS_*` environment variables (`AWS_ENDPOINT` becomes
/// `aws_endpoint`), as object_store names them.
#[cfg(feature = "farm")]
fn aws_options() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("AWS_"))
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect()
}

/// `reelsmith worker`: runs until Ctrl-C or SIGTERM, a log line per unit on stderr.
#[cfg(feature = "farm")]
fn worker(
    broker: String,
    store: &str,
    cache: PathBuf,
    name: Option<String>,
    lease: f64,
    quiet: bool,
) -> Result<(), Failure> {
    use reelsmith::farm::{worker, WorkerEvent, WorkerOptions};
    let lease = std::time::Duration::from_secs_f64(lease.clamp(1.0, 86_400.0));
    let store = reelsmith::farm::Store::open(store, aws_options())?;
    let mut opts = WorkerOptions::new(broker)
        .with_cache_dir(cache)
        .with_lease(lease.max(std::time::Duration::from_secs(1)));
    if let Some(name) = name {
        opts = opts.with_name(name);
    }
    let stop = Arc::new(AtomicBool::new(false));
    {
        let flag = stop.clone();
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    }
    let me = opts.name.clone();
    if !quiet {
        eprintln!("reelsmith worker {me}: store {}", store.address);
    }
    worker::run(&store, &opts, &stop, &mut |ev| {
        if quiet {
            return;
        }
        match ev {
            WorkerEvent::Connected(at) => eprintln!("{me}: connected to the broker at {at}"),
            WorkerEvent::BrokerLost(why) => eprintln!("{me}: {why}; retrying"),
            WorkerEvent::Took {
                unit,
                render,
                delivery,
            } => eprintln!(
                "{me}: {unit} of render {render}{}",
                if delivery > 1 {
                    format!(" (delivery {delivery})")
                } else {
                    String::new()
                }
            ),
            WorkerEvent::Finished {
                unit,
                wall_s,
                cached,
            } => eprintln!(
                "{me}: {unit} done in {wall_s:.2} s{}",
                if cached {
                    " (already in the store)"
                } else {
                    ""
                }
            ),
            WorkerEvent::Cancelled { unit } => eprintln!("{me}: {unit} cancelled"),
            WorkerEvent::Failed { unit, message } => eprintln!("{me}: {unit} failed: {message}"),
        }
    })?;
    Ok(())
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Batch(args) => batch::run(args),
        Command::Render {
            spec,
            vars,
            output,
            report,
            keep_temp,
            no_audio_cache,
            no_scene_cache,
            scene_cache: _,
            render,
            #[cfg(feature = "farm")]
            farm,
            renditions,
            quiet,
            json,
        } => {
            let (comp, _) = reelsmith::load_template(&spec, &vars.values()?)?;
            #[cfg(feature = "farm")]
            let chunk_default = if farm.broker.is_some() {
                reelsmith::farm::CHUNK_S
            } else {
                0.0
            };
            #[cfg(not(feature = "farm"))]
            let chunk_default = 0.0;
            let chunk = render.chunk.unwrap_or(chunk_default);
            let mut opts = render
                .options(&spec)
                .with_keep_temp(keep_temp)
                .with_audio_cache(!no_audio_cache)
                .with_scene_cache(!no_scene_cache)
                .with_chunk_s(chunk);
            opts.output = output;
            let (comp, only) = reelsmith::pipeline::renditions::select(
                &comp,
                &renditions,
                &reelsmith::pipeline::output_path(&comp, &opts),
            )?;
            if !renditions.is_empty() {
                opts.output = Some(only);
            }
            let mut progress = cli_progress(quiet);
            #[cfg(feature = "farm")]
            let result = match (farm.broker, farm.store) {
                (Some(broker), Some(store)) => {
                    let store = reelsmith::farm::Store::open(&store, aws_options())?;
                    let farm = reelsmith::farm::Farm::new(broker, store).with_patience(
                        std::time::Duration::from_secs_f64(farm.broker_wait.clamp(0.0, 86_400.0)),
                    );
                    reelsmith::farm::render(&comp, &opts, &farm, &mut progress)
                }
                _ => {
                    reelsmith::render_with_progress(&comp, &opts, &mut progress).map_err(Into::into)
                }
            };
            #[cfg(not(feature = "farm"))]
            let result = reelsmith::render_with_progress(&comp, &opts, &mut progress);
            progress.bar.finish_and_clear();
            let rep = result?;
            if let Some(path) = report {
                write_json(&path, &rep)?;
            }
            if json {
                print_json(&rep)?;
            } else {
                print!("{}", rep.table());
                println!("wrote {}", rep.output.display());
                for r in rep.renditions.iter().skip(1) {
                    println!("wrote {} ({}x{})", r.output.display(), r.width, r.height);
                }
            }
            Ok(())
        }
        Command::Captions {
            spec,
            vars,
            output,
            media_root,
        } => {
            let (comp, opts) = load(&spec, &vars, media_root)?;
            let (vtt, cues) = inspect::captions_vtt(&comp, &opts)?;
            match output {
                Some(path) => {
                    inspect::write_atomically(&path, vtt.as_bytes(), "write captions")?;
                    eprintln!("wrote {} ({cues} captions)", path.display());
                }
                None => print!("{vtt}"),
            }
            Ok(())
        }
        Command::Validate { spec, vars, json } => {
            let (comp, opts) = load(&spec, &vars, PathBuf::from("media"))?;
            // Long audio is decoded into the system's temporary folder.
            let opts = opts.with_spill_dir(std::env::temp_dir());
            let summary = reelsmith::validate(&comp, &opts)?;
            if json {
                print_json(&summary)?;
            } else {
                println!(
                    "ok: {} scenes, {} frames ({:.2} s) at {}x{} {} fps, {} audio tracks, {} distinct pictures, {} captions",
                    summary.scenes,
                    summary.frames,
                    summary.duration_s,
                    summary.width,
                    summary.height,
                    summary.fps,
                    summary.tracks,
                    summary.unique_frames,
                    summary.captions
                );
                if !summary.renditions.is_empty() {
                    println!("renditions: {}", summary.renditions.join(", "));
                }
            }
            Ok(())
        }
        Command::Schema { markdown: false } => Ok(print_json(&Composition::json_schema())?),
        Command::Schema { markdown: true } => {
            print!("{}", reelsmith::spec::doc::markdown());
            Ok(())
        }
        Command::Probe { file, json } => {
            let info = reelsmith::media::probe::probe(&file)?;
            if json {
                return Ok(print_json(&info)?);
            }
            print!("{}", inspect::describe(&file, &info));
            Ok(())
        }
        Command::Frame {
            file,
            at,
            index,
            output,
        } => {
            let at = match (at, index) {
                (_, Some(i)) => inspect::FrameAt::Index(i),
                (Some(t), None) => inspect::FrameAt::Time(t),
                (None, None) => inspect::FrameAt::Index(0),
            };
            let n = inspect::save_frame(&file, at, &output)?;
            println!("wrote frame {n} to {}", output.display());
            Ok(())
        }
        Command::Bench {
            spec,
            runs,
            render,
            audio_cache,
            scene_cache,
            json,
        } => {
            let (comp, _) = reelsmith::load_spec(&spec)?;
            let opts = render
                .options(&spec)
                .with_audio_cache(audio_cache)
                .with_scene_cache(scene_cache);
            let reports = bench::bench(&comp, &opts, runs, |i, n| eprintln!("run {i}/{n}..."))?;
            if json {
                return Ok(print_json(&reports)?);
            }
            print!("{}", bench::table(&spec, &reports));
            Ok(())
        }
        #[cfg(feature = "service")]
        Command::Serve(args) => Ok(serve(args)?),
        #[cfg(feature = "farm")]
        Command::Worker {
            broker,
            store,
            cache,
            name,
            lease,
            quiet,
        } => worker(broker, &store, cache, name, lease, quiet),
        Command::Cache {
            clear,
            media_root,
            json,
        } => {
            let opts = RenderOptions::default().with_media_root(media_root);
            let caches = if clear {
                reelsmith::pipeline::clear_caches(&opts)?
            } else {
                reelsmith::pipeline::caches(&opts)?
            };
            if json {
                return Ok(print_json(&caches)?);
            }
            print!("{}", reelsmith::pipeline::caches::table(&caches, clear));
            Ok(())
        }
        Command::Fonts { spec } => {
            let loaded = match spec {
                None => None,
                Some(spec) => Some(load(
                    &spec,
                    &VarArgs::default(),
                    RenderOptions::default().media_root,
                )?),
            };
            let families = inspect::font_families(loaded.as_ref().map(|(c, o)| (c, o)))?;
            for f in families {
                println!("{f}");
            }
            Ok(())
        }
    }
}
