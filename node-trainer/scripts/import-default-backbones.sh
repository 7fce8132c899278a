#!/usr/bin/env bash
# Regenerates the two backbones the site ships, from nsfwjs (a devDependency), into
# public/models/backbones/ and their entries in public/models/manifest.json.
# Deterministic: running it again gives byte-identical .onnx files (tests/backbone checks the sha256).
set -euo pipefail
cd "$(dirname "$0")/../.."
QUANTIZE="${QUANTIZE:-uint8}"
NOTES="ImageNet-initialised MobileNetV2, fine-tuned by the nsfwjs authors for 5 epochs on a 5-class image-safety dataset (Drawing/Hentai/Neutral/Porn/Sexy); vidkind uses the global-average-pooled features and drops that classifier head."

node node-trainer/bin/vidkind.mjs import-backbone --from tfjs nsfwjs/dist/models/mobilenet_v2 \
  --id mobilenet-v2-1.0 --name "MobileNetV2 1.0 (nsfwjs)" --quantize "$QUANTIZE" \
  --out public/models/backbones/ --licence MIT --notes "Keras MobileNetV2 alpha 1.0, 224x224. $NOTES"

node node-trainer/bin/vidkind.mjs import-backbone --from tfjs nsfwjs/dist/models/mobilenet_v2_mid \
  --id mobilenet-v2-1.4 --name "MobileNetV2 1.4 (nsfwjs)" --quantize "$QUANTIZE" \
  --out public/models/backbones/ --licence MIT --notes "TF-Hub MobileNetV2 alpha 1.4 feature vector, 224x224. $NOTES"
