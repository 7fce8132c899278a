#!/usr/bin/env bash
# Generates hostile inputs into tests/fixtures/hostile (not committed): files that must each give a
# clear error code or, where still decodable, a verdict, in the app and in `vidkind classify`.
# Small on purpose (about 1 MB in all): the 8K clip is one frame, clips are 160x120 and 2 s. The 100
# byte-flip variants of good.mp4 are made by the tests themselves with a seeded PRNG, not stored here.
# Bump the stamp name whenever a recipe changes, so that every checkout regenerates its files.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=tests/fixtures/hostile
stamp="$OUT/.recipe-v1"
[ -f "$stamp" ] && exit 0
rm -rf "$OUT"
mkdir -p "$OUT"
FF=(ffmpeg -hide_banner -loglevel error -y)
SRC="testsrc2=size=160x120:rate=25:duration=2"
X264=(-c:v libx264 -preset veryfast -pix_fmt yuv420p -g 25)

# The good clip: classifies; the other files are made from it or next to it.
"${FF[@]}" -f lavfi -i "$SRC" "${X264[@]}" -movflags +faststart "$OUT/good.mp4"

# Not video at all, under a video name.
: >"$OUT/zero-bytes.mp4"
printf 'Just some text, renamed to look like a video.\n%.0s' $(seq 20) >"$OUT/text-renamed.mp4"
"${FF[@]}" -f lavfi -i "testsrc2=size=64x48" -frames:v 1 "$OUT/picture.png"
mv "$OUT/picture.png" "$OUT/png-renamed.webm"

# Index at the end (no faststart), then cut at several points: before, inside and after most of the media.
"${FF[@]}" -f lavfi -i "$SRC" "${X264[@]}" "$OUT/index-at-end.mp4"
size=$(stat -c %s "$OUT/index-at-end.mp4")
for pct in 5 50 95; do head -c $((size * pct / 100)) "$OUT/index-at-end.mp4" >"$OUT/truncated-${pct}pct.mp4"; done
# Index at the front, cut in the middle of the media data: the index promises samples that are missing.
fsize=$(stat -c %s "$OUT/good.mp4")
head -c $((fsize / 2)) "$OUT/good.mp4" >"$OUT/truncated-faststart-50pct.mp4"
head -c 40 "$OUT/good.mp4" >"$OUT/truncated-header.mp4"

# Garbage written over 4 KB in the middle of the media data (the container itself stays intact).
cp "$OUT/good.mp4" "$OUT/corrupt-middle.mp4"
python3 - "$OUT/corrupt-middle.mp4" <<'PY'
import random, sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
rng = random.Random(9)
mid = len(b) // 2
for i in range(mid, min(mid + 4096, len(b))):
    b[i] = rng.randrange(256)
open(p, 'wb').write(b)
PY

# Valid files at the edges of what a decoder meets.
"${FF[@]}" -f lavfi -i "sine=frequency=440:duration=2" -c:a aac -b:a 32k "$OUT/audio-only.mp4"
"${FF[@]}" -f lavfi -i "$SRC" -frames:v 1 "${X264[@]}" "$OUT/one-frame.mp4"
"${FF[@]}" -f lavfi -i "color=c=orange:size=2x2:rate=10:duration=1" -vf scale=1:1 -c:v libvpx-vp9 -b:v 50k "$OUT/one-pixel.webm"
"${FF[@]}" -f lavfi -i "testsrc2=size=7680x4320:rate=25" -frames:v 2 -c:v libx264 -preset ultrafast -crf 40 -pix_fmt yuv420p "$OUT/8k.mp4"
"${FF[@]}" -f lavfi -i "$SRC" -c:v libx264 -preset veryfast -pix_fmt yuv420p10le -g 25 "$OUT/10bit.mp4"
"${FF[@]}" -f lavfi -i "$SRC" -c:v libx265 -preset ultrafast -x265-params log-level=error:keyint=25 -pix_fmt yuv420p -tag:v hvc1 "$OUT/hevc.mp4"
# (ffmpeg 5.1 writes the rotate tag only when stream-copying.)
"${FF[@]}" -i "$OUT/good.mp4" -c copy -metadata:s:v:0 rotate=90 "$OUT/rotated.mp4"
"${FF[@]}" -f lavfi -i "testsrc2=size=160x120:rate=30:duration=2" -vf "select='gte(n\,30)+not(mod(n\,3))'" -fps_mode vfr "${X264[@]}" "$OUT/vfr.mp4"

touch "$stamp"
echo "hostile inputs in $OUT ($(du -sk "$OUT" | cut -f1) KB)"
