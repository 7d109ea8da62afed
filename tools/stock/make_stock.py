#!/usr/bin/env python3
"""Procedurally generate the reelsmith stock images and narration data (CC0 1.0).

Everything here is computed from fixed random seeds with numpy + Pillow; no
external media, fonts or downloads are used, so the output is reproducible and
can be released into the public domain.

It also holds the narration script (scene texts, on-screen titles and
bullets) and writes narration.json. Normally run via tools/stock/make_stock.sh.

Usage:
    python3 tools/stock/make_stock.py [--stock-dir DIR] images [NAME ...]
    python3 tools/stock/make_stock.py texts OUT_DIR      # narration-NN.txt for espeak-ng
    python3 tools/stock/make_stock.py [--stock-dir DIR] manifest   # narration.json

--stock-dir defaults to media/stock in the repository. `images` writes into
DIR/images:
    hills-dawn.jpg, warehouse-aisle.jpg, bokeh-blue.jpg,
    lowpoly-orange-teal.jpg, skyline-dusk.jpg   (1920x1080 JPEG, quality 85)
    logo.png                                    (400x400 RGBA PNG)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

W, H = 1920, 1080
JPEG_QUALITY = 85

REPO_ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def hexc(s: str) -> np.ndarray:
    """'#rrggbb' -> float RGB array in 0..1."""
    s = s.lstrip("#")
    return np.array([int(s[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.float64) / 255.0


def lerp(a, b, t):
    return a + (b - a) * t


def smoothstep(e0, e1, x):
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def vertical_gradient(stops: list[tuple[float, str]], h: int = H, w: int = W) -> np.ndarray:
    """Multi-stop vertical gradient, returns HxWx3 float image."""
    ys = np.linspace(0.0, 1.0, h)
    pos = np.array([p for p, _ in stops])
    cols = np.array([hexc(c) for _, c in stops])
    out = np.stack([np.interp(ys, pos, cols[:, k]) for k in range(3)], axis=-1)
    return np.broadcast_to(out[:, None, :], (h, w, 3)).copy()


def noise1d(rng: np.random.Generator, n: int, octaves: list[tuple[int, float]]) -> np.ndarray:
    """Smooth 1-D fractal noise (sum of cosine-interpolated random knots)."""
    x = np.linspace(0.0, 1.0, n)
    out = np.zeros(n)
    for knots, amp in octaves:
        vals = rng.uniform(-1.0, 1.0, knots + 2)
        kx = np.linspace(0.0, 1.0, knots + 2)
        idx = np.clip(np.searchsorted(kx, x, side="right") - 1, 0, knots)
        t = (x - kx[idx]) / (kx[idx + 1] - kx[idx])
        t = (1 - np.cos(t * np.pi)) * 0.5
        out += amp * lerp(vals[idx], vals[idx + 1], t)
    return out


def vignette(img: np.ndarray, strength: float = 0.35, power: float = 2.2) -> np.ndarray:
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    d = np.sqrt(((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2) / np.sqrt(2)
    f = 1.0 - strength * d ** power
    return img * f[..., None]


def grain(img: np.ndarray, rng: np.random.Generator, amount: float = 0.012) -> np.ndarray:
    """Light monochrome film grain (kept small so JPEGs stay compact)."""
    n = rng.normal(0.0, amount, img.shape[:2])
    return img + n[..., None]


def to_pil(img: np.ndarray) -> Image.Image:
    arr = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def from_pil(im: Image.Image) -> np.ndarray:
    return np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0


def blur(img: np.ndarray, radius: float) -> np.ndarray:
    return from_pil(to_pil(img).filter(ImageFilter.GaussianBlur(radius)))


def save_jpeg(img: np.ndarray, path: Path) -> None:
    to_pil(img).save(path, "JPEG", quality=JPEG_QUALITY, optimize=True,
                     progressive=True, subsampling="4:2:0")
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


def radial(cx: float, cy: float, h: int = H, w: int = W, sx: float = 1.0, sy: float = 1.0) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    return np.sqrt(((xx - cx) / sx) ** 2 + ((yy - cy) / sy) ** 2)


# ---------------------------------------------------------------------------
# 1. hills at dawn
# ---------------------------------------------------------------------------

def hills_dawn(path: Path) -> None:
    rng = np.random.default_rng(1001)
    img = vertical_gradient([
        (0.00, "#1b2a4a"),
        (0.30, "#3d4f7c"),
        (0.50, "#9c7a9a"),
        (0.62, "#f0a27a"),
        (0.70, "#ffd2a0"),
        (1.00, "#ffe6c4"),
    ])
    # soft sun + glow, sitting just above the far ridge
    sun_x, sun_y = W * 0.68, H * 0.585
    d = radial(sun_x, sun_y)
    glow = np.exp(-(d / 420.0) ** 2) * 0.45 + np.exp(-(d / 130.0) ** 2) * 0.30
    # "screen" blend so the glow never clips into a flat plateau
    img = 1.0 - (1.0 - img) * (1.0 - glow[..., None] * hexc("#ffd8a0")[None, None, :])
    disc = 1.0 - smoothstep(58.0, 66.0, d)
    img = lerp(img, hexc("#fffaf0")[None, None, :], disc[..., None])

    yy = np.arange(H, dtype=np.float64)[:, None]
    haze = hexc("#f6c9a6")
    layers = [
        # base_y, amplitude, octaves, colour, haze amount
        (0.62, 45, [(3, 1.0), (9, 0.35), (30, 0.08)], "#a5788f", 0.45),
        (0.68, 70, [(4, 1.0), (11, 0.30), (40, 0.07)], "#6e4f7a", 0.30),
        (0.76, 80, [(3, 1.0), (8, 0.40), (35, 0.06)], "#453463", 0.16),
        (0.85, 90, [(2, 1.0), (7, 0.35), (28, 0.06)], "#272246", 0.06),
        (0.95, 70, [(2, 1.0), (6, 0.30), (25, 0.05)], "#13122a", 0.0),
    ]
    for base, amp, octs, col, hz in layers:
        ridge = H * base + amp * noise1d(rng, W, octs)
        # 1.5px soft edge for anti-aliasing
        mask = np.clip((yy - ridge[None, :]) / 1.5 + 0.5, 0.0, 1.0)
        # colour: hazier at the ridge line, a little darker further down
        depth = np.clip((yy - ridge[None, :]) / 220.0, 0.0, 1.0)
        c = hexc(col)
        layer = lerp(lerp(c, haze, hz)[None, None, :],
                     (c * 0.85)[None, None, :], depth[..., None])
        img = lerp(img, layer, mask[..., None])
        # mist band just above the next layer
        mist = np.exp(-((yy - ridge[None, :] - 40.0) / 55.0) ** 2) * 0.18 * (hz + 0.15)
        img = lerp(img, haze[None, None, :], mist[..., None])

    img = vignette(img, 0.45)
    img = img * 0.92  # keep it slightly dim so white text reads well
    img = grain(img, rng, 0.007)
    save_jpeg(img, path)


# ---------------------------------------------------------------------------
# 2. warehouse aisle (perspective shelving)
# ---------------------------------------------------------------------------

def warehouse_aisle(path: Path) -> None:
    rng = np.random.default_rng(2002)
    S = 2  # supersample
    w, h = W * S, H * S
    vx, vy = w * 0.5, h * 0.47  # vanishing point

    base = vertical_gradient([
        (0.00, "#141b26"),
        (0.40, "#243246"),
        (0.47, "#3b4d63"),
        (0.55, "#2a3646"),
        (1.00, "#0f141c"),
    ], h, w)
    im = to_pil(base)
    dr = ImageDraw.Draw(im, "RGBA")

    def proj(x, y, z):
        """World (x right, y up, z depth>0) -> screen."""
        f = 900.0 * S
        return vx + f * x / z, vy - f * y / z

    # floor lane markings (safety yellow)
    for side in (-1, 1):
        z0, z1 = 1.2, 60.0
        pts = [proj(side * 1.55, -1.6, z0), proj(side * 1.55, -1.6, z1),
               proj(side * 1.40, -1.6, z1), proj(side * 1.40, -1.6, z0)]
        dr.polygon(pts, fill=(214, 170, 40, 150))

    # racks on both sides
    bay = 2.2
    levels = [-1.6, -0.6, 0.4, 1.4, 2.4]
    box_cols = [(176, 132, 84), (150, 112, 72), (196, 156, 104), (168, 150, 120), (160, 124, 80)]
    for side in (-1, 1):
        x_in = side * 1.9  # rack face plane
        nbays = 26
        # draw far to near so near overlaps far
        for i in reversed(range(nbays)):
            z0 = 1.0 + i * bay
            z1 = z0 + bay
            fade = np.clip(1.0 - i / nbays, 0.0, 1.0)
            # boxes on each level
            for li in range(len(levels) - 1):
                y0, y1 = levels[li], levels[li + 1] - 0.18
                nb = int(rng.integers(1, 4))
                zs = np.sort(rng.uniform(z0 + 0.1, z1 - 0.1, nb * 2))
                for k in range(nb):
                    za, zb = zs[2 * k], zs[2 * k + 1]
                    if zb - za < 0.25:
                        continue
                    top = y0 + (y1 - y0) * rng.uniform(0.55, 1.0)
                    col = box_cols[int(rng.integers(len(box_cols)))]
                    shade = 0.35 + 0.45 * fade
                    c = tuple(int(v * shade) for v in col)
                    quad = [proj(x_in, y0, za), proj(x_in, top, za),
                            proj(x_in, top, zb), proj(x_in, y0, zb)]
                    dr.polygon(quad, fill=c + (255,))
            # horizontal beams (orange, classic pallet racking)
            for y in levels[1:]:
                shade = 0.30 + 0.55 * fade
                c = (int(210 * shade), int(105 * shade), int(40 * shade), 255)
                quad = [proj(x_in, y, z0), proj(x_in, y - 0.10, z0),
                        proj(x_in, y - 0.10, z1), proj(x_in, y, z1)]
                dr.polygon(quad, fill=c)
            # upright (blue steel)
            shade = 0.30 + 0.55 * fade
            c = (int(60 * shade), int(95 * shade), int(150 * shade), 255)
            quad = [proj(x_in, -1.6, z0), proj(x_in, 3.2, z0),
                    proj(x_in, 3.2, z0 + 0.12), proj(x_in, -1.6, z0 + 0.12)]
            dr.polygon(quad, fill=c)

    # ceiling light strips
    for i in range(18):
        z0 = 2.0 + i * 3.0
        quad = [proj(-0.35, 3.6, z0), proj(0.35, 3.6, z0),
                proj(0.35, 3.6, z0 + 1.2), proj(-0.35, 3.6, z0 + 1.2)]
        a = int(255 * np.clip(1.0 - i / 20, 0.2, 1.0))
        dr.polygon(quad, fill=(255, 236, 200, a))

    im = im.resize((W, H), Image.LANCZOS)
    img = from_pil(im)
    # depth haze towards vanishing point + light bloom from ceiling
    d = radial(W * 0.5, H * 0.47, sx=1.0, sy=0.8)
    haze = np.exp(-(d / 260.0) ** 2) * 0.55
    img = lerp(img, hexc("#8fa6bf")[None, None, :], haze[..., None])
    bloom = blur(np.clip(img - 0.65, 0, 1), 18) * 1.2
    img = img + bloom
    # slight overall softness so it reads as "background"
    img = lerp(img, blur(img, 3.0), 0.6)
    img = vignette(img, 0.55)
    img = img * 0.88
    img = grain(img, rng, 0.007)
    save_jpeg(img, path)


# ---------------------------------------------------------------------------
# 3. blue bokeh
# ---------------------------------------------------------------------------

def bokeh_blue(path: Path) -> None:
    rng = np.random.default_rng(3003)
    img = vertical_gradient([
        (0.0, "#06122b"),
        (0.5, "#0b2350"),
        (1.0, "#041028"),
    ])
    # diagonal light sweep
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    band = np.exp(-(((xx * 0.55 + yy) - 1100.0) / 420.0) ** 2)
    img = img + band[..., None] * hexc("#1d4f9a")[None, None, :] * 0.45

    palette = [hexc(c) for c in ("#4aa3ff", "#7cc4ff", "#2f6fe0", "#a8e0ff", "#3ad0e0", "#6f7dff")]

    def layer(n, rmin, rmax, alpha, blur_r, seed_off):
        lrng = np.random.default_rng(3003 + seed_off)
        acc = np.zeros((H, W, 3))
        for _ in range(n):
            # cluster more circles along the light band
            t = lrng.uniform(0, 1)
            cx = lrng.uniform(-100, W + 100)
            cy = 1100.0 - cx * 0.55 + lrng.normal(0, 260)
            r = rmin + (rmax - rmin) * t ** 2
            col = palette[int(lrng.integers(len(palette)))]
            x0, x1 = int(max(cx - r - 3, 0)), int(min(cx + r + 3, W))
            y0, y1 = int(max(cy - r - 3, 0)), int(min(cy + r + 3, H))
            if x0 >= x1 or y0 >= y1:
                continue
            sy, sx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
            dd = np.sqrt((sx - cx) ** 2 + (sy - cy) ** 2)
            disc = np.clip(r - dd + 0.5, 0.0, 1.0)
            # bokeh look: slightly brighter rim, soft centre
            rim = 0.75 + 0.25 * smoothstep(r * 0.6, r, dd)
            a = disc * rim * alpha * lrng.uniform(0.5, 1.0)
            acc[y0:y1, x0:x1] += a[..., None] * col[None, None, :]
        if blur_r > 0:
            acc = blur(np.clip(acc, 0, 1), blur_r)
        return acc

    img = img + layer(40, 60, 170, 0.22, 14, 1)   # big, very soft
    img = img + layer(70, 25, 80, 0.30, 5, 2)     # mid
    img = img + layer(90, 6, 22, 0.45, 1.5, 3)    # small sparkles
    img = vignette(img, 0.5)
    img = img * 0.9
    img = grain(img, rng, 0.006)
    save_jpeg(img, path)


# ---------------------------------------------------------------------------
# 4. orange / teal low-poly
# ---------------------------------------------------------------------------

def lowpoly_orange_teal(path: Path) -> None:
    rng = np.random.default_rng(4004)
    S = 2
    cols, rows = 17, 10
    cw, ch = W / (cols - 1), H / (rows - 1)
    gx, gy = np.meshgrid(np.arange(cols) * cw, np.arange(rows) * ch)
    jx = rng.uniform(-0.38, 0.38, gx.shape) * cw
    jy = rng.uniform(-0.38, 0.38, gy.shape) * ch
    # keep the border vertices on the frame edge
    jx[:, 0] = jx[:, -1] = 0
    jy[0, :] = jy[-1, :] = 0
    px, py = gx + jx, gy + jy

    teal, deep, orange, amber = hexc("#0e5b63"), hexc("#0a2f3c"), hexc("#e0773a"), hexc("#f2a65a")

    def colour_at(x, y):
        # diagonal blend: teal (top-left) -> orange (bottom-right)
        t = np.clip((x / W) * 0.65 + (y / H) * 0.35, 0, 1)
        t = smoothstep(0.25, 0.95, t)
        base = lerp(lerp(deep, teal, np.clip(y / H * 1.4, 0, 1)), lerp(orange, amber, y / H), t)
        return base

    im = Image.new("RGB", (W * S, H * S))
    dr = ImageDraw.Draw(im)
    light = np.array([-0.4, -0.6, 0.7])
    light /= np.linalg.norm(light)
    heights = rng.uniform(0, 1, gx.shape) * 120.0
    for r in range(rows - 1):
        for c in range(cols - 1):
            a = (r, c); b = (r, c + 1); d = (r + 1, c); e = (r + 1, c + 1)
            tris = [(a, b, e), (a, e, d)] if (r + c) % 2 == 0 else [(a, b, d), (b, e, d)]
            for tri in tris:
                P = np.array([[px[v], py[v], heights[v]] for v in tri])
                n = np.cross(P[1] - P[0], P[2] - P[0])
                n /= (np.linalg.norm(n) + 1e-9)
                if n[2] < 0:
                    n = -n
                shade = 0.78 + 0.32 * float(np.dot(n, light))
                cx, cy = P[:, 0].mean(), P[:, 1].mean()
                col = colour_at(cx, cy) * shade * rng.uniform(0.95, 1.05)
                col = tuple(int(v) for v in np.clip(col * 255, 0, 255))
                pts = [(float(x) * S, float(y) * S) for x, y, _ in P]
                dr.polygon(pts, fill=col, outline=col)
    im = im.resize((W, H), Image.LANCZOS)
    img = from_pil(im)
    # darken the centre-left a touch where titles will sit
    d = radial(W * 0.35, H * 0.5, sx=1.3, sy=1.0)
    img = img * (0.72 + 0.28 * smoothstep(200, 1100, d))[..., None]
    img = vignette(img, 0.35)
    img = grain(img, rng, 0.006)
    save_jpeg(img, path)


# ---------------------------------------------------------------------------
# 5. city skyline at dusk
# ---------------------------------------------------------------------------

def skyline_dusk(path: Path) -> None:
    rng = np.random.default_rng(5005)
    img = vertical_gradient([
        (0.00, "#141634"),
        (0.35, "#3a2f63"),
        (0.58, "#8e4f7a"),
        (0.72, "#e47f5f"),
        (0.80, "#f7b06b"),
        (1.00, "#f7b06b"),
    ])
    # a few soft stars high up
    for _ in range(120):
        x, y = rng.uniform(0, W), rng.uniform(0, H * 0.35)
        b = rng.uniform(0.15, 0.6) * (1 - y / (H * 0.35))
        xi, yi = int(x), int(y)
        img[yi:yi + 2, xi:xi + 2] += b
    # horizon glow
    d = radial(W * 0.42, H * 0.80, sx=2.2, sy=1.0)
    img = img + (np.exp(-(d / 500.0) ** 2) * 0.35)[..., None] * hexc("#ffc07a")[None, None, :]

    S = 2  # supersample the silhouettes for anti-aliased edges
    out = img.copy()

    def city_layer(horizon, hmin, hmax, wmin, wmax, colour, lit_prob, seed):
        lrng = np.random.default_rng(seed)
        m = Image.new("L", (W * S, H * S), 0)
        wm = Image.new("L", (W * S, H * S), 0)
        dm = ImageDraw.Draw(m)
        dw = ImageDraw.Draw(wm)
        x = -lrng.uniform(0, wmax)
        while x < W:
            bw = lrng.uniform(wmin, wmax)
            bh = lrng.uniform(hmin, hmax) * (1.0 if lrng.uniform() > 0.15 else 1.6)
            top = horizon - bh
            dm.rectangle([x * S, top * S, (x + bw) * S, H * S], fill=255)
            kind = lrng.uniform()
            if kind < 0.18:   # spire / antenna
                dm.rectangle([(x + bw / 2 - 2) * S, (top - bh * 0.25) * S,
                              (x + bw / 2 + 2) * S, top * S], fill=255)
            elif kind < 0.35:  # stepped top
                dm.rectangle([(x + bw * 0.2) * S, (top - bh * 0.12) * S,
                              (x + bw * 0.8) * S, top * S], fill=255)
            elif kind < 0.45:  # slanted roof
                dm.polygon([(x * S, top * S), ((x + bw) * S, top * S),
                            ((x + bw) * S, (top - bw * 0.5) * S)], fill=255)
            # windows
            if lit_prob > 0:
                ws, hs = 7.0, 10.0
                for wy in np.arange(top + 12, horizon - 6, hs + 8):
                    for wx in np.arange(x + 8, x + bw - 10, ws + 7):
                        if lrng.uniform() < lit_prob:
                            dw.rectangle([wx * S, wy * S, (wx + ws) * S, (wy + hs * 0.7) * S],
                                         fill=int(lrng.uniform(120, 255)))
            x += bw + lrng.uniform(-4, 10)
        m = m.resize((W, H), Image.LANCZOS)
        wm = wm.resize((W, H), Image.LANCZOS)
        return (np.asarray(m, dtype=np.float64) / 255.0,
                np.asarray(wm, dtype=np.float64) / 255.0, hexc(colour))

    layers = [
        city_layer(H * 0.86, 120, 300, 50, 120, "#5a3f68", 0.0, 51),
        city_layer(H * 0.92, 140, 420, 70, 160, "#2b2140", 0.05, 52),
        city_layer(H * 1.00, 100, 330, 90, 200, "#120f1f", 0.10, 53),
    ]
    for m, wm, col in layers:
        out = lerp(out, col[None, None, :], m[..., None])
        wm = wm * m
        out = out + wm[..., None] * hexc("#ffcf7a")[None, None, :] * 0.65
    # window glow
    out = out + blur(np.clip(out - 0.75, 0, 1), 6) * 0.8
    out = vignette(out, 0.4)
    out = out * 0.92
    out = grain(out, rng, 0.007)
    save_jpeg(out, path)


# ---------------------------------------------------------------------------
# 6. SafeWorks logo (shield + check mark, transparent)
# ---------------------------------------------------------------------------

def logo(path: Path) -> None:
    size = 400
    S = 4  # heavy supersampling for clean anti-aliased edges
    n = size * S

    def shield_poly(inset: float) -> list[tuple[float, float]]:
        """Shield outline in 0..1 coordinates, shrunk by `inset`."""
        pts = []
        top, left, right = 0.07 + inset, 0.12 + inset, 0.88 - inset
        shoulder = 0.16 + inset * 0.4
        # top edge with a gentle dip in the middle
        # top edge: gently arched upwards towards the centre
        for t in np.linspace(0, 1, 60):
            x = lerp(left, right, t)
            y = top + 0.04 - 0.04 * np.sin(np.pi * t)
            pts.append((x, y))
        tip_y = 0.94 - inset * 1.2
        for t in np.linspace(0, 1, 120):
            ang = t * np.pi / 2
            x = 0.5 + (right - 0.5) * np.cos(ang) ** 1.15
            y = (shoulder + 0.33) + (tip_y - shoulder - 0.33) * np.sin(ang) ** 1.6
            pts.append((x, y))
        for t in np.linspace(0, 1, 120):
            ang = (1 - t) * np.pi / 2
            x = 0.5 - (0.5 - left) * np.cos(ang) ** 1.15
            y = (shoulder + 0.33) + (tip_y - shoulder - 0.33) * np.sin(ang) ** 1.6
            pts.append((x, y))
        return [(x * n, y * n) for x, y in pts]

    rgba = Image.new("RGBA", (n, n), (0, 0, 0, 0))
    d = ImageDraw.Draw(rgba)
    # outer rim (white), then body (blue), inner lighter panel gradient via mask
    d.polygon(shield_poly(0.0), fill=(255, 255, 255, 255))
    body_mask = Image.new("L", (n, n), 0)
    ImageDraw.Draw(body_mask).polygon(shield_poly(0.035), fill=255)
    yy = np.linspace(0, 1, n)[:, None] * np.ones((1, n))
    top_c, bot_c = hexc("#1f6fd1"), hexc("#0b3a7a")
    grad = lerp(top_c, bot_c, yy[..., None])
    # subtle diagonal highlight on the left half
    xx = np.linspace(0, 1, n)[None, :] * np.ones((n, 1))
    grad = grad + (0.06 * (xx < 0.5))[..., None] * (1 - yy[..., None])
    body = Image.fromarray(np.clip(grad * 255, 0, 255).astype(np.uint8), "RGB").convert("RGBA")
    rgba.paste(body, (0, 0), body_mask)
    # check mark (safety yellow-green with white outline)
    check = [(0.30, 0.50), (0.44, 0.64), (0.71, 0.34)]
    cpts = [(x * n, y * n) for x, y in check]
    d.line(cpts, fill=(255, 255, 255, 255), width=int(0.11 * n), joint="curve")
    for p in (cpts[0], cpts[-1]):
        r = 0.055 * n
        d.ellipse([p[0] - r, p[1] - r, p[0] + r, p[1] + r], fill=(255, 255, 255, 255))
    d.line(cpts, fill=(255, 196, 37, 255), width=int(0.07 * n), joint="curve")
    for p in (cpts[0], cpts[-1]):
        r = 0.035 * n
        d.ellipse([p[0] - r, p[1] - r, p[0] + r, p[1] + r], fill=(255, 196, 37, 255))

    out = rgba.resize((size, size), Image.LANCZOS)
    out.save(path, "PNG", optimize=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")


# ---------------------------------------------------------------------------
# narration script: "Safe Lifting and Manual Handling" (12 scenes)
# ---------------------------------------------------------------------------

SCENES: list[dict] = [
    {
        "title": "Safe Lifting and Manual Handling",
        "bullets": ["SafeWorks safety training", "About three minutes"],
        "text": "Welcome to SafeWorks safety training. This module covers safe lifting "
                "and manual handling. It takes three minutes, and could save you months "
                "of pain.",
    },
    {
        "title": "Why It Matters",
        "bullets": ["Back injuries are very common at work",
                    "Most come from poor handling",
                    "Good technique prevents them"],
        "text": "Why does this matter? Back injuries are among the most common workplace "
                "injuries, and most are caused by lifting, carrying, pushing or pulling "
                "the wrong way.",
    },
    {
        "title": "Learning Objectives",
        "bullets": ["Assess a load", "Plan your route", "Lift and carry safely",
                    "Know when to ask for help"],
        "text": "By the end of this module, you will be able to assess a load, plan your "
                "route, lift and carry safely, and know when to ask for help.",
    },
    {
        "title": "Assess the Load",
        "bullets": ["Check weight, size and shape",
                    "Look for sharp edges or loose contents",
                    "If unsure, test it gently first"],
        "text": "Before you lift, assess the load. Check its weight, size and shape, and "
                "look for sharp edges, loose contents, or a shifting center of gravity. If "
                "unsure, test it gently.",
    },
    {
        "title": "Plan the Route",
        "bullets": ["Clear obstacles and trip hazards",
                    "Open doors in advance",
                    "Know where the load will go"],
        "text": "Next, plan your route. Clear the path of obstacles and trip hazards, open "
                "doors in advance, and know exactly where the load will go.",
    },
    {
        "title": "The Lifting Technique",
        "bullets": ["Feet shoulder-width apart",
                    "Bend your knees, keep your back straight",
                    "Hug the load close",
                    "Lift smoothly with your legs"],
        "text": "Now for the lift. Stand close, feet shoulder-width apart. Bend "
                "your knees, keep your back straight, and grip firmly. Hug the load and "
                "lift smoothly with your legs.",
    },
    {
        "title": "Carrying and Turning",
        "bullets": ["Keep the load close, at waist height",
                    "Never twist while holding a load",
                    "Pivot with your feet to turn"],
        "text": "When carrying, keep the load close to your waist. Never twist your body "
                "while holding a load. To change direction, turn by pivoting with your feet.",
    },
    {
        "title": "Team Lifts and Mechanical Aids",
        "bullets": ["Too heavy or awkward? Get help",
                    "Team lifts need one clear leader",
                    "Use trolleys, pallet trucks, hoists"],
        "text": "If a load is too heavy or awkward, don't lift it alone. Use a team lift "
                "with one clear leader, or mechanical aids such as trolleys, pallet trucks "
                "or hoists.",
    },
    {
        "title": "Common Mistakes",
        "bullets": ["Bending from the waist",
                    "Lifting above shoulder height",
                    "Jerking or rushing the lift",
                    "Carrying loads that block your view"],
        "text": "Watch out for common mistakes: bending from the waist, lifting above "
                "shoulder height, jerking or rushing the lift, and carrying something that "
                "blocks your view.",
    },
    {
        "title": "Warning Signs",
        "bullets": ["Pain, numbness or strain? Stop",
                    "Report it to your supervisor",
                    "Early reporting prevents injury"],
        "text": "Know the warning signs. If you feel pain, numbness or strain, stop at "
                "once. Report it to your supervisor, even if it seems minor. Early "
                "reporting prevents serious injury.",
    },
    {
        "title": "Recap",
        "bullets": ["Assess the load, plan the route",
                    "Lift with your legs, keep it close",
                    "Never twist: pivot with your feet",
                    "Get help with heavy loads"],
        "text": "Let's recap. Assess the load and plan your route. Lift with your legs, "
                "keep the load close, never twist, and get help with heavy or awkward loads.",
    },
    {
        "title": "Thank You",
        "bullets": ["Lift smart, work safe",
                    "Look out for each other",
                    "Stay safe with SafeWorks"],
        "text": "Thank you for completing this module. Lift smart, work safe, and look out "
                "for each other. Stay safe with SafeWorks.",
    },
]


def write_texts(out_dir: Path) -> None:
    """Write narration-NN.txt files (one per scene) for espeak-ng -f."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for i, sc in enumerate(SCENES, 1):
        assert len(sc["title"]) <= 45, sc["title"]
        assert 2 <= len(sc["bullets"]) <= 4, sc["title"]
        for b in sc["bullets"]:
            assert len(b) <= 45, b
        (out_dir / f"narration-{i:02d}.txt").write_text(sc["text"] + "\n", encoding="utf-8")


def write_manifest(stock_dir: Path) -> None:
    """Write narration.json, measuring each clip's duration with `soxi -D`."""
    import json
    import subprocess

    items = []
    for i, sc in enumerate(SCENES, 1):
        rel = f"audio/narration-{i:02d}.wav"
        dur = float(subprocess.run(["soxi", "-D", str(stock_dir / rel)], check=True,
                                   capture_output=True, text=True).stdout.strip())
        items.append({
            "scene": i,
            "file": rel,
            "text": sc["text"],
            "duration_s": round(dur, 2),
            "title": sc["title"],
            "bullets": sc["bullets"],
        })
    path = stock_dir / "narration.json"
    path.write_text(json.dumps(items, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    total = sum(it["duration_s"] for it in items)
    print(f"wrote {path} ({len(items)} clips, {total:.2f} s of narration)")


IMAGE_JOBS = {
    "hills-dawn.jpg": hills_dawn,
    "warehouse-aisle.jpg": warehouse_aisle,
    "bokeh-blue.jpg": bokeh_blue,
    "lowpoly-orange-teal.jpg": lowpoly_orange_teal,
    "skyline-dusk.jpg": skyline_dusk,
    "logo.png": logo,
}


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stock-dir", type=Path, default=REPO_ROOT / "media" / "stock",
                    help="output root (default: media/stock in the repository)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p_img = sub.add_parser("images", help="render the images into STOCK_DIR/images")
    p_img.add_argument("only", nargs="*", help="only these file names")
    p_txt = sub.add_parser("texts", help="write narration-NN.txt files for espeak-ng")
    p_txt.add_argument("out_dir", type=Path)
    sub.add_parser("manifest", help="write STOCK_DIR/narration.json (needs soxi)")
    args = ap.parse_args()

    if args.cmd == "images":
        out = args.stock_dir / "images"
        out.mkdir(parents=True, exist_ok=True)
        for name, fn in IMAGE_JOBS.items():
            if args.only and name not in args.only:
                continue
            fn(out / name)
    elif args.cmd == "texts":
        write_texts(args.out_dir)
    elif args.cmd == "manifest":
        write_manifest(args.stock_dir)


if __name__ == "__main__":
    main()
