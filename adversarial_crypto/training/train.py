"""Trains all seeds of a config in a workdir, resuming where it stopped.

Python loops over chunks only to log, checkpoint and decide to stop; each chunk
is one jitted lax.scan over steps, vmapped over seeds (runner.py).
"""

import contextlib
import os
import signal
import threading
import time
from typing import NamedTuple

import jax
import numpy as np

from adversarial_crypto import config as config_lib
from adversarial_crypto.training import runner as runner_lib
from adversarial_crypto.core import selective
from adversarial_crypto.evaluation import stats
from adversarial_crypto.training import workdir as workdir_lib


class TrainResult(NamedTuple):
  """What training hands on: the evaluator needs `run.train.alice_bob` of every seed."""
  run: runner_lib.RunState
  summary: dict
  interrupted: bool


def _duration(seconds):
  seconds = int(seconds)
  if seconds >= 3600:
    return f'{seconds // 3600}h{seconds % 3600 // 60:02d}m'
  if seconds >= 60:
    return f'{seconds // 60}m{seconds % 60:02d}s'
  return f'{seconds}s'


def _has_goals(config):
  """Whether seeds stop once trained (config.success); selective runs have no goals."""
  return 'success' in config


def _medians(run):
  return ' '.join(f'{name} {np.median(value):.3f}'
                  for name, value in jax.device_get(run.measure)._asdict().items())


def _progress_line(config, run, steps_per_s):
  step = int(run.step)
  stopped = np.asarray(run.stopped)
  active = int((~stopped).sum())
  left = (config.max_steps - step) / steps_per_s if steps_per_s and active else 0.0
  trained = f'trained {int(stopped.sum())}/{len(stopped)} | ' if _has_goals(config) else ''
  return (f'step {step:>7d}/{config.max_steps} | {steps_per_s:6.2f} steps/s '
          f'({steps_per_s * active:7.1f} seed-steps/s) | left <= {_duration(left):>7s} | '
          f'{trained}median over seeds: {_medians(run)}')


def summarize(config, run, wall_s):
  """The per-seed outcome of training and, if seeds have goals, the rate of trained seeds.

  Args:
    config: the run's config.
    run: its RunState.
    wall_s: training time so far, summed over every session of the run.
  """
  run = jax.device_get(run)
  measure = run.measure._asdict()
  seeds = []
  for i in range(config.num_seeds):
    seed = {'seed': i, 'steps_trained': int(run.steps[i]),
            **{name: float(value[i]) for name, value in measure.items()}}
    if _has_goals(config):
      seed['trained'] = bool(run.stopped[i])
    seeds.append(seed)
  summary = {'experiment': config.experiment,
             'steps': int(run.step), 'max_steps': config.max_steps,
             'finished': bool(run.stopped.all() or int(run.step) >= config.max_steps),
             'wall_s': wall_s, 'seeds': seeds}
  if _has_goals(config):
    summary['trained'] = stats.rate(sum(s['trained'] for s in seeds), config.num_seeds)
  if summary['experiment'] == 'selective':
    summary['yardsticks'] = selective.yardsticks(config.correlation)
  return summary


def seed_table(summary):
  """The per-seed table printed at the end of training."""
  first = summary['seeds'][0]
  fields = [k for k in first if k not in ('seed', 'steps_trained', 'trained')]
  lines = ['seed    steps  ' + ''.join(f'{f:>14s}' for f in fields) +
           ('  trained' if 'trained' in first else '')]
  for s in summary['seeds']:
    lines.append(f"{s['seed']:>4d}  {s['steps_trained']:>7d}  " +
                 ''.join(f'{s[f]:14.4f}' for f in fields) +
                 (f"  {'yes' if s['trained'] else 'no'}" if 'trained' in s else ''))
  if 'trained' in summary:
    lines.append(f"trained {stats.format_rate(summary['trained'])} (95% Clopper-Pearson)")
  return '\n'.join(lines)


class _Interrupts:
  """Turns SIGINT and SIGTERM into KeyboardInterrupt, except while deferred.

  A chunk's computation may be interrupted at once (it will simply run again),
  but not the bookkeeping after it, so metrics.csv and the checkpoint always
  describe the same chunk.
  """

  def __init__(self):
    self.requested = False
    self.deferring = False
    self.previous = {}

  def _handle(self, signum, frame):
    if self.deferring:
      self.requested = True
    else:
      raise KeyboardInterrupt(f'signal {signum}')

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():
      for sig in (signal.SIGINT, signal.SIGTERM):
        self.previous[sig] = signal.signal(sig, self._handle)
    return self

  def __exit__(self, *exc):
    for sig, handler in self.previous.items():
      signal.signal(sig, handler)

  @contextlib.contextmanager
  def deferred(self):
    self.deferring = True
    try:
      yield
    finally:
      self.deferring = False
    if self.requested:
      raise KeyboardInterrupt('deferred signal')


def train(config, workdir, log=print):
  """Trains every seed until it meets the goals or reaches max_steps.

  Resumes from the workdir's checkpoint if there is one. Ctrl-C (or SIGTERM)
  saves the last completed chunk and returns with `interrupted` set; running
  again resumes from there.

  Args:
    config: a symmetric, asymmetric or selective config.
    workdir: directory for config.json, checkpoint, metrics.csv, summary.json.
    log: where progress lines go.

  Returns:
    A TrainResult.
  """
  config = config_lib.complete(config)
  config_lib.validate(config)
  workdir_lib.check_or_write_config(workdir, config)
  runner = runner_lib.make_runner(config)
  if workdir_lib.has_checkpoint(workdir):
    run, chunk = runner_lib.load_state(workdir, config, runner)
    run = jax.device_put(run)
    log(f'resumed from {workdir} at step {int(run.step)}')
  else:
    run, chunk = runner.init(), 0
  metrics = workdir_lib.MetricsWriter(workdir, chunk, run.measure._fields)
  if chunk == 0:
    metrics.write(0, run)
    earlier_wall_s = 0.0
  else:  # summary.json is rewritten with the checkpoint; it may lag by one chunk
    try:
      earlier_wall_s = workdir_lib.read_summary(workdir).get('wall_s', 0.0)
    except (workdir_lib.WorkdirError, ValueError):
      earlier_wall_s = 0.0

  start, interrupted, chunks_now = time.time(), False, 0
  with _Interrupts() as interrupts:
    try:
      while int(run.step) < config.max_steps and not bool(run.stopped.all()):
        num_steps = min(config.chunk_steps, config.max_steps - int(run.step))
        t = time.time()
        new_run = jax.block_until_ready(runner.run_chunk(run, num_steps))
        elapsed = time.time() - t
        with interrupts.deferred():
          run, chunk = new_run, chunk + 1
          metrics.write(chunk, run)
          workdir_lib.save_checkpoint(workdir, run, chunk, config)
          workdir_lib.write_summary(workdir, summarize(
              config, run, earlier_wall_s + time.time() - start))
          log(_progress_line(config, run, num_steps / elapsed) +
              (f' | this chunk {elapsed:.0f}s, with compile' if chunks_now == 0 else ''))
          chunks_now += 1
    except KeyboardInterrupt:
      interrupted = True
      workdir_lib.save_checkpoint(workdir, run, chunk, config)
      log(f'interrupted: saved step {int(run.step)} to {workdir}; '
          'run the same command to resume')

  summary = summarize(config, run, earlier_wall_s + time.time() - start)
  if chunks_now or not os.path.exists(os.path.join(workdir, workdir_lib.SUMMARY_FILE)):
    workdir_lib.write_summary(workdir, summary)
  else:  # nothing trained now: keep what later stages (the evaluation) added to it
    summary = {**workdir_lib.read_summary(workdir),
               **{k: v for k, v in summary.items() if k != 'wall_s'}}
  if not interrupted:
    log(seed_table(summary))
  return TrainResult(run, summary, interrupted)
