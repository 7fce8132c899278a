#!/usr/bin/env bash
# Generates the small fixture clips used by tests into tests/fixtures/media (not committed).
# Each is a few hundred KB at most, made with Debian's ffmpeg from its built-in test sources.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=tests/fixtures/media
mkdir -p "$OUT"
FF=(ffmpeg -hide_banner -loglevel error -y)
stamp="$OUT/.recipe-v1"
[ -f "$stamp" ] && exit 0

# A moving test pattern with colour and motion, 4 s, 320x240.
"${FF[@]}" -f lavfi -i "testsrc2=size=320x240:rate=25:duration=4" -c:v libx264 -profile:v high -pix_fmt yuv420p -g 25 -movflags +faststart "$OUT/h264.mp4"
"${FF[@]}" -f lavfi -i "mandelbrot=size=320x240:rate=25" -t 4 -c:v libx264 -pix_fmt yuv420p -g 25 "$OUT/mandelbrot.mp4"
"${FF[@]}" -f lavfi -i "testsrc2=size=320x240:rate=25:duration=4" -c:v libvpx-vp9 -b:v 300k -deadline realtime -cpu-used 8 "$OUT/vp9.webm"

touch "$stamp"
echo "fixtures in $OUT"
