"""One run made by P local processes (multi-host JAX) against one process of P devices.

  python benchmarks/multihost.py --config=configs/tiny.py [--processes 2] [--rounds 2]
      [--out FILE] [--logs DIR] [-- more flags for adversarial_crypto.main]

Each round runs `python -m adversarial_crypto.main` twice into fresh workdirs:
one process with P CPU devices (XLA_FLAGS=--xla_force_host_platform_device_count=P),
then P processes with one CPU device each, joined by jax.distributed on
localhost (--coordinator_address, --num_processes, --process_id). It reports
each run's wall time (start to the last process's exit: start-up, compiles,
training and evaluation), training seed-steps/s and the evaluator's
Eve-steps/s (medians of the progress lines after the first chunk, which
compiles), and whether the two workdirs hold the same run (config.json,
checkpoint.msgpack, metrics.csv, eval_metrics.csv byte for byte; summary.json
but its wall_s fields). Both runs use the same cores: the figure is the cost
of the processes (their start-up, their own compiles, the gathers after each
chunk), not a gain from more hardware.
"""

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAME_BYTES = ('config.json', 'checkpoint.msgpack', 'metrics.csv', 'eval_metrics.csv')
TRAIN_RATE = re.compile(r'\(\s*([\d.]+) seed-steps/s\)')
EVAL_RATE = re.compile(r'\|\s*([\d.]+) Eve-steps/s')


def _free_port():
  with socket.socket() as s:
    s.bind(('localhost', 0))
    return s.getsockname()[1]


def _env(devices):
  env = {k: v for k, v in os.environ.items() if k != 'XLA_FLAGS'}
  env['XLA_FLAGS'] = f'--xla_force_host_platform_device_count={devices}'
  env['JAX_PLATFORMS'] = 'cpu'
  env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
  return env


def run(config, workdir, count, devices, extra, log_dir, name):
  """Runs main.py as `count` processes of `devices` CPU devices each."""
  port = _free_port()
  started = []
  start = time.time()
  for i in range(count):
    flags = ([] if count == 1 else [f'--coordinator_address=localhost:{port}',
                                    f'--num_processes={count}', f'--process_id={i}'])
    path = os.path.join(log_dir, f'{name}.{i}.log')
    with open(path, 'w') as out:
      started.append((subprocess.Popen(
          [sys.executable, '-m', 'adversarial_crypto.main', f'--config={config}',
           f'--workdir={workdir}', *extra, *flags],
          env=_env(devices), cwd=ROOT, stdout=out,
          stderr=subprocess.STDOUT), path))
  codes = [p.wait() for p, _ in started]
  wall_s = time.time() - start
  with open(started[0][1]) as f:
    text = f.read()
  if any(codes):
    sys.exit(f'{name}: exit codes {codes}; see {log_dir}')
  steady = [line for line in text.splitlines() if 'compile' not in line]
  rates = lambda pattern: [float(m.group(1)) for line in steady
                           for m in [pattern.search(line)] if m]
  train, evals = rates(TRAIN_RATE), rates(EVAL_RATE)
  return {'wall_s': round(wall_s, 1),
          'train_seed_steps_per_s': round(statistics.median(train), 1) if train else None,
          'eval_eve_steps_per_s': round(statistics.median(evals), 1) if evals else None}


def _without_wall_clock(value):
  if isinstance(value, dict):
    return {k: _without_wall_clock(v) for k, v in value.items() if k != 'wall_s'}
  if isinstance(value, list):
    return [_without_wall_clock(v) for v in value]
  return value


def same_run(a, b):
  for name in SAME_BYTES:
    pa, pb = os.path.join(a, name), os.path.join(b, name)
    if os.path.exists(pa) or os.path.exists(pb):
      with open(pa, 'rb') as f, open(pb, 'rb') as g:
        if f.read() != g.read():
          return False
  with open(os.path.join(a, 'summary.json')) as f, open(os.path.join(b, 'summary.json')) as g:
    return _without_wall_clock(json.load(f)) == _without_wall_clock(json.load(g))


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--config', default='configs/tiny.py')
  parser.add_argument('--processes', type=int, default=2)
  parser.add_argument('--rounds', type=int, default=1)
  parser.add_argument('--out', help='JSON file for the results')
  parser.add_argument('--logs', help='keep every process\'s output in this directory')
  parser.add_argument('extra', nargs='*', help='flags for adversarial_crypto.main (after --)')
  args = parser.parse_args()
  results = []
  with tempfile.TemporaryDirectory(prefix='multihost_') as tmp:
    logs = args.logs or tmp
    os.makedirs(logs, exist_ok=True)
    for r in range(args.rounds):
      one = os.path.join(tmp, f'one{r}')
      many = os.path.join(tmp, f'many{r}')
      row = {'round': r,
             'one_process': run(args.config, one, 1, args.processes, args.extra, logs,
                                f'one{r}'),
             'processes': run(args.config, many, args.processes, 1, args.extra, logs,
                              f'many{r}')}
      row['same_run'] = same_run(one, many)
      results.append(row)
      print(json.dumps(row), flush=True)
  load = os.getloadavg()
  report = {'config': args.config, 'processes': args.processes, 'extra': args.extra,
            'cores': len(os.sched_getaffinity(0)), 'load_average_after': load,
            'rounds': results}
  if args.out:
    with open(args.out, 'w') as f:
      json.dump(report, f, indent=2)
  print(f'{args.processes} processes of 1 CPU device against 1 process of '
        f'{args.processes} devices, {args.config} {" ".join(args.extra)}; '
        f'{report["cores"]} cores, load average {load[0]:.1f} after')
  for key in ('wall_s', 'train_seed_steps_per_s', 'eval_eve_steps_per_s'):
    print(f'  {key:24s} one process: '
          + ', '.join(str(r['one_process'][key]) for r in results)
          + f' | {args.processes} processes: '
          + ', '.join(str(r['processes'][key]) for r in results))
  print('  same run (bytes, summary but wall_s): ' + ', '.join(str(r['same_run']) for r in results))


if __name__ == '__main__':
  main()
