#!/usr/bin/env bash
# Builds the published form of chainprobe: src/ compiled to dist/ (JavaScript + .d.ts) by
# tsconfig.build.json, plus every non-TypeScript file under src/ (the reference chain's Python helpers,
# the AF_PACKET sender's C source) copied to the same place in dist/, where the compiled module that
# loads it by import.meta.url looks. Run by `npm run build`, scripts/setup.sh and `npm pack` (prepack).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
npx tsc -p tsconfig.build.json
(cd src && find . -type f ! -name '*.ts' -print0 | xargs -0 -r cp --parents -t ../dist)
