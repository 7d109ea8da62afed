#!/usr/bin/env python3
"""The training module as ONE hand-written ffmpeg CLI filtergraph: the peer reelsmith is
measured against (never part of the product).

Reads a reelsmith spec (examples/training-module.json or its 720p twin) and builds the same kind
and amount of work for ffmpeg: per scene a background (solid/gradient source, a photo scaled to
cover, a photo with a zoompan Ken Burns move, or the looping clip), its text (drawtext with
fade-in alpha and timed reveals), bullet items revealed one by one, lower thirds and captions
(drawbox + drawtext), logo overlays and the progress bar (an overlaid strip moving with time);
scenes joined with xfade over the same transition times; narration placed at the scene times,
the looped music bed faded and ducked under it (sidechaincompress), loudness-normalised
(loudnorm) to -16 LUFS; libx264 veryfast CRF 23 + AAC 128k, +faststart.

Not pixel-identical: drawtext does no shaping or wrapping, animations other than fades are
simplified (slides become fades), push/slide transitions use xfade's slide kinds.

    python3 benches/peers/ffmpeg_module.py SPEC OUT.mp4 [--print]
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FONT = os.path.join(ROOT, "assets/fonts/noto/NotoSans-Regular.ttf")
FONT_BOLD = os.path.join(ROOT, "assets/fonts/noto/NotoSans-Bold.ttf")
XFADE = {"crossfade": "fade", "fade": "fadeblack", "wipe_left": "wipeleft", "wipe_right": "wiperight",
         "push_left": "slideleft", "push_right": "slideright", "slide_up": "slideup",
         "slide_down": "slidedown", "slide_left": "slideleft", "slide_right": "slideright",
         "dissolve": "dissolve", "circle": "circleopen", "zoom": "zoomin"}


def color(c, default="#FFFFFF"):
    c = (c or default).lstrip("#")
    if len(c) == 8:
        return f"0x{c[:6]}@{int(c[6:], 16) / 255:.3f}"
    return f"0x{c}"


def px(v, full):
    """A spec length (px number or "NN%") in pixels."""
    if isinstance(v, str) and v.endswith("%"):
        return float(v[:-1]) / 100 * full
    return float(v)


class Graph:
    def __init__(self, spec, base, tmp):
        self.spec, self.base, self.tmp = spec, base, tmp
        out = spec["output"]
        self.w, self.h, self.fps = out["width"], out["height"], out.get("fps", 30)
        self.s = self.h / 1080
        self.inputs, self.chains, self.n = [], [], 0

    def input(self, args):
        self.inputs += args
        i = len([a for a in self.inputs if a == "-i"]) - 1
        return i

    def label(self):
        self.n += 1
        return f"v{self.n}"

    def textfile(self, text):
        fd, path = tempfile.mkstemp(dir=self.tmp, suffix=".txt")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    def drawtext(self, text, size, x, y, col="#FFFFFF", bold=False, start=0.0, end=None, fade=0.0,
                 box=None):
        alpha = "1" if fade <= 0 else f"if(lt(t,{start}),0,min(1,(t-{start})/{fade}))"
        en = f"between(t,{start},{end})" if end is not None else f"gte(t,{start})"
        extra = f":box=1:boxcolor={color(box)}:boxborderw={int(18 * self.s)}" if box else ""
        return (f"drawtext=fontfile={FONT_BOLD if bold else FONT}:textfile={self.textfile(text)}"
                f":fontsize={int(size)}:fontcolor={color(col)}:x={x}:y={y}:alpha='{alpha}'"
                f":line_spacing={int(size * 0.35)}:enable='{en}'{extra}")

    def background(self, bg, dur, scene_start):
        w, h, fps = self.w, self.h, self.fps
        kind = bg.get("type", "solid")
        frames = int(round(dur * fps))
        if kind in ("linear_gradient", "radial_gradient"):
            cs = bg["colors"]
            c = ":".join(f"c{i}={color(x)}" for i, x in enumerate(cs[:8]))
            src = (f"gradients=s={w}x{h}:r={fps}:d={dur}:speed=0.00001:nb_colors={len(cs)}:{c}"
                   f":x0=0:y0=0:x1={w}:y1={h}")
            lab = self.label()
            self.chains.append(f"{src},format=yuv420p[{lab}]")
            return lab
        if kind == "image":
            i = self.input(["-loop", "1", "-framerate", str(fps), "-t", str(dur), "-i",
                            os.path.join(self.base, bg["src"])])
            cover = f"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h}"
            motion = bg.get("motion")
            lab = self.label()
            if motion:
                # zoompan needs a larger source to move smoothly; zoom 1.0 → 1.15 (or back),
                # pans at 1.15 across the spare area.
                n = frames
                z = {"zoom_in": f"1+0.15*on/{n}", "zoom_out": f"1.15-0.15*on/{n}"}.get(motion, "1.15")
                x = {"pan_left": f"(iw-iw/zoom)*(1-on/{n})", "pan_right": f"(iw-iw/zoom)*on/{n}"}.get(
                    motion, "iw/2-(iw/zoom/2)")
                y = {"pan_up": f"(ih-ih/zoom)*(1-on/{n})", "pan_down": f"(ih-ih/zoom)*on/{n}"}.get(
                    motion, "ih/2-(ih/zoom/2)")
                self.chains.append(
                    f"[{i}:v]scale={w * 2}:{h * 2}:force_original_aspect_ratio=increase,"
                    f"crop={w * 2}:{h * 2},trim=end_frame=1,zoompan=z='{z}':x='{x}':y='{y}'"
                    f":d={n}:s={w}x{h}:fps={fps},format=yuv420p[{lab}]")
            else:
                self.chains.append(f"[{i}:v]{cover},format=yuv420p[{lab}]")
            return lab
        if kind == "video":
            i = self.input(["-stream_loop", "-1", "-t", str(dur), "-i", os.path.join(self.base, bg["src"])])
            lab = self.label()
            self.chains.append(f"[{i}:v]fps={fps},scale={w}:{h}:force_original_aspect_ratio=increase,"
                               f"crop={w}:{h},trim=duration={dur},setpts=PTS-STARTPTS,format=yuv420p[{lab}]")
            return lab
        lab = self.label()
        self.chains.append(f"color=c={color(bg.get('color', '#000000'))}:s={w}x{h}:r={fps}:d={dur},"
                           f"format=yuv420p[{lab}]")
        return lab

    def pos(self, layer, default_x="50%", default_y="50%"):
        x = px(layer.get("x", default_x), self.w)
        y = px(layer.get("y", default_y), self.h)
        anchor = layer.get("anchor", "center")
        tx = {"left": f"{x}", "right": f"{x}-tw"}.get(anchor.split("-")[-1], f"{x}-tw/2")
        ty = f"{y}" if anchor.startswith("top") else (f"{y}-th" if anchor.startswith("bottom") else f"{y}-th/2")
        return tx, ty

    def layers(self, lab, scene, scene_start, total):
        w, h, s = self.w, self.h, self.s
        dur = scene["duration"]
        filters = []
        for L in scene.get("layers", []):
            t = L.get("type")
            st = float(L.get("start", 0))
            end = float(L.get("end", dur))
            fade = float(L.get("fade_in", 0.4 if t in ("bullets", "caption", "lower_third", "title") else 0))
            if t == "text":
                x, y = self.pos(L)
                filters.append(self.drawtext(L["text"], L.get("size", 48 * s) * (1 if L.get("size") else 1),
                                             x, y, L.get("color"), L.get("weight") == "bold", st, end, fade))
            elif t == "title":
                x, y = self.pos(L)
                ts = L.get("title_style", {}).get("size", 88 * s)
                ss = L.get("subtitle_style", {}).get("size", 40 * s)
                filters.append(self.drawtext(L["title"], ts, "(w-tw)/2", f"{y}-th", "#FFFFFF", True, st, end, 0.8))
                if L.get("subtitle"):
                    d = float(L.get("subtitle_delay", 0.5))
                    filters.append(self.drawtext(L["subtitle"], ss, "(w-tw)/2", f"{y}+{ss}",
                                                 L.get("subtitle_style", {}).get("color"), False, st + d, end, 0.8))
            elif t == "bullets":
                size = L.get("style", {}).get("size", 48 * s)
                x = px(L.get("x", "8%"), w)
                y = px(L.get("y", "30%"), h)
                reveal = float(L.get("reveal", 1.0))
                for k, item in enumerate(L["items"]):
                    at = st + k * reveal
                    filters.append(self.drawtext("•  " + item, size, f"{x}", f"{y + k * size * 1.9}",
                                                 "#FFFFFF", False, at, end, 0.4))
            elif t == "lower_third":
                ts = L.get("title_style", {}).get("size", 56 * s)
                ss = L.get("subtitle_style", {}).get("size", 34 * s)
                y = px(L.get("y", "80%"), h)
                bh = int(ts + ss + 60 * s)
                filters.append(f"drawbox=x=0:y={int(y - bh / 2)}:w={int(w * 0.55)}:h={bh}:color=0x0B1F3A@0.85:t=fill"
                               f":enable='between(t,{st},{end})'")
                filters.append(f"drawbox=x=0:y={int(y - bh / 2)}:w={int(12 * s)}:h={bh}:color=0xFFC83D:t=fill"
                               f":enable='between(t,{st},{end})'")
                filters.append(self.drawtext(L["title"], ts, f"{int(60 * s)}", f"{int(y - bh / 2 + 20 * s)}",
                                             "#FFFFFF", True, st, end, 0.4))
                if L.get("subtitle"):
                    filters.append(self.drawtext(L["subtitle"], ss, f"{int(60 * s)}", f"{int(y + 10 * s)}",
                                                 "#D6E4F0", False, st, end, 0.4))
            elif t == "caption":
                size = int(L.get("size", 40 * s))
                filters.append(self.drawtext(L["text"], size, "(w-tw)/2", f"{int(h * 0.62)}", "#FFFFFF",
                                             False, st, end, fade, box="#000000A0"))
            elif t == "shape":
                x, y = px(L.get("x", "50%"), w), px(L.get("y", "50%"), h)
                filters.append(f"drawbox=x={int(x)}:y={int(y)}:w={int(px(L['width'], w))}:h={int(px(L['height'], h))}"
                               f":color={color(L.get('fill'))}:t=fill:enable='between(t,{st},{end})'")
            elif t == "image":
                src = os.path.join(self.base, L["src"])
                if L.get("fit") == "stretch":
                    filters.append(f"drawbox=x=0:y=0:w=iw:h=ih:color=black@{L.get('opacity', 1.0)}:t=fill")
                else:
                    # Overlays need their own input; flush the chain so far.
                    lab = self.flush(lab, filters)
                    filters = []
                    i = self.input(["-loop", "1", "-framerate", str(self.fps), "-t", str(dur), "-i", src])
                    hh = int(px(L.get("height", 200), h))
                    y = px(L.get("y", "50%"), h)
                    ov, out = self.label(), self.label()
                    self.chains.append(f"[{i}:v]scale=-1:{hh},format=rgba,fade=in:st={st}:d={L.get('fade_in', 0.5)}"
                                       f":alpha=1[{ov}]")
                    self.chains.append(f"[{lab}][{ov}]overlay=x=(W-w)/2:y={int(y - hh / 2)}:shortest=1[{out}]")
                    lab = out
            elif t == "progress_bar":
                lab = self.flush(lab, filters)
                filters = []
                bh = max(2, int(8 * s))
                bar, out = self.label(), self.label()
                self.chains.append(f"color=c=0xFFC83D:s={w}x{bh}:r={self.fps}:d={dur}[{bar}]")
                self.chains.append(f"[{lab}]drawbox=x=0:y={h - bh}:w={w}:h={bh}:color=white@0.13:t=fill[{out}t]")
                self.chains.append(f"[{out}t][{bar}]overlay=x='-W+W*(t+{scene_start})/{total}':y={h - bh}"
                                   f":shortest=1[{out}]")
                lab = out
        return self.flush(lab, filters)

    def flush(self, lab, filters):
        if not filters:
            return lab
        out = self.label()
        self.chains.append(f"[{lab}]" + ",".join(filters) + f"[{out}]")
        return out

    def build(self, out_path):
        scenes = self.spec["scenes"]
        starts, t = [], 0.0
        for i, sc in enumerate(scenes):
            tr = float((sc.get("transition") or {}).get("duration", 0)) if i else 0.0
            t -= tr
            starts.append(t)
            t += float(sc["duration"])
        total = t
        labs = []
        for sc, st in zip(scenes, starts):
            bg = self.background(sc.get("background", {}), float(sc["duration"]), st)
            labs.append(self.layers(bg, sc, st, total))
        cur = labs[0]
        acc = float(scenes[0]["duration"])
        for i in range(1, len(scenes)):
            tr = scenes[i].get("transition") or {}
            d = float(tr.get("duration", 0))
            out = self.label()
            if d > 0:
                kind = XFADE.get(tr.get("type", "crossfade"), "fade")
                self.chains.append(f"[{cur}][{labs[i]}]xfade=transition={kind}:duration={d}:offset={acc - d}[{out}]")
            else:
                self.chains.append(f"[{cur}][{labs[i]}]concat=n=2:v=1:a=0[{out}]")
            cur = out
            acc += float(scenes[i]["duration"]) - d
        # Audio: narration at the scene times, the music bed looped, faded, ducked, normalised.
        voices = []
        for sc, st in zip(scenes, starts):
            nar = sc.get("narration")
            if nar and nar.get("src"):
                i = self.input(["-i", os.path.join(self.base, nar["src"])])
                ms = int((st + float(nar.get("start", 0))) * 1000)
                lab = self.label()
                self.chains.append(f"[{i}:a]aformat=sample_rates=48000:channel_layouts=stereo,adelay={ms}|{ms}[{lab}]")
                voices.append(lab)
        vmix = self.label()
        self.chains.append("".join(f"[{v}]" for v in voices) +
                           f"amix=inputs={len(voices)}:normalize=0,apad,atrim=duration={total}[{vmix}]")
        tracks = self.spec.get("audio", {}).get("tracks", [])
        final = vmix
        if tracks:
            tr = tracks[0]
            i = self.input(["-stream_loop", "-1", "-i", os.path.join(self.base, tr["src"])])
            mus, side, voice2, duck, mixed = (self.label() for _ in range(5))
            self.chains.append(f"[{vmix}]asplit=2[{side}][{voice2}]")
            self.chains.append(f"[{i}:a]aformat=sample_rates=48000:channel_layouts=stereo,atrim=duration={total},"
                               f"volume={tr.get('volume_db', 0)}dB,afade=in:d={tr.get('fade_in', 0)},"
                               f"afade=out:st={total - float(tr.get('fade_out', 0))}:d={tr.get('fade_out', 0)}[{mus}]")
            self.chains.append(f"[{mus}][{side}]sidechaincompress=threshold=0.015:ratio=6:attack=400:release=800[{duck}]")
            self.chains.append(f"[{duck}][{voice2}]amix=inputs=2:normalize=0,loudnorm=I=-16:TP=-1[{mixed}]")
            final = mixed
        cmd = ["ffmpeg", "-v", "error", "-y", *self.inputs, "-filter_complex", ";".join(self.chains),
               "-map", f"[{cur}]", "-map", f"[{final}]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
               "-pix_fmt", "yuv420p", "-r", str(self.fps), "-c:a", "aac", "-b:a", "128k", "-ar", "48000",
               "-t", f"{total}", "-movflags", "+faststart", out_path]
        return cmd


def command(spec_path, out_path, tmp):
    spec = json.load(open(spec_path))
    return Graph(spec, os.path.dirname(os.path.abspath(spec_path)), tmp).build(out_path)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = command(sys.argv[1], sys.argv[2], tmp)
        if "--print" in sys.argv:
            print(" ".join(shlex.quote(c) for c in cmd))
            return
        subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
