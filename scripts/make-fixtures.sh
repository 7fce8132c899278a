#!/usr/bin/env bash
# Generates the small fixture clips used by tests into tests/fixtures/media (not committed).
# Each is a few hundred KB at most, made with Debian's ffmpeg from its built-in test sources.
# Bump the stamp name whenever a recipe changes, so that every checkout regenerates its clips.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=tests/fixtures/media
mkdir -p "$OUT"
FF=(ffmpeg -hide_banner -loglevel error -y)
stamp="$OUT/.recipe-v5"

# A 10 min clip with 10 s GOPs (key frames at 0, 10, 20, ... s) for key-frame snapping: one 10 s
# segment stream-copied 60 times (a second or two, ~10 MB). Made apart from the stamp so that adding it
# does not regenerate the other clips.
if [ ! -f "$OUT/long-gop.mp4" ]; then
  seg=$(mktemp -d)
  "${FF[@]}" -f lavfi -i "testsrc2=size=320x240:rate=25:duration=10" -c:v libx264 -preset veryfast -crf 36 -pix_fmt yuv420p \
    -g 250 -keyint_min 250 -sc_threshold 0 "$seg/seg.mp4"
  for _ in $(seq 60); do echo "file '$seg/seg.mp4'"; done >"$seg/list.txt"
  "${FF[@]}" -f concat -safe 0 -i "$seg/list.txt" -c copy -movflags +faststart "$OUT/long-gop.mp4"
  rm -r "$seg"
fi

# Video that names its YCbCr matrix (BT.709, as phones and screen recorders tag HD video): the
# decoders must honour the tag, where untagged video gets BT.601. Made apart from the stamp, too.
if [ ! -f "$OUT/bt709.mp4" ]; then
  "${FF[@]}" -f lavfi -i "testsrc2=size=320x240:rate=25:duration=2" -vf scale=out_color_matrix=bt709 -c:v libx264 -preset veryfast \
    -pix_fmt yuv420p -g 25 -colorspace bt709 -color_primaries bt709 -color_trc bt709 -movflags +faststart "$OUT/bt709.mp4"
fi
# An animated GIF (the animation people most often have as a file): decoded by ffmpeg, in the browser
# too. Made apart from the stamp as well.
if [ ! -f "$OUT/anim.gif" ]; then
  "${FF[@]}" -f lavfi -i "testsrc2=size=160x120:rate=10:duration=4" "$OUT/anim.gif"
fi
# The same with rotation metadata, as a phone films portrait: the frames are rotated after conversion.
if [ ! -f "$OUT/bt709-rotated.mp4" ]; then
  "${FF[@]}" -i "$OUT/bt709.mp4" -c copy -metadata:s:v:0 rotate=90 "$OUT/bt709-rotated.mp4"
fi

# An old-style QuickTime file (no `ftyp`: its first box is renamed `free`, offsets unchanged) whose
# media data starts with half a second of MPEG audio frames, then Motion JPEG video: mediabunny
# takes it for MP3 with no video (python3-imageio's diver.mov was read so); ffmpeg reads it.
if [ ! -f "$OUT/quicktime-audio-first.mov" ]; then
  qt=$(mktemp -d)
  "${FF[@]}" -f lavfi -i "testsrc2=size=320x240:rate=10:duration=4" -c:v mjpeg -q:v 20 -pix_fmt yuvj422p "$qt/v.avi"
  "${FF[@]}" -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=4.5" -c:a mp2 -b:a 128k "$qt/a.mp2"
  "${FF[@]}" -i "$qt/a.mp2" -itsoffset 0.5 -i "$qt/v.avi" -map 0:a -map 1:v -c copy -f mov "$qt/av.mov"
  python3 - "$qt/av.mov" "$OUT/quicktime-audio-first.mov" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
assert b[4:8] == b'ftyp', b[:8]
b[4:8] = b'free'
open(sys.argv[2], 'wb').write(b)
PY
  rm -r "$qt"
fi

# A video track that ends 1.5 s before its file does (the audio runs on; Matroska states only the
# file's duration), in a codec WebCodecs lacks: samples past the last frame get the frame before.
# Its Opus sound is all that Chromium's player can play of it: the detail view shows no preview.
if [ ! -f "$OUT/video-shorter-than-audio.mkv" ]; then
  sv=$(mktemp -d)
  "${FF[@]}" -f lavfi -i "testsrc2=size=320x240:rate=12:duration=3" -c:v mpeg4 -q:v 8 "$sv/v.avi"
  "${FF[@]}" -f lavfi -i "sine=frequency=330:duration=4.5" -c:a libopus -b:a 32k "$sv/a.ogg"
  "${FF[@]}" -i "$sv/v.avi" -i "$sv/a.ogg" -map 0:v -map 1:a -c copy "$OUT/video-shorter-than-audio.mkv"
  rm -r "$sv"
fi

[ -f "$stamp" ] && exit 0

SRC="testsrc2=size=320x240:rate=25:duration=4"
X264=(-c:v libx264 -preset veryfast -pix_fmt yuv420p -g 25)

# A moving test pattern with colour and motion, 4 s, 320x240.
"${FF[@]}" -f lavfi -i "$SRC" -c:v libx264 -profile:v high -pix_fmt yuv420p -g 25 -movflags +faststart "$OUT/h264.mp4"
"${FF[@]}" -f lavfi -i "mandelbrot=size=320x240:rate=25" -t 4 -c:v libx264 -pix_fmt yuv420p -g 25 "$OUT/mandelbrot.mp4"
"${FF[@]}" -f lavfi -i "$SRC" -c:v libvpx-vp9 -b:v 300k -deadline realtime -cpu-used 8 "$OUT/vp9.webm"

# One clip per container/codec the decoder must handle (WebCodecs where it can, ffmpeg.wasm otherwise).
"${FF[@]}" -f lavfi -i "$SRC" -c:v libaom-av1 -cpu-used 8 -row-mt 1 -b:v 200k -g 25 "$OUT/av1.mp4"
"${FF[@]}" -f lavfi -i "$SRC" -c:v libx265 -preset ultrafast -x265-params log-level=error:keyint=25 -pix_fmt yuv420p "$OUT/hevc.mkv"
"${FF[@]}" -f lavfi -i "$SRC" -c:v mpeg4 -q:v 5 -g 25 "$OUT/mpeg4.avi"
"${FF[@]}" -f lavfi -i "$SRC" "${X264[@]}" -f mpegts "$OUT/h264.m2ts"
"${FF[@]}" -f lavfi -i "$SRC" "${X264[@]}" "$OUT/h264.mov"
"${FF[@]}" -f lavfi -i "$SRC" "${X264[@]}" -f flv "$OUT/h264.flv"
"${FF[@]}" -f lavfi -i "testsrc2=size=176x144:rate=15:duration=4" -c:v h263 -g 15 "$OUT/h263.3gp"
"${FF[@]}" -f lavfi -i "$SRC" -c:v mpeg2video -q:v 5 -g 25 -f mpeg "$OUT/mpeg2.mpg"

# Sizes and orientation: portrait, metadata rotation 90 on a landscape clip, an odd size.
"${FF[@]}" -f lavfi -i "testsrc2=size=180x320:rate=25:duration=4" "${X264[@]}" "$OUT/portrait.mp4"
# (ffmpeg 5.1 writes the rotate tag only when stream-copying.)
"${FF[@]}" -i "$OUT/h264.mov" -c copy -metadata:s:v:0 rotate=90 "$OUT/rotated.mp4"
# (testsrc2 rounds its size to even numbers; the scale filter does not.)
"${FF[@]}" -f lavfi -i "$SRC" -vf scale=321:241 -c:v libvpx-vp9 -b:v 200k -deadline realtime -cpu-used 8 "$OUT/odd.webm"

# 10-bit: VP9 profile 2 (decoded by WebCodecs here) and H.264 High 10 (whichever path can).
"${FF[@]}" -f lavfi -i "$SRC" -c:v libvpx-vp9 -pix_fmt yuv420p10le -b:v 300k -deadline realtime -cpu-used 8 "$OUT/vp9-10bit.webm"
"${FF[@]}" -f lavfi -i "$SRC" -c:v libx264 -preset veryfast -pix_fmt yuv420p10le -g 25 "$OUT/h264-10bit.mp4"

# Variable frame rate: 10 fps for the first 2 s, then 30 fps (frames are dropped, timestamps kept).
"${FF[@]}" -f lavfi -i "testsrc2=size=320x240:rate=30:duration=4" -vf "select='gte(n\,60)+not(mod(n\,3))'" -vsync vfr "${X264[@]}" "$OUT/vfr.mp4"

# Edge cases: a single frame; a file cut in half before its index (moov at the end); an empty
# file; a text file named .mp4; an audio-only file.
"${FF[@]}" -f lavfi -i "$SRC" -frames:v 1 "${X264[@]}" "$OUT/one-frame.mp4"
"${FF[@]}" -f lavfi -i "$SRC" "${X264[@]}" "$OUT/full-for-truncation.mp4"
size=$(stat -c %s "$OUT/full-for-truncation.mp4")
head -c $((size / 2)) "$OUT/full-for-truncation.mp4" >"$OUT/truncated.mp4"
rm "$OUT/full-for-truncation.mp4"
: >"$OUT/empty.mp4"
printf 'This is a plain text file with a video extension.\n%.0s' $(seq 40) >"$OUT/text.mp4"
"${FF[@]}" -f lavfi -i "sine=frequency=440:duration=4" -c:a aac -b:a 64k "$OUT/audio-only.mp4"

rm -f "$OUT"/.recipe-v*
touch "$stamp"
echo "fixtures in $OUT"
