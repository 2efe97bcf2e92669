"""How near singular the free matrices of keyed_orthogonal networks end their training.

  python benchmarks/factor_conditioning.py --workdir=W [--workdir=...] [--out=F.json]

Each of A, B and W (networks.keyed_orthogonal) is the orthogonal factor Q of a free
matrix M = QR. Q does not depend on R, so nothing in the loss holds R where it is,
while each Adam step moves every weight by about the learning rate; and Q's gradient
goes through R^-1, growing as M's smallest singular value falls (a suspect when a seed
diverges). Per run and per network (Alice, Bob) and factor: the smallest singular value
of M over seeds (median and least), how many seeds have one below the learning rate,
the largest condition number, and the seeds whose weights are not finite; beside them,
as the baseline, the same figures of the run's own initial weights (drawn again from
its config and seed keys). W is a workdir or a results directory holding
alice_bob.npz.
"""

import argparse
import json

import numpy as np

import adversarial_crypto as ac
from adversarial_crypto.core import networks
from adversarial_crypto.training import runner as runner_lib

FACTORS = networks.ORTHOGONAL_FACTORS


def singular_values(params):
  """{factor: (seeds, 2) array of the least and the greatest singular value, NaN where
  a seed's matrix is not finite}."""
  out = {}
  for name in FACTORS:
    m = np.asarray(params[name], np.float64)
    rows = []
    for seed_m in m:
      if not np.all(np.isfinite(seed_m)):
        rows.append((np.nan, np.nan))
        continue
      s = np.linalg.svd(seed_m, compute_uv=False)
      rows.append((s[-1], s[0]))
    out[name] = np.array(rows)
  return out


def initial_weights(config):
  """{'alice': ..., 'bob': ...}: every seed's weights at step 0, as its run drew them."""
  runner = runner_lib.make_runner(config)
  return runner.init().train.alice_bob


def run_rows(workdir):
  """One dict per (when, network, factor) of a run, with the per-seed least singular
  values; `when` is 'trained' (the run's last weights) or 'initial'."""
  run = ac.load_run(workdir)
  if run.config.arch != 'keyed_orthogonal':
    raise SystemExit(f'error: {workdir} is arch {run.config.arch!r}; this reads '
                     "keyed_orthogonal networks (configs/perfect16.py's recipes)")
  lr = float(run.config.learning_rate)
  initial = initial_weights(run.config)
  rows = []
  for when, network, params in (('initial', 'alice', initial['alice']),
                                ('initial', 'bob', initial['bob']),
                                ('trained', 'alice', run.alice), ('trained', 'bob', run.bob)):
    for name, sv in singular_values(params).items():
      finite = np.isfinite(sv[:, 0])
      least = sv[finite, 0]
      rows.append({'when': when, 'network': network, 'factor': name, 'learning_rate': lr,
                   'least_singular_value': [None if not f else float(v)
                                            for f, v in zip(finite, sv[:, 0])],
                   'median_least': float(np.median(least)), 'min_least': float(least.min()),
                   'max_condition': float((sv[finite, 1] / least).max()),
                   'seeds_below_learning_rate': int((least < lr).sum()),
                   'seeds_not_finite': [int(i) for i in np.flatnonzero(~finite)]})
  return rows


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--workdir', action='append', required=True,
                      help='a keyed_orthogonal run (repeat for several)')
  parser.add_argument('--out', help='write the figures as JSON here')
  args = parser.parse_args()
  result = {}
  for workdir in args.workdir:
    rows = run_rows(workdir)
    result[workdir] = rows
    seeds = len(rows[0]['least_singular_value'])
    print(f'{workdir}: {seeds} seeds, learning rate {rows[0]["learning_rate"]}')
    print('  weights  network factor  median least sv  least sv  max condition  seeds below lr  '
          'not finite')
    for r in rows:
      finite = seeds - len(r['seeds_not_finite'])
      print(f'  {r["when"]:7s}  {r["network"]:7s} {r["factor"]:6s}  {r["median_least"]:15.4g}  '
            f'{r["min_least"]:8.3g}  {r["max_condition"]:13.4g}  '
            f'{r["seeds_below_learning_rate"]:8d} of {finite:<3d}  {r["seeds_not_finite"] or "-"}')
  if args.out:
    with open(args.out, 'w') as f:
      json.dump(result, f, indent=1)


if __name__ == '__main__':
  main()
