//! One render spread over worker processes through a real `redis-server` and a shared
//! store folder: the same pictures and sound as a local render, a worker killed with
//! SIGKILL in the middle of a chunk (its unit is taken over), a broker that goes away.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{decode_strict, Sandbox};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_reelsmith");

/// A `redis-server` of our own on a free loopback port, without persistence.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start() -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        Redis::on(port)
    }

    fn on(port: u16) -> Redis {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (Debian package redis-server; scripts/setup.sh installs it)");
        let until = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Redis { child, port }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `reelsmith worker` process; its log lines come back on a channel.
struct Worker {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Worker {
    fn start(sb: &Sandbox, redis: &Redis, name: &str) -> Worker {
        let mut child = Command::new(BIN)
            .args(["worker", "--broker", &redis.url(), "--store"])
            .arg(sb.path("store"))
            .arg("--cache")
            .arg(sb.path(&format!("{name}-cache")))
            .args(["--name", name, "--lease", "2"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("start worker");
        let err = child.stderr.take().expect("stderr");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                eprintln!("[worker] {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Worker { child, lines }
    }

    /// Waits for a log line containing `what`.
    fn wait_for(&self, what: &str, within: Duration) -> String {
        let until = Instant::now() + within;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(what) => return line,
                Ok(_) => {}
                Err(_) => panic!("no worker line with {what:?}"),
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Three scenes at 320x180, 20 fps: a title, 4 s of a picture zooming (every frame new:
/// cut into chunks), a closing card; a spec font and a music track.
fn write_spec(sb: &Sandbox) -> PathBuf {
    let photo = sb.png("photo.png", 640, 360, |x, y| {
        [(x % 256) as u8, (y % 256) as u8, ((x * y) % 256) as u8, 255]
    });
    let music = sb.tone_wav("music.wav", 44_100, 7.0, 330.0, 0.3);
    let fonts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fonts");
    let spec = json!({
        "output": { "width": 320, "height": 180, "fps": 20, "quality": "fast" },
        "fonts": [fonts],
        "scenes": [
            { "duration": 1.5, "background": { "type": "solid", "color": "#203A43" },
              "layers": [ { "type": "text", "text": "Farm", "size": 32, "font": "Fixture Serif",
                            "fade_in": 0.3 } ] },
            { "duration": 4.0, "transition": { "type": "crossfade", "duration": 0.3 },
              "background": { "type": "image", "src": photo, "motion": "zoom_in" },
              "layers": [ { "type": "progress_bar", "color": "#FFC83D" } ] },
            { "duration": 1.5, "transition": { "type": "fade", "duration": 0.3 },
              "background": { "type": "solid", "color": "#F0F0F0" },
              "layers": [ { "type": "text", "text": "The end", "size": 24, "color": "#102030" } ] }
        ],
        "audio": { "tracks": [ { "src": music, "fade_out": 0.5 } ] }
    });
    let path = sb.path("spec.json");
    std::fs::write(&path, spec.to_string()).expect("write spec");
    path
}

/// `reelsmith render` with `args`; panics with its stderr unless it succeeds.
fn render(spec: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(BIN)
        .arg("render")
        .arg(spec)
        .args(["-q", "--json", "--threads", "2", "--chunk", "1.5"])
        .args(args)
        .output()
        .expect("run reelsmith");
    assert!(
        out.status.success(),
        "render {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("report")
}

/// A local render of the spec, the reference.
fn local(sb: &Sandbox, spec: &Path) -> PathBuf {
    let out = sb.path("local.mp4");
    let media = sb.path("local-media");
    render(
        spec,
        &[
            "-o",
            out.to_str().unwrap(),
            "--media-root",
            media.to_str().unwrap(),
            "--no-scene-cache",
            "--no-audio-cache",
        ],
    );
    out
}

/// SHA-256 of each decoded picture.
fn picture_hashes(path: &Path) -> Vec<String> {
    decode_strict(path)
        .0
        .iter()
        .map(|f| reelsmith::base::hash::sha256_hex(f.as_raw()))
        .collect()
}

fn audio(path: &Path) -> Vec<f32> {
    reelsmith::media::probe::decode_audio(path)
        .unwrap_or_else(|e| panic!("decode audio: {e}"))
        .samples
}

fn farm_args<'a>(sb: &'a Sandbox, redis: &'a Redis, out: &'a Path) -> Vec<String> {
    vec![
        "-o".into(),
        out.display().to_string(),
        "--media-root".into(),
        sb.path("coordinator-media").display().to_string(),
        "--broker".into(),
        redis.url(),
        "--store".into(),
        sb.path("store").display().to_string(),
    ]
}

#[test]
fn two_workers_render_the_pictures_of_a_local_render() {
    let sb = Sandbox::new();
    let spec = write_spec(&sb);
    let redis = Redis::start();
    let a = Worker::start(&sb, &redis, "a");
    let b = Worker::start(&sb, &redis, "b");
    a.wait_for("connected", Duration::from_secs(10));
    b.wait_for("connected", Duration::from_secs(10));

    let out = sb.path("farm.mp4");
    let args = farm_args(&sb, &redis, &out);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = render(&spec, &args);
    let farm = &report["farm"];
    // The audio, the title, the zoom in chunks of 1.5 s (30 frames), the end card.
    let units = farm["units"].as_u64().expect("units");
    assert!(units >= 5, "{farm}");
    assert_eq!(farm["units_cached"], 0, "{farm}");
    assert_eq!(farm["redeliveries"], 0, "{farm}");
    let workers: Vec<&str> = farm["workers"]
        .as_array()
        .expect("workers")
        .iter()
        .filter_map(|w| w.as_str())
        .collect();
    assert_eq!(workers, ["a", "b"], "both workers rendered: {farm}");
    for u in farm["unit_reports"].as_array().expect("unit reports") {
        assert!(u["cpu_s"].as_f64().unwrap_or(0.0) > 0.0, "{u}");
    }
    // The files came to each worker through the store, by content hash.
    assert!(std::fs::read_dir(sb.path("a-cache/assets/farm"))
        .expect("a's copies")
        .flatten()
        .any(|e| e.file_name().to_string_lossy().ends_with(".png")
            || e.file_name().to_string_lossy().ends_with(".wav")));

    // Exactly the pictures and the sound of a local render with the same chunks.
    let reference = local(&sb, &spec);
    let (want, got) = (picture_hashes(&reference), picture_hashes(&out));
    assert_eq!(want.len(), 128, "6.4 s at 20 fps (the transitions overlap)");
    assert_eq!(want, got, "frame-by-frame picture hashes");
    assert_eq!(audio(&reference), audio(&out), "the same audio");

    // Again: every unit is in the store, nothing is rendered.
    let again = sb.path("again.mp4");
    let args = farm_args(&sb, &redis, &again);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let report = render(&spec, &args);
    assert_eq!(report["farm"]["units_cached"].as_u64(), Some(units), "{}", report["farm"]);
    assert_eq!(picture_hashes(&again), want);
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

#[test]
fn a_worker_killed_mid_chunk_has_its_unit_taken_over() {
    let sb = Sandbox::new();
    let spec = write_spec(&sb);
    let redis = Redis::start();
    let mut a = Worker::start(&sb, &redis, "a");
    a.wait_for("connected", Duration::from_secs(10));

    let out = sb.path("farm.mp4");
    let args = farm_args(&sb, &redis, &out);
    let coordinator = Command::new(BIN)
        .arg("render")
        .arg(&spec)
        .args(["-q", "--json", "--threads", "2", "--chunk", "1.5"])
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("coordinator");
    // The audio first; then a's first picture unit: killed as it starts.
    a.wait_for("audio done", Duration::from_secs(60));
    let took = a.wait_for("frames", Duration::from_secs(60));
    assert!(took.contains("of render"), "{took}");
    a.child.kill().expect("SIGKILL");
    let _ = a.child.wait();
    let b = Worker::start(&sb, &redis, "b");
    b.wait_for("(delivery 2)", Duration::from_secs(30));
    let done = coordinator.wait_with_output().expect("coordinator");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&done.stdout).expect("report");
    assert!(
        report["farm"]["redeliveries"].as_u64() >= Some(1),
        "{}",
        report["farm"]
    );
    let reference = local(&sb, &spec);
    assert_eq!(picture_hashes(&reference), picture_hashes(&out));
    // Nothing half-written in the store.
    let mut found = Vec::new();
    walk(&sb.path("store"), &mut found);
    assert!(
        found.iter().all(|p| !p.to_string_lossy().contains(".part")),
        "{found:?}"
    );
}

#[test]
fn a_broker_that_is_gone_is_a_clear_error() {
    let sb = Sandbox::new();
    let spec = write_spec(&sb);
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let out = sb.path("farm.mp4");
    let run = Command::new(BIN)
        .arg("render")
        .arg(&spec)
        .args(["-q", "-o", out.to_str().unwrap(), "--media-root"])
        .arg(sb.path("media"))
        .args(["--broker", &format!("redis://127.0.0.1:{port}/0"), "--store"])
        .arg(sb.path("store"))
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(5));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains(&format!("the broker (127.0.0.1:{port}/0) cannot be reached")),
        "{err}"
    );
    assert!(!out.exists());
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        }
        out.push(p);
    }
}
