#!/usr/bin/env bash
# Trains a short run with --tensorboard, serves it with `tensorboard --logdir` on localhost and
# takes PNG screenshots of the scalars and histograms dashboards with headless Chromium.
#
#   scripts/tensorboard-screenshot.sh [OUTPUT_FOLDER]     (default: docs)
#
# Needs python3 with tensorboard (pip install tensorboard) and chromium (apt-get install -y
# chromium). DBN=path/to/dbn picks the executable (default: a release build, made if missing).
# Writes OUTPUT_FOLDER/tensorboard-scalars.png and OUTPUT_FOLDER/tensorboard-histograms.png.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs}"
mkdir -p "$out"
dbn="${DBN:-.build/release/dbn}"
if [ ! -x "$dbn" ]; then swift build -c release --product dbn; fi
chrome="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$chrome" ] || { echo "chromium not found: apt-get install -y chromium" >&2; exit 1; }

work="$(mktemp -d)"
server=""
cleanup() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

# The run: 2,000 MNIST training images, 784-200-100-10, 3 CD-1 epochs per layer, 5 fine-tuning
# epochs, per-step scalars every 5 minibatches; seed 1.
"$dbn" train --limit 2000 --layers 200,100 --pretrain-epochs 3 --finetune-epochs 5 --baseline none \
    --tensorboard "$work/tb" --tensorboard-every 5 --seed 1 --output "$work/model.safetensors" --quiet

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
tensorboard --logdir "$work/tb" --host 127.0.0.1 --port "$port" >"$work/tensorboard.log" 2>&1 &
server=$!
for _ in $(seq 1 60); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/data/runs', timeout=1)" 2>/dev/null; then break; fi
    sleep 1
done

shot() {  # shot NAME URL-FRAGMENT
    "$chrome" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1000 \
        --virtual-time-budget=20000 --screenshot="$out/$1" "http://127.0.0.1:$port/$2" >/dev/null 2>&1
    echo "wrote $out/$1"
}
shot tensorboard-scalars.png "#scalars&tagFilter=%5Estep%2F"
shot tensorboard-histograms.png "#histograms&tagFilter=gradients"
