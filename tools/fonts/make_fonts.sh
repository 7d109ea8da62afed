#!/usr/bin/env bash
# Regenerates the bundled Noto fonts in assets/fonts/noto/ from Debian 12's
# font packages: subsets (and whole-font copies with hinting dropped) made
# with fontTools' subsetter, plus LICENSE-OFL.txt and README.md.
#
#   sudo tools/fonts/make_fonts.sh        # from anywhere; needs root only to apt-get install
#
# Installs what it needs when missing (fonts-noto-core fonts-noto-cjk
# fonts-noto-color-emoji python3-fonttools python3-brotli, and
# libharfbuzz-bin for the shaping checks), builds everything in a temporary
# directory, then replaces only the files whose bytes changed and removes
# files it no longer makes, so running it twice leaves the directory as it
# was. Same package versions -> byte-identical output (fontTools keeps the
# head.modified timestamp: --no-recalc-timestamp). Ends by running
# tools/fonts/check_fonts.py.
#
# Environment:
#   PYTHON           Python with fontTools (default /usr/bin/python3: Debian's
#                    python3-fonttools; a pyenv/venv python3 on PATH may lack it)
#   EMOJI_MAX_BYTES  size limit of NotoColorEmoji.ttf (default 6 MiB = 6291456);
#                    over it, ranges are dropped in this order until it fits:
#                    U+1FA70-1FAFF, U+1F90C-1F9FF, the flags (U+1F1E6-1F1FF)
#   CJK_MAX_BYTES    limit for the CJK Regular + Bold together (default 9 MiB =
#                    9437184); over it, NotoSansCJKjp-Bold.otf is not shipped
#   SKIP_CHECK=1     do not run check_fonts.py at the end
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT="$ROOT/assets/fonts/noto"
PY=${PYTHON:-/usr/bin/python3}
EMOJI_MAX_BYTES=${EMOJI_MAX_BYTES:-6291456}
CJK_MAX_BYTES=${CJK_MAX_BYTES:-9437184}

NOTO_TTF=/usr/share/fonts/truetype/noto
NOTO_OTF=/usr/share/fonts/opentype/noto
PKGS=(fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji python3-fonttools python3-brotli libharfbuzz-bin)

log() { printf 'make_fonts: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- packages
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] || die "missing packages ${missing[*]}; run as root (or install them first)"
  export DEBIAN_FRONTEND=noninteractive
  log "installing ${missing[*]}"
  if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
    log "install failed; running apt-get update and retrying"
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi
"$PY" -c 'import fontTools' 2>/dev/null \
  || die "$PY cannot import fontTools (set PYTHON to Debian's /usr/bin/python3 with python3-fonttools)"

# ---------------------------------------------------------------- inputs
need() { [[ -f $1 ]] || die "input font not found: $1"; }
for f in NotoSans-Regular NotoSans-Bold NotoSans-Italic NotoSans-BoldItalic \
         NotoSansArabic-Regular NotoSansArabic-Bold NotoSansHebrew-Regular NotoSansHebrew-Bold \
         NotoSansDevanagari-Regular NotoSansDevanagari-Bold NotoSansThai-Regular NotoSansThai-Bold \
         NotoColorEmoji; do
  need "$NOTO_TTF/$f.ttf"
done
need "$NOTO_OTF/NotoSansCJK-Regular.ttc"
need "$NOTO_OTF/NotoSansCJK-Bold.ttc"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir "$TMP/out"
MANIFEST="$TMP/manifest.tsv"   # file, package, source, subset kept (read by write_docs.py)
: >"$MANIFEST"

# Options for every subset: all layout features (kerning, ligatures, complex
# shaping, emoji sequences), no TrueType hinting, the whole name table, an
# outlined .notdef, the source's head.modified kept (deterministic output).
COMMON=(--layout-features='*' --no-hinting --name-IDs='*' --name-languages='*'
        --notdef-outline --no-recalc-timestamp)

subset() { # SRC OUTFILE [extra fontTools.subset args...]
  local src=$1 out=$2
  shift 2
  "$PY" -m fontTools.subset "$src" "${COMMON[@]}" "$@" --output-file="$TMP/out/$out"
}
size_of() { stat -c %s "$1"; }

# ---------------------------------------------------------------- 1. Noto Sans (Latin/Greek/Cyrillic)
# Basic Latin + Latin-1 + Latin Extended-A; a few Latin Extended-B letters
# (Romanian comma-below S/T, florin, dotless j); cp1252/Ukrainian spacing
# modifiers; the common combining accents (for decomposed input and Cyrillic
# stress marks); Greek; Cyrillic; general punctuation; super/subscripts;
# currency; common letterlike symbols (℃ ℉ ℓ № ℗ ℠ ™ Ω ℮); number forms
# (fractions, Roman numerals); arrows; geometric shapes (Noto Sans has the
# dotted circle); f-ligatures; BOM; object-replacement and replacement
# characters. Code points the font lacks are simply absent.
LATIN_UNICODES="U+0000-017F,U+0192,U+0218-021B,U+0237,U+02BC,U+02C6-02C7,U+02C9,U+02D8-02DD,\
U+0300-0304,U+0306-0308,U+030A-030C,U+0323,U+0326-0328,U+0370-03FF,U+0400-04FF,\
U+2000-206F,U+2070-209F,U+20A0-20CF,U+2103,U+2109,U+2113,U+2116-2117,U+2120,U+2122,U+2126,U+212E,\
U+2150-218F,U+2190-21FF,U+25A0-25FF,U+FB00-FB06,U+FEFF,U+FFFC-FFFD"
LATIN_DESC="Basic Latin, Latin-1, Latin Extended-A, U+0192 U+0218-021B U+0237, spacing modifiers U+02BC U+02C6-02C7 U+02C9 U+02D8-02DD, common combining accents (U+0300-0304 0306-0308 030A-030C 0323 0326-0328), Greek, Cyrillic, general punctuation, super/subscripts, currency, letterlike U+2103 2109 2113 2116-2117 2120 2122 2126 212E, number forms, arrows, geometric shapes, U+FB00-FB06, U+FEFF, U+FFFC-FFFD (only what the font has), all layout features"
for style in Regular Bold Italic BoldItalic; do
  log "NotoSans-$style.ttf"
  subset "$NOTO_TTF/NotoSans-$style.ttf" "NotoSans-$style.ttf" --unicodes="$LATIN_UNICODES"
  printf '%s\t%s\t%s\t%s\n' "NotoSans-$style.ttf" fonts-noto-core "$NOTO_TTF/NotoSans-$style.ttf" "$LATIN_DESC" >>"$MANIFEST"
done

# ---------------------------------------------------------------- 2. complex scripts: whole fonts
WHOLE_DESC="whole font (every glyph and code point, GSUB/GPOS intact); only hinting, DSIG and glyph names dropped"
for f in NotoSansArabic-Regular NotoSansArabic-Bold NotoSansHebrew-Regular NotoSansHebrew-Bold \
         NotoSansDevanagari-Regular NotoSansDevanagari-Bold NotoSansThai-Regular NotoSansThai-Bold; do
  log "$f.ttf"
  subset "$NOTO_TTF/$f.ttf" "$f.ttf" --unicodes='*' --glyphs='*'
  printf '%s\t%s\t%s\t%s\n' "$f.ttf" fonts-noto-core "$NOTO_TTF/$f.ttf" "$WHOLE_DESC" >>"$MANIFEST"
done

# ---------------------------------------------------------------- 3. CJK (JP face of the collection)
"$PY" "$HERE/cjk_codepoints.py" --stats >"$TMP/cjk-unicodes.txt"
ttc_index() { # TTC FAMILY -> index of the face whose name id 1 is FAMILY
  "$PY" - "$1" "$2" <<'EOF'
import sys
from fontTools.ttLib import TTCollection
path, family = sys.argv[1], sys.argv[2]
for i, font in enumerate(TTCollection(path, lazy=True).fonts):
    if font["name"].getDebugName(1) == family:
        print(i)
        break
else:
    sys.exit(f"no face named {family!r} in {path}")
EOF
}
CJK_DESC="CJK Symbols & Punctuation U+3000-303F, Hiragana, Katakana, Katakana Phonetic Extensions, Halfwidth/Fullwidth Forms U+FF00-FFEF, U+0020 U+00A0, JIS X 0208 level-1 kanji (2,965) + GB 2312 level-1 hanzi (3,755) (5,009 ideographs together), KS X 1001 Hangul syllables (2,350); CFF outlines, all layout features (vertical forms, locl KR/SC/TC glyph variants)"
cjk_total=0
for w in Regular Bold; do
  src="$NOTO_OTF/NotoSansCJK-$w.ttc"
  idx=$(ttc_index "$src" "Noto Sans CJK JP")
  log "NotoSansCJKjp-$w.otf (from $src, font number $idx = Noto Sans CJK JP)"
  subset "$src" "NotoSansCJKjp-$w.otf" --font-number="$idx" --unicodes-file="$TMP/cjk-unicodes.txt"
  printf '%s\t%s\t%s\t%s\n' "NotoSansCJKjp-$w.otf" fonts-noto-cjk "$src (font number $idx)" "$CJK_DESC" >>"$MANIFEST"
  cjk_total=$((cjk_total + $(size_of "$TMP/out/NotoSansCJKjp-$w.otf")))
done
CJK_NOTE=""
if ((cjk_total > CJK_MAX_BYTES)); then
  CJK_NOTE="NotoSansCJKjp-Bold.otf not shipped: Regular + Bold were $cjk_total bytes, over the $CJK_MAX_BYTES-byte limit (the renderer emboldens the Regular)"
  log "$CJK_NOTE"
  rm "$TMP/out/NotoSansCJKjp-Bold.otf"
  grep -v '^NotoSansCJKjp-Bold.otf	' "$MANIFEST" >"$MANIFEST.new" && mv "$MANIFEST.new" "$MANIFEST"
fi

# ---------------------------------------------------------------- 4. emoji (CBDT colour bitmaps)
# digits, # and * (keycaps), ZWJ, VS16, combining enclosing keycap, the
# requested pictograph blocks and the skin-tone modifiers; then optional
# ranges, dropped from the front of the list while the font is too large.
EMOJI_BASE="U+0023,U+002A,U+0030-0039,U+200D,U+20E3,U+FE0F,U+2600-27BF,U+2B50,U+2B55,U+2705,U+274C,\
U+1F300-1F64F,U+1F680-1F6FF,U+1F3FB-1F3FF"
EMOJI_OPTIONAL=("U+1FA70-1FAFF" "U+1F90C-1F9FF" "U+1F1E6-1F1FF")
EMOJI_OPTIONAL_NAMES=("U+1FA70-1FAFF (Symbols and Pictographs Extended-A)"
                      "U+1F90C-1F9FF (Supplemental Symbols and Pictographs)"
                      "U+1F1E6-1F1FF (regional indicators: flags)")
EMOJI_DROPPED=()
for ((k = 0; k <= ${#EMOJI_OPTIONAL[@]}; k++)); do
  kept=("${EMOJI_OPTIONAL[@]:k}")
  unicodes=$EMOJI_BASE
  ((${#kept[@]})) && unicodes+=",$(IFS=,; echo "${kept[*]}")"
  log "NotoColorEmoji.ttf with $unicodes"
  subset "$NOTO_TTF/NotoColorEmoji.ttf" NotoColorEmoji.ttf --unicodes="$unicodes"
  sz=$(size_of "$TMP/out/NotoColorEmoji.ttf")
  if ((sz <= EMOJI_MAX_BYTES)); then
    break
  fi
  ((k < ${#EMOJI_OPTIONAL[@]})) || die "NotoColorEmoji.ttf is $sz bytes even with every optional range dropped"
  log "  $sz bytes > $EMOJI_MAX_BYTES: dropping ${EMOJI_OPTIONAL_NAMES[k]}"
  EMOJI_DROPPED+=("${EMOJI_OPTIONAL_NAMES[k]} (with it the font was $sz bytes)")
done
EMOJI_DESC="U+2600-27BF, U+2B50, U+2B55, U+1F300-1F64F, U+1F680-1F6FF, skin-tone modifiers U+1F3FB-1F3FF, digits # * with U+20E3 (keycaps), U+200D, U+FE0F"
for r in "${kept[@]}"; do EMOJI_DESC+=", $r"; done
if [[ " ${kept[*]} " == *" U+1F1E6-1F1FF "* ]]; then
  EMOJI_DESC+="; all GSUB sequences among these (ZWJ, skin tones, keycaps, flags)"
else
  EMOJI_DESC+="; all GSUB sequences among these (ZWJ, skin tones, keycaps)"
fi
printf '%s\t%s\t%s\t%s\n' NotoColorEmoji.ttf fonts-noto-color-emoji "$NOTO_TTF/NotoColorEmoji.ttf" "$EMOJI_DESC" >>"$MANIFEST"

# ---------------------------------------------------------------- 5. license + README
NOTES=()
[[ -n $CJK_NOTE ]] && NOTES+=("$CJK_NOTE")
for d in "${EMOJI_DROPPED[@]}"; do NOTES+=("NotoColorEmoji.ttf: dropped $d, limit $EMOJI_MAX_BYTES bytes"); done
"$PY" "$HERE/write_docs.py" "$TMP/out" "$MANIFEST" "${NOTES[@]}"

# ---------------------------------------------------------------- install into assets/fonts/noto
mkdir -p "$OUT"
changed=0
for f in "$TMP"/out/*; do
  b=$(basename "$f")
  if ! cmp -s "$f" "$OUT/$b"; then
    cp "$f" "$OUT/$b"
    chmod 0644 "$OUT/$b"
    log "updated $b"
    changed=$((changed + 1))
  fi
done
for f in "$OUT"/*; do
  [[ -e $f ]] || continue
  b=$(basename "$f")
  if [[ ! -e $TMP/out/$b ]]; then
    rm -f -- "$f"
    log "removed $b (no longer made)"
    changed=$((changed + 1))
  fi
done
log "$changed file(s) changed in $OUT ($(du -sh "$OUT" | cut -f1) in all)"

if [[ ${SKIP_CHECK:-0} != 1 ]]; then
  "$PY" "$HERE/check_fonts.py" "$OUT"
fi
