#!/usr/bin/env bash
# Retrains the site's default models from the corpus, in one command:
#   corpus (optional rebuild) -> features with both default backbones -> a 2-member ensemble (one
#   member per backbone, one by-source split) -> eval on the held-out sources -> export to public/models.
# Usage: node-trainer/corpus/train-defaults.sh --corpus DIR --work DIR [--build-corpus] [--no-extract]
#        [--config JSON] [--to public/models]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
corpus=/work/corpus work=/work/train build=0 extract=1 to="$root/public/models"
config='{"epochs":15,"patience":6}'
while [ $# -gt 0 ]; do
  case "$1" in
    --corpus) corpus="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --build-corpus) build=1; shift ;;
    --no-extract) extract=0; shift ;;
    --config) config="$2"; shift 2 ;;
    --to) to="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
vidkind() { node "$root/node-trainer/bin/vidkind.mjs" "$@"; }
backbones=(mobilenet-v2-1.0 mobilenet-v2-1.4)
mkdir -p "$work"

[ "$build" = 1 ] && "$here/build.sh" --out "$corpus"

if [ "$extract" = 1 ]; then
  # One extraction per backbone, side by side (each single-threaded: 2 cores, 2 processes).
  pids=()
  for bb in "${backbones[@]}"; do
    vidkind extract --videos "$corpus" --labels "$corpus/labels.csv" --backbone "$bb" --out "$work/feat-$bb" --threads 1 --models "$to" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
fi

node --import tsx "$here/common-items.ts" "$work/common" "${backbones[@]/#/$work/feat-}"
run="$work/run-default"
rm -rf "$run"
vidkind train --features "$work/common/feat-${backbones[0]},$work/common/feat-${backbones[1]}" --members 2 --out "$run" --config "$config"
vidkind eval --run "$run" --split test
vidkind export --run "$run" --to "$to" --id default --name "Default ensemble (MobileNetV2 1.0 + 1.4)" --default
echo "default models exported to $to; report: $run/report.html"
