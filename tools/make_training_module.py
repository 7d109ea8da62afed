#!/usr/bin/env python3
"""Writes examples/training-module.json from media/stock/narration.json.

The module: 12 scenes = 3:00 at 1080p30, joined by 0.5 s transitions (mostly crossfades). A
title card, bullet slides whose items slide in one by one, photo slides drifting with Ken Burns
moves (one a looping video clip) under a lower third and captions, a closing card, a progress bar along the bottom; narration per scene and a looped
music bed under everything, ducked by 10 dB while the narration speaks. Also writes
media/stock/images/scrim.png (a small translucent black PNG that image layers stretch into
caption bands and photo darkening overlays) and accent.png (a solid accent colour for the
rules under titles). Run from the repository root: python3 tools/make_training_module.py
"""
import json, struct, zlib

STOCK = "stock/"  # beside the spec, else under the media root: CLI and service alike
SCENE_S = 15.0


def png_rgba(path, w, h, rgba):
    raw = b"".join(b"\x00" + bytes(rgba) * w for _ in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    open(path, "wb").write(data)


def text(t, **kw):
    d = {"type": "text", "text": t}
    d.update(kw)
    return d


def image(src, **kw):
    d = {"type": "image", "src": STOCK + "images/" + src}
    d.update(kw)
    return d


def footer(n):
    return text(f"{n} / 12", size=26, color="#FFFFFFAA", x="96%", y="94%", anchor="bottom-right",
                align="right", fade_in=0.4, fade_out=0.4)


def brand():
    return text("SafeWorks  |  Safe Lifting", size=26, color="#FFFFFFAA", x="4%", y="94%",
                anchor="bottom-left", align="left", fade_in=0.4, fade_out=0.4)


GRADIENTS = [
    ["#0B1F3A", "#123C69"], ["#10253F", "#1B4F72"], ["#14213D", "#1F3B73"],
    ["#0F2027", "#203A43", "#2C5364"],
]
PHOTOS = {4: "warehouse-aisle.jpg", 5: "lowpoly-orange-teal.jpg", 7: "skyline-dusk.jpg",
          8: "warehouse-aisle.jpg", 10: "bokeh-blue.jpg"}


def bullet_slide(n, item, grad):
    layers = [
        text(item["title"], size=72, weight="bold", x="8%", y="12%", anchor="top-left",
             align="left", fade_in=0.5, fade_out=0.4),
        {"type": "shape", "width": 160, "height": 6, "fill": "#FFC83D", "x": "8%", "y": "25%",
         "anchor": "top-left", "fade_in": 0.5, "fade_out": 0.4,
         "animate_in": {"effect": "scale", "scale": 0.2, "duration": 0.6, "fade": False}},
        # Items revealed one by one, each sliding in from the left as the narration reaches it.
        {"type": "bullets", "items": item["bullets"], "style": {"size": 48}, "x": "8%", "y": "34%",
         "max_width": "84%", "spacing": 0.7, "start": 1.0, "reveal": 2.5, "fade_out": 0.4},
    ]
    layers += [brand(), footer(n)]
    return {"id": f"s{n:02}-{slug(item['title'])}", "duration": SCENE_S,
            "background": {"type": "linear_gradient", "angle": 135, "colors": grad},
            "layers": layers}


def photo_slide(n, item, photo):
    b = item["bullets"]
    # A lower third names the topic; the points follow one after another as captions.
    layers = [
        {"type": "lower_third", "title": item["title"], "subtitle": "SafeWorks  ·  Safe Lifting",
         "title_style": {"size": 56}, "subtitle_style": {"size": 34}, "y": "80%",
         "start": 0.3, "end": 14.6},
    ]
    slot = 13.0 / max(len(b), 1)
    for i, line in enumerate(b):
        layers.append({"type": "caption", "text": line, "start": 1.5 + i * slot,
                       "end": min(1.5 + (i + 1) * slot - 0.2, 14.8), "fade_in": 0.3, "fade_out": 0.3})
    layers.append(footer(n))
    return {"id": f"s{n:02}-{slug(item['title'])}", "duration": SCENE_S,
            "background": ({"type": "video", "src": STOCK + "video/" + CLIPS[n],
                            "playback": {"loop": True}} if n in CLIPS else
                           {"type": "image", "src": STOCK + "images/" + photo,
                            "motion": MOTIONS[n % len(MOTIONS)]}),
            "layers": layers}


# Scenes whose background is a video clip (made by tools/stock/make_clip.sh), looped.
CLIPS = {8: "warehouse-walk.mp4"}
# Slow Ken Burns drifts for the photo slides.
MOTIONS = ["zoom_in", "pan_right", "zoom_out", "pan_left", "pan_up"]
# Transitions into each scene after the first (0.5 s each; the scenes overlap by that much,
# so scenes after the first last 15.5 s to keep the module at exactly 3:00).
TRANSITIONS = {2: "crossfade", 3: "crossfade", 4: "push_left", 5: "crossfade", 6: "wipe_left",
               7: "crossfade", 8: "crossfade", 9: "slide_up", 10: "crossfade", 11: "crossfade",
               12: "fade"}
TRANSITION_S = 0.5


def slug(s):
    return "".join(c.lower() if c.isalnum() else "-" for c in s).strip("-").replace("--", "-")


def main():
    items = json.load(open("media/stock/narration.json"))
    png_rgba("media/stock/images/scrim.png", 16, 16, (0, 0, 0, 150))
    png_rgba("media/stock/images/accent.png", 16, 16, (255, 200, 61, 255))
    scenes = []
    for item in items:
        n = item["scene"]
        if n == 1:
            scenes.append({"id": "s01-title", "duration": SCENE_S,
                           "background": {"type": "image", "src": STOCK + "images/hills-dawn.jpg"},
                           "layers": [
                               image("scrim.png", width="100%", height="100%", fit="stretch",
                                     x=0, y=0, anchor="top-left", opacity=0.6),
                               image("logo.png", height=220, y="27%", fade_in=0.8, fade_out=0.5),
                               {"type": "title", "title": item["title"],
                                "subtitle": "SafeWorks safety training  \u00b7  about three minutes",
                                "title_style": {"size": 88},
                                "subtitle_style": {"size": 40, "color": "#FFE08A"},
                                "y": "58%", "start": 0.6, "subtitle_delay": 0.8, "fade_out": 0.5,
                                "animate_in": {"effect": "slide", "from": "bottom",
                                               "distance": 40, "duration": 0.8}},
                           ]})
        elif n == 12:
            scenes.append({"id": "s12-thank-you", "duration": SCENE_S,
                           "background": {"type": "radial_gradient", "colors": ["#1F4E79", "#0B1F3A", "#050B14"]},
                           "layers": [
                               image("logo.png", height=200, y="25%", fade_in=0.8),
                               text("Thank you", size=96, weight="bold", y="47%", start=0.5, fade_in=0.8),
                               text("\n".join(item["bullets"]), size=44, color="#D6E4F0", y="64%",
                                    line_height=1.4, start=1.5, fade_in=0.8),
                               text("Questions? Talk to your supervisor or safety officer.", size=32,
                                    color="#FFE08A", y="86%", start=4.0, fade_in=0.8, end=14.0,
                                    fade_out=1.0),
                           ]})
        elif n in PHOTOS:
            scenes.append(photo_slide(n, item, PHOTOS[n]))
        else:
            scenes.append(bullet_slide(n, item, GRADIENTS[n % len(GRADIENTS)]))
    # Each scene carries its own voice-over (start relative to the scene); the music bed is
    # ducked under every narration.
    for scene, item in zip(scenes, items):
        scene["narration"] = {"src": STOCK + item["file"], "start": 0.8}
        n = item["scene"]
        if n in TRANSITIONS:
            scene["transition"] = {"type": TRANSITIONS[n], "duration": TRANSITION_S}
            scene["duration"] = SCENE_S + TRANSITION_S
    # A progress bar along the bottom edge of every scene but the title and the end card.
    for scene in scenes[1:-1]:
        scene["layers"].append({"type": "progress_bar", "color": "#FFC83D",
                                "track_color": "#FFFFFF22"})
    tracks = [{"src": STOCK + "audio/music-bed.wav", "loop": True, "volume_db": -14,
               "fade_in": 1.5, "fade_out": 4.0,
               "duck": {"by_db": 10, "attack": 0.4, "release": 0.8}}]
    comp = {"output": {"width": 1920, "height": 1080, "fps": 30, "quality": "fast",
                       "audio_bitrate": 128},
            "scenes": scenes, "audio": {"tracks": tracks}}
    with open("examples/training-module.json", "w") as f:
        json.dump(comp, f, indent=2, ensure_ascii=False)
        f.write("\n")


main()
