#!/usr/bin/env bash
# Smoke test of scripts/plot.py on synthetic inputs (no dbn run needed).
#
#   bash scripts/test_plot.sh [OUTPUT_DIR]
#
# Writes fake --log files and a fake `dbn compare` JSON following the schemas dbn writes
# (nulls left out or null, non-finite numbers as "nan"/"inf" strings), runs the three
# subcommands, checks that each writes a PNG, and checks that missing files, bad JSON lines
# and logs with nothing to plot fail with exit status 1 and one line on stderr.
# OUTPUT_DIR (default: a temporary folder, removed at the end) keeps the inputs and PNGs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
plot="$here/plot.py"
python="${PYTHON:-python3}"

if [[ $# -ge 1 ]]; then
    dir="$1"
    mkdir -p "$dir"
else
    dir="$(mktemp -d)"
    trap 'rm -rf "$dir"' EXIT
fi

"$python" - "$dir" <<'EOF'
import json, math, os, random, sys

out = sys.argv[1]
rng = random.Random(7)

def clean(record):
    # dbn leaves nil optionals out and writes non-finite numbers as strings
    result = {}
    for key, value in record.items():
        if value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            value = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        result[key] = value
    return result

def pretrain_records(phase, layers, epochs, monitors):
    records = []
    for layer in range(layers):
        for epoch in range(1, epochs + 1):
            r = {"phase": phase, "layer": layer, "epoch": epoch, "seconds": 1.5, "monitor_seconds": 0.2,
                 "momentum": 0.5 if epoch < 3 else 0.9,
                 "reconstruction_error": (12 - 3 * layer) * (0.6 + 0.4 * math.exp(-epoch / 2)) + rng.random() * 0.2,
                 "summed_reconstruction_error": 1000.0}
            if monitors:
                r["free_energy_training"] = -100.0 - epoch
                r["free_energy_held_out"] = -100.0 - epoch + 0.3 * epoch
                r["free_energy_gap"] = 0.3 * epoch * (layer + 1)
                r["pseudo_log_likelihood"] = -200 + 60 * (1 - math.exp(-epoch / 3)) + 10 * layer
                if epoch % 2 == 0 or epoch == epochs:
                    r["ais_log_z"] = 300.0 + epoch
                    r["ais_log_z_low"] = 299.0 + epoch
                    r["ais_log_z_high"] = 301.0 + epoch
                    r["training_log_likelihood"] = -150 + 20 * (1 - math.exp(-epoch / 3)) + 5 * layer
                    r["held_out_log_likelihood"] = -155 + 18 * (1 - math.exp(-epoch / 3)) + 5 * layer
            records.append(clean(r))
    return records

def layer_diagnostics(sizes, activation, epoch, scale):
    layers = []
    count = len(sizes) - 1
    for index in range(count):
        hidden = index < count - 1
        depth_factor = (0.25 ** (count - 1 - index)) if activation == "sigmoid" else 0.8
        layers.append(clean({
            "layer": index + 1, "units": sizes[index + 1],
            "activation_mean": 0.5 if activation == "sigmoid" else 0.3,
            "activation_standard_deviation": 0.2,
            "saturated_fraction": (0.05 + 0.02 * epoch) if hidden and activation == "sigmoid" else None,
            "dead_fraction": (0.01 * epoch) if hidden and activation == "relu" else None,
            "gradient_norm": scale * depth_factor * (1 + 0.1 * index) / (1 + 0.2 * epoch),
        }))
    return layers

def finetune_record(phase, epoch, sizes, act, base, validation=False, test=True, diverge_at=None, **extra):
    loss = base * math.exp(-epoch / 4) + 0.05
    error = 0.1 * math.exp(-epoch / 3) + 0.015
    if diverge_at is not None and epoch >= diverge_at:
        loss = float("nan")
        error = 0.9
    r = {"phase": phase, "epoch": epoch, "train_loss": loss, "train_error": error * 0.8,
         "validation_loss": loss * 1.1 if validation else None,
         "validation_error": error * 1.05 if validation else None,
         "test_loss": loss * 1.1 if test else None, "test_error": error if test else None,
         "learning_rate": 0.1, "only_output_layer_trained": False, "seconds": 2.0, "evaluation_seconds": 0.3,
         "layers": layer_diagnostics(sizes, act, epoch, base)}
    r.update(extra)
    return clean(r)

sizes = [784, 500, 500, 2000, 10]

# 1. A `dbn train`-style log: pre-training with monitors, then fine-tuning and a baseline.
with open(os.path.join(out, "train.jsonl"), "w") as f:
    for r in pretrain_records("pretrain", 3, 6, monitors=True):
        f.write(json.dumps(r, sort_keys=True) + "\n")
    f.write("\n")  # blank lines are skipped
    for epoch in range(1, 9):
        f.write(json.dumps(finetune_record("finetune", epoch, sizes, "sigmoid", 0.6, validation=True)) + "\n")
    for epoch in range(1, 9):
        f.write(json.dumps(finetune_record("baseline", epoch, sizes, "sigmoid", 1.2, validation=True)) + "\n")

# 2. A `dbn pretrain` log without monitors and a `dbn finetune` log without a test set.
with open(os.path.join(out, "pretrain_only.jsonl"), "w") as f:
    for r in pretrain_records("pretrain", 2, 5, monitors=False):
        f.write(json.dumps(r) + "\n")
with open(os.path.join(out, "finetune_no_test.jsonl"), "w") as f:
    for epoch in range(1, 6):
        f.write(json.dumps(finetune_record("finetune", epoch, sizes, "relu", 0.8, test=False)) + "\n")

# 3. A `dbn compare` log: pre-training of the dbn start, then compare records.
starts = ["dbn", "xavier-normal", "normal:0.01"]
activations = ["sigmoid", "relu"]
runs = []
with open(os.path.join(out, "compare.jsonl"), "w") as f:
    for r in pretrain_records("pretrain", 3, 3, monitors=False):
        f.write(json.dumps(r) + "\n")
    for s_index, start in enumerate(starts):
        for activation in activations:
            diverge = 3 if (start == "normal:0.01" and activation == "relu") else None
            base = {"dbn": 0.4, "xavier-normal": 0.9, "normal:0.01": 2.3}[start]
            reports = [finetune_record("compare", e, sizes, activation, base, diverge_at=diverge,
                                       start=start, activation=activation) for e in range(1, 6)]
            for r in reports:
                f.write(json.dumps(r) + "\n")
            test_errors = [r.get("test_error") for r in reports]
            norms = [l["gradient_norm"] for l in reports[0]["layers"]]
            if start == "normal:0.01" and activation == "sigmoid":
                norms[0] = 0.0  # a zero norm is left out of the log-scale line
            run = {"init": start, "activation": activation,
                   "test_error": None if diverge else min(test_errors) * (1 + 0.3 * s_index),
                   "best_epoch": 5, "final_train_loss": reports[-1]["train_loss"],
                   "fine_tuning_seconds": 10.0, "pretraining_seconds": 30.0 if start == "dbn" else 0.0,
                   "total_seconds": 40.0, "first_epoch_gradient_norms": norms, "diverged_at_epoch": diverge,
                   "train_loss": [r["train_loss"] for r in reports], "test_errors": test_errors}
            runs.append(clean(run) if diverge is None else {**clean(run), "test_error": None, "diverged_at_epoch": diverge})

summary = {"preset": "hinton2006", "layer_sizes": sizes, "epochs": 5, "pretrain_epochs": 3, "runs": runs,
           "csv": "compare.csv", "json": "compare.json"}
with open(os.path.join(out, "compare.json"), "w") as f:
    f.write(json.dumps(summary, sort_keys=True) + "\n")

# 4. A three-seed `dbn compare` JSON: runs with seeds and seconds per epoch, arms with intervals.
seed_runs, arms = [], []
for start, activation, base, diverged in (("dbn", "sigmoid", 0.02, False), ("he-normal", "relu", 0.025, False),
                                          ("xavier-normal", "sigmoid", 0.9, True)):
    errors = []
    for seed in (1, 2, 3):
        curve = [base * (1 + 2 * math.exp(-e)) + 0.002 * seed for e in range(1, 6)]
        seconds = [(30.0 if start == "dbn" else 0.0) + 10.0 * e for e in range(1, 6)]
        dead = diverged and seed == 2
        if dead:
            curve, seconds = curve[:2], seconds[:2]
        seed_runs.append(clean({"init": start, "activation": activation, "seed": seed, "learning_rate": 0.1,
                                "epochs": 5, "test_error": None if dead else curve[-1], "test_errors": curve,
                                "seconds_at_epoch": seconds, "diverged_at_epoch": 3 if dead else None}))
        errors.append(None if dead else curve[-1])
    complete = None if None in errors else errors
    mean = sum(complete) / 3 if complete else None
    arms.append(clean({"start": start, "activation": activation, "learning_rate": 0.1, "seeds": [1, 2, 3],
                       "test_errors": errors, "mean_test_error": mean,
                       "interval": {"lower": mean - 0.003, "upper": mean + 0.003} if mean else None}))
with open(os.path.join(out, "compare_seeds.json"), "w") as f:
    f.write(json.dumps({"layer_sizes": sizes, "epochs": 5, "seeds": [1, 2, 3], "runs": seed_runs, "arms": arms},
                       sort_keys=True) + "\n")

# Inputs that must fail.
with open(os.path.join(out, "bad.jsonl"), "w") as f:
    f.write(json.dumps(pretrain_records("pretrain", 1, 1, False)[0]) + "\n")
    f.write('{"phase": "pretrain", "layer": 0, "epoch": 2, \n')
with open(os.path.join(out, "nothing.jsonl"), "w") as f:
    f.write(json.dumps({"event": "start", "message": "hello"}) + "\n")
with open(os.path.join(out, "empty.jsonl"), "w") as f:
    pass
with open(os.path.join(out, "no_runs.json"), "w") as f:
    f.write('{"runs": [], "layer_sizes": [4, 2]}\n')
EOF

failures=0
pass() { echo "ok   $*"; }
flunk() { echo "FAIL $*"; failures=$((failures + 1)); }

is_png() { [[ -s "$1" ]] && [[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" == "89504e470d0a1a0a" ]]; }

expect_png() {  # expect_png OUTPUT.png ARGS...
    local png="$1"; shift
    rm -f "$png"
    if "$python" "$plot" "$@" --output "$png" >/dev/null && is_png "$png"; then
        pass "$* -> $(basename "$png")"
    else
        flunk "$* -> $(basename "$png")"
    fi
}

expect_error() {  # expect_error PATTERN ARGS...
    local pattern="$1"; shift
    local err status=0
    err="$("$python" "$plot" "$@" --output "$dir/should_not_exist.png" 2>&1 >/dev/null)" || status=$?
    if [[ $status -eq 1 && "$(printf '%s\n' "$err" | wc -l)" -eq 1 && "$err" == *"$pattern"* \
          && ! -e "$dir/should_not_exist.png" ]]; then
        pass "error for $*: $err"
    else
        flunk "error for $* (status $status, expected 1 and '$pattern'): $err"
    fi
}

expect_png "$dir/curves_train.png" curves "$dir/train.jsonl"
expect_png "$dir/curves_compare.png" curves "$dir/compare.jsonl" --title "Compare run"
expect_png "$dir/curves_multi.png" curves "$dir/pretrain_only.jsonl" "$dir/finetune_no_test.jsonl" --log-scale
expect_png "$dir/curves_pretrain.png" curves "$dir/pretrain_only.jsonl"
expect_png "$dir/compare.png" compare "$dir/compare.json"
expect_png "$dir/compare_log.png" compare "$dir/compare.json" --log-scale --title "Test error (log scale)"
expect_png "$dir/gradients.png" gradients "$dir/compare.json"
expect_png "$dir/compare_seeds.png" compare "$dir/compare_seeds.json"
expect_png "$dir/time.png" time "$dir/compare_seeds.json"
expect_png "$dir/time_epochs.png" time "$dir/compare_seeds.json" --x epoch --log-scale

expect_error "no such file" curves "$dir/missing.jsonl"
expect_error "bad.jsonl:2: bad JSON line" curves "$dir/bad.jsonl"
expect_error "nothing to plot" curves "$dir/nothing.jsonl"
expect_error "empty" curves "$dir/empty.jsonl"
expect_error "no such file" compare "$dir/missing.json"
expect_error "bad JSON" compare "$dir/train.jsonl"
expect_error "nothing to plot" compare "$dir/no_runs.json"
expect_error "nothing to plot" gradients "$dir/no_runs.json"
expect_error "nothing to plot" time "$dir/no_runs.json"

if [[ $failures -gt 0 ]]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed${1:+ (outputs in $dir)}"
