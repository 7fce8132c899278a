#!/usr/bin/env bash
# Regenerates the three backbones the site ships, from nsfwjs (a devDependency), into
# public/models/backbones/ and their entries in public/models/manifest.json. MobileNetV2 1.0 ships with
# style taps: its embedding also carries the per-channel spatial mean and std of four intermediate
# feature maps (1280 + 2 x (144 + 192 + 384 + 576) = 3872 values), which tell rendered from filmed
# content far better than the pooled last layer alone (node-trainer/README.md, "Style taps").
# The third, picture-stats, has no weights: 29 hand-written statistics per frame (colour, edges, noise,
# palette; node-trainer/src/backbone/picture-stats.ts), the default ensemble's second member.
# Deterministic: running it again gives byte-identical .onnx files (tests/backbone checks the sha256).
set -euo pipefail
cd "$(dirname "$0")/../.."
QUANTIZE="${QUANTIZE:-uint8}"
NOTES="ImageNet-initialised MobileNetV2, fine-tuned by the nsfwjs authors for 5 epochs on a 5-class image-safety dataset (Drawing/Hentai/Neutral/Porn/Sexy); vidkind uses the global-average-pooled features and drops that classifier head."

node node-trainer/bin/vidkind.mjs import-backbone --from tfjs nsfwjs/dist/models/mobilenet_v2 \
  --id mobilenet-v2-1.0-taps --name "MobileNetV2 1.0 (nsfwjs) + style taps" --quantize "$QUANTIZE" \
  --taps block_3_expand_relu,block_6_expand_relu,block_10_expand_relu,block_13_expand_relu \
  --out public/models/backbones/ --licence MIT --notes "Keras MobileNetV2 alpha 1.0, 224x224. $NOTES"

node node-trainer/bin/vidkind.mjs import-backbone --from tfjs nsfwjs/dist/models/mobilenet_v2_mid \
  --id mobilenet-v2-1.4 --name "MobileNetV2 1.4 (nsfwjs)" --quantize "$QUANTIZE" \
  --out public/models/backbones/ --licence MIT --notes "TF-Hub MobileNetV2 alpha 1.4 feature vector, 224x224. $NOTES"

node node-trainer/bin/vidkind.mjs import-backbone --from picture-stats \
  --id picture-stats --name "Picture statistics (colour, edges, noise, palette)" --quantize none \
  --out public/models/backbones/
