"""Training and evaluation throughput of the symmetric experiment on this machine.

One run measures, at N bits and one minibatch size:
  - training seed-steps per second with 1 seed and with S seeds (one step =
    one Alice/Bob minibatch + two Eve minibatches), through the real runner;
  - the evaluator's Eve-steps per second summed over S pairs x 5 fresh Eves
    (the paper's attacker), through the real evaluator;
  - compile time apart from run time (first call minus a steady call);
  - peak resident memory of the process.
Rates are medians over repeated chunks. A table goes to stdout, JSON to --out.

usage: python benchmarks/throughput.py [--n 16] [--batch 4096] [--seeds 20]
           [--steps 20] [--repeats 5] [--devices K] [--seed-loop map] [--out FILE]

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
import resource
import statistics
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
  parser.add_argument('--seed-loop', default='map', choices=('map', 'vmap'))
  parser.add_argument('--eve-loop', default='map', choices=('map', 'vmap'),
                      help="how the evaluator runs each device's Eves")
  parser.add_argument('--skip-eval', action='store_true')
  parser.add_argument('--out', help='write the results as JSON here')
  return parser.parse_args(argv)


ARGS = parse_args()
if ARGS.devices is None:
  ARGS.devices = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
if ARGS.devices:
  # Must be set before JAX starts; the device count is fixed then.
  os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') +
                             f' --xla_force_host_platform_device_count={ARGS.devices}')

import jax  # pylint: disable=g-import-not-at-top
import jax.numpy as jnp  # pylint: disable=g-import-not-at-top

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from adversarial_crypto import attackers as attackers_lib  # pylint: disable=g-import-not-at-top
from adversarial_crypto import evaluator as evaluator_lib  # pylint: disable=g-import-not-at-top
from adversarial_crypto import runner as runner_lib  # pylint: disable=g-import-not-at-top
from adversarial_crypto import sharding  # pylint: disable=g-import-not-at-top
from configs import sym16  # pylint: disable=g-import-not-at-top


def make_config(args, num_seeds):
  config = sym16.get_config()
  config.msg_bits = config.key_bits = args.n
  config.arch = args.arch
  config.num_seeds = num_seeds
  config.batch_size = config.eval_batch_size = args.batch
  config.eval.batch_size = config.eval.eval_batch_size = args.batch
  config.eval.num_eves = args.eves
  config.eval.attackers = 'paper'
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
  scheme = runner_lib.make_runner(config).experiment.scheme
  # As evaluator.evaluate_cipher: the pairs split over the devices, every input placed so.
  mesh = sharding.make_mesh(args.seeds)
  evaluator = evaluator_lib.make_evaluator(
      scheme.eve_view, config.msg_bits, config.key_bits,
      config.eval, attackers_lib.make_attackers(config), mesh, eve_loop=args.eve_loop)
  ciphers = sharding.put_leading(jax.device_get(run.train.alice_bob), mesh)
  keys = sharding.put_leading(
      evaluator.eve_keys(evaluator_lib.eval_root_key(config), args.seeds), mesh)
  state = {'eves': sharding.put_leading(jax.block_until_ready(evaluator.init(keys)), mesh),
           'step': 0}

  def chunk():
    state['eves'], _ = jax.block_until_ready(evaluator.run_chunk(
        state['eves'], ciphers, keys, jnp.int32(state['step']), args.steps))
    state['step'] += args.steps

  # The evaluator compiles its chunk twice: once for the state from init, once
  # for the state its chunk returns; both count as compile time.
  first, times = timed(chunk, args.repeats, warmups=2)
  median = statistics.median(times)
  eves = args.seeds * args.eves
  return {'eve_steps_per_s': eves * args.steps / median,
          'compile_s': max(first - 2 * median, 0.0), 'chunk_s': times, 'eves': eves}


def main(args):
  load_start = os.getloadavg()
  one = bench_training(args, 1)
  many = bench_training(args, args.seeds)
  ev = None if args.skip_eval else bench_eval(args, many['run'])
  load_end = os.getloadavg()
  peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
  results = {
      'train_seed_steps_per_s_1': one['seed_steps_per_s'],
      f'train_seed_steps_per_s_{args.seeds}': many['seed_steps_per_s'],
      'train_seed_steps_per_s_20': many['seed_steps_per_s'] if args.seeds == 20 else None,
      'eval_eve_steps_per_s': ev['eve_steps_per_s'] if ev else None,
      'compile_s': many['compile_s'],
      'compile_s_1_seed': one['compile_s'],
      'eval_compile_s': ev['compile_s'] if ev else None,
      'peak_rss_mb': peak_rss_mb,
      'n': args.n, 'minibatch': args.batch, 'seeds': args.seeds, 'eves_per_pair': args.eves,
      'arch': args.arch, 'steps_per_chunk': args.steps, 'repeats': args.repeats,
      'seed_loop': args.seed_loop, 'eve_loop': args.eve_loop, 'devices': many['devices'],
      'chunk_s_1': one['chunk_s'], f'chunk_s_{args.seeds}': many['chunk_s'],
      'eval_chunk_s': ev['chunk_s'] if ev else None,
      'load_average_start': load_start, 'load_average_end': load_end,
      'machine': {'cpus': os.cpu_count(), 'processor': platform.processor() or platform.machine(),
                  'jax': jax.__version__, 'backend': jax.default_backend()},
      'command': ' '.join(sys.argv),
  }
  rows = [
      ('training, 1 seed', f"{one['seed_steps_per_s']:.1f} seed-steps/s"),
      (f'training, {args.seeds} seeds', f"{many['seed_steps_per_s']:.1f} seed-steps/s"),
      (f'evaluator, {args.seeds} pairs x {args.eves} Eves',
       f"{ev['eve_steps_per_s']:.1f} Eve-steps/s" if ev else 'skipped'),
      (f'compile, training chunk ({args.seeds} seeds)', f"{many['compile_s']:.1f} s"),
      ('compile, evaluator chunk', f"{ev['compile_s']:.1f} s" if ev else 'skipped'),
      ('peak RSS', f'{peak_rss_mb:.0f} MB'),
  ]
  print(f'N={args.n} minibatch={args.batch} arch={args.arch} float32, '
        f'{many["devices"]} device(s) of {jax.default_backend()}, {os.cpu_count()} cores, '
        f'seed loop {args.seed_loop}, Eve loop {args.eve_loop}; '
        f'medians of {args.repeats} chunks of {args.steps} steps')
  width = max(len(r[0]) for r in rows)
  for name, value in rows:
    print(f'  {name:<{width}}  {value}')
  print(f'  load average {load_start[0]:.2f} at start, {load_end[0]:.2f} at end')
  if args.out:
    with open(args.out, 'w') as f:
      json.dump(results, f, indent=2)
  return results


if __name__ == '__main__':
  main(ARGS)
