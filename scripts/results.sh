#!/usr/bin/env bash
# Reruns the README's results section on the bundled MNIST (release build) and writes the
# figures and pictures into docs/results/. Steps: train hinton2006 dropout deep-xor, the reduced
# comparisons with seeds, rate grids and paired tests (compare-seeds-reduced bn-maxout-reduced
# equal-time-reduced deep-grid-seeds-reduced), loglik generative-small generative-top pictures plots bench (all of
# these: all), and the full-size runs deep-grid compare-seeds deep-grid-seeds equal-time generative
# dropout-recipe (an hour or more each; not in all).
#   scripts/results.sh all          # everything in all (several hours on 2 cores)
#   scripts/results.sh loglik       # one step
#   DBN=/tmp/dbn scripts/results.sh dropout loglik   # steps run by a given binary
#   OUT=/tmp/results scripts/results.sh ...          # another output folder (default docs/results)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="${OUT:-docs/results}"
mkdir -p "$out"
# DBN=/path/to/dbn uses a given binary instead of building the release one.
dbn="${DBN:-.build/release/dbn}"
[ -n "${DBN:-}" ] || swift build -c release --product dbn >/dev/null
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(all)
want() { for s in "${steps[@]}"; do [ "$s" = all ] || [ "$s" = "$1" ] && return 0; done; return 1; }
# Steps that `all` leaves out (hours on 2 cores): run only when named.
named() { for s in "${steps[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
# timed NAME CMD...: runs CMD and appends "NAME: W s wall, U s user CPU" to times.txt (U from bash's
# `times`: the user CPU seconds of the commands this shell waited for, summed over their threads).
# `times` must run in this shell (in a $(...) subshell it sees no children), so it writes to a file.
child_cpu() { awk 'NR == 2 { split($1, t, /[ms]/); printf "%.0f", t[1] * 60 + t[2] }' "$out/.times"; }
timed() {
    local name=$1; shift; local t0=$SECONDS c0
    times > "$out/.times"; c0=$(child_cpu)
    "$@"
    times > "$out/.times"
    echo "$name: $((SECONDS - t0)) s wall, $(( $(child_cpu) - c0 )) s user CPU" | tee -a "$out/times.txt"
    rm -f "$out/.times"
}

if want train; then
    # The main job with its defaults: 784-500-500-2000-10, pre-trained vs He start.
    timed "dbn train" $dbn train --log "$out/train.jsonl" --output "$out/model.safetensors" --json | tee "$out/train.txt"
fi
if want hinton2006; then
    # The published recipe: 50 CD-1 epochs per layer, then 30 epochs of SGD fine-tuning.
    timed "hinton2006" $dbn train --pretrain-epochs 50 --finetune-epochs 30 --baseline none \
        --log "$out/hinton2006.jsonl" --output "$out/hinton2006.safetensors" --json | tee "$out/hinton2006.txt"
fi
if want dropout; then
    # Dropout fine-tuning of the same pre-trained stack (needs the hinton2006 step's model):
    # 50% hidden and 20% input dropout, learning rate 0.5 decaying by 4% per epoch, 100 epochs.
    timed "hinton2006 dropout" $dbn finetune --weights "$out/hinton2006.safetensors" --dropout 0.5 --input-dropout 0.2 \
        --finetune-epochs 100 --finetune-learning-rate 0.5 --schedule exp:0.96 --log "$out/hinton2006-dropout.jsonl" \
        --output "$out/hinton2006-dropout.safetensors" --json | tee "$out/hinton2006-dropout.txt"
    # Twice as long, with a max-norm constraint that caps only the longest pre-trained columns.
    timed "hinton2006 dropout long" $dbn finetune --weights "$out/hinton2006.safetensors" --dropout 0.5 --input-dropout 0.2 \
        --max-norm 8 --finetune-epochs 200 --finetune-learning-rate 0.5 --schedule exp:0.98 \
        --log "$out/hinton2006-dropout-long.jsonl" --output "$out/hinton2006-dropout-long.safetensors" --json \
        | tee "$out/hinton2006-dropout-long.txt"
    # An ensemble of the three MNIST classifiers (averaged class probabilities).
    [ -f "$out/model.safetensors" ] && $dbn evaluate --model "$out/hinton2006.safetensors" \
        --model "$out/hinton2006-dropout.safetensors" --model "$out/model.safetensors" | tee "$out/ensemble.txt"
fi
if named dropout-recipe; then
    # The published dropout recipe (Srivastava et al. 2014; Hinton et al. 2012, appendix A.1),
    # reduced, on the hinton2006 step's stack: 20% input and 50% hidden dropout, max-norm 3.5,
    # momentum rising linearly from 0.5 to 0.99 over the first 100 epochs with the papers' update
    # (dampened: the step is about the rate), rate 5 decaying by 2% per epoch, 200 epochs (an hour
    # or more on one thread). RECIPE_FLAGS adds flags (later ones win): the full recipe is
    # RECIPE_FLAGS="--finetune-epochs 1000 --momentum-schedule 0.5:0.99:500:dampened --schedule exp:0.995".
    timed "hinton2006 dropout recipe" $dbn finetune --weights "$out/hinton2006.safetensors" \
        --dropout 0.5 --input-dropout 0.2 --max-norm 3.5 --momentum-schedule 0.5:0.99:100:dampened \
        --finetune-learning-rate 5 --schedule exp:0.98 --finetune-epochs 200 \
        --log "$out/hinton2006-dropout-recipe.jsonl" --output "$out/hinton2006-dropout-recipe.safetensors" \
        --json ${RECIPE_FLAGS:-} | tee "$out/hinton2006-dropout-recipe.txt"
fi
if want deep-xor; then
    # The lecture's small experiment: 10 hidden layers of 12 units on XOR, 3 seeds (seconds).
    timed "dbn compare --preset deep-xor" $dbn compare --preset deep-xor --seeds 1,2,3 --report "$out/deep-xor" --json | tee "$out/deep-xor.txt"
fi
# Comparisons that hold up: 3 seeds, a rate grid chosen per arm on a split of the training set,
# 95% intervals, paired tests against the best arm (see the README, "Comparisons with seeds").
seeds_flags="--seeds 1,2,3 --learning-rates 0.03,0.1,0.5"
if want compare-seeds-reduced; then
    # The reduced budget quoted in the README: 10,000 training images, 3 CD-1 epochs, 5 epochs;
    # the pre-trained, Xavier, He and LSUV starts with sigmoid and ReLU, He + batch norm, He maxout.
    arms=dbn/sigmoid,dbn/relu,xavier-normal/sigmoid,xavier-normal/relu,he-normal/sigmoid,he-normal/relu
    arms+=,lsuv/sigmoid,lsuv/relu,he-normal+bn/sigmoid,he-normal+bn/relu,he-normal/maxout
    timed "compare seeds reduced" $dbn compare --arms "$arms" \
        --layers 500,500,2000 --limit 10000 --pretrain-epochs 3 --finetune-epochs 5 $seeds_flags \
        --report "$out/compare-seeds-reduced" --log "$out/compare-seeds-reduced.jsonl" --json | tee "$out/compare-seeds-reduced.txt"
fi
if want bn-maxout-reduced; then
    # Batch normalisation and maxout beside ReLU and leaky ReLU, and the deep sigmoid net with and
    # without batch normalisation (the README's reduced budget: 5,000 images, 3 epochs, 2 seeds).
    $dbn compare --arms he-normal/sigmoid,he-normal+bn/sigmoid,he-normal/relu,he-normal+bn/relu,he-normal/leaky-relu,he-normal/maxout \
        --layers 256,256 --limit 5000 --finetune-epochs 3 --seeds 1,2 --learning-rates 0.1,0.3 \
        --report "$out/bn-maxout-reduced" --json > "$out/bn-maxout-reduced.txt"
    $dbn compare --arms he-normal/sigmoid,he-normal+bn/sigmoid --layers 500,500,500,500,500 --limit 5000 \
        --finetune-epochs 3 --seeds 1,2 --learning-rates 0.1,0.3 \
        --report "$out/bn-deep-reduced" --json > "$out/bn-deep-reduced.txt"
fi
if want equal-time-reduced; then
    # The budget of compare-seeds-reduced (10,000 images, 3 seeds, 3 rates), the random start given
    # as many extra epochs as its seed's pre-training took.
    timed "equal time reduced" $dbn compare --arms dbn/sigmoid,he-normal/relu --layers 500,500,2000 \
        --limit 10000 --pretrain-epochs 3 --finetune-epochs 5 $seeds_flags --budget equal-time \
        --report "$out/equal-time-reduced" --log "$out/equal-time-reduced.jsonl" --json | tee "$out/equal-time-reduced.txt"
fi
if want deep-grid-seeds-reduced; then
    # The 5 x 1000 deep grid (seven starts x three activations) with 3 seeds and a rate grid of three
    # decades chosen per arm on 1,000 held-out training images, on a reduced budget: the first 5,000
    # training images, 5 CD-1 epochs per layer, 5 fine-tuning epochs (the full size is deep-grid-seeds).
    timed "deep grid seeds reduced" $dbn compare --inits dbn,xavier-normal,he-normal,lsuv,orthogonal,normal:0.01,zeros \
        --activations sigmoid,tanh,relu --layers 1000,1000,1000,1000,1000 --limit 5000 --pretrain-epochs 5 \
        --finetune-epochs 5 --seeds 1,2,3 --learning-rates 0.01,0.1,1 --selection-validation 1000 \
        --report "$out/deep-grid-seeds-reduced" --log "$out/deep-grid-seeds-reduced.jsonl" --json \
        | tee "$out/deep-grid-seeds-reduced.txt"
fi
if named deep-grid; then
    # The README's full-size deep grid: one seed, one rate (0.01) for all 21 runs, full MNIST (about
    # an hour on 2 quiet cores; the seeded, rate-tuned version is deep-grid-seeds).
    timed "deep grid" $dbn compare --inits dbn,xavier-normal,he-normal,lsuv,orthogonal,normal:0.01,zeros \
        --activations sigmoid,tanh,relu --layers 1000,1000,1000,1000,1000 \
        --pretrain-epochs 5 --finetune-epochs 10 --finetune-learning-rate 0.01 \
        --report "$out/deep-grid-full" --log "$out/deep-grid-full.jsonl" --json | tee "$out/deep-grid-full.txt"
    python3 scripts/plot.py compare "$out/deep-grid-full.json" --output "$out/deep-grid-full.png"
    python3 scripts/plot.py gradients "$out/deep-grid-full.json" --output "$out/deep-grid-full-gradients.png"
fi
if named compare-seeds; then
    # Full size: 784-500-500-2000-10, full MNIST, 5 CD-1 epochs, 10 epochs, a 5-rate grid.
    timed "compare seeds" $dbn compare --inits dbn,xavier-normal,he-normal,lsuv --activations sigmoid,relu \
        --layers 500,500,2000 --pretrain-epochs 5 --finetune-epochs 10 --seeds 1,2,3 \
        --learning-rates 0.01,0.03,0.1,0.3,1 \
        --report "$out/compare-seeds" --log "$out/compare-seeds.jsonl" --json | tee "$out/compare-seeds.txt"
fi
if named deep-grid-seeds; then
    # The 5 x 1000 deep grid with 3 seeds and tuned rates: which "chance" rows survive tuning.
    timed "deep grid seeds" $dbn compare --inits dbn,xavier-normal,he-normal,lsuv,orthogonal,normal:0.01,zeros \
        --activations sigmoid,tanh,relu --layers 1000,1000,1000,1000,1000 --pretrain-epochs 5 --finetune-epochs 10 \
        --seeds 1,2,3 --learning-rates 0.003,0.01,0.03,0.1,0.3 \
        --report "$out/deep-grid-seeds" --log "$out/deep-grid-seeds.jsonl" --json | tee "$out/deep-grid-seeds.txt"
fi
if named equal-time; then
    timed "equal time" $dbn compare --arms dbn/sigmoid,he-normal/relu,xavier-normal/relu --layers 500,500,2000 \
        --pretrain-epochs 5 --finetune-epochs 10 --seeds 1,2,3 --learning-rates 0.01,0.03,0.1,0.3,1 --budget equal-time \
        --report "$out/equal-time" --log "$out/equal-time.jsonl" --json | tee "$out/equal-time.txt"
fi
for name in compare-seeds-reduced equal-time-reduced deep-grid-seeds-reduced compare-seeds deep-grid-seeds equal-time; do
    if [ -f "$out/$name.json" ] && { want "$name" || want plots; }; then
        python3 scripts/plot.py compare "$out/$name.json" --output "$out/$name.png"
        python3 scripts/plot.py time "$out/$name.json" --output "$out/$name-time.png"
    fi
done
if want loglik; then
    # AIS and reverse-AIS test log-likelihood of 500-hidden-unit RBMs on MNIST trained with the
    # released recipe of Salakhutdinov & Murray 2008 (binary visible samples in the negative
    # phase, visible biases from 0, data re-sampled every minibatch; CD-25 with k growing).
    # LOGLIK_EPOCHS=N shortens every recipe the same way (the README's rows use the full budgets).
    # One row: `dbn pretrain ARGS` (seed $train_seed, default 1) into rbm-NAME, then its AIS and reverse AIS into
    # loglik-NAME.txt (with $loglik_args, e.g. loglik_args="--binarize threshold" rbm_row ...).
    rbm_row() {
        local name=$1; shift
        timed "pretrain $name" $dbn pretrain "$@" ${LOGLIK_EPOCHS:+--pretrain-epochs $LOGLIK_EPOCHS} --seed "${train_seed:-1}" \
            --output "$out/rbm-$name.safetensors" --quiet
        timed "loglik $name" $dbn loglik --model "$out/rbm-$name.safetensors" ${loglik_args:-} --json \
            | tee "$out/loglik-$name.txt"
    }
    for name in cd1 cd3 cd25; do rbm_row "s2008-$name" --preset "salakhutdinov2008-$name"; done
    # Other training seeds of the presets ($train_seed; the likelihood's own seed stays 1).
    for row in cd1:2 cd1:3 cd3:2 cd25:2; do
        train_seed=${row#*:} rbm_row "s2008-${row%%:*}-seed${row#*:}" --preset "salakhutdinov2008-${row%%:*}"
    done
    # The same CD-1 recipe with the reconstructions' probabilities in the negative phase (the only change).
    rbm_row s2008-cd1-mean --preset salakhutdinov2008-cd1 --negative-visible mean
    # Persistent chains, centering (50 epochs) and parallel tempering against PCD at 10 epochs,
    # learning rate 0.01 with the pre-training defaults (momentum 0.5 then 0.9, weight cost 2e-4),
    # the same data and negative phase as the presets.
    rbm=(--layers 500 --pretrain-learning-rate 0.01 --binarize resample --negative-visible sample)
    for recipe in "pcd:--pretrain-epochs 50 --persistent" "centered-pcd:--pretrain-epochs 50 --persistent --centered" \
                  "pcd-e10:--pretrain-epochs 10 --persistent" "pt10-e10:--pretrain-epochs 10 --temperatures 10"; do
        rbm_row "${recipe%%:*}" "${rbm[@]}" --visible-bias zero ${recipe#*:}
    done
    # PyDeep's recipe (its RBM_MNIST_big example, Melchior's code): no momentum, no weight cost,
    # learning rate 0.01, persistent chains; centered for 200 epochs (visible biases from the
    # data), and tempering against PCD at equal Gibbs sweeps (10 epochs of 10 chains per row
    # against 100 epochs of one), the same data and negative phase as above.
    for recipe in "centered-pcd-m0-e200:--pretrain-epochs 200 --persistent --centered" \
                  "pt10-m0-e10:--pretrain-epochs 10 --temperatures 10 --visible-bias zero" \
                  "pcd-m0-e100:--pretrain-epochs 100 --persistent --visible-bias zero"; do
        rbm_row "${recipe%%:*}" "${rbm[@]}" --initial-momentum 0 --final-momentum 0 --weight-cost 0 ${recipe#*:}
    done
    # PyDeep's data as well: MNIST thresholded at 0.5 for training and test (its load_mnist(path,
    # True)), centered and plain PCD-1 for 200 epochs, both with visible biases from the data.
    for recipe in "centered-pcd-m0-e200-thr:--centered" "pcd-m0-e200-thr:"; do
        loglik_args="--binarize threshold" rbm_row "${recipe%%:*}" --layers 500 --pretrain-learning-rate 0.01 \
            --binarize threshold --negative-visible sample --initial-momentum 0 --final-momentum 0 --weight-cost 0 \
            --persistent --pretrain-epochs 200 ${recipe#*:}
    done
    # Log-likelihood against training time (user CPU seconds of the pre-training from times.txt:
    # the README's column; unlike wall seconds they do not grow when other work shares the cores).
    secs() { grep "^pretrain $1: " "$out/times.txt" | tail -1 | sed 's/.* \([0-9]*\) s user CPU.*/\1/'; }
    args=()
    for name in s2008-cd1 s2008-cd1-mean s2008-cd3 s2008-cd25 pcd centered-pcd pcd-e10 pt10-e10 centered-pcd-m0-e200 pt10-m0-e10 \
                pcd-m0-e100 centered-pcd-m0-e200-thr pcd-m0-e200-thr; do
        [ -f "$out/loglik-$name.txt" ] && args+=(--run "$name" "$out/loglik-$name.txt" "$(secs "$name")")
    done
    python3 scripts/plot.py loglik "${args[@]}" --x-label "training time (user CPU seconds of the pre-training; log scale)" \
        --output "$out/loglik-time.png"
fi
if want generative-small; then
    # The generative DBN of Hinton, Osindero & Teh 2006 on a reduced budget (the README's figures):
    # 784-500-500-2000 with 10 label units in the top RBM, the first 10000 training images,
    # 30 CD-1 epochs per layer, then 10 epochs of up-down (CD-3, 6, 10 over thirds).
    timed "generative (reduced)" $dbn generative --limit 10000 --pretrain-epochs 30 --up-down-epochs 10 \
        --cd-schedule 3,6,10 --seed 1 --greedy-output "$out/generative-small-greedy.safetensors" \
        --up-down-test-every 1 --log "$out/generative-small.jsonl" \
        --output "$out/generative-small.safetensors" --json | tee "$out/generative-small.txt"
    # The dreams, classified by the backprop-trained net of the train step when it is there.
    classifier=(); [ -f "$out/model.safetensors" ] && classifier=(--classifier "$out/model.safetensors")
    $dbn dream --model "$out/generative-small-greedy.safetensors" --all-labels --count 10 --steps 1000 \
        --output "$out/dream-greedy.png" "${classifier[@]}" | tee "$out/dream-greedy.txt"
    $dbn dream --model "$out/generative-small.safetensors" --all-labels --count 10 --steps 1000 \
        --output "$out/dream-up-down.png" --frames 10 --frames-output "$out/dream-chain.png" "${classifier[@]}" \
        | tee "$out/dream-up-down.txt"
fi
if want generative-top; then
    # The top RBM with 10 label units (500 + 10 -> 2000) trained alone, on all 60000 images, on the
    # two lower RBMs of the hinton2006 step's stack (50 CD-1 epochs each, full data): 30 epochs of
    # CD-1 (the paper's greedy sweeps, our defaults) and of PCD-1 without momentum or weight cost
    # (learning rate 0.02).
    classifier=(); [ -f "$out/model.safetensors" ] && classifier=(--classifier "$out/model.safetensors")
    for recipe in "cd1:" "pcd:--persistent --pretrain-learning-rate 0.02 --initial-momentum 0 --final-momentum 0 --weight-cost 0"; do
        name=generative-top-${recipe%%:*}
        timed "$name" $dbn generative --lower-layers "$out/hinton2006.safetensors" --pretrain-epochs 30 \
            --up-down-epochs 0 --seed 1 ${recipe#*:} --output "$out/$name.safetensors" --json | tee "$out/$name.txt"
    done
    # Then 30 epochs of up-down from the PCD model (CD-3, 6, 10 for 10 epochs each).
    timed "generative-top-pcd-ud30" $dbn generative --greedy-model "$out/generative-top-pcd.safetensors" \
        --up-down-epochs 30 --cd-schedule 3,6,10 --seed 1 --up-down-test-every 1 --log "$out/generative-top-pcd-ud30.jsonl" \
        --output "$out/generative-top-pcd-ud30.safetensors" --json | tee "$out/generative-top-pcd-ud30.txt"
    # Up-down with persistent chains in the top RBM (PCD-1, no momentum, learning rate 0.03) for 30
    # and 150 epochs (the first 30 of the long run are the short run's, bit for bit), and CD-3 with
    # the default momentum for 80 epochs; test error every 3 / 5 / 10 epochs.
    timed "generative-top-pcd-udp30" $dbn generative --greedy-model "$out/generative-top-pcd.safetensors" \
        --up-down-epochs 30 --cd-schedule 1 --up-down-persistent --up-down-initial-momentum 0 --up-down-momentum 0 \
        --up-down-learning-rate 0.03 --seed 1 --up-down-test-every 3 --log "$out/generative-top-pcd-udp30.jsonl" \
        --output "$out/generative-top-pcd-udp30.safetensors" --json | tee "$out/generative-top-pcd-udp30.txt"
    timed "generative-top-pcd-udp150" $dbn generative --greedy-model "$out/generative-top-pcd.safetensors" \
        --up-down-epochs 150 --cd-schedule 1 --up-down-persistent --up-down-initial-momentum 0 --up-down-momentum 0 \
        --up-down-learning-rate 0.03 --seed 1 --up-down-test-every 5 --log "$out/generative-top-pcd-udp150.jsonl" \
        --output "$out/generative-top-pcd-udp150.safetensors" --json | tee "$out/generative-top-pcd-udp150.txt"
    timed "generative-top-pcd-ud80" $dbn generative --greedy-model "$out/generative-top-pcd.safetensors" \
        --up-down-epochs 80 --cd-schedule 3 --seed 1 --up-down-test-every 10 --log "$out/generative-top-pcd-ud80.jsonl" \
        --output "$out/generative-top-pcd-ud80.safetensors" --json | tee "$out/generative-top-pcd-ud80.txt"
    # The dreams of every model (100 each, 10 per label), plain and annealed (the first 500 of 1000
    # steps), dream seeds 1-3, classified by the train step's net.
    for model in cd1 pcd pcd-ud30 pcd-udp30 pcd-udp150 pcd-ud80; do
        for anneal in 0 500; do
            for seed in 1 2 3; do
                suffix=$([ "$anneal" = 0 ] || echo "-anneal")$([ "$seed" = 1 ] || echo "-s$seed")
                $dbn dream --model "$out/generative-top-$model.safetensors" --all-labels --count 10 --steps 1000 \
                    --anneal $anneal --seed $seed --output "$out/dream-top-$model$suffix.png" "${classifier[@]}" \
                    | tee "$out/dream-top-$model$suffix.txt"
            done
        done
    done
fi
if named generative; then
    # The paper's full recipe: all 60000 images, 30 CD-1 sweeps per layer, then 300 epochs of
    # up-down with CD-3, CD-6 and CD-10 for 100 epochs each (not yet run: many hours on 2 cores).
    timed "generative" $dbn generative --pretrain-epochs 30 --up-down-epochs 300 --cd-schedule 3,6,10 --seed 1 \
        --checkpoint-dir "$out/generative-checkpoints" --greedy-output "$out/generative-greedy.safetensors" \
        --output "$out/generative.safetensors" --json | tee "$out/generative.txt"
    $dbn dream --model "$out/generative.safetensors" --all-labels --count 10 --steps 1000 \
        --output "$out/dream-full.png" --frames 10 --frames-output "$out/dream-full-chain.png"
fi
if want pictures; then
    $dbn filters --model "$out/model.safetensors" --output "$out/filters.png" --count 100
    $dbn reconstruct --model "$out/model.safetensors" --output "$out/reconstructions.png" --count 20
    $dbn sample --model "$out/model.safetensors" --output "$out/samples.png" --count 20 --steps 200
    [ -f "$out/rbm-s2008-cd25.safetensors" ] && $dbn sample --model "$out/rbm-s2008-cd25.safetensors" \
        --output "$out/samples-rbm-cd25.png" --count 20 --layer 0 --steps 1000
fi
if want plots; then
    python3 scripts/plot.py curves "$out/train.jsonl" --output "$out/curves.png" --title "dbn train (defaults)"
    for name in compare-seeds-reduced deep-grid-seeds-reduced deep-xor; do
        [ -f "$out/$name.json" ] && python3 scripts/plot.py gradients "$out/$name.json" --output "$out/$name-gradients.png"
    done
    logs=(); for name in dropout dropout-long dropout-recipe; do
        [ -f "$out/hinton2006-$name.jsonl" ] && logs+=("$out/hinton2006-$name.jsonl")
    done
    [ ${#logs[@]} -gt 0 ] && python3 scripts/plot.py curves "${logs[@]}" \
        --output "$out/hinton2006-dropout-curves.png" --title "dropout fine-tuning of the 2006 stack"
fi
if want bench; then
    bash scripts/bench/run.sh | tee "$out/bench.txt"
fi
