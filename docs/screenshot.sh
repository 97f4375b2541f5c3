#!/usr/bin/env bash
# Regenerates docs/report.png: the HTML report of a traced MLP run with --demo-bypass, drawn by
# headless Chromium (as root it needs --no-sandbox).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product train
swift build -c release --product tracectl
dir=$(mktemp -d)
.build/release/train --demo-bypass --steps 200 --trace "$dir/mlp.sqlite" --log-format jsonl >/dev/null
.build/release/tracectl html "$dir/mlp.sqlite" -o "$dir/mlp.html"
timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
  --user-data-dir="$dir/profile" --virtual-time-budget=10000 --window-size=1280,1700 \
  --screenshot="$PWD/docs/report.png" "file://$dir/mlp.html"
rm -rf "$dir"
