"""Shared pieces of the fault campaign: running the binary, fixtures, tiny specs, and the
invariant checks (complete outputs, leftovers, speech cache entries). Standard library only."""

import hashlib
import json
import math
import os
import re
import shutil
import signal
import struct
import subprocess
import time
import wave

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# How long one render may take before it counts as hung (tiny specs take well under 2 s).
RENDER_TIMEOUT = 60


class Result:
    """What one run of the binary did."""

    def __init__(self, rc, out, err, wall, timed_out=False, killed_by_us=False):
        self.rc = rc
        self.out = out
        self.err = err
        self.wall = wall
        self.timed_out = timed_out
        self.killed_by_us = killed_by_us

    def crashed(self):
        """A panic, a signal we did not send, or a hang: never a clean answer."""
        if self.timed_out:
            return "hung (killed after %d s)" % RENDER_TIMEOUT
        if self.killed_by_us:
            return None
        if self.rc is not None and self.rc < 0:
            return "died of signal %d" % -self.rc
        if self.rc == 101 or "panicked" in self.err:
            return "panicked: " + first_line(self.err, "panicked")
        return None

    def error_line(self):
        return first_line(self.err, "error:")


def first_line(text, needle):
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if needle in line:
            if line.rstrip().endswith(":") and i + 1 < len(lines):
                line = line.rstrip() + " " + lines[i + 1].strip()
            return line.strip()[:240]
    lines = [x for x in text.splitlines() if x.strip()]
    return lines[-1].strip()[:200] if lines else ""


def run(cmd, timeout=RENDER_TIMEOUT, preexec_fn=None, env=None):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, preexec_fn=preexec_fn, env=env,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        timed_out = True
    return Result(p.returncode, out.decode(errors="replace"), err.decode(errors="replace"),
                  time.monotonic() - t0, timed_out)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def expected_frames(spec):
    """Frames a spec must give: the rounded total of its scene durations times its fps, or
    None when the spec is not one this campaign can compute (a mutated one)."""
    try:
        fps = spec.get("output", {}).get("fps", 30)
        fps = {23.976: 24000 / 1001, 29.97: 30000 / 1001, 59.94: 60000 / 1001}.get(fps, fps)
        total = sum(float(s["duration"]) for s in spec["scenes"])
        if not (isinstance(fps, (int, float)) and fps > 0 and total > 0):
            return None
        return int(math.floor(total * fps + 0.5))  # half away from zero, as the product
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


class Campaign:
    """The binary, the work folder and the fixtures every kind of fault uses."""

    def __init__(self, binary, work, log):
        self.binary = os.path.abspath(binary)
        self.work = work
        self.log = log
        self.inputs = os.path.join(work, "inputs")
        self.files = {}
        self.old_output = None
        self.walls = {}
        self.spoken = set()  # narration texts the specs hold
        self.voice_bytes = {}  # text -> bytes of its WAV as espeak-ng speaks it whole

    # ---- fixtures -------------------------------------------------------------------------

    def setup(self):
        """Writes the inputs (every asset kind a spec can name) and measures one clean render
        of each template. Nothing here counts as a fault."""
        os.makedirs(self.inputs, exist_ok=True)
        stock = os.path.join(REPO, "media", "stock", "images")
        fixtures = os.path.join(REPO, "tests", "fixtures")
        copies = {
            "png": os.path.join(stock, "logo.png"),
            "jpeg": os.path.join(stock, "bokeh-blue.jpg"),
            "mp3": os.path.join(fixtures, "audio", "tone.mp3"),
            "ttf": os.path.join(fixtures, "fonts", "FixtureSerif-Bold.ttf"),
        }
        for kind, src in copies.items():
            dst = os.path.join(self.inputs, "input." + EXT[kind])
            shutil.copyfile(src, dst)
            self.files[kind] = dst
        self.files["wav"] = os.path.join(self.inputs, "input.wav")
        write_tone(self.files["wav"], seconds=1.5, rate=22050)
        # The clip: rendered by the binary itself (160x90, 1.5 s, with sound).
        clip_spec = {
            "output": {"width": 160, "height": 90, "fps": 25, "quality": "fast"},
            "scenes": [{"id": "c", "duration": 1.5,
                        "background": {"type": "linear_gradient", "angle": 30,
                                       "colors": ["#203040", "#C04020"]},
                        "layers": [{"type": "shape", "width": 40, "height": 40,
                                    "fill": "#FFC83D", "x": "30%", "y": "50%",
                                    "animate_in": {"effect": "slide", "from": "left",
                                                   "distance": 60, "duration": 1.0}}]}],
            "audio": {"tracks": [{"src": self.files["wav"]}]},
        }
        self.files["mp4"] = os.path.join(self.inputs, "input.mp4")
        self.render_clean(clip_spec, self.files["mp4"], os.path.join(self.work, "setup-media"))
        # An earlier output that a failed render must leave untouched.
        self.old_output = os.path.join(self.inputs, "old-output.mp4")
        shutil.copyfile(self.files["mp4"], self.old_output)
        for template in TEMPLATES:
            spec = self.spec(template, "setup")
            media = os.path.join(self.work, "setup-media-" + template)
            out = os.path.join(self.work, "setup-" + template + ".mp4")
            r = self.render_clean(spec, out, media)
            self.walls[template] = r.wall
        return self

    def render_clean(self, spec, out, media):
        path = out + ".json"
        with open(path, "w") as f:
            json.dump(spec, f)
        r = run([self.binary, "render", path, "-q", "-o", out, "--media-root", media])
        if r.rc != 0:
            raise SystemExit("setup render of %s failed (%s): %s" % (out, r.rc, r.err[-2000:]))
        problems = self.check_output(out, expected_frames(spec))
        if problems:
            raise SystemExit("setup render %s is not complete: %s" % (out, problems))
        return r

    # ---- specs ----------------------------------------------------------------------------

    def spec(self, template, salt, files=None, rng=None):
        """A tiny spec (160x90, 1-3 s). `salt` goes into its text so that each fault renders
        scenes the scene cache has not seen; `files` replaces input paths (corrupt copies)."""
        f = dict(self.files)
        f.update(files or {})
        fps = rng.choice([24, 25, 30]) if rng else 30
        d1 = rng.choice([0.6, 1.0, 1.5]) if rng else 1.0
        d2 = rng.choice([0.5, 1.0]) if rng else 1.0
        out = {"width": 160, "height": 90, "fps": fps, "quality": "fast"}
        text = {"type": "text", "text": "Fault %s" % salt, "size": 16, "y": "80%",
                "fade_in": 0.3}
        if template == "stills":
            return {
                "output": out,
                "fonts": [f["ttf"]],
                "scenes": [
                    {"id": "a", "duration": d1,
                     "background": {"type": "image", "src": f["jpeg"]},
                     "layers": [{"type": "image", "src": f["png"], "height": 40,
                                 "y": "40%", "fade_in": 0.3},
                                dict(text, font="Fixture Serif")]},
                    {"id": "b", "duration": d2,
                     "background": {"type": "linear_gradient", "angle": 135,
                                    "colors": ["#0F2027", "#2C5364"]},
                     "layers": [{"type": "text", "text": "Two %s" % salt, "size": 14,
                                 "font": "Fixture Serif", "animate_in": "fade"}]},
                ],
                "audio": {"tracks": [{"src": f["wav"], "loop": True, "volume_db": -6}]},
            }
        if template == "clip":
            return {
                "output": out,
                "scenes": [
                    {"id": "a", "duration": d1,
                     "background": {"type": "video", "src": f["mp4"],
                                    "playback": {"loop": True, "audio": True}},
                     "layers": [text]},
                    {"id": "b", "duration": d2,
                     "background": {"type": "solid", "color": "#1E3A5F"},
                     "layers": [{"type": "video", "src": f["mp4"], "width": 80,
                                 "playback": {"trim_start": 0.2}}]},
                ],
                "audio": {"tracks": [{"src": f["mp3"], "volume_db": -10}]},
            }
        if template == "narrated":
            words = "Lift with your legs %s and keep the load close." % salt
            self.spoken.add(words)
            return {
                "output": dict(out, captions={"vtt": True}),
                "scenes": [
                    {"id": "a", "duration": round(d1 + d2 + 0.5, 3),
                     "background": {"type": "solid", "color": "#10243E"},
                     "narration": {"text": words, "rate": 260},
                     "layers": [text]},
                ],
            }
        raise ValueError(template)

    def write_spec(self, spec, path):
        with open(path, "w") as f:
            json.dump(spec, f, indent=1)
        return path

    def render_cmd(self, spec_path, out, media, extra=()):
        return [self.binary, "render", spec_path, "-o", out, "--media-root", media, "-q",
                *extra]

    # ---- invariants -----------------------------------------------------------------------

    def probe(self, path):
        r = run([self.binary, "probe", "--json", path], timeout=30)
        if r.rc != 0:
            return None, r.error_line() or "probe exit %s" % r.rc
        try:
            return json.loads(r.out), None
        except ValueError as e:
            return None, "probe printed no JSON: %s" % e

    def check_output(self, path, frames=None):
        """Problems with an output that exists: it must probe, hold H.264 video with every
        frame (the spec's count when known) and AAC audio as long as the video, be faststart,
        and its last frame must decode. An empty list: complete."""
        info, err = self.probe(path)
        if info is None:
            return ["does not probe: " + err]
        problems = []
        streams = info.get("streams", [])
        video = [s for s in streams if s.get("kind") == "video"]
        audio = [s for s in streams if s.get("kind") == "audio"]
        if not video:
            return ["no video stream"]
        v = video[0]
        packets = v.get("packets") or 0
        if v.get("codec") != "h264":
            problems.append("video codec %s" % v.get("codec"))
        if frames is not None and packets != frames:
            problems.append("%d video frames, the spec gives %d" % (packets, frames))
        fps = v.get("fps") or 0
        if fps and abs(packets - (v.get("duration_s") or 0) * fps) > 1.01:
            problems.append("%d frames for %.3f s at %.3f fps" % (packets, v["duration_s"], fps))
        if not audio:
            problems.append("no audio stream")
        elif abs((audio[0].get("duration_s") or 0) - (v.get("duration_s") or 0)) > 0.1:
            problems.append("audio %.3f s, video %.3f s" % (audio[0]["duration_s"],
                                                             v["duration_s"]))
        if not info.get("faststart"):
            problems.append("not faststart")
        if packets:
            # In the work folder: the output's may be the full one.
            png = os.path.join(self.work, "last-frame.png")
            r = run([self.binary, "frame", path, "--index", str(packets - 1), "-o", png],
                    timeout=30)
            ok = r.rc == 0 and os.path.isfile(png) and open(png, "rb").read(8) == PNG_MAGIC
            if not ok:
                problems.append("last frame %d does not decode: %s" % (packets - 1,
                                                                      r.error_line()))
            if os.path.exists(png):
                os.remove(png)
        return problems

    def leftovers(self, media, *dirs):
        """Everything a finished render must not leave: entries under <media>/assets/temp/,
        and `*.partial` / `*.tmp` files anywhere under the media root or the output folders."""
        found = []
        temp = os.path.join(media, "assets", "temp")
        if os.path.isdir(temp):
            found += [os.path.join(temp, n) for n in sorted(os.listdir(temp))]
        for top in (media, *dirs):
            if not os.path.isdir(top):
                continue
            for root, subdirs, names in os.walk(top):
                if os.path.abspath(root) == os.path.abspath(temp):
                    subdirs[:] = []
                    continue
                for n in names:
                    if n.endswith(".partial") or n.endswith(".tmp"):
                        found.append(os.path.join(root, n))
        return sorted(set(found))

    def whole_voices(self):
        """The byte lengths of every narration the specs hold, spoken whole by espeak-ng here
        (the render's settings: en-us, rate 260, pitch 50), or None without espeak-ng."""
        for text in self.spoken - set(self.voice_bytes):
            try:
                r = subprocess.run(["espeak-ng", "-v", "en-us", "-s", "260", "-p", "50",
                                    "--stdout", "--stdin"], input=text.encode(),
                                   capture_output=True, timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                return None
            if r.returncode != 0:
                return None
            self.voice_bytes[text] = len(r.stdout)
        return set(self.voice_bytes.values())

    def bad_cache_entries(self, media):
        """Speech cache entries (`assets/audio/tts/tts-*.wav`) that are not a whole voice: a
        header that does not match the file, or a length no narration of this campaign has
        when spoken whole (cut short by a full disk, say). Every later render of that text
        would reuse it."""
        bad = []
        tts = os.path.join(media, "assets", "audio", "tts")
        if not os.path.isdir(tts):
            return bad
        names = [n for n in sorted(os.listdir(tts)) if n.startswith("tts-")
                 and n.endswith(".wav")]
        whole = self.whole_voices() if names else None
        for n in names:
            p = os.path.join(tts, n)
            why = wav_problem(p)
            if not why and whole is not None and os.path.getsize(p) not in whole:
                why = "%d bytes: no narration of this campaign is that long when spoken " \
                      "whole (cut short?)" % os.path.getsize(p)
            if why:
                bad.append("%s: %s" % (p, why))
        return bad


def remove(paths):
    for p in paths:
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p, ignore_errors=True)
        else:
            try:
                os.remove(p)
            except OSError:
                pass


def wav_problem(path):
    try:
        with wave.open(path, "rb") as w:
            frames, width, channels = w.getnframes(), w.getsampwidth(), w.getnchannels()
    except (wave.Error, EOFError, OSError, struct.error) as e:
        return "not a WAV: %s" % e
    data = frames * width * channels
    size = os.path.getsize(path)
    if frames == 0:
        return "no samples"
    if data > size:
        return "header promises %d bytes of samples, the file has %d" % (data, size)
    return None


def write_tone(path, seconds, rate):
    n = int(seconds * rate)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(
            struct.pack("<h", int(12000 * math.sin(2 * math.pi * 440 * i / rate)))
            for i in range(n)))


def parse_progress(chunk):
    """Frames done from the CLI's progress bar (drawn only on a terminal)."""
    found = re.findall(rb"(\d+)/(\d+) frames", chunk)
    return [(int(a), int(b)) for a, b in found]


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EXT = {"png": "png", "jpeg": "jpg", "wav": "wav", "mp3": "mp3", "mp4": "mp4", "ttf": "ttf",
       "json": "json"}
TEMPLATES = ("stills", "clip", "narrated")
# Which template names each input kind.
TEMPLATE_OF = {"png": "stills", "jpeg": "stills", "wav": "stills", "ttf": "stills",
               "mp3": "clip", "mp4": "clip"}
