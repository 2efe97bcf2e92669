#!/usr/bin/env bash
# configs/perfect32.py and configs/perfect64.py (docs/one_time_pad.md) on one GPU:
# more seeds than the 2-core CPU can afford, each trained and judged (fresh Eves,
# the bound of H(P | C) from the weights) by python -m adversarial_crypto.main.
#
#   bash benchmarks/gpu_perfect.sh [SECONDS] [ROOT] [OUT]
#
# SECONDS (default 540) bounds this call. RUNS lists CONFIG[/RECIPE]:ROOT_SEED:SEEDS
# (default "perfect32:11:40 perfect64:2:20": each config's default recipe, on roots no
# run of it used); CONFIG/RECIPE runs configs/CONFIG.py:RECIPE, e.g.
# perfect32/logistic_bob:2:40 (the run of docs/performance.md). The runs share the GPU
# at once, and each stops with its last chunk saved (SIGTERM) 40 s before the time is
# up, so the same command resumes on the same (warm) machine. On an H200 that
# logistic_bob run at N = 32 trained in 471 s beside one at N = 64, which reached step
# 4,500 of 12,000 (docs/performance.md): neither is judged within one 10-minute call,
# so give each run a call of its own. EXTRA adds flags to every run
# (a short smoke test: EXTRA='--config.max_steps=600 ...'). Matrix products run
# at full float32 (PRECISION, default highest), as on the CPU where the recipe was
# made, not TF32. ROOT holds the workdirs (default runs/gpu_perfect); OUT gets
# one NAME.tar.gz per run (summary.json, metrics, logs, figures and
# alice_bob.npz, workdir.export_weights: every seed's Alice and Bob, which
# adversarial_crypto.load_run reads without the checkpoint, too large to carry).
set -uo pipefail

budget=${1:-540}
root=${2:-runs/gpu_perfect}
out=${3:-$root}
mkdir -p "$root" "$out"
start=$(date +%s)
left() { echo $(( budget - ($(date +%s) - start) )); }
export PYTHONUNBUFFERED=1
export JAX_DEFAULT_MATMUL_PRECISION=${PRECISION:-highest}
python3 -c 'import jax, os; print("jax", jax.__version__, jax.devices(), "cpus", os.cpu_count())'

read -r -a runs <<< "${RUNS:-perfect32:11:40 perfect64:2:20}"
read -r -a extra <<< "${EXTRA:-}"
# The runs share the GPU at once: one step of a few dozen seeds is far too small to
# fill it.
export XLA_PYTHON_CLIENT_MEM_FRACTION=$(python3 -c "print(round(0.9 / ${#runs[@]}, 2))")
share=$(( $(left) - 40 ))
names=()
for spec in "${runs[@]}"; do
  IFS=: read -r config seed seeds <<< "$spec"
  # CONFIG/RECIPE -> configs/CONFIG.py:RECIPE, named CONFIG_RECIPE_rootS_N.
  module=${config%%/*}
  recipe=${config#"$module"}
  path=configs/$module.py${recipe/\//:}
  name=${config//\//_}_root${seed}_${seeds}
  names+=("$name")
  echo "== $name: $path, root $seed, $seeds seeds (${share} s)"
  timeout -s TERM "$share" python3 -m adversarial_crypto.main --config="$path" \
    --config.seed="$seed" --config.num_seeds="$seeds" --workdir="$root/$name" "${extra[@]}" \
    > "$root/$name.log" 2>&1 &
done
wait
for name in "${names[@]}"; do
  echo "== $name"; grep '^step ' "$root/$name.log" | tail -2
  sed -n '/^retraining /,/^Protocol/p' "$root/$name.log" | grep -v '^fresh Eves step' | tail -60
  python3 -c "from adversarial_crypto.training import workdir as w
print(w.export_weights('$root/$name'))"
  cp "$root/$name.log" "$root/$name/run.log"
  tar -czf "$out/$name.tar.gz" -C "$root" --exclude=checkpoint.msgpack --exclude=eval_checkpoint.msgpack \
    --exclude=.lock "$name"
done
echo "done in $(( $(date +%s) - start )) s"
