"""Training and evaluation rates of a gpu_protocol.sh call, and the projected
wall time of the whole sym16 protocol; writes OUT/gpu_protocol.json.

usage: python benchmarks/protocol_report.py WORKDIR OUT SECONDS_LEFT BUDGET
"""

import json
import os
import re
import statistics
import sys

SEEDS, MAX_STEPS, EVES, ATTACKERS, EVE_STEPS = 20, 150_000, 5, 2, 250_000


def main(workdir, out, left, budget):
  summary = json.load(open(os.path.join(workdir, 'summary.json')))
  log = open(os.path.join(out, 'train.log')).read()
  # Steps/s of the whole vmapped batch: under vmap a stopped seed is still
  # computed, so every step costs SEEDS seed-steps whatever has stopped. The
  # first chunk of each call includes compilation.
  rates = [float(r) for r in re.findall(r'\|\s*([0-9.]+) steps/s \(', log)]
  steady = rates[1:] or rates
  steps_per_s = statistics.median(steady) if steady else None
  train_s = MAX_STEPS / steps_per_s if steps_per_s else None
  try:
    ev = json.load(open(os.path.join(out, 'eval_throughput.json')))
  except FileNotFoundError:  # the measurement ran out of time
    ev = {'machine': None, 'eval_eve_steps_per_s': None, 'eval_compile_s': None}
  eve_rate = ev['eval_eve_steps_per_s']
  eval_s = SEEDS * EVES * ATTACKERS * EVE_STEPS / eve_rate if eve_rate else float('inf')
  trained = sum(s.get('trained', False) for s in summary['seeds'])
  report = {
      'device': ev['machine'], 'train_steps_per_s': steps_per_s,
      'train_seed_steps_per_s': steps_per_s and steps_per_s * SEEDS,
      'eval_eve_steps_per_s': eve_rate, 'eval_compile_s': ev['eval_compile_s'],
      'eval_loops': [ev.get('seed_loop'), ev.get('eve_loop')],
      'steps': summary['steps'], 'finished': summary['finished'], 'trained': trained,
      'train_wall_s_so_far': summary['wall_s'],
      'projected_train_s_150k_steps': train_s, 'projected_eval_s': eval_s,
      'projected_protocol_s': (train_s or 0) + eval_s, 'seconds_left': left,
      'command': f'bash benchmarks/gpu_protocol.sh {budget} {workdir} {out}'}
  with open(os.path.join(out, 'gpu_protocol.json'), 'w') as f:
    json.dump(report, f, indent=2)
  print(f"training: {steps_per_s} steps/s of {SEEDS} seeds = {report['train_seed_steps_per_s']} "
        f"seed-steps/s (minibatch 4096); step {summary['steps']}, trained {trained}/{SEEDS}, "
        f"finished {summary['finished']}, {summary['wall_s']:.0f} s so far")
  print(f'evaluator: {eve_rate} Eve-steps/s ({EVES} Eves x {ATTACKERS} attackers x {SEEDS} pairs)')
  print(f'projected: training <= {train_s and train_s / 60:.1f} min ({MAX_STEPS:,} steps), '
        f'evaluation {eval_s / 60:.1f} min ({SEEDS * EVES * ATTACKERS} Eves x {EVE_STEPS:,} steps), '
        f'protocol <= {((train_s or 0) + eval_s) / 60:.1f} min')


if __name__ == '__main__':
  if len(sys.argv) != 5:
    sys.exit(__doc__)
  main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
