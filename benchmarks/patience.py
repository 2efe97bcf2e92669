"""What stopping fresh Eves early saves, and whether it changes a verdict.

Evaluates the first S pairs (or trained pairs) of a symmetric run twice on this
machine, side by side: fresh Eves with the fixed budget of --steps (the
baseline), then the same Eves, same keys, stopped once their held-out error
has not improved for --patience steps (config.eval.patience), with --steps as
the cap. It prints, for both, wall time, process CPU time, the Eve-steps
actually trained, and per pair and attacker the best fresh Eve's bits wrong
(soft and hard) and the verdicts they give (robust: the paper Eve at or above
the config's bound; every attacker within the `secure` margin of chance);
then the speed-up and how many verdicts differ. JSON to --out.

  python benchmarks/patience.py --workdir=WORKDIR --seeds=4 --attackers=paper,mlp \\
      --steps=4000 --patience=1000 --every=250

Stopped Eves cost nothing only where each device runs its Eves one after another
(`lax.map`, the CPU default): there a stopped Eve's chunk is skipped by
`lax.cond`. Under `vmap` (accelerators) `cond` computes both branches, so the
saving there is zero (measured on an H200: docs/performance.md). Compilation is
inside both timings.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
import jax
import numpy as np

from adversarial_crypto import config as config_lib
from adversarial_crypto.analysis import cipher
from adversarial_crypto.evaluation import evaluator
from adversarial_crypto.evaluation import verdicts
from adversarial_crypto.training import sharding


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--workdir', required=True, help='a trained symmetric run')
  parser.add_argument('--seeds', type=int, default=4, help='evaluate its first S pairs')
  parser.add_argument('--trained-only', action='store_true',
                      help='the first S pairs that met the training goals')
  parser.add_argument('--attackers', default='paper,mlp')
  parser.add_argument('--eves', type=int, default=5, help='fresh Eves per pair and attacker')
  parser.add_argument('--steps', type=int, default=4000, help='the budget, and the cap')
  parser.add_argument('--patience', type=int, default=1000)
  parser.add_argument('--every', type=int, default=250, help='measure every this many steps')
  parser.add_argument('--batch', type=int, default=512, help="fresh Eves' minibatch")
  parser.add_argument('--out', default='patience.json')
  args = parser.parse_args(argv)
  for name in ('seeds', 'eves', 'steps', 'every', 'batch', 'patience'):
    if getattr(args, name) < 1:
      parser.error(f'--{name} must be at least 1, got {getattr(args, name)}')
  if args.patience % args.every or args.steps % args.every:
    parser.error(f'--patience ({args.patience}) and --steps ({args.steps}) must be multiples '
                 f'of --every ({args.every}): Eves are measured, and stop, only then')
  return args


def evaluate(config, params, patience):
  """One evaluation: (EvalResult, wall seconds, process CPU seconds)."""
  config = config_lib.override(config, {'eval.patience': patience})
  wall, cpu = time.time(), time.process_time()
  result = evaluator.evaluate_alices(config, params, log=lambda line: None)
  return result, time.time() - wall, time.process_time() - cpu


def figures(config, result, trained):
  """Per pair: each attacker's best bits / hard bits, and the two verdicts."""
  bound, secure_bound = config.success.retrained_eve_bits, verdicts.secure_bits(config)
  rows = []
  for pair in range(len(trained)):
    best = {name: (float(np.min(result.best_bits[name][pair])),
                   float(np.min(result.best_hard_bits[name][pair])))
            for name in result.best_bits}
    robust = bool(trained[pair]) and best['paper'][0] >= bound
    rows.append({'pair': pair, 'best': best, 'robust': robust,
                 'within_secure_margin': all(h >= secure_bound for _, h in best.values())})
  return rows


def main(argv=None):
  args = parse_args(argv)
  sharding.one_device_per_core()
  run = cipher.load_run(args.workdir)
  chosen = [s for s in range(run.num_seeds) if run.trained[s] or not args.trained_only]
  chosen = np.array(chosen[:args.seeds])
  if not len(chosen):
    sys.exit(f'error: no trained pair in {args.workdir}; leave out --trained-only')
  seeds = len(chosen)
  pick = lambda tree: jax.tree_util.tree_map(lambda x: x[chosen], tree)
  params = {'alice': pick(run.alice), 'bob': pick(run.bob)}
  trained = [bool(t) for t in np.asarray(run.trained)[chosen]]
  config = config_lib.override(run.config.as_configdict() if hasattr(run.config, 'as_configdict')
                               else run.config, {
      'eval.attackers': config_lib.attacker_names(args.attackers),
      'eval.num_eves': args.eves, 'eval.steps': args.steps, 'eval.every': args.every,
      'eval.batch_size': args.batch})
  config_lib.validate_eval(config)
  out = {'workdir': os.path.abspath(args.workdir), 'seeds': chosen.tolist(), 'args': vars(args),
         'device': str(jax.devices()[0]), 'backend': jax.default_backend(),
         'eve_loop': sharding.default_loop(), 'jax': jax.__version__}
  print(f'pairs {chosen.tolist()} of {args.workdir} (trained: {trained}), attackers {args.attackers}, '
        f'{args.eves} Eves each, cap {args.steps} steps, measured every {args.every}; '
        f'{jax.default_backend()}, Eves run by {sharding.default_loop()}', flush=True)
  for mode, patience in (('fixed', 0), ('patience', args.patience)):
    result, wall, cpu = evaluate(config, params, patience)
    eve_steps = int(sum(np.sum(s) for s in result.eve_steps.values()))
    out[mode] = {'patience': patience, 'wall_s': wall, 'cpu_s': cpu, 'eve_steps': eve_steps,
                 'pairs': figures(config, result, trained)}
    print(f'{mode:8s} patience {patience:6d}: {wall:7.1f} s wall, {cpu:7.1f} s CPU, '
          f'{eve_steps:9d} Eve-steps trained', flush=True)
  fixed, early = out['fixed'], out['patience']
  differ = [p['pair'] for p, q in zip(fixed['pairs'], early['pairs'])
            if (p['robust'], p['within_secure_margin']) != (q['robust'], q['within_secure_margin'])]
  out['speedup_wall'] = fixed['wall_s'] / early['wall_s']
  out['speedup_cpu'] = fixed['cpu_s'] / early['cpu_s']
  out['eve_steps_ratio'] = fixed['eve_steps'] / early['eve_steps']
  out['verdicts_differ_on_pairs'] = differ
  print('pair  attacker   fixed bits/hard   patience bits/hard')
  for p, q in zip(fixed['pairs'], early['pairs']):
    for name in p['best']:
      print(f"{p['pair']:4d}  {name:9s}  {p['best'][name][0]:6.2f}/{p['best'][name][1]:5.2f}"
            f"      {q['best'][name][0]:6.2f}/{q['best'][name][1]:5.2f}")
  print(f"speed-up with patience: {out['speedup_wall']:.2f}x wall, {out['speedup_cpu']:.2f}x CPU, "
        f"{out['eve_steps_ratio']:.2f}x fewer Eve-steps; verdicts (robust, within the secure "
        f"margin) differ on pairs {differ or 'none'}")
  with open(args.out, 'w') as f:
    json.dump(out, f, indent=2)
  print(f'wrote {args.out}')


if __name__ == '__main__':
  main()
