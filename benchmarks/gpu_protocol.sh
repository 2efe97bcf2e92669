#!/usr/bin/env bash
# The paper's protocol for configs/sym16.py (20 seeds, minibatch 4096, up to
# 150,000 steps, then 5 fresh Eves x 250,000 steps per pair and attacker) on one
# GPU, in pieces that fit a time limit and resume.
#
#   bash benchmarks/gpu_protocol.sh [SECONDS] [WORKDIR] [OUT]
#
# SECONDS (default 540) bounds this call. It measures the evaluator's
# Eve-steps/s (paper and mlp attackers, benchmarks/throughput.py --skip-train),
# then trains (python -m adversarial_crypto.main --evaluate=false) until the
# time is nearly up, then evaluates (python -m adversarial_crypto.evaluate) with
# what is left. SIGTERM makes either save its last chunk, so the same command
# resumes where it stopped. With PEERS=DIR, the PyTorch yardsticks
# (DIR/peer_torch.py, DIR/peer_torch_compiled.py) are timed on the GPU first, one
# seed per process as they are written. CONFIG=configs/X.py runs another config
# (the projection assumes 20 seeds and 150,000 steps); EVAL='--config.eval.X=...'
# passes overrides to the evaluation; SKIP_THROUGHPUT=1 skips the first measurement
# (for a call that resumes a run). It prints training seed-steps/s,
# Eve-steps/s and the projected wall time of the whole protocol, and writes them
# to OUT/gpu_protocol.json (OUT defaults to WORKDIR;
# benchmarks/protocol_report.py).
set -uo pipefail

budget=${1:-540}
workdir=${2:-runs/gpu_sym16}
out=${3:-$workdir}
mkdir -p "$workdir" "$out"
start=$(date +%s)
left() { echo $(( budget - ($(date +%s) - start) )); }
export PYTHONUNBUFFERED=1

python3 -c 'import jax; print("jax", jax.__version__, jax.devices())'

if [ -z "${SKIP_THROUGHPUT:-}" ]; then
echo "== evaluator throughput (20 pairs x 5 fresh Eves x paper,mlp; minibatch 4096)"
timeout 150 python3 benchmarks/throughput.py --skip-train --batch 4096 --seeds 20 \
  --attackers paper,mlp --steps "${EVAL_STEPS:-500}" --repeats 3 --out "$out/eval_throughput.json"
fi

if [ -n "${PEERS:-}" ]; then
  for peer in peer_torch peer_torch_compiled; do
    echo "== $peer on the GPU (one seed; torch default device cuda)"
    timeout 75 python3 -c "import runpy, sys, torch
torch.set_default_device('cuda')
sys.path.insert(0, '$PEERS'); sys.argv = ['$peer', '16', '4096', '300']
runpy.run_path('$PEERS/$peer.py', run_name='__main__')" 2>&1 | tail -2 | tee "$out/$peer.txt"
  done
fi

echo "== training: ${CONFIG:-configs/sym16.py} in $workdir ($(left) s left)"
train_s=$(( $(left) - 25 ))
if [ "$train_s" -gt 30 ]; then
  timeout -s TERM "$train_s" python3 -m adversarial_crypto.main --config="${CONFIG:-configs/sym16.py}" \
    --workdir="$workdir" --evaluate=false 2>&1 | tee -a "$out/train.log"
fi

python3 benchmarks/protocol_report.py "$workdir" "$out" "$(left)" "$budget"
eval_s=$(( $(left) - 10 ))
if grep -q '"finished": true' "$workdir/summary.json" && [ "$eval_s" -gt 60 ]; then
  echo "== evaluation, resumed if it was started ($(left) s left)"
  # shellcheck disable=SC2086
  timeout -s TERM "$eval_s" python3 -m adversarial_crypto.evaluate --workdir="$workdir" \
    ${EVAL:-} 2>&1 | tee -a "$out/eval.log"
else
  echo "evaluation not started: training unfinished or too little time left; run again to resume"
fi
