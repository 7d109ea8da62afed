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

/// The tests of a farm run one at a time: each starts a broker, workers and a coordinator,
/// and the timings they assert (a cancel within a second) must not depend on how many other
/// farms share the machine's cores.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A free loopback port.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A server process of our own on a loopback port, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// Starts `command` and waits (at most `within`) until `port` accepts connections.
    fn spawn(command: &mut Command, port: u16, what: &str, within: Duration) -> Server {
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{what} ({e}; scripts/setup.sh --test installs it)"));
        let until = Instant::now() + within;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "{what} did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `redis-server` of our own on a free loopback port, without persistence.
struct Redis(Server);

impl Redis {
    fn start() -> Redis {
        Redis::on(free_port())
    }

    fn on(port: u16) -> Redis {
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"]);
        Redis(Server::spawn(
            &mut cmd,
            port,
            "redis-server",
            Duration::from_secs(10),
        ))
    }

    fn port(&self) -> u16 {
        self.0.port
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.0.port)
    }
}

/// A `reelsmith worker` process; its log lines come back on a channel.
struct Worker {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Worker {
    fn start(sb: &Sandbox, redis: &Redis, name: &str) -> Worker {
        Worker::start_on(
            sb,
            redis,
            name,
            &sb.path("store").display().to_string(),
            &[],
        )
    }

    fn start_on(
        sb: &Sandbox,
        redis: &Redis,
        name: &str,
        store: &str,
        env: &[(&str, String)],
    ) -> Worker {
        let mut child = Command::new(BIN)
            .args(["worker", "--broker", &redis.url(), "--store", store])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
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
    let _serial = one_at_a_time();
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
    assert!(units >= 10, "{farm}");
    // The audio mastered once, then encoded in chunks of 70 AAC frames (1.49 s): five.
    let labels: Vec<&str> = farm["unit_reports"]
        .as_array()
        .expect("unit reports")
        .iter()
        .filter_map(|u| u["label"].as_str())
        .collect();
    assert_eq!(labels[0], "audio mastering", "{labels:?}");
    let chunks = labels
        .iter()
        .filter(|l| l.starts_with("audio chunk"))
        .count();
    assert_eq!(chunks, 5, "{labels:?}");
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
    assert_eq!(
        report["farm"]["units_cached"].as_u64(),
        Some(units),
        "{}",
        report["farm"]
    );
    assert_eq!(picture_hashes(&again), want);
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

#[test]
fn a_worker_killed_mid_chunk_has_its_unit_taken_over() {
    let _serial = one_at_a_time();
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
    a.wait_for("audio mastering done", Duration::from_secs(60));
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
    let _serial = one_at_a_time();
    let sb = Sandbox::new();
    let spec = write_spec(&sb);
    let port = free_port();
    let out = sb.path("farm.mp4");
    let run = Command::new(BIN)
        .arg("render")
        .arg(&spec)
        .args(["-q", "-o", out.to_str().unwrap(), "--media-root"])
        .arg(sb.path("media"))
        .args([
            "--broker",
            &format!("redis://127.0.0.1:{port}/0"),
            "--store",
        ])
        .arg(sb.path("store"))
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(5));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains(&format!(
            "the broker (127.0.0.1:{port}/0) cannot be reached"
        )),
        "{err}"
    );
    assert!(!out.exists());
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

/// The coordinator of a farm render of the spec, started in the background.
fn start_coordinator(sb: &Sandbox, spec: &Path, redis_url: &str, extra: &[&str]) -> Child {
    Command::new(BIN)
        .arg("render")
        .arg(spec)
        .args(["-q", "--json", "--threads", "2", "--chunk", "1.5", "-o"])
        .arg(sb.path("farm.mp4"))
        .arg("--media-root")
        .arg(sb.path("coordinator-media"))
        .args(["--broker", redis_url, "--store"])
        .arg(sb.path("store"))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("coordinator")
}

/// Files in the store that are not complete objects.
fn half_written(sb: &Sandbox) -> Vec<PathBuf> {
    let mut found = Vec::new();
    walk(&sb.path("store"), &mut found);
    found.retain(|p| {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        name.is_some_and(|n| n.contains(".part") || n.starts_with('#'))
    });
    found
}

#[test]
fn a_cancel_reaches_the_workers_within_a_second() {
    let _serial = one_at_a_time();
    let sb = Sandbox::new();
    let spec = write_spec(&sb);
    let redis = Redis::start();
    let a = Worker::start(&sb, &redis, "a");
    a.wait_for("connected", Duration::from_secs(10));
    let coordinator = start_coordinator(&sb, &spec, &redis.url(), &[]);
    a.wait_for("audio mastering done", Duration::from_secs(60));
    a.wait_for("frames", Duration::from_secs(60));
    let sent = Instant::now();
    let status = Command::new("kill")
        .args(["-INT", &coordinator.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    a.wait_for("cancelled", Duration::from_secs(5));
    let took = sent.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "the worker stopped after {took:?}"
    );
    let done = coordinator.wait_with_output().expect("coordinator");
    assert_eq!(
        done.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(!sb.path("farm.mp4").exists());
    assert!(half_written(&sb).is_empty(), "{:?}", half_written(&sb));
}

#[test]
fn a_broker_stopped_mid_render_is_waited_for_and_the_render_resumes() {
    let _serial = one_at_a_time();
    let sb = Sandbox::new();
    let spec = write_spec(&sb);
    let redis = Redis::start();
    let port = redis.port();
    let a = Worker::start(&sb, &redis, "a");
    a.wait_for("connected", Duration::from_secs(10));
    let coordinator = start_coordinator(&sb, &spec, &redis.url(), &[]);
    a.wait_for("frames", Duration::from_secs(60));
    // Redis goes away with everything it held (no persistence), mid-unit.
    drop(redis);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(half_written(&sb).is_empty(), "{:?}", half_written(&sb));
    let _back = Redis::on(port);
    let done = coordinator.wait_with_output().expect("coordinator");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let reference = local(&sb, &spec);
    assert_eq!(
        picture_hashes(&reference),
        picture_hashes(&sb.path("farm.mp4"))
    );
    assert_eq!(audio(&reference), audio(&sb.path("farm.mp4")));
}

#[test]
fn a_broker_that_stays_away_fails_the_render_clearly() {
    let _serial = one_at_a_time();
    let sb = Sandbox::new();
    let spec = write_spec(&sb);
    let redis = Redis::start();
    let a = Worker::start(&sb, &redis, "a");
    a.wait_for("connected", Duration::from_secs(10));
    let coordinator = start_coordinator(&sb, &spec, &redis.url(), &["--broker-wait", "2"]);
    a.wait_for("frames", Duration::from_secs(60));
    let port = redis.port();
    drop(redis);
    let done = coordinator.wait_with_output().expect("coordinator");
    assert_eq!(done.status.code(), Some(5));
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(
        err.contains(&format!(
            "the broker (127.0.0.1:{port}/0) cannot be reached"
        )),
        "{err}"
    );
    assert!(!sb.path("farm.mp4").exists());
    drop(a);
    assert!(half_written(&sb).is_empty(), "{:?}", half_written(&sb));
    // The coordinator left nothing (a killed worker's folder is swept at its next start).
    let left: Vec<_> = sb
        .leftovers()
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("-cache"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// moto's S3 server (PyPI `moto[server]`, a stand-in for S3) on a free loopback port.
struct S3(Server);

impl S3 {
    fn start() -> S3 {
        let port = free_port();
        let mut cmd = Command::new("moto_server");
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        S3(Server::spawn(
            &mut cmd,
            port,
            "moto_server",
            Duration::from_secs(30),
        ))
    }

    /// Creates a bucket (moto checks no signature).
    fn bucket(&self, name: &str) {
        use std::io::{Read, Write};
        let mut tcp = std::net::TcpStream::connect(("127.0.0.1", self.0.port)).expect("connect");
        write!(
            tcp,
            "PUT /{name} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.0.port
        )
        .expect("send");
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).expect("answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", format!("http://127.0.0.1:{}", self.0.port)),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "reelsmith".into()),
            ("AWS_SECRET_ACCESS_KEY", "reelsmith".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }
}

#[test]
fn a_farm_on_s3_storage_renders_the_same_pictures() {
    let _serial = one_at_a_time();
    let sb = Sandbox::new();
    let spec = write_spec(&sb);
    let redis = Redis::start();
    let s3 = S3::start();
    s3.bucket("renders");
    let store = "s3://renders/farm";
    let env = s3.env();
    let a = Worker::start_on(&sb, &redis, "a", store, &env);
    let b = Worker::start_on(&sb, &redis, "b", store, &env);
    a.wait_for("connected", Duration::from_secs(10));
    b.wait_for("connected", Duration::from_secs(10));
    let out = sb.path("farm.mp4");
    let run = Command::new(BIN)
        .arg("render")
        .arg(&spec)
        .args(["-q", "--json", "--threads", "2", "--chunk", "1.5", "-o"])
        .arg(&out)
        .arg("--media-root")
        .arg(sb.path("coordinator-media"))
        .args(["--broker", &redis.url(), "--store", store])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("coordinator");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).expect("report");
    assert_eq!(report["farm"]["units_cached"], 0, "{}", report["farm"]);
    let reference = local(&sb, &spec);
    assert_eq!(picture_hashes(&reference), picture_hashes(&out));
    assert_eq!(audio(&reference), audio(&out));
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

fn http(method: &str, url: &str, body: Option<&str>) -> serde_json::Value {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut r = match body {
        Some(b) => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(b),
        None if method == "GET" => agent.get(url).call(),
        None => agent.delete(url).call(),
    }
    .expect("HTTP request");
    let text = r.body_mut().read_to_string().expect("body");
    serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
}

#[test]
fn the_service_on_a_farm_survives_its_own_restart_and_completes_once() {
    let _serial = one_at_a_time();
    let sb = Sandbox::new();
    let redis = Redis::start();
    let store = sb.path("store").display().to_string();
    let a = Worker::start(&sb, &redis, "a");
    a.wait_for("connected", Duration::from_secs(10));
    let media = sb.path("media");
    let args = [
        "--workers",
        "1",
        "--broker",
        &redis.url(),
        "--store",
        &store,
    ];
    let (mut serve, base) = common::spawn_serve(&media, &args);
    // 24 s at 320x180: the audio's mastering, three chunks of 10, 10 and 4 s, every frame
    // new, and the audio encoded in three chunks of 10, 10 and 4 s.
    let spec = json!({
        "output": {"width": 320, "height": 180, "fps": 25, "quality": "fast"},
        "scenes": [{
            "duration": 24.0,
            "background": {"type": "linear_gradient", "colors": ["#102030", "#305070"]},
            "layers": [{"type": "text", "text": "farm", "size": 28, "fade_in": 24.0}]
        }]
    });
    let submitted = http(
        "POST",
        &format!("{base}/v1/renders"),
        Some(&spec.to_string()),
    );
    let id = submitted["id"].as_str().expect("id").to_string();
    // Killed once the first picture unit is done.
    a.wait_for("frames 0..250 done", Duration::from_secs(120));
    let _ = serve.kill();
    let _ = serve.wait();
    let (mut serve, base) = common::spawn_serve(&media, &args);
    let until = Instant::now() + Duration::from_secs(180);
    let st = loop {
        let st = http("GET", &format!("{base}/v1/renders/{id}"), None);
        if matches!(st["state"].as_str(), Some("done" | "failed" | "canceled")) {
            break st;
        }
        assert!(Instant::now() < until, "{st}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(st["state"], "done", "{st}");
    assert_eq!(st["attempts"], 2, "{st}");
    let farm = &st["report"]["farm"];
    assert_eq!(farm["units"], 7, "{st}");
    assert!(
        farm["units_cached"].as_u64() >= Some(1),
        "the units done before the restart came from the store: {farm}"
    );
    let list = http("GET", &format!("{base}/v1/renders?limit=10"), None);
    assert_eq!(list["total"], 1, "{list}");
    let video = media.join("videos").join(format!("{id}.mp4"));
    let (frames, _) = decode_strict(&video);
    assert_eq!(frames.len(), 600);
    let _ = serve.kill();
    let _ = serve.wait();
}

#[test]
fn a_damaged_copy_in_the_store_fails_the_render_naming_the_file() {
    let _serial = one_at_a_time();
    let sb = Sandbox::new();
    let spec = write_spec(&sb);
    // The store already holds something else under the photo's name (its content hash).
    let photo = sb.path("photo.png");
    let sha = reelsmith::base::hash::sha256_hex(&std::fs::read(&photo).expect("photo"));
    let assets = sb.path("store/assets");
    std::fs::create_dir_all(&assets).expect("store");
    std::fs::write(assets.join(format!("{sha}.png")), b"not the photo").expect("poison");
    let redis = Redis::start();
    let a = Worker::start(&sb, &redis, "a");
    a.wait_for("connected", Duration::from_secs(10));
    let done = start_coordinator(&sb, &spec, &redis.url(), &[])
        .wait_with_output()
        .expect("coordinator");
    assert_eq!(done.status.code(), Some(4), "an unusable asset");
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(
        err.contains(&format!("{}: the store's copy", photo.display())),
        "the spec's file, not the worker's copy: {err}"
    );
    assert!(!sb.path("farm.mp4").exists());
}
