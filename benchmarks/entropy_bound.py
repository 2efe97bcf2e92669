"""The weights' lower bound of H(P | C) of each seed, beside the key search's figure.

  python benchmarks/entropy_bound.py --workdir=WORKDIR [--workdir=...] [--out=F.json]

pad_structure.entropy_bound gives, for keyed product-unit Alices sending signs, a
lower bound of H(P | C) over every plaintext, key and ciphertext from the weights
alone; beyond 20 key bits the evaluator's `perfect` rests on it. Within 20 bits the
run's exhaustive key search measured H(P | C) on sampled ciphertexts, so the two can
be set side by side: per seed the bound, the search's mean, both verdicts (trained
and within success.perfect_margin_bits of N) and whether they agree. A bound above
the search's figure by more than the search's sampling could explain would be a
bug in one of them.
"""

import argparse
import json
import time

import jax
import numpy as np

import adversarial_crypto as ac
from adversarial_crypto.analysis import pad_structure
from adversarial_crypto.evaluation import leakage


def bound_run(workdir):
  """Per-seed rows of one evaluated run."""
  run = ac.load_run(workdir)
  config = run.config
  if not leakage.proof_applies(config):
    raise SystemExit(f'error: {workdir} is arch {config.arch!r} with {config.ciphertext!r} '
                     'ciphertexts; this needs a keyed arch sending signs')
  need = leakage.perfect_bits(config)
  seeds = (run.summary or {}).get('seeds', [])
  rows = []
  for s in range(jax.tree_util.tree_leaves(run.alice)[0].shape[0]):
    alice = jax.tree_util.tree_map(lambda x, s=s: np.asarray(x[s]), run.alice)
    start = time.time()
    bound = pad_structure.entropy_bound(alice, config.arch)
    seed = seeds[s] if s < len(seeds) else {}
    leak = seed.get('leakage') or {}
    trained = bool(seed.get('trained'))
    rows.append({'seed': s, 'trained': trained, 'bound_bits': bound['bits'],
                 'flips_bound': bound['flips'], 'reason': bound['reason'],
                 'search_bits_mean': leak.get('entropy_bits_mean') if leak.get('found') is not None
                                     else None,
                 'perfect': seed.get('perfect'),
                 'perfect_by_bound': trained and bound['bits'] >= need,
                 'wall_s': time.time() - start})
  return config, need, rows


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--workdir', action='append', required=True, help='an evaluated keyed run')
  parser.add_argument('--out', help='write the figures as JSON here')
  args = parser.parse_args()
  runs, agree, total = [], 0, 0
  fmt = lambda x: '-' if x is None else f'{x:.4f}'
  for workdir in args.workdir:
    config, need, rows = bound_run(workdir)
    print(f'{workdir}: N = {config.msg_bits}, perfect needs {need:g} bits')
    print('seed  trained  bound    search   perfect  by bound  s')
    for r in rows:
      print(f"{r['seed']:4d}  {str(r['trained']):7s}  {fmt(r['bound_bits'])}  "
            f"{fmt(r['search_bits_mean']):7s}  {str(r['perfect']):7s}  "
            f"{str(r['perfect_by_bound']):8s}  {r['wall_s']:.1f}")
      if r['perfect'] is not None:
        total += 1
        agree += r['perfect'] == r['perfect_by_bound']
    runs.append({'workdir': workdir, 'msg_bits': config.msg_bits, 'perfect_bits': need,
                 'seeds': rows})
  print(f'the bound and the run\'s `perfect` agree on {agree} of {total} seeds')
  if args.out:
    with open(args.out, 'w') as f:
      json.dump({'runs': runs, 'agree': agree, 'judged': total}, f, indent=1)


if __name__ == '__main__':
  main()
