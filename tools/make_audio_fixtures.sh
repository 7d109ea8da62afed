#!/usr/bin/env bash
# Regenerates tests/fixtures/audio/: a 0.6 s 440 Hz sine at amplitude 0.5 (-9.03 dBFS RMS; lavfi's
# sine source is at 1/8, hence volume=4) in
# each container/codec the mixer must decode. Dev-time only (uses the ffmpeg CLI, which the
# product never calls); the small outputs are committed.
set -euo pipefail
cd "$(dirname "$0")/../tests/fixtures/audio"
src="sine=frequency=440:sample_rate=44100:duration=0.6"
gen() { ffmpeg -hide_banner -loglevel error -y -f lavfi -i "$src" -af "volume=4" "$@"; }
gen -c:a pcm_s24le tone-s24.wav
gen -ar 22050 -c:a pcm_u8 tone-u8.wav
gen -c:a flac tone.flac
gen -c:a libmp3lame -b:a 128k tone.mp3
gen -c:a aac -b:a 128k tone.m4a
gen -c:a libvorbis -q:a 5 tone.ogg
gen -ar 48000 -c:a libopus -b:a 96k tone.opus
# 5.1 with the tone on the front left/right only: downmixed to stereo by libswresample.
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "sine=frequency=440:sample_rate=12000:duration=0.6" \
  -af "volume=4,pan=5.1|FL=c0|FR=c0|FC=0*c0|LFE=0*c0|BL=0*c0|BR=0*c0" -c:a pcm_s16le tone-51.wav
ls -l
