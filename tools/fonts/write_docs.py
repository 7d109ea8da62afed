#!/usr/bin/python3
"""Write LICENSE-OFL.txt and README.md next to the fonts made by make_fonts.sh.

Usage: write_docs.py OUT_DIR MANIFEST [NOTE...]

MANIFEST is make_fonts.sh's tab-separated list: output file, Debian package,
source path, subset kept. Each NOTE is a line for the "Dropped" section.
Everything written depends only on the inputs (no dates), so the output is
byte-identical from run to run.
"""
import hashlib
import os
import subprocess
import sys

import fontTools
from fontTools.ttLib import TTFont

# Debian copyright file, and the value of the "Files:" field of the
# paragraph that covers the font files themselves.
COPYRIGHT_FILES = {
    "fonts-noto-core": ("/usr/share/doc/fonts-noto-core/copyright", "*"),
    "fonts-noto-cjk": ("/usr/share/doc/fonts-noto-cjk/copyright", "*"),
    "fonts-noto-color-emoji": ("/usr/share/doc/fonts-noto-color-emoji/copyright", "fonts/*"),
}
OFL_SOURCE = "/usr/share/doc/fonts-noto-cjk/copyright"  # has the complete OFL 1.1 text


def dpkg_version(pkg):
    return subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", pkg], check=True, capture_output=True, text=True
    ).stdout.strip()


def dep5_paragraphs(path):
    """Parse a Debian machine-readable copyright file into a list of dicts."""
    paras, cur, key = [], {}, None
    with open(path, encoding="utf-8") as fh:
        for raw in fh:
            line = raw.rstrip("\n")
            if not line.strip():
                if cur:
                    paras.append(cur)
                cur, key = {}, None
            elif line[0] in " \t" and key:
                cur[key].append(line[1:])
            elif ":" in line:
                key, val = line.split(":", 1)
                cur[key] = [val.strip()] if val.strip() else []
    if cur:
        paras.append(cur)
    return paras


def debian_copyright(pkg):
    path, files = COPYRIGHT_FILES[pkg]
    for p in dep5_paragraphs(path):
        if p.get("Files") and " ".join(p["Files"]).split() == [files]:
            return [c.strip() for c in p.get("Copyright", []) if c.strip()]
    sys.exit(f"write_docs: no 'Files: {files}' paragraph in {path}")


def ofl_text():
    for p in dep5_paragraphs(OFL_SOURCE):
        if "License" in p and p["License"] and p["License"][0] in ("SIL-1.1", "OFL-1.1") and len(p["License"]) > 50:
            body = ["" if l.strip() == "." else l for l in p["License"][1:]]
            text = "\n".join(body).strip("\n") + "\n"
            if "SIL OPEN FONT LICENSE Version 1.1" not in text or "DISCLAIMER" not in text:
                sys.exit(f"write_docs: the OFL text in {OFL_SOURCE} looks incomplete")
            return text
    sys.exit(f"write_docs: no OFL license text in {OFL_SOURCE}")


def human(n):
    return f"{n / 1048576:.2f} MiB" if n >= 1048576 else f"{n / 1024:.1f} KiB"


def main():
    out_dir, manifest = sys.argv[1], sys.argv[2]
    notes = sys.argv[3:]
    rows = []
    with open(manifest, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                rows.append(line.rstrip("\n").split("\t"))
    pkgs = sorted({r[1] for r in rows})
    versions = {p: dpkg_version(p) for p in pkgs + ["python3-fonttools"]}

    # ---- LICENSE-OFL.txt
    notices = []  # (notice, fonts)
    for fname, pkg, _src, _desc in rows:
        font = TTFont(os.path.join(out_dir, fname), lazy=True)
        fam = font["name"].getDebugName(16) or font["name"].getDebugName(1)
        c = font["name"].getDebugName(0)
        for n in notices:
            if n[0] == c:
                if fam not in n[1]:
                    n[1].append(fam)
                break
        else:
            notices.append((c, [fam]))
        font.close()
    lic = []
    lic.append("The fonts in this directory are Noto fonts (subsets or copies with hinting")
    lic.append("removed, made by tools/fonts/make_fonts.sh from Debian's packages). They are")
    lic.append("licensed under the SIL Open Font License, Version 1.1, reproduced below.")
    lic.append("No Reserved Font Name is declared for them.")
    lic.append("")
    lic.append("Copyright notices in the fonts (name table, id 0):")
    for c, fams in notices:
        lic.append(f"  {c}  [{', '.join(fams)}]")
    lic.append("")
    lic.append("Copyright of the font files per Debian's copyright files:")
    for p in pkgs:
        lic.append(f"  {p}: " + "; ".join(debian_copyright(p)))
    lic.append("")
    lic.append("Noto is a trademark of Google LLC.")
    lic.append("")
    lic.append("This Font Software is licensed under the SIL Open Font License, Version 1.1.")
    lic.append("This license is copied below, and is also available with a FAQ at:")
    lic.append("https://openfontlicense.org")
    lic.append("")
    license_text = "\n".join(lic) + "\n" + ofl_text()
    with open(os.path.join(out_dir, "LICENSE-OFL.txt"), "w", encoding="utf-8") as fh:
        fh.write(license_text)

    # ---- README.md
    r = []
    r.append("# Bundled Noto fonts")
    r.append("")
    r.append("Generated by `tools/fonts/make_fonts.sh` (run it as root on Debian 12: it")
    r.append("`apt-get install`s the font packages and fontTools when missing). Do not edit")
    r.append("these files by hand; rerun the script instead. With the same package versions it")
    r.append("writes byte-identical files (sha256 below). `tools/fonts/check_fonts.py` prints")
    r.append("each font's family name, glyph count and the coverage of sample strings.")
    r.append("")
    r.append("License: SIL Open Font License 1.1, see `LICENSE-OFL.txt`.")
    r.append("")
    r.append("## Sources")
    r.append("")
    r.append("| Debian package | version |")
    r.append("| --- | --- |")
    for p in pkgs + ["python3-fonttools"]:
        extra = f" (fontTools {fontTools.version})" if p == "python3-fonttools" else ""
        r.append(f"| {p} | {versions[p]}{extra} |")
    r.append("")
    r.append("Every file is made with `python3 -m fontTools.subset ... --layout-features='*'")
    r.append("--no-hinting --name-IDs='*' --name-languages='*' --notdef-outline")
    r.append("--no-recalc-timestamp`: all OpenType layout features are kept (kerning,")
    r.append("ligatures, GSUB/GPOS for complex shaping and emoji sequences), TrueType hinting")
    r.append("is dropped, the name table is kept whole (family names unchanged), and so is the")
    r.append("source's timestamp. fontTools also drops DSIG and, in TrueType fonts, the glyph")
    r.append("names (post format 3).")
    r.append("")
    r.append("## Files")
    r.append("")
    r.append("| file | family (name id 1) | glyphs | bytes | from (Debian package: path) | subset |")
    r.append("| --- | --- | --- | --- | --- | --- |")
    total = 0
    sums = []
    groups = []  # distinct subset descriptions, in order
    for fname, pkg, src, desc in rows:
        if desc not in groups:
            groups.append(desc)
        path = os.path.join(out_dir, fname)
        size = os.path.getsize(path)
        total += size
        font = TTFont(path, lazy=True)
        fam = font["name"].getDebugName(1)
        sub = font["name"].getDebugName(2)
        glyphs = font["maxp"].numGlyphs
        font.close()
        r.append(f"| `{fname}` | {fam} ({sub}) | {glyphs:,} | {size:,} ({human(size)}) | {pkg}: `{src}` | {groups.index(desc) + 1} |")
        with open(path, "rb") as fh:
            sums.append((hashlib.sha256(fh.read()).hexdigest(), fname))
    lsize = len(license_text.encode("utf-8"))
    total += lsize
    r.append(f"| `LICENSE-OFL.txt` | | | {lsize:,} ({human(lsize)}) | | |")
    r.append("")
    r.append(f"Total, fonts and license: {total:,} bytes ({human(total)}), plus this README.")
    r.append("")
    r.append("## Subsets")
    r.append("")
    for i, desc in enumerate(groups, 1):
        r.append(f"{i}. {desc}")
    r.append("")
    r.append("## Dropped")
    r.append("")
    if notes:
        for n in notes:
            r.append(f"- {n}")
    else:
        r.append("- nothing: every requested range fit within the size limits")
    r.append("")
    r.append("## sha256")
    r.append("")
    r.append("```")
    for h, f in sums:
        r.append(f"{h}  {f}")
    r.append("```")
    with open(os.path.join(out_dir, "README.md"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(r) + "\n")


if __name__ == "__main__":
    main()
