#!/usr/bin/env bash
# Retrains the site's default models from the corpus, in one command:
#   corpus (optional rebuild) -> features with both default backbones -> the 2-member recipe (one
#   member per backbone) trained on several seeds, each seed a different by-source split ->
#   every run scored on its validation and test sources -> the configuration to ship (the ensemble,
#   or one member alone) chosen by the mean validation macro-F1 over seeds (never by test) ->
#   the first seed's run of that configuration exported to public/models.
# Usage: node-trainer/corpus/train-defaults.sh --corpus DIR --work DIR [--build-corpus] [--no-extract]
#        [--config JSON] [--seeds "1 2 3"] [--to public/models]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
corpus=/work/corpus work=/work/train build=0 extract=1 to="$root/public/models"
config='{"epochs":15,"patience":6}'
seeds="1 2 3"
while [ $# -gt 0 ]; do
  case "$1" in
    --corpus) corpus="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --build-corpus) build=1; shift ;;
    --no-extract) extract=0; shift ;;
    --config) config="$2"; shift 2 ;;
    --to) to="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
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

node --import tsx "$here/common-items.ts" --labels "$corpus/labels.csv" "$work/common" "${backbones[@]/#/$work/feat-}"
features="$work/common/feat-${backbones[0]},$work/common/feat-${backbones[1]}"
runs=()
for seed in $seeds; do
  run="$work/run-s$seed"
  runs+=("$run")
  if [ -f "$run/metrics-val.json" ] && [ -f "$run/metrics.json" ]; then continue; fi
  rm -rf "$run"
  vidkind train --features "$features" --members 2 --out "$run" --no-progress \
    --config "$(node -e 'const c = JSON.parse(process.argv[1]); c.seed = Number(process.argv[2]); console.log(JSON.stringify(c))' "$config" "$seed")"
  vidkind eval --run "$run" --split val --no-progress
  mv "$run/metrics.json" "$run/metrics-val.json"
  mv "$run/report.html" "$run/report-val.html"
  vidkind eval --run "$run" --split test --no-progress
done
node --import tsx "$here/seed-summary.ts" "$work/seeds.md" "$work/choice.json" "${runs[@]}"
choice="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).id)' "$work/choice.json")"
ship="${runs[0]}"
name="Default ensemble (MobileNetV2 1.0 + 1.4)"
if [ "$choice" != ensemble ]; then
  # One member alone: score it on its own (same split), so the model card shows its test figures.
  ship="${runs[0]}/$choice"
  vidkind eval --run "$ship" --split test --no-progress
  name="Default ($(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).backbones.join(" + "))' "$work/choice.json"))"
fi
vidkind export --run "$ship" --to "$to" --id default --name "$name" --default
echo "default models exported to $to from $ship; seeds summary: $work/seeds.md"
