#!/usr/bin/python3
"""Check the bundled Noto fonts in assets/fonts/noto/.

For every font: file size, family name (name id 1, and id 16 when present),
subfamily (id 2), number of glyphs, outline format, and whether the sample
strings are mapped by its cmap.  When HarfBuzz's `hb-shape` is installed
(Debian package libharfbuzz-bin) every sample is also shaped, and a sample
passes only if no glyph comes out as .notdef; every emoji sample (one
sequence per space-separated token) must also shape to exactly one visible
glyph, which is what proves ZWJ sequences, keycaps and flags survived.

Exit status: 0 when every check passed, 1 otherwise.

Usage: tools/fonts/check_fonts.py [FONT_DIR]   (default: assets/fonts/noto)
Needs fontTools (Debian: python3-fonttools, use /usr/bin/python3).
"""
import json
import os
import shutil
import subprocess
import sys

from fontTools.ttLib import TTFont

LATIN = ["Ünïcödé €"]
ARABIC = ["مرحبا بالعالم", "سلام", "پچژگکی ےٹڈڑںھ"]  # Arabic, Persian, Persian/Urdu letters
HEBREW = ["שלום"]
DEVANAGARI = ["नमस्ते दुनिया"]
THAI = ["สวัสดี"]
CJK = ["こんにちは世界 安全第一", "你好世界", "안녕하세요"]
EMOJI = ["👍 🚀 ✅ ⚠️ 🔥 💡 👩‍💻 🇯🇵", "1️⃣ #️⃣ 👍🏽 👩🏾‍💻 ❤️ 🏳️‍🌈"]  # + keycaps, skin tones, ZWJ

# (file, family the Rust code refers to, samples, required?)
FONTS = [
    ("NotoSans-Regular.ttf", "Noto Sans", LATIN, True),
    ("NotoSans-Bold.ttf", "Noto Sans", LATIN, True),
    ("NotoSans-Italic.ttf", "Noto Sans", LATIN, True),
    ("NotoSans-BoldItalic.ttf", "Noto Sans", LATIN, True),
    ("NotoSansArabic-Regular.ttf", "Noto Sans Arabic", ARABIC, True),
    ("NotoSansArabic-Bold.ttf", "Noto Sans Arabic", ARABIC, True),
    ("NotoSansHebrew-Regular.ttf", "Noto Sans Hebrew", HEBREW, True),
    ("NotoSansHebrew-Bold.ttf", "Noto Sans Hebrew", HEBREW, True),
    ("NotoSansDevanagari-Regular.ttf", "Noto Sans Devanagari", DEVANAGARI, True),
    ("NotoSansDevanagari-Bold.ttf", "Noto Sans Devanagari", DEVANAGARI, True),
    ("NotoSansThai-Regular.ttf", "Noto Sans Thai", THAI, True),
    ("NotoSansThai-Bold.ttf", "Noto Sans Thai", THAI, True),
    ("NotoSansCJKjp-Regular.otf", "Noto Sans CJK JP", CJK, True),
    ("NotoSansCJKjp-Bold.otf", "Noto Sans CJK JP", CJK, False),  # may be dropped for size
    ("NotoColorEmoji.ttf", "Noto Color Emoji", EMOJI, True),
]

# Not needed in a cmap: shapers treat these as default-ignorable (VS16 selects
# emoji presentation, ZWJ joins a sequence) and consume them through GSUB.
IGNORABLE = {0xFE0F, 0x200D}
# Regional indicators (flags): make_fonts.sh drops them last when the emoji
# font is over its size limit. A font with none of them is reported as built
# without flags (SKIP) instead of failing on the flag sample.
REGIONAL = set(range(0x1F1E6, 0x1F200))


def outline_kind(font):
    for tag, kind in (("glyf", "TrueType (glyf)"), ("CFF ", "CFF"), ("CFF2", "CFF2"), ("CBDT", "CBDT colour bitmaps")):
        if tag in font:
            return kind
    return "?"


def shape(hb, path, text):
    out = subprocess.run(
        [hb, "--no-glyph-names", "--output-format=json", path, text],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    font_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "assets", "fonts", "noto")
    hb = shutil.which("hb-shape")
    failures = []
    total = 0
    print(f"font dir: {font_dir}")
    print(f"shaping check: {'hb-shape (' + hb + ')' if hb else 'skipped (hb-shape not installed: apt-get install libharfbuzz-bin)'}")
    for fname, want_family, samples, required in FONTS:
        path = os.path.join(font_dir, fname)
        print()
        if not os.path.exists(path):
            if required:
                failures.append(f"{fname}: missing")
                print(f"{fname}: MISSING")
            else:
                print(f"{fname}: not present (optional; dropped for size)")
            continue
        size = os.path.getsize(path)
        total += size
        font = TTFont(path, lazy=True)
        name = font["name"]
        fam1 = name.getDebugName(1)
        fam16 = name.getDebugName(16)
        sub2 = name.getDebugName(2)
        family = fam16 or fam1
        cmap = font.getBestCmap()
        print(f"{fname}: {size:,} bytes, {font['maxp'].numGlyphs} glyphs, {outline_kind(font)}, {len(cmap)} code points mapped")
        print(f"  family (id 1) = {fam1!r}, typographic family (id 16) = {fam16!r}, subfamily (id 2) = {sub2!r}")
        if family != want_family:
            failures.append(f"{fname}: family {family!r}, expected {want_family!r}")
            print(f"  FAIL family: expected {want_family!r}")
        for text in samples:
            chars = [c for c in text if not c.isspace()]
            no_flags = want_family == "Noto Color Emoji" and not (REGIONAL & set(cmap))
            if no_flags:
                skipped = [c for c in chars if ord(c) in REGIONAL]
                if skipped:
                    print(f"  cmap  SKIP {' '.join(f'U+{ord(c):04X}' for c in skipped)}: this build has no flags (dropped for size)")
                chars = [c for c in chars if ord(c) not in REGIONAL]
            missing = [c for c in chars if ord(c) not in cmap and ord(c) not in IGNORABLE]
            ign = [f"U+{ord(c):04X}" for c in chars if ord(c) in IGNORABLE and ord(c) not in cmap]
            n_needed = len([c for c in chars if ord(c) not in IGNORABLE])
            status = "ok" if not missing else "FAIL"
            line = f"  cmap  {status:4} {text!r}: {n_needed - len(missing)}/{n_needed} mapped"
            if missing:
                line += " missing " + " ".join(f"U+{ord(c):04X}" for c in missing)
                failures.append(f"{fname}: {text!r} missing {' '.join(missing)}")
            if ign:
                line += f" (not in cmap, default-ignorable: {' '.join(sorted(set(ign)))})"
            print(line)
            if not hb:
                continue
            if want_family == "Noto Color Emoji":
                # every token is one emoji (sequence): it must become one glyph
                for token in text.split():
                    if no_flags and all(ord(c) in REGIONAL for c in token):
                        print(f"  shape SKIP {token}: this build has no flags")
                        continue
                    glyphs = shape(hb, path, token)
                    visible = [g for g in glyphs if g["ax"] != 0]
                    ok = len(visible) == 1 and all(g["g"] != 0 for g in glyphs)
                    cps = " ".join(f"U+{ord(c):04X}" for c in token)
                    print(f"  shape {'ok' if ok else 'FAIL':4} {token} ({cps}) -> glyph ids {[g['g'] for g in glyphs]}")
                    if not ok:
                        failures.append(f"{fname}: {token!r} shaped to {glyphs}")
            else:
                glyphs = shape(hb, path, text)
                notdef = sum(1 for g in glyphs if g["g"] == 0)
                ok = notdef == 0
                print(f"  shape {'ok' if ok else 'FAIL':4} {text!r}: {len(text)} code points -> {len(glyphs)} glyphs, {notdef} .notdef")
                if not ok:
                    failures.append(f"{fname}: {text!r} shaped to {notdef} .notdef glyphs")
        font.close()
    print()
    print(f"total size of the checked fonts: {total:,} bytes ({total / 1048576:.2f} MiB)")
    if failures:
        print(f"{len(failures)} FAILED:")
        for f in failures:
            print("  " + f)
        return 1
    print("all font checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
