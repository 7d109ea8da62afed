//! The render job service, driven over HTTP on a loopback port: the real binary is started
//! (`reelsmith serve --addr 127.0.0.1:0`), so a restart is a real kill and a new process.
#![cfg(feature = "service")]

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(media: &Path, args: &[&str]) -> Server {
        let (child, base) = common::spawn_serve(media, args);
        Server { child, base }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGTERM, then waits for the process to exit (at most `within`).
    fn terminate(mut self, within: Duration) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(ok.success());
        let t = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().expect("wait") {
                return st;
            }
            assert!(
                t.elapsed() < within,
                "still running {within:?} after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL: no chance to clean up, as in a crash.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), status {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn finish(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Resp {
    let mut r = r.expect("HTTP request");
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let status = r.status().as_u16();
    let body = r
        .body_mut()
        .with_config()
        .limit(100 << 20)
        .read_to_vec()
        .expect("body");
    Resp {
        status,
        headers,
        body,
    }
}

fn get(url: &str, headers: &[(&str, &str)]) -> Resp {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    finish(req.call())
}

fn post(url: &str, body: &str, headers: &[(&str, &str)]) -> Resp {
    let mut req = agent().post(url).header("Content-Type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    finish(req.send(body))
}

fn delete(url: &str) -> Resp {
    finish(agent().delete(url).call())
}

/// A small spec: 320x180 at 25 fps; a text fading over the whole scene makes every frame
/// distinct, so the render takes time in proportion to its length.
fn spec(seconds: f64, label: &str) -> Value {
    json!({
        "output": {"width": 320, "height": 180, "fps": 25, "quality": "fast"},
        "scenes": [{
            "id": "only",
            "duration": seconds,
            "background": {"type": "linear_gradient", "colors": ["#102030", "#305070"]},
            "layers": [{"type": "text", "text": label, "size": 28, "fade_in": seconds}]
        }]
    })
}

fn submit(s: &Server, spec: &Value) -> Value {
    let r = post(&s.url("/v1/renders"), &spec.to_string(), &[]);
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

fn status(s: &Server, id: &str) -> Value {
    let r = get(&s.url(&format!("/v1/renders/{id}")), &[]);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

fn wait_for(s: &Server, id: &str, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Value {
    let t = Instant::now();
    loop {
        let st = status(s, id);
        if pred(&st) {
            return st;
        }
        assert!(t.elapsed() < timeout, "timed out waiting; last status {st}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_done(s: &Server, id: &str) -> Value {
    let st = wait_for(s, id, Duration::from_secs(120), |st| {
        matches!(st["state"].as_str(), Some("done" | "failed" | "canceled"))
    });
    assert_eq!(st["state"], "done", "{st}");
    st
}

/// Files in a folder (recursively), as paths relative to it.
fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap_or(&p).to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Temp folders and partial files under the storage root.
fn leftovers(media: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = files(&media.join("assets/temp"))
        .into_iter()
        .filter(|p| !p.ends_with(".gitkeep"))
        .collect();
    v.extend(
        files(&media.join("videos"))
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(".partial") || p.starts_with(".")),
    );
    v
}

fn videos(media: &Path) -> Vec<PathBuf> {
    files(&media.join("videos"))
}

#[test]
fn submit_follow_download_ranges_and_idempotency() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    let s = Server::start(&media, &["--workers", "2"]);

    let t = Instant::now();
    let sub = submit(&s, &spec(1.0, "follow me"));
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "202 must come at once"
    );
    let id = sub["id"].as_str().expect("id").to_string();
    assert!(
        sub["state"] == "queued" || sub["state"] == "preparing",
        "{sub}"
    );
    assert_eq!(sub["frames"]["total"], 25);
    assert_eq!(sub["links"]["self"], format!("/v1/renders/{id}"));

    // Follow it with Server-Sent Events until the stream ends.
    let mut resp = agent()
        .get(&s.url(&format!("/v1/renders/{id}/events")))
        .call()
        .expect("events");
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let mut text = String::new();
    resp.body_mut()
        .as_reader()
        .read_to_string(&mut text)
        .expect("read events");
    let states: Vec<Value> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).expect("event JSON"))
        .collect();
    let last = states.last().expect("at least one event");
    assert_eq!(last["state"], "done", "{text}");
    assert_eq!(last["progress"], 100.0);
    assert_eq!(last["frames"]["done"], 25);
    assert_eq!(last["scenes"][0]["progress"], 100.0);
    assert_eq!(last["report"]["frames"], 25);
    let progress: Vec<f64> = states
        .iter()
        .filter_map(|v| v["progress"].as_f64())
        .collect();
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "progress never goes back: {progress:?}"
    );

    // The video: whole, ranges, and a range past the end.
    let video = s.url(&format!("/v1/renders/{id}/video"));
    let whole = get(&video, &[]);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.header("content-type"), Some("video/mp4"));
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    let size = whole.body.len();
    assert_eq!(
        whole.header("content-length"),
        Some(size.to_string().as_str())
    );
    let on_disk = std::fs::read(media.join(format!("videos/{id}.mp4"))).expect("file");
    assert_eq!(whole.body, on_disk);
    let part = get(&video, &[("Range", "bytes=100-199")]);
    assert_eq!(part.status, 206);
    assert_eq!(part.body, &on_disk[100..200]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 100-199/{size}").as_str())
    );
    let tail = get(&video, &[("Range", "bytes=-16")]);
    assert_eq!(tail.status, 206);
    assert_eq!(tail.body, &on_disk[size - 16..]);
    let open = get(&video, &[("Range", &format!("bytes={}-", size - 5))]);
    assert_eq!(open.body, &on_disk[size - 5..]);
    let past = get(&video, &[("Range", &format!("bytes={size}-"))]);
    assert_eq!(past.status, 416);
    assert_eq!(
        past.header("content-range"),
        Some(format!("bytes */{size}").as_str())
    );
    let poster = get(&s.url(&format!("/v1/renders/{id}/poster")), &[]);
    assert_eq!(poster.status, 200);
    assert_eq!(poster.header("content-type"), Some("image/jpeg"));
    assert_eq!(&poster.body[..2], &[0xFF, 0xD8]);

    // Idempotent resubmission: the same render, not a second one.
    let key = [("Idempotency-Key", "order-42")];
    let body = spec(1.0, "once").to_string();
    let a = post(&s.url("/v1/renders"), &body, &key);
    let b = post(&s.url("/v1/renders"), &body, &key);
    assert_eq!((a.status, b.status), (202, 202));
    assert_eq!(a.json()["id"], b.json()["id"]);
    assert_eq!(b.header("idempotent-replayed"), Some("true"));
    let other = post(&s.url("/v1/renders"), &spec(1.0, "else").to_string(), &key);
    assert_eq!(other.status, 409, "same key, different spec");
    let a_id = a.json()["id"].as_str().expect("id").to_string();
    wait_done(&s, &a_id);

    // Listing, paged and filtered.
    let all = get(&s.url("/v1/renders?limit=1"), &[]).json();
    assert_eq!(all["total"], 2);
    assert_eq!(all["renders"].as_array().map(Vec::len), Some(1));
    assert!(all["next"].is_string());
    let done = get(&s.url("/v1/renders?state=done"), &[]).json();
    assert_eq!(done["total"], 2);
    let failed = get(&s.url("/v1/renders?state=failed"), &[]).json();
    assert_eq!(failed["total"], 0);
    assert_eq!(get(&s.url("/v1/renders?state=nope"), &[]).status, 400);
    assert_eq!(videos(&media).len(), 4, "two videos and two posters");

    // The page, the API description, the examples.
    let page = get(&s.url("/"), &[]);
    assert!(String::from_utf8_lossy(&page.body).contains("EventSource"));
    let api = get(&s.url("/v1/openapi.json"), &[]).json();
    assert!(api["paths"]["/v1/renders"].is_object());
    let ex = get(&s.url("/v1/examples"), &[]).json();
    assert!(!ex["examples"].as_array().expect("examples").is_empty());

    // Delete a finished render: files and record go.
    assert_eq!(delete(&s.url(&format!("/v1/renders/{id}"))).status, 204);
    assert_eq!(status_code(&s, &id), 404);
    assert_eq!(videos(&media).len(), 2);
    assert!(leftovers(&media).is_empty(), "{:?}", leftovers(&media));
}

#[test]
fn narration_captions_are_served_as_webvtt_and_go_with_the_render() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    let s = Server::start(&media, &[]);
    let mut with_words = spec(2.0, "spoken");
    with_words["scenes"][0]["narration"] = json!({"text": "Lift with your legs. Not your back."});
    let id = submit(&s, &with_words)["id"]
        .as_str()
        .expect("id")
        .to_string();
    let st = wait_done(&s, &id);
    assert_eq!(
        st["links"]["captions"],
        format!("/v1/renders/{id}/captions")
    );
    let vtt = get(&s.url(&format!("/v1/renders/{id}/captions")), &[]);
    assert_eq!(vtt.status, 200);
    assert_eq!(vtt.header("content-type"), Some("text/vtt; charset=utf-8"));
    let text = String::from_utf8(vtt.body).expect("utf-8");
    assert!(text.starts_with("WEBVTT\n"), "{text}");
    assert!(text.contains("Lift with your legs.") && text.contains("Not your back."));
    // Without words: no link, 404.
    let silent = submit(&s, &spec(1.0, "quiet"))["id"]
        .as_str()
        .expect("id")
        .to_string();
    let st = wait_done(&s, &silent);
    assert!(st["links"]["captions"].is_null(), "{st}");
    assert_eq!(
        get(&s.url(&format!("/v1/renders/{silent}/captions")), &[]).status,
        404
    );
    // Deleting the render removes its captions too.
    assert!(media.join(format!("videos/{id}.vtt")).is_file());
    assert_eq!(delete(&s.url(&format!("/v1/renders/{id}"))).status, 204);
    assert!(!media.join(format!("videos/{id}.vtt")).exists());
    assert!(leftovers(&media).is_empty(), "{:?}", leftovers(&media));
}

fn status_code(s: &Server, id: &str) -> u16 {
    get(&s.url(&format!("/v1/renders/{id}")), &[]).status
}

#[test]
fn one_scene_is_replaced_and_only_it_is_made_again() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    let s = Server::start(&media, &["--workers", "1"]);
    let scene = |id: &str, text: &str, color: &str| {
        json!({"id": id, "duration": 1.5,
               "background": {"type": "solid", "color": color},
               "layers": [{"type": "text", "text": text, "size": 28}]})
    };
    let two = json!({
        "output": {"width": 320, "height": 180, "fps": 25, "quality": "fast"},
        "scenes": [scene("intro", "Welcome", "#203040"), scene("rule", "Lift with care", "#402030")]
    });
    let first = submit(&s, &two)["id"].as_str().expect("id").to_string();
    let done = wait_done(&s, &first);
    assert_eq!(done["report"]["segments"], 2, "{done}");

    // The second scene, by its id, with new text: a new render, the first scene copied.
    let url = s.url(&format!("/v1/renders/{first}/scenes/rule"));
    // Replaces a scene of the first render; the new render's id.
    let replace = |which: &str, body: Value| -> String {
        let at = s.url(&format!("/v1/renders/{first}/scenes/{which}"));
        let r = post(&at, &body.to_string(), &[]);
        assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
        r.json()["id"].as_str().expect("id").to_string()
    };
    let second = replace("rule", scene("rule", "Bend your knees", "#402030"));
    assert_ne!(second, first);
    let done = wait_done(&s, &second);
    assert_eq!(done["report"]["segments_reused"], 1, "{done}");
    assert_eq!(done["frames"]["total"], 75);
    // The stored spec has the new scene; the first render is untouched.
    let r = get(&s.url(&format!("/v1/renders/{second}/video")), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(status(&s, &first)["state"], "done");

    // By index too; an unknown scene is 404, a body that is not a scene 400.
    wait_done(&s, &replace("0", scene("intro", "Hello", "#203040")));
    let missing = s.url(&format!("/v1/renders/{first}/scenes/nope"));
    assert_eq!(
        post(&missing, &scene("x", "x", "#000").to_string(), &[]).status,
        404
    );
    assert_eq!(post(&url, "[1, 2]", &[]).status, 400);
    // A scene the spec cannot render is refused with its path.
    let r = post(&url, r#"{"duration": -1}"#, &[]);
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
}

#[test]
fn bad_specs_and_path_escapes_are_refused_with_json_paths() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    std::fs::create_dir_all(media.join("assets/images")).expect("mkdir");
    std::fs::write(dir.path().join("secret.png"), b"not yours").expect("write");
    std::os::unix::fs::symlink(
        dir.path().join("secret.png"),
        media.join("assets/images/link.png"),
    )
    .expect("symlink");
    let s = Server::start(&media, &[]);
    let url = s.url("/v1/renders");
    let issues = |r: &Resp| -> Vec<String> {
        assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
        let v = r.json();
        assert_eq!(v["error"]["kind"], "invalid_spec");
        v["error"]["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .map(|i| i["path"].as_str().unwrap_or("").to_string())
            .collect()
    };

    // Every problem at once.
    let mut bad = spec(1.0, "x");
    bad["output"]["width"] = json!(321);
    bad["scenes"][0]["layers"][0]["color"] = json!("#GGHHII");
    let paths = issues(&post(&url, &bad.to_string(), &[]));
    assert!(paths.contains(&"output.width".to_string()), "{paths:?}");
    assert!(
        paths.contains(&"scenes[0].layers[0].color".to_string()),
        "{paths:?}"
    );
    // Not JSON, unknown field.
    assert_eq!(issues(&post(&url, "{oops", &[])), vec!["$"]);
    let mut unknown = spec(1.0, "x");
    unknown["scenes"][0]["durashun"] = json!(2);
    assert_eq!(
        issues(&post(&url, &unknown.to_string(), &[]))[0],
        "scenes[0].durashun"
    );

    // Path escapes.
    let image = |src: &str| {
        let mut v = spec(1.0, "x");
        v["scenes"][0]["layers"] = json!([{"type": "image", "src": src}]);
        v
    };
    for src in [
        "../secret.png",
        "assets/../../secret.png",
        &dir.path().join("secret.png").display().to_string(),
        "/etc/passwd",
        "assets/images/link.png",
        "reelsmith.db",
    ] {
        assert_eq!(
            issues(&post(&url, &image(src).to_string(), &[])),
            vec!["scenes[0].layers[0].src"],
            "{src}"
        );
    }
    let mut bg = spec(1.0, "x");
    bg["scenes"][0]["background"] = json!({"type": "image", "src": "../../etc/hosts"});
    bg["audio"] = json!({"tracks": [{"src": "/etc/passwd"}]});
    assert_eq!(
        issues(&post(&url, &bg.to_string(), &[])),
        vec!["scenes[0].background.src", "audio.tracks[0].src"]
    );
    // Inside the roots but missing: the resolver's own message, with the path.
    let missing = issues(&post(
        &url,
        &image("assets/images/none.png").to_string(),
        &[],
    ));
    assert_eq!(missing, vec!["scenes[0].layers[0].src"]);
    // An uploaded asset can be used.
    let png = {
        let img = image::RgbaImage::from_pixel(8, 8, image::Rgba([255, 0, 0, 255]));
        let mut bytes = Vec::new();
        img.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .expect("png");
        bytes
    };
    let up = finish(
        agent()
            .post(&s.url("/v1/assets?name=..%2Fred%20dot.png"))
            .header("Content-Type", "image/png")
            .send(&png[..]),
    );
    assert_eq!(up.status, 201);
    let rel = up.json()["path"].as_str().expect("path").to_string();
    assert!(
        rel.starts_with("assets/uploads/") && !rel.contains(".."),
        "{rel}"
    );
    let ok = post(&url, &image(&rel).to_string(), &[]);
    assert_eq!(ok.status, 202, "{}", String::from_utf8_lossy(&ok.body));
    let id = ok.json()["id"].as_str().expect("id").to_string();
    wait_done(&s, &id);

    // A file that passes validation but cannot be decoded: the render fails, saying where.
    std::fs::write(media.join("assets/images/broken.png"), b"not a png").expect("write");
    let r = post(&url, &image("assets/images/broken.png").to_string(), &[]);
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["id"].as_str().expect("id").to_string();
    let st = wait_for(&s, &id, Duration::from_secs(60), |st| {
        st["state"] == "failed"
    });
    assert_eq!(st["error"]["kind"], "asset", "{st}");
    assert_eq!(st["error"]["stage"], "prepare", "{st}");
    assert_eq!(st["error"]["path"], "scenes[0].layers[0].src", "{st}");
    assert!(st["links"]["video"].is_null());
    let v = get(&s.url(&format!("/v1/renders/{id}/video")), &[]);
    assert_eq!(v.status, 404);
    assert!(leftovers(&media).is_empty(), "{:?}", leftovers(&media));

    // Size limit: refused from the declared length, before the body is read. (A raw socket,
    // head and first bytes in one write: a client streaming 2 MiB at a server that has
    // answered and closed may see a reset instead of the answer.)
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut conn = std::net::TcpStream::connect(&addr).expect("connect");
    let head = format!(
        "POST /v1/renders HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{{\"pad\": \"",
        2 << 20
    );
    conn.write_all(head.as_bytes()).expect("send head");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"too_large\""), "{answer}");
    assert_eq!(status_code(&s, "r_0000000000000000"), 404);
    assert_eq!(status_code(&s, "..%2F..%2Fetc"), 404);
}

#[test]
fn cancel_mid_render_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    let s = Server::start(&media, &["--workers", "1"]);
    let id = submit(&s, &spec(40.0, "long"))["id"]
        .as_str()
        .expect("id")
        .to_string();
    let st = wait_for(&s, &id, Duration::from_secs(60), |st| {
        st["state"] == "rendering" && st["frames"]["done"].as_u64().unwrap_or(0) > 0
    });
    assert!(st["progress"].as_f64().unwrap_or(100.0) < 100.0, "{st}");
    assert!(st["eta_s"].is_number(), "{st}");
    assert!(
        !leftovers(&media).is_empty(),
        "a running render has a temp folder"
    );
    let t = Instant::now();
    let r = delete(&s.url(&format!("/v1/renders/{id}")));
    let took = t.elapsed();
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    assert!(took < Duration::from_secs(1), "cancel took {took:?}");
    assert_eq!(status_code(&s, &id), 404);
    assert!(videos(&media).is_empty(), "{:?}", videos(&media));
    assert!(leftovers(&media).is_empty(), "{:?}", leftovers(&media));

    // Cancel (keep the record) a queued and a running render.
    let a = submit(&s, &spec(40.0, "a"))["id"]
        .as_str()
        .expect("id")
        .to_string();
    let b = submit(&s, &spec(1.0, "b"))["id"]
        .as_str()
        .expect("id")
        .to_string();
    wait_for(&s, &a, Duration::from_secs(60), |st| {
        st["state"] == "rendering"
    });
    let cb = post(&s.url(&format!("/v1/renders/{b}/cancel")), "", &[]).json();
    assert_eq!(cb["state"], "canceled");
    let ca = post(&s.url(&format!("/v1/renders/{a}/cancel")), "", &[]).json();
    assert_eq!(ca["state"], "canceled", "{ca}");
    assert_eq!(ca["error"]["kind"], "canceled");
    assert!(videos(&media).is_empty());
    assert!(leftovers(&media).is_empty(), "{:?}", leftovers(&media));
}

#[test]
fn queue_overflow_is_429_with_retry_after_and_auth_is_enforced() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    let s = Server::start(
        &media,
        &["--workers", "1", "--queue", "2", "--token", "s3cret"],
    );
    let auth = [("Authorization", "Bearer s3cret")];
    assert_eq!(get(&s.url("/v1/renders"), &[]).status, 401);
    assert_eq!(
        get(&s.url("/v1/renders"), &[("Authorization", "Bearer nope")]).status,
        401
    );
    assert_eq!(get(&s.url("/v1/renders"), &auth).status, 200);
    assert_eq!(
        get(&s.url("/v1/renders?access_token=s3cret"), &[]).status,
        200
    );
    assert_eq!(get(&s.url("/v1/openapi.json"), &[]).status, 200);

    let body = spec(40.0, "busy").to_string();
    let first = post(&s.url("/v1/renders"), &body, &auth).json();
    let first = first["id"].as_str().expect("id").to_string();
    let running =
        || get(&s.url(&format!("/v1/renders/{first}")), &auth).json()["state"] == "rendering";
    let t = Instant::now();
    while !running() {
        assert!(t.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut ids = vec![first];
    for _ in 0..2 {
        let r = post(&s.url("/v1/renders"), &body, &auth);
        assert_eq!(r.status, 202);
        ids.push(r.json()["id"].as_str().expect("id").to_string());
    }
    let over = post(&s.url("/v1/renders"), &body, &auth);
    assert_eq!(over.status, 429, "{}", String::from_utf8_lossy(&over.body));
    assert_eq!(over.json()["error"]["kind"], "queue_full");
    let retry: u64 = over
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After seconds");
    assert!(retry >= 1);
    for id in ids {
        let r = finish(
            agent()
                .delete(&s.url(&format!("/v1/renders/{id}")))
                .header("Authorization", "Bearer s3cret")
                .call(),
        );
        assert_eq!(r.status, 204);
    }
    assert!(videos(&media).is_empty());
    assert!(leftovers(&media).is_empty(), "{:?}", leftovers(&media));
}

#[test]
fn restart_runs_queued_and_interrupted_renders_exactly_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    let s = Server::start(&media, &["--workers", "1"]);
    let first = submit(&s, &spec(1.0, "before"))["id"]
        .as_str()
        .expect("id")
        .to_string();
    wait_done(&s, &first);
    let mut ids = Vec::new();
    for i in 0..4 {
        let seconds = if i == 0 { 30.0 } else { 1.0 };
        ids.push(
            submit(&s, &spec(seconds, &format!("job {i}")))["id"]
                .as_str()
                .expect("id")
                .to_string(),
        );
    }
    wait_for(&s, &ids[0], Duration::from_secs(60), |st| {
        st["state"] == "rendering" && st["frames"]["done"].as_u64().unwrap_or(0) > 0
    });
    s.kill();
    assert!(
        !leftovers(&media).is_empty(),
        "the killed render left its temp folder"
    );

    let s = Server::start(&media, &["--workers", "2"]);
    // The finished render is still listed and downloadable.
    assert_eq!(status(&s, &first)["state"], "done");
    assert_eq!(
        get(&s.url(&format!("/v1/renders/{first}/video")), &[]).status,
        200
    );
    for id in &ids {
        let st = wait_done(&s, id);
        let attempts = st["attempts"].as_u64().unwrap_or(0);
        if id == &ids[0] {
            assert_eq!(attempts, 2, "interrupted, run again: {st}");
        } else {
            assert_eq!(attempts, 1, "queued, run once: {st}");
        }
    }
    let list = get(&s.url("/v1/renders?limit=100"), &[]).json();
    assert_eq!(list["total"], 5);
    let mut want: Vec<PathBuf> = ids
        .iter()
        .chain(std::iter::once(&first))
        .flat_map(|id| [format!("{id}.jpg"), format!("{id}.mp4")])
        .map(PathBuf::from)
        .collect();
    want.sort();
    assert_eq!(videos(&media), want, "one video and one poster each");
    assert!(leftovers(&media).is_empty(), "{:?}", leftovers(&media));
}

#[test]
fn sigterm_puts_the_running_render_back_in_the_queue() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    let s = Server::start(&media, &["--workers", "1"]);
    let id = submit(&s, &spec(30.0, "stopped"))["id"]
        .as_str()
        .expect("id")
        .to_string();
    wait_for(&s, &id, Duration::from_secs(60), |st| {
        st["state"] == "rendering" && st["frames"]["done"].as_u64().unwrap_or(0) > 0
    });
    let exit = s.terminate(Duration::from_secs(5));
    assert!(exit.success(), "{exit:?}");
    assert!(leftovers(&media).is_empty(), "{:?}", leftovers(&media));
    assert!(videos(&media).is_empty());

    let s = Server::start(&media, &["--workers", "1"]);
    let st = wait_done(&s, &id);
    // A graceful stop is not the render's fault: only starts the process died under count.
    assert_eq!(st["attempts"], 1, "{st}");
    assert_eq!(videos(&media).len(), 2);
}

#[test]
fn retention_and_cleanup_remove_old_renders() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    {
        let s = Server::start(&media, &["--retention", "0"]);
        let id = submit(&s, &spec(1.0, "keep"))["id"]
            .as_str()
            .expect("id")
            .to_string();
        wait_done(&s, &id);
        let none = post(&s.url("/v1/cleanup"), r#"{"older_than": "1h"}"#, &[]).json();
        assert_eq!(none["removed"], json!([]));
        let r = post(&s.url("/v1/cleanup"), r#"{"older_than": 0}"#, &[]).json();
        assert_eq!(r["removed"], json!([id]));
        assert_eq!(status_code(&s, &id), 404);
        assert!(videos(&media).is_empty());
    }
    let s = Server::start(&media, &["--retention", "2s"]);
    let id = submit(&s, &spec(1.0, "expires"))["id"]
        .as_str()
        .expect("id")
        .to_string();
    wait_done(&s, &id);
    assert_eq!(videos(&media).len(), 2);
    let t = Instant::now();
    while status_code(&s, &id) != 404 {
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "not removed by retention"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(videos(&media).is_empty(), "{:?}", videos(&media));
}

#[test]
fn webhook_is_retried_and_signed() {
    use hmac::{Hmac, Mac};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let hook = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let receiver = std::thread::spawn(move || {
        let mut got = Vec::new();
        for (n, conn) in listener.incoming().enumerate() {
            let mut conn = conn.expect("conn");
            conn.set_read_timeout(Some(Duration::from_secs(10)))
                .expect("timeout");
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                let k = conn.read(&mut chunk).expect("read");
                buf.extend_from_slice(&chunk[..k]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..i]).to_string();
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    while buf.len() < i + 4 + len {
                        let k = conn.read(&mut chunk).expect("read body");
                        buf.extend_from_slice(&chunk[..k]);
                    }
                    break (head, buf[i + 4..i + 4 + len].to_vec());
                }
            };
            // The first try fails: the service must retry.
            let reply = if n == 0 {
                "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            } else {
                "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            };
            conn.write_all(reply.as_bytes()).expect("reply");
            got.push((head, body));
            if n == 1 {
                return got;
            }
        }
        got
    });
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    let s = Server::start(
        &media,
        &["--webhook-secret", "hush", "--webhook-allow", "127.0.0.1"],
    );
    let body = json!({"spec": spec(1.0, "hook"), "webhook": hook});
    let r = post(&s.url("/v1/renders"), &body.to_string(), &[]);
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["id"].as_str().expect("id").to_string();
    wait_done(&s, &id);
    let got = receiver.join().expect("receiver");
    assert_eq!(got.len(), 2);
    let (head, body) = &got[1];
    let v: Value = serde_json::from_slice(body).expect("webhook JSON");
    assert_eq!(v["id"], id);
    assert_eq!(v["state"], "done");
    let sig = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("reelsmith-signature:")
                .then(|| l["reelsmith-signature:".len()..].trim().to_string())
        })
        .expect("signature header");
    let (t, v1) = sig
        .strip_prefix("t=")
        .and_then(|s| s.split_once(",v1="))
        .expect("t=…,v1=…");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"hush").expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let want: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v1, want);
    let t = Instant::now();
    while status(&s, &id)["webhook"]["status"] != "delivered" {
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The probes of the hardening issue, each with its safe answer: every kind of file a spec
/// names is confined, refusals say the same whatever is there, numbers out of range are
/// 400s, uploads with long names work, webhooks cannot reach this machine, the cost of a spec
/// is refused before anything is spoken.
#[test]
fn untrusted_specs_read_only_what_they_may_and_cost_only_what_they_may() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    let secret = dir.path().join("secret.png");
    let img = image::RgbaImage::from_pixel(8, 8, image::Rgba([9, 9, 9, 255]));
    img.save(&secret).expect("secret");
    let s = Server::start(&media, &[]);
    let url = s.url("/v1/renders");
    let refused = |spec: Value| -> Vec<(String, String)> {
        let r = post(&url, &spec.to_string(), &[]);
        assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
        let v = r.json();
        let text = v.to_string();
        assert!(!text.contains(&media.display().to_string()), "{text}");
        v["error"]["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .map(|i| {
                (
                    i["path"].as_str().unwrap_or("").to_string(),
                    i["message"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let scene = |extra: Value| {
        let mut sc = json!({"duration": 1});
        for (k, v) in extra.as_object().expect("object") {
            sc[k] = v.clone();
        }
        json!({"output": {"width": 160, "height": 90, "fps": 10}, "scenes": [sc]})
    };
    let secret_s = secret.display().to_string();
    // A video layer and a video background (the two that used to pass).
    let got = refused(scene(
        json!({"layers": [{"type": "video", "src": secret_s}]}),
    ));
    assert_eq!(got[0].0, "scenes[0].layers[0].src");
    let got = refused(scene(
        json!({"background": {"type": "video", "src": "../../../../srv/private/secret.png"}}),
    ));
    assert_eq!(got[0].0, "scenes[0].background.src");
    // Fonts: the same answer for a file, a folder, nothing, anything.
    let mut answers = Vec::new();
    for f in [
        "/etc/shadow",
        "/etc/passwd",
        "/nope",
        "/root",
        secret_s.as_str(),
    ] {
        let mut spec = scene(json!({}));
        spec["fonts"] = json!([f]);
        let got = refused(spec);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "fonts[0]");
        answers.push(got[0].1.replace(f, "NAME"));
    }
    answers.dedup();
    assert_eq!(answers.len(), 1, "{answers:?}");

    // Numbers out of range are 400s with a JSON error, not a dropped connection or a 500.
    let r = post(
        &s.url("/v1/cleanup"),
        r#"{"older_than":"100000000000000000000"}"#,
        &[],
    );
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    let r = get(&s.url("/v1/renders?offset=18446744073709551615"), &[]);
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.header("x-request-id").is_some());

    // A 300-character upload name is stored (shortened), and the answer holds no server path.
    let long = "a".repeat(300) + ".png";
    let up = finish(
        agent()
            .post(&s.url(&format!("/v1/assets?name={long}")))
            .header("Content-Type", "image/png")
            .send(&std::fs::read(&secret).expect("png")[..]),
    );
    assert_eq!(up.status, 201, "{}", String::from_utf8_lossy(&up.body));
    assert!(!String::from_utf8_lossy(&up.body).contains(&media.display().to_string()));
    let rel = up.json()["path"].as_str().expect("path").to_string();
    assert!(rel.ends_with(".png") && rel.len() < 140, "{rel}");

    // Webhooks may not reach this machine or private networks.
    for hook in [
        "http://127.0.0.1:9/",
        "http://localhost:8080/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
    ] {
        let body = json!({"spec": spec(1.0, "hook"), "webhook": hook});
        let r = post(&url, &body.to_string(), &[]);
        assert_eq!(
            r.status,
            422,
            "{hook}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.json()["error"]["issues"][0]["path"], "webhook");
    }

    // 200 scenes x 5000 characters to speak: refused at once, nothing spoken.
    let scenes: Vec<Value> = (0..200)
        .map(|_| json!({"duration": "auto", "narration": {"text": "word ".repeat(1000)}}))
        .collect();
    let got = refused(json!({"output": {"width": 160, "height": 90}, "scenes": scenes}));
    assert!(
        got.iter()
            .any(|(p, m)| p.ends_with(".narration.text") && m.contains("characters")),
        "{got:?}"
    );
    let spoken = media.join("assets/audio/tts");
    assert!(
        files(&spoken).is_empty(),
        "spoken before admission: {:?}",
        files(&spoken)
    );
    // Frames and pixels budgets.
    let long = json!({"output": {"width": 1920, "height": 1080, "fps": 30},
                      "scenes": [{"duration": 7200}]});
    let got = refused(long);
    assert!(got.iter().any(|(_, m)| m.contains("frames")), "{got:?}");
    assert!(leftovers(&media).is_empty(), "{:?}", leftovers(&media));
}

/// Requests a browser can forge for a page on another site are refused: a cross-site POST
/// (any content type), a non-JSON body, a Host name outside the allow-list.
#[test]
fn forged_and_rebound_requests_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    let s = Server::start(&media, &[]);
    let id = submit(&s, &spec(0.4, "keep"))["id"]
        .as_str()
        .expect("id")
        .to_string();
    wait_done(&s, &id);
    let forged = finish(
        agent()
            .post(&s.url("/v1/cleanup"))
            .header("Origin", "http://evil.test")
            .header("Content-Type", "text/plain")
            .send(r#"{"older_than":0}"#),
    );
    assert_eq!(
        forged.status,
        403,
        "{}",
        String::from_utf8_lossy(&forged.body)
    );
    let cross = finish(
        agent()
            .post(&s.url("/v1/cleanup"))
            .header("Sec-Fetch-Site", "cross-site")
            .header("Content-Type", "application/json")
            .send(r#"{"older_than":0}"#),
    );
    assert_eq!(cross.status, 403);
    let plain = finish(
        agent()
            .post(&s.url("/v1/cleanup"))
            .header("Content-Type", "text/plain")
            .send(r#"{"older_than":0}"#),
    );
    assert_eq!(
        plain.status,
        415,
        "{}",
        String::from_utf8_lossy(&plain.body)
    );
    let form = finish(
        agent()
            .delete(&s.url(&format!("/v1/renders/{id}")))
            .header("Origin", "http://evil.test")
            .call(),
    );
    assert_eq!(form.status, 403);
    // Still there after all of it.
    assert_eq!(status(&s, &id)["state"], "done");
    let rebound = get(&s.url("/v1/renders"), &[("Host", "evil.test:8080")]);
    assert_eq!(rebound.status, 403);
    // The page's own same-origin request works.
    let port = s.base.rsplit(':').next().expect("port").to_string();
    let own = post(
        &s.url("/v1/cleanup"),
        r#"{"older_than":"1d"}"#,
        &[
            ("Origin", &format!("http://127.0.0.1:{port}")),
            ("Sec-Fetch-Site", "same-origin"),
        ],
    );
    assert_eq!(own.status, 200, "{}", String::from_utf8_lossy(&own.body));

    // Beyond loopback only with a token.
    let out = Command::new(env!("CARGO_BIN_EXE_reelsmith"))
        .args(["serve", "--addr", "0.0.0.0:0", "--media"])
        .arg(&media)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--token"));
}

/// The examples that the README, `serve --help` and the page offer are accepted as they are.
#[test]
fn the_documented_examples_are_accepted_as_they_are() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    // The storage root a user starts from: the repository's stock media.
    let stock = Path::new(env!("CARGO_MANIFEST_DIR")).join("media/stock");
    std::fs::create_dir_all(&media).expect("media");
    let status = Command::new("cp")
        .args(["-r"])
        .arg(&stock)
        .arg(media.join("stock"))
        .status()
        .expect("cp");
    assert!(status.success());
    let s = Server::start(&media, &["--workers", "1"]);
    let mut specs: Vec<(String, String)> = Vec::new();
    for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
        .expect("examples")
        .flatten()
    {
        if e.path().extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(e.path()).expect("read");
            specs.push((e.file_name().to_string_lossy().into_owned(), text));
        }
    }
    let offered = get(&s.url("/v1/examples"), &[]).json();
    for ex in offered["examples"].as_array().expect("examples") {
        specs.push((format!("page: {}", ex["name"]), ex["spec"].to_string()));
    }
    assert!(specs.len() >= 5, "{}", specs.len());
    for (name, text) in &specs {
        let r = post(&s.url("/v1/renders"), text, &[]);
        assert_eq!(
            r.status,
            202,
            "{name}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let id = r.json()["id"].as_str().expect("id").to_string();
        let d = delete(&s.url(&format!("/v1/renders/{id}")));
        assert!(d.status == 204 || d.status == 202, "{name}: {}", d.status);
    }
}

/// A render that the process dies under is run again at most `--max-attempts` times, then
/// fails with a clear error (no crash loop).
#[test]
fn a_render_that_keeps_killing_the_service_fails_after_its_attempts() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    let args = ["--workers", "1", "--max-attempts", "2"];
    let s = Server::start(&media, &args);
    let id = submit(&s, &spec(30.0, "doomed"))["id"]
        .as_str()
        .expect("id")
        .to_string();
    let mut s = s;
    for attempt in 1..=2 {
        let st = wait_for(&s, &id, Duration::from_secs(60), |st| {
            st["state"] == "rendering" && st["frames"]["done"].as_u64().unwrap_or(0) > 0
        });
        assert_eq!(st["attempts"], attempt, "{st}");
        s.kill();
        s = Server::start(&media, &args);
    }
    let st = wait_for(&s, &id, Duration::from_secs(10), |st| {
        st["state"] == "failed"
    });
    let msg = st["error"]["message"].as_str().unwrap_or("").to_string();
    assert!(msg.contains("2 times"), "{st}");
    assert!(leftovers(&media).is_empty(), "{:?}", leftovers(&media));
}

/// Uploads have a quota: beyond it, `413` and nothing stored.
#[test]
fn uploads_beyond_the_quota_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    let s = Server::start(&media, &["--max-uploads-bytes", "1000"]);
    let up = |bytes: Vec<u8>, name: &str| {
        finish(
            agent()
                .post(&s.url(&format!("/v1/assets?name={name}")))
                .header("Content-Type", "application/octet-stream")
                .send(&bytes[..]),
        )
    };
    assert_eq!(up(vec![1; 600], "a.bin").status, 201);
    // The same bytes again are the same file: no new space.
    assert_eq!(up(vec![1; 600], "a.bin").status, 201);
    let over = up(vec![2; 600], "b.bin");
    assert_eq!(over.status, 413, "{}", String::from_utf8_lossy(&over.body));
    let kept = files(&media.join("assets/uploads"));
    assert_eq!(kept.len(), 1, "{kept:?}");
}
