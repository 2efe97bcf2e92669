"""Ablation of the secure-training recipes (configs/secure16.py): what matters.

Each recipe is trained and evaluated by the seed-sweep benchmark (its
'ablation' preset: 4 seeds, minibatch 512, 15,000 steps, 3 fresh Eves per
attacker x 2,000 steps); this script reads the finished workdirs and prints
one table: per recipe, seeds S, trained / robust / secure k/S with 95%
Clopper-Pearson intervals, Bob's median bits wrong (and how many seeds reach
0.05), and per attacker the median [range] over ALL seeds (not only trained
ones) of the best fresh Eve's hard-decision bits wrong, with how many seeds
stay at or above the bound. Runs under other protocols may be listed too;
each row names its protocol differences in the JSON.

  for r in strong_eves curriculum weighted best mlp_pair mlp_pair_weighted3; do
    python benchmarks/success_rate.py --preset=ablation --configs=secure16:$r \\
        --workdir=runs/ablation/$r --out=runs/ablation/$r.json
  done
  python benchmarks/ablation_secure.py --out=runs/ablation.json \\
      --runs=strong_eves=runs/ablation/strong_eves,curriculum=runs/ablation/curriculum,...

Few seeds give wide intervals; the table prints them.
"""

import json
import os
import sys

from absl import app
from absl import flags
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
from adversarial_crypto.training import workdir as workdir_lib

_RUNS = flags.DEFINE_list('runs', None, 'RECIPE=WORKDIR pairs: finished, evaluated runs.')
_OUT = flags.DEFINE_string('out', None, 'Where to write the table as JSON.')


def seed_details(summary, bound):
  """Bob's and each attacker's per-seed figures from a run's summary.json."""
  bob = np.array([s['bob_bits'] for s in summary['seeds']])
  attackers = {}
  for name in summary['seeds'][0].get('retrained_eves', {}):
    hard = np.array([s['retrained_eves'][name]['best_hard_bits'] for s in summary['seeds']])
    attackers[name] = {'median_best_hard_bits': float(np.median(hard)),
                       'min_best_hard_bits': float(np.min(hard)),
                       'max_best_hard_bits': float(np.max(hard)),
                       'seeds_at_or_above_bound': int(np.sum(hard >= bound))}
  return {'bob_median_bits': float(np.median(bob)),
          'bob_seeds_at_most_0.05': int(np.sum(bob <= 0.05)), 'attackers': attackers}


def ablation_row(recipe, workdir):
  """One recipe's row from its workdir's summary.json."""
  summary = workdir_lib.read_summary(workdir)
  if 'evaluation' not in summary:
    raise ValueError(f'{workdir} has not been evaluated: run python -m '
                     f'adversarial_crypto.evaluate --workdir={workdir}')
  evaluation = summary['evaluation']
  bound = evaluation['retrained_eve_bits']
  return {'recipe': recipe, 'workdir': os.path.abspath(workdir),
          'seeds': len(summary['seeds']), 'steps': summary['max_steps'],
          'trained': summary['trained'], 'robust': summary['robust'],
          'secure': summary['secure'], 'bound_bits': bound,
          'fresh_eves': {k: evaluation['config'][k] for k in ('num_eves', 'steps', 'attackers')},
          **seed_details(summary, bound),
          'protocol_differences': evaluation['protocol_differences']}


def format_table(rows):
  def rate(r):
    return f"{r['count']}/{r['n']} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]"
  names = sorted({a for r in rows for a in r['attackers']})
  head = ['recipe', 'S', 'steps', 'fresh Eves', 'trained', 'robust', 'secure', 'Bob median (<=0.05)'] + [
      f'{a}: median best hard bits (>= bound)' for a in names]
  lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
  for r in rows:
    eves = r['fresh_eves']
    cells = [r['recipe'], str(r['seeds']), str(r['steps']),
             f"{eves['num_eves']} x {eves['steps']}", rate(r['trained']), rate(r['robust']),
             rate(r['secure']), f"{r['bob_median_bits']:.3f} ({r['bob_seeds_at_most_0.05']})"]
    for a in names:
      x = r['attackers'].get(a)
      cells.append('-' if x is None else
                   f"{x['median_best_hard_bits']:.2f} [{x['min_best_hard_bits']:.2f}, "
                   f"{x['max_best_hard_bits']:.2f}] ({x['seeds_at_or_above_bound']})")
    lines.append('| ' + ' | '.join(cells) + ' |')
  lines.append('95% Clopper-Pearson intervals. Hard bits: the best of each attacker\'s fresh '
               'Eves, per seed, over all seeds; (n): seeds with Bob <= 0.05, or at or above '
               f"the bound of {rows[0]['bound_bits']:g} bits.")
  return '\n'.join(lines)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  if not _RUNS.value:
    raise app.UsageError('--runs: give RECIPE=WORKDIR pairs of finished, evaluated runs')
  pairs = [item.partition('=') for item in _RUNS.value]
  if any(not sep or not recipe or not path for recipe, sep, path in pairs):
    raise app.UsageError(f'--runs takes RECIPE=WORKDIR pairs, got {_RUNS.value}')
  rows = [ablation_row(recipe, path) for recipe, _, path in pairs]
  table = format_table(rows)
  print(table)
  if _OUT.value:
    with open(_OUT.value, 'w') as f:
      json.dump({'rows': rows, 'table': table, 'argv': sys.argv}, f, indent=2)
    print(f'wrote {_OUT.value}')


if __name__ == '__main__':
  app.run(main)
