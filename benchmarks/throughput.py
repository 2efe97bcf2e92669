"""Training and evaluation throughput of the symmetric experiment on this machine.

One run measures, at N bits and one minibatch size:
  - training seed-steps per second with 1 seed and with S seeds (one step =
    one Alice/Bob minibatch + two Eve minibatches), through the real runner;
  - the evaluator's Eve-steps per second summed over S pairs x 5 fresh Eves
    (the paper's attacker), through the real evaluator;
  - compile time apart from run time (first call minus a steady call);
  - peak resident memory of the process.
Rates are medians over repeated chunks, then over --rounds repeats of the
whole measurement. With --peer, a baseline command runs after each round, so
the ratio compares figures taken side by side. A table goes to stdout, JSON
to --out.

usage: python benchmarks/throughput.py [--n 16] [--batch 4096] [--seeds 20]
           [--steps 20] [--repeats 5] [--devices K] [--seed-loop map|vmap] [--eve-loop map|vmap]
           [--rounds R] [--peer COMMAND] [--out FILE]
           [--skip-train | --skip-eval] [--attackers paper,mlp]

--devices K splits the host CPU into K XLA devices
(--xla_force_host_platform_device_count) and shards the seeds (and the
evaluator's pairs) over them. The default is one device per core, as the
command-line tools use (sharding.one_device_per_core); --devices 1 measures
a single device.
"""

import argparse
import json
import os
import platform
import re
import resource
import shlex
import statistics
import subprocess
import sys
import time


def parse_args(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--n', type=int, default=16, help='message and key bits N')
  parser.add_argument('--batch', type=int, default=4096, help='minibatch size')
  parser.add_argument('--seeds', type=int, default=20, help='seeds (and evaluated pairs)')
  parser.add_argument('--eves', type=int, default=5, help='fresh Eves per pair')
  parser.add_argument('--arch', default='paper', choices=('paper', 'tf_models'))
  parser.add_argument('--steps', type=int, default=20, help='steps per timed chunk')
  parser.add_argument('--repeats', type=int, default=5, help='timed chunks per measurement')
  parser.add_argument('--devices', type=int, default=None,
                      help='split the host CPU into this many XLA devices '
                      '(default: one per core; 0: leave as is)')
  parser.add_argument('--seed-loop', default=None, choices=('map', 'vmap'),
                      help="how each device runs its seeds (default: the tools' own, "
                      "sharding.default_loop: map on CPU, vmap on accelerators)")
  parser.add_argument('--eve-loop', default=None, choices=('map', 'vmap'),
                      help="how the evaluator runs each device's Eves (default as --seed-loop)")
  parser.add_argument('--skip-eval', action='store_true')
  parser.add_argument('--skip-train', action='store_true',
                      help='measure only the evaluator (on freshly initialised Alices)')
  parser.add_argument('--attackers', default='paper',
                      help="the evaluator's attackers, comma-separated (config.eval.attackers)")
  parser.add_argument('--rounds', type=int, default=1,
                      help='repeat the whole measurement; figures are medians over rounds')
  parser.add_argument('--peer', help='a baseline command, run after each round, that prints '
                      '"X seed-steps/s" (for example a PyTorch version of one step)')
  parser.add_argument('--out', help='write the results as JSON here')
  return parser.parse_args(argv)


ARGS = parse_args()
if ARGS.devices:
  # Must be set before JAX starts; the device count is fixed then.
  os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') +
                             f' --xla_force_host_platform_device_count={ARGS.devices}')

import jax  # pylint: disable=g-import-not-at-top
import jax.numpy as jnp  # pylint: disable=g-import-not-at-top

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from adversarial_crypto.core import recipe  # pylint: disable=g-import-not-at-top
from adversarial_crypto.evaluation import attackers as attackers_lib  # pylint: disable=g-import-not-at-top
from adversarial_crypto.core import bits  # pylint: disable=g-import-not-at-top
from adversarial_crypto.evaluation import evaluator as evaluator_lib  # pylint: disable=g-import-not-at-top
from adversarial_crypto.training import runner as runner_lib  # pylint: disable=g-import-not-at-top
from adversarial_crypto.training import sharding  # pylint: disable=g-import-not-at-top
from configs import sym16  # pylint: disable=g-import-not-at-top


def make_config(args, num_seeds):
  config = sym16.get_config()
  config.msg_bits = config.key_bits = args.n
  config.arch = args.arch
  config.num_seeds = num_seeds
  config.batch_size = config.eval_batch_size = args.batch
  config.eval.batch_size = config.eval.eval_batch_size = args.batch
  config.eval.num_eves = args.eves
  config.eval.attackers = tuple(args.attackers.split(','))
  # No seed may stop inside the benchmark: a stopped seed skips its chunk.
  config.success.bob_bits = -1.0
  return config


def timed(fn, repeats, warmups=1):
  """(seconds of the warm-up calls, [steady call seconds]) of fn(), which must block."""
  t = time.perf_counter()
  for _ in range(warmups):
    fn()
  first = time.perf_counter() - t
  times = []
  for _ in range(repeats):
    t = time.perf_counter()
    fn()
    times.append(time.perf_counter() - t)
  return first, times


def bench_training(args, num_seeds):
  config = make_config(args, num_seeds)
  try:
    runner = runner_lib.make_runner(config, seed_loop=args.seed_loop)
  except TypeError:  # a checkout from before sharding, measured for comparison
    runner = runner_lib.make_runner(config)
  state = {'run': jax.block_until_ready(runner.init())}

  def chunk():
    state['run'] = jax.block_until_ready(runner.run_chunk(state['run'], args.steps))

  first, times = timed(chunk, args.repeats)
  median = statistics.median(times)
  return {'seed_steps_per_s': num_seeds * args.steps / median,
          'compile_s': max(first - median, 0.0), 'chunk_s': times,
          'devices': len(runner.mesh.devices.flat) if hasattr(runner, 'mesh') else 1,
          'run': state['run']}


def bench_eval(args, run):
  config = make_config(args, args.seeds)
  # As evaluator.evaluate_alices: Eves on batches as columns, the pairs split over
  # the devices, every input placed so.
  scheme = recipe.make_scheme(config, bits.COLUMNS)
  evaluator, ciphers, keys, eves = evaluator_lib.place(
      scheme.eve_view, run.train.alice_bob, config.msg_bits, config.key_bits, config.eval,
      evaluator_lib.eval_root_key(config), attackers_lib.make_attackers(config),
      layout=scheme.layout, eve_loop=args.eve_loop)
  state = {'eves': jax.block_until_ready(eves), 'step': 0}

  def chunk():
    state['eves'], _ = jax.block_until_ready(evaluator.run_chunk(
        state['eves'], ciphers, keys, jnp.int32(state['step']), args.steps))
    state['step'] += args.steps

  # The evaluator compiles its chunk twice: once for the state from init, once
  # for the state its chunk returns; both count as compile time.
  first, times = timed(chunk, args.repeats, warmups=2)
  median = statistics.median(times)
  eves = args.seeds * args.eves * len(config.eval.attackers)
  return {'eve_steps_per_s': eves * args.steps / median,
          'compile_s': max(first - 2 * median, 0.0), 'chunk_s': times, 'eves': eves}


def run_peer(command):
  """Seed-steps per second that `command` prints ('... X seed-steps/s ...')."""
  out = subprocess.run(shlex.split(command), capture_output=True, text=True, check=True).stdout
  found = re.findall(r'([0-9.]+) seed-steps/s', out)
  if not found:
    raise ValueError(f'--peer printed no "X seed-steps/s": {out[-500:]!r}')
  return float(found[-1])


def untrained_run(args):
  """Freshly initialised seeds, for --skip-train: the evaluator's cost does not
  depend on what Alice has learned."""
  runner = runner_lib.make_runner(make_config(args, args.seeds), seed_loop=args.seed_loop)
  return {'seed_steps_per_s': None, 'compile_s': None, 'chunk_s': None,
          'devices': len(runner.mesh.devices.flat), 'run': runner.init()}


def one_round(args):
  skip = {'seed_steps_per_s': None, 'compile_s': None, 'chunk_s': None}
  one = skip if args.skip_train else bench_training(args, 1)
  many = untrained_run(args) if args.skip_train else bench_training(args, args.seeds)
  ev = None if args.skip_eval else bench_eval(args, many['run'])
  peer = run_peer(args.peer) if args.peer else None
  return {'train_1': one['seed_steps_per_s'], 'train_many': many['seed_steps_per_s'],
          'eval': ev['eve_steps_per_s'] if ev else None,
          'compile_s': many['compile_s'], 'compile_s_1_seed': one['compile_s'],
          'eval_compile_s': ev['compile_s'] if ev else None, 'peer': peer,
          'devices': many['devices'], 'chunk_s_1': one['chunk_s'],
          'chunk_s_many': many['chunk_s'], 'eval_chunk_s': ev['chunk_s'] if ev else None}


def main(args):
  if args.devices is None:  # as the command-line tools do, before JAX computes anything
    sharding.one_device_per_core()
  args.seed_loop = args.seed_loop or sharding.default_loop()
  args.eve_loop = args.eve_loop or sharding.default_loop()
  load_start = os.getloadavg()
  rounds = [one_round(args) for _ in range(args.rounds)]
  load_end = os.getloadavg()
  peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

  def med(key):
    values = [r[key] for r in rounds if r[key] is not None]
    return statistics.median(values) if values else None

  many, peer = med('train_many'), med('peer')
  results = {
      'train_seed_steps_per_s_1': med('train_1'),
      f'train_seed_steps_per_s_{args.seeds}': many,
      'train_seed_steps_per_s_20': many if args.seeds == 20 else None,
      'eval_eve_steps_per_s': med('eval'),
      'compile_s': med('compile_s'),
      'compile_s_1_seed': med('compile_s_1_seed'),
      'eval_compile_s': med('eval_compile_s'),
      'peak_rss_mb': peak_rss_mb,
      'peer_seed_steps_per_s': peer,
      'ratio_to_peer': many / peer if peer and many else None,
      'rounds': rounds,
      'n': args.n, 'minibatch': args.batch, 'seeds': args.seeds, 'eves_per_pair': args.eves,
      'arch': args.arch, 'attackers': args.attackers, 'steps_per_chunk': args.steps, 'repeats': args.repeats,
      'seed_loop': args.seed_loop, 'eve_loop': args.eve_loop, 'devices': rounds[0]['devices'],
      'peer_command': args.peer,
      'load_average_start': load_start, 'load_average_end': load_end,
      'machine': {'cpus': os.cpu_count(), 'processor': platform.processor() or platform.machine(),
                  'jax': jax.__version__, 'backend': jax.default_backend()},
      'command': ' '.join(sys.argv),
  }

  def fmt(value, unit, digits=1):
    return 'skipped' if value is None else f'{value:.{digits}f} {unit}'

  rows = [
      ('training, 1 seed', fmt(med('train_1'), 'seed-steps/s')),
      (f'training, {args.seeds} seeds', fmt(many, 'seed-steps/s')),
      (f'evaluator, {args.seeds} pairs x {args.eves} Eves x {args.attackers}', fmt(med('eval'), 'Eve-steps/s')),
      (f'compile, training chunk ({args.seeds} seeds)', fmt(med('compile_s'), 's')),
      ('compile, evaluator chunk', fmt(med('eval_compile_s'), 's')),
      ('peak RSS', fmt(peak_rss_mb, 'MB', 0)),
  ]
  if peer and many:
    rows += [('peer, 1 seed', fmt(peer, 'seed-steps/s')),
             (f'training, {args.seeds} seeds / peer', fmt(many / peer, 'x', 2))]
  print(f'N={args.n} minibatch={args.batch} arch={args.arch} float32, '
        f'{rounds[0]["devices"]} device(s) of {jax.default_backend()}, {os.cpu_count()} cores, '
        f'seed loop {args.seed_loop}, Eve loop {args.eve_loop}; medians over {args.rounds} '
        f'round(s) of the medians of {args.repeats} chunks of {args.steps} steps')
  width = max(len(r[0]) for r in rows)
  for name, value in rows:
    print(f'  {name:<{width}}  {value}')
  if args.rounds > 1:
    for key in ('train_many', 'eval', 'peer'):
      if med(key) is not None:
        print(f'  rounds of {key}: ' + ', '.join(f'{r[key]:.1f}' for r in rounds))
  print(f'  load average {load_start[0]:.2f} at start, {load_end[0]:.2f} at end')
  if args.out:
    with open(args.out, 'w') as f:
      json.dump(results, f, indent=2)
  return results


if __name__ == '__main__':
  main(ARGS)
