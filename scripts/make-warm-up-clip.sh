#!/usr/bin/env bash
# Makes src/app/warm-up.mp4 (committed, about 6 KB): the one-second H.264 clip that the app runs
# through its decoder and backbones while the page is idle after the models load, so that the first
# video a person picks does not pay the one-time start-up costs (decoder worker and WebCodecs start,
# the backbones' first runs). Debian's ffmpeg, from its built-in test source; no metadata.
set -euo pipefail
cd "$(dirname "$0")/.."
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc2=size=160x90:rate=10:duration=1" -c:v libx264 -profile:v high \
  -pix_fmt yuv420p -g 5 -bf 2 -crf 40 -movflags +faststart -map_metadata -1 -fflags +bitexact src/app/warm-up.mp4
