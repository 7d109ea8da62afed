//! The OpenAPI document is the contract: schemathesis (pinned in `scripts/setup.sh --test`)
//! generates requests from `/v1/openapi.json`, valid and invalid, sends them to a real
//! `reelsmith serve` on a free loopback port with a fresh storage root, and checks every answer
//! against the document (`--checks all`: status codes, content types, headers and bodies
//! documented, no 5xx, schema-valid data accepted, schema-violating data refused, the stateful
//! links between operations). Bounded and seeded, so a run is repeatable.
//!
//! What schemathesis is told beyond its defaults is in `tests/schemathesis.toml`, with why.
#![cfg(feature = "service")]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The schemathesis release `scripts/setup.sh --test` installs; another one generates other
/// cases from the same seed.
const SCHEMATHESIS_VERSION: &str = "4.32.5";
/// Cases per operation and phase. 25 covers every operation in about a minute on 2 cores.
const MAX_EXAMPLES: &str = "25";
const SEED: &str = "20261205";
/// A run that takes longer than this is stopped and fails (it normally takes about a minute).
const TIME_LIMIT: Duration = Duration::from_secs(240);

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the service: one worker, one compose thread, at most two renders waiting, so the
/// renders schemathesis submits stay cheap (its example is 2 frames of 64x64; a generated
/// spec that passes validation waits its turn or gets 429). Where the binary has render
/// budgets, small ones make a long generated spec a 422 instead of a long render.
fn serve(media: &Path) -> (Killed, String) {
    let bin = env!("CARGO_BIN_EXE_reelsmith");
    let help = Command::new(bin)
        .args(["serve", "--help"])
        .output()
        .expect("reelsmith serve --help");
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let mut args: Vec<String> = [
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--workers",
        "1",
        "--threads",
        "1",
        "--queue",
        "2",
        "--retention",
        "0",
        "--media",
    ]
    .map(String::from)
    .to_vec();
    args.push(media.display().to_string());
    for (flag, value) in [
        ("--max-render-frames", "120"),
        ("--max-render-pixels", "27648000"), // 120 frames of 640x360
    ] {
        if help.contains(flag) {
            args.extend([flag.to_string(), value.to_string()]);
        }
    }
    let log = std::fs::File::create(media.with_extension("log")).expect("log file");
    let mut child = Command::new(bin)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("start reelsmith serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the address");
    let base = line
        .split("listening on ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    (Killed(child), base)
}

/// The number before the last `word` in `text` (`"10305 generated"` → 10305).
fn count_before(text: &str, word: &str) -> Option<u64> {
    let at = text.rfind(word)?;
    text[..at].split_whitespace().last()?.parse().ok()
}

#[test]
fn schemathesis_finds_no_failure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let media = dir.path().join("media");
    let (mut server, base) = serve(&media);
    let exe = std::env::var("SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into());
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis.toml");
    let out_path = dir.path().join("schemathesis.txt");
    let out = std::fs::File::create(&out_path).expect("output file");
    let args = [
        "--config-file".to_string(),
        config.display().to_string(),
        "--no-color".into(),
        "run".into(),
        format!("{base}/v1/openapi.json"),
        "--checks".into(),
        "all".into(),
        "--max-examples".into(),
        MAX_EXAMPLES.into(),
        "--seed".into(),
        SEED.into(),
        "--workers".into(),
        "1".into(),
        // Examples found by an earlier run are not replayed: every run is the same run.
        "--generation-database".into(),
        "none".into(),
    ];
    let started = Instant::now();
    let child = Command::new(&exe)
        .args(&args)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdout(out.try_clone().expect("output file"))
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{exe}` ({e}): install it with scripts/setup.sh --test \
                 (pip install schemathesis=={SCHEMATHESIS_VERSION})"
            )
        });
    let mut child = Killed(child);
    let status = loop {
        if let Some(st) = child.0.try_wait().expect("wait for schemathesis") {
            break st;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.0.kill();
            panic!(
                "schemathesis still running after {TIME_LIMIT:?}:\n{}",
                std::fs::read_to_string(&out_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let took = started.elapsed();
    let text = std::fs::read_to_string(&out_path).expect("schemathesis output");
    let command = format!("{exe} {}", args.join(" "));
    assert!(
        text.contains(&format!("Schemathesis v{SCHEMATHESIS_VERSION}")),
        "not schemathesis {SCHEMATHESIS_VERSION} (scripts/setup.sh --test installs it):\n{text}"
    );
    assert!(
        status.success(),
        "{command}\nfailed ({status}) after {took:?}:\n{text}\nservice log: {}",
        media.with_extension("log").display()
    );
    // It ran what it says it ran: every operation, thousands of cases, no failure.
    let operations = text
        .lines()
        .find(|l| l.trim_start().starts_with("Operations:"))
        .and_then(|l| count_before(l, "selected /"))
        .unwrap_or(0);
    let cases = count_before(&text, "generated").unwrap_or(0);
    assert!(operations >= 14, "{operations} operations tested:\n{text}");
    assert!(cases >= 1000, "{cases} cases generated:\n{text}");
    assert!(
        text.contains(" passed ") && !text.contains("❌"),
        "a phase failed:\n{text}"
    );
    // The service is still up: nothing schemathesis sent brought it down.
    assert!(
        server.0.try_wait().expect("service state").is_none(),
        "the service exited during the run"
    );
    let summary = text
        .lines()
        .rev()
        .find(|l| l.contains(" in ") && l.starts_with('='))
        .unwrap_or_default();
    eprintln!(
        "schemathesis {SCHEMATHESIS_VERSION}: {operations} operations, {cases} cases, \
         0 failures, {:.1} s ({summary})\n{command}",
        took.as_secs_f64()
    );
}
