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
from adversarial_crypto.training import distributed
from adversarial_crypto.training import sharding
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

  With `collective` (a run of several processes), a signal never interrupts:
  the processes agree at each chunk's end (`stop_agreed`) to stop together,
  since a process that stopped alone would leave the others waiting for it.
  """

  def __init__(self, collective=False):
    self.requested = False
    self.deferring = False
    self.collective = collective
    self.previous = {}

  def _handle(self, signum, frame):
    if self.deferring or self.collective:
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
    if self.requested and not self.collective:
      raise KeyboardInterrupt('deferred signal')

  def stop_agreed(self):
    """Collective: whether any process was signalled (every process asks at once)."""
    return self.collective and distributed.any_process(self.requested)


def train(config, workdir, log=print):
  """Trains every seed until it meets the goals or reaches max_steps.

  Resumes from the workdir's checkpoint if there is one. Ctrl-C (or SIGTERM)
  saves the last completed chunk and returns with `interrupted` set; running
  again resumes from there.

  In a run of several processes (distributed.py) every process calls this
  with the same arguments; the seeds are split over all their devices, the
  state is gathered into every process after each chunk, and process 0
  alone writes the workdir. A signal to any process stops them all at the
  end of the chunk in progress.

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
  # `host` is `run` read whole into this process (gathered from every process):
  # what the loop decides on and what the workdir records.
  if workdir_lib.has_checkpoint(workdir):
    host, chunk = runner_lib.load_state(workdir, config, runner)
    # Placed as runner.init places a run; each process builds its own blocks.
    run = sharding.put_like(host, jax.eval_shape(runner.init))
    log(f'resumed from {workdir} at step {int(host.step)}')
  else:
    run, chunk = runner.init(), 0
    host = sharding.to_host(run)
  # Read before process 0 can write it, so that every process reads the same.
  had_summary = os.path.exists(os.path.join(workdir, workdir_lib.SUMMARY_FILE))
  metrics = workdir_lib.MetricsWriter(workdir, chunk, host.measure._fields)
  if chunk == 0:
    metrics.write(0, host)
    earlier_wall_s = 0.0
  else:  # summary.json is rewritten with the checkpoint; it may lag by one chunk
    try:
      earlier_wall_s = workdir_lib.read_summary(workdir).get('wall_s', 0.0)
    except (workdir_lib.WorkdirError, ValueError):
      earlier_wall_s = 0.0

  start, interrupted, chunks_now = time.time(), False, 0
  with _Interrupts(collective=distributed.process_count() > 1) as interrupts:
    try:
      while int(host.step) < config.max_steps and not bool(host.stopped.all()):
        num_steps = min(config.chunk_steps, config.max_steps - int(host.step))
        t = time.time()
        new_run = jax.block_until_ready(runner.run_chunk(run, num_steps))
        elapsed = time.time() - t
        with interrupts.deferred():
          run, host, chunk = new_run, sharding.to_host(new_run), chunk + 1
          metrics.write(chunk, host)
          workdir_lib.save_checkpoint(workdir, host, chunk, config)
          workdir_lib.write_summary(workdir, summarize(
              config, host, earlier_wall_s + time.time() - start))
          log(_progress_line(config, host, num_steps / elapsed) +
              (f' | this chunk {elapsed:.0f}s, with compile' if chunks_now == 0 else ''))
          chunks_now += 1
        if interrupts.stop_agreed():
          raise KeyboardInterrupt('signal')
    except KeyboardInterrupt:
      interrupted = True
      workdir_lib.save_checkpoint(workdir, host, chunk, config)
      log(f'interrupted: saved step {int(host.step)} to {workdir}; '
          'run the same command to resume')

  summary = summarize(config, host, earlier_wall_s + time.time() - start)
  if chunks_now or not had_summary:
    workdir_lib.write_summary(workdir, summary)
  else:  # nothing trained now: keep what later stages (the evaluation) added to it
    summary = {**workdir_lib.read_summary(workdir),
               **{k: v for k, v in summary.items() if k != 'wall_s'}}
  if not interrupted:
    log(seed_table(summary))
  return TrainResult(run, summary, interrupted)
