#!/usr/bin/env bash
# Re-judges the project's 20-seed runs under the whole attacker family on one GPU:
# the paper's recipe (configs/secure16.py:paper, judged by secure16's family) and
# the best secure recipe (configs/secure16.py), both at the `cpu` preset of
# benchmarks/success_rate.py (minibatch 512, up to 20,000 training steps), with
# fresh Eves of every attacker trained up to EVAL_STEPS (default 10,000, five times
# the preset's 2,000) and stopped after PATIENCE steps without improvement
# (default 2,500). Each Eve's steps and whether she was still improving at the
# cap are recorded with the verdicts.
#
#   bash benchmarks/gpu_verdicts.sh [SECONDS] [ROOT] [OUT]
#
# SECONDS (default 540) bounds this call; each config's train-and-evaluate is
# given a share of what is left and stops with its last chunk saved (SIGTERM),
# so the same command resumes. ROOT holds the workdirs (default
# runs/gpu_verdicts), OUT the JSON tables and logs (default ROOT). CONFIGS
# overrides the list, SET adds success_rate --set overrides (space-separated
# FIELD=VALUE), EVERY how often Eves are measured (500), PRESET the preset
# (tiny to check the script).
set -uo pipefail

budget=${1:-540}
root=${2:-runs/gpu_verdicts}
out=${3:-$root}
mkdir -p "$root" "$out"
start=$(date +%s)
left() { echo $(( budget - ($(date +%s) - start) )); }
export PYTHONUNBUFFERED=1
python3 -c 'import jax; print("jax", jax.__version__, jax.devices())'

read -r -a configs <<< "${CONFIGS:-secure16 secure16:paper}"
sets=(--set "eval.steps=${EVAL_STEPS:-10000}" --set "eval.patience=${PATIENCE:-2500}"
      --set "eval.every=${EVERY:-500}")
for s in ${SET:-}; do sets+=(--set "$s"); done
n=${#configs[@]}
for i in "${!configs[@]}"; do
  name=${configs[$i]}
  # This config's share of what is left: three fifths, all of it for the last.
  share=$(( ($(left) - 10) * (i == n - 1 ? 5 : 3) / 5 ))
  if [ "$share" -lt 30 ]; then echo "$name: not started, too little time left"; continue; fi
  echo "== $name (${share} s of $(left) s left)"
  timeout -s TERM "$share" python3 benchmarks/success_rate.py --preset="${PRESET:-cpu}" \
    --configs="$name" --num_seeds=20 --workdir_root="$root" "${sets[@]}" \
    --out="$out/success_rate_${name/:/_}.json" 2>&1 | tee -a "$out/${name/:/_}.log"
done
echo "done in $(( $(date +%s) - start )) s"
