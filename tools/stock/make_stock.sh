#!/usr/bin/env bash
# Regenerate all reelsmith stock media (CC0 1.0) into media/stock/.
#
#   tools/stock/make_stock.sh [all|images|music|narration]   (default: all)
#
# Requires: python3 (3.11) with numpy + Pillow, sox/soxi (14.4.2) and
# espeak-ng (1.51). Nothing is downloaded; every file is synthesised here from
# fixed seeds/parameters, so re-running gives the same media (bit-identical for
# the same tool versions; sox runs with -R so its dither is seeded).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STOCK="$ROOT/media/stock"
PY="${PYTHON:-python3}"
WHAT="${1:-all}"

for tool in "$PY" sox soxi espeak-ng awk; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$STOCK/images" "$STOCK/audio"

# ---------------------------------------------------------------------------
# images (numpy + Pillow)
# ---------------------------------------------------------------------------
make_images() {
    "$PY" "$HERE/make_stock.py" --stock-dir "$STOCK" images
}

# ---------------------------------------------------------------------------
# music bed: 16 s, 4 bars of 4 s (60 bpm, 4/4), I-V-vi-IV in C major.
#   * soft pad: detuned triangle waves (left/right a few cents apart) + bass
#   * gentle pulse: quiet sine "pluck" arpeggio in eighth notes
#   * light reverb
# Seamless loop: the sequence is rendered 4 s longer than 16 s (chord release
# and reverb tails) and that overhang is mixed back onto the start, i.e. the
# signal is wrapped circularly. The first notes start from silence, so the
# result is continuous across the loop point without any fade.
# Output: 24000 Hz, stereo, 16-bit PCM, peak normalised to -6 dBFS.
# ---------------------------------------------------------------------------
midi2hz() { awk -v m="$1" -v c="${2:-0}" 'BEGIN { printf "%.4f", 440 * 2 ^ ((m - 69 + c / 100) / 12) }'; }

make_music() {
    local sr=24000 bar=4 bars=4 over=4
    local total=$((bar * bars))
    local d="$TMP/music"
    mkdir -p "$d"
    # chord tones (MIDI): bass, then four pad voices with smooth voice leading
    local chords=(
        "36 60 64 67 72"   # C   (I)
        "43 59 62 67 71"   # G   (V)
        "45 60 64 69 72"   # Am  (vi)
        "41 60 65 69 72"   # F   (IV)
    )
    local arp_pattern=(0 1 2 3 2 1 2 1)
    local parts=()
    local n=0
    for i in "${!chords[@]}"; do
        read -r -a notes <<<"${chords[$i]}"
        local start=$((i * bar))
        local len=4.8       # chord rings 0.8 s into the next bar (legato)
        # bass: sine, stereo centre
        local f; f=$(midi2hz "${notes[0]}")
        sox -R -r $sr -c 2 -n "$d/p$n.wav" synth $len sine "$f" sine "$f" \
            vol 0.16 fade q 1.0 $len 1.6 pad $start 0
        parts+=(-v 1 "$d/p$n.wav"); n=$((n + 1))
        # pad voices: triangle, detuned -4/+4 cents between left and right
        for v in 1 2 3 4; do
            local fl fr
            fl=$(midi2hz "${notes[$v]}" -4); fr=$(midi2hz "${notes[$v]}" 4)
            sox -R -r $sr -c 2 -n "$d/p$n.wav" synth $len triangle "$fl" triangle "$fr" \
                lowpass 1400 vol 0.075 fade q 1.0 $len 1.6 pad $start 0
            parts+=(-v 1 "$d/p$n.wav"); n=$((n + 1))
        done
        # pulse: eighth-note arpeggio of the pad voices, one octave up
        for k in "${!arp_pattern[@]}"; do
            local m=$(( notes[1 + arp_pattern[k]] + 12 ))
            local t; t=$(awk -v s="$start" -v k="$k" 'BEGIN { printf "%.3f", s + k * 0.5 }')
            f=$(midi2hz "$m")
            # alternate slightly left / slightly right
            local pan="1v0.6 1v0.4"; (( k % 2 )) && pan="1v0.4 1v0.6"
            sox -R -r $sr -c 1 -n "$d/a$n.wav" synth 1.4 sine "$f" \
                vol 0.09 fade l 0.006 1.4 1.35 remix $pan pad "$t" 0
            parts+=(-v 1 "$d/a$n.wav"); n=$((n + 1))
        done
    done
    # mix everything (unity gain per input) over a silent bed of total+over
    # seconds (room for the release/reverb tails), then add reverb
    sox -R -r $sr -c 2 -n "$d/bed.wav" trim 0 $((total + over))
    sox -R -m -v 1 "$d/bed.wav" "${parts[@]}" -b 32 "$d/mix.wav" \
        reverb 35 50 80 100 20 -4
    # wrap the overhang back onto the start -> circular, seamless loop
    sox -R "$d/mix.wav" "$d/head.wav" trim 0 $total
    sox -R "$d/mix.wav" "$d/tail.wav" trim $total
    sox -R -m -v 1 "$d/head.wav" -v 1 "$d/tail.wav" -b 32 "$d/loop.wav" trim 0 $total
    sox -R "$d/loop.wav" -r $sr -c 2 -b 16 -e signed-integer \
        "$STOCK/audio/music-bed.wav" gain -n -6
    echo "wrote $STOCK/audio/music-bed.wav ($(soxi -D "$STOCK/audio/music-bed.wav") s)"
}

# ---------------------------------------------------------------------------
# narration: espeak-ng en-us at 150 wpm -> mono 22050 Hz 16-bit, leading and
# trailing silence trimmed and replaced by exactly 0.1 s, peak -3 dBFS.
# ---------------------------------------------------------------------------
make_narration() {
    local d="$TMP/narration"
    "$PY" "$HERE/make_stock.py" texts "$d"
    for txt in "$d"/narration-*.txt; do
        local b; b="$(basename "$txt" .txt)"
        espeak-ng -v en-us -s 150 -f "$txt" -w "$d/$b.raw.wav"
        sox -R "$d/$b.raw.wav" -r 22050 -c 1 -b 16 -e signed-integer "$STOCK/audio/$b.wav" \
            silence 1 0.02 0.3% reverse silence 1 0.02 0.3% reverse \
            pad 0.1 0.1 gain -n -3
        echo "wrote $STOCK/audio/$b.wav ($(soxi -D "$STOCK/audio/$b.wav") s)"
    done
    "$PY" "$HERE/make_stock.py" --stock-dir "$STOCK" manifest
}

case "$WHAT" in
    all) make_images; make_music; make_narration ;;
    images) make_images ;;
    music) make_music ;;
    narration) make_narration ;;
    *) echo "usage: $0 [all|images|music|narration]" >&2; exit 2 ;;
esac
du -ch "$STOCK" | tail -n 1
