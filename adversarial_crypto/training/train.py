"""Trains all seeds of a config in a workdir, resuming where it stopped.

Python loops over chunks only to log, checkpoint and decide to stop; each chunk
is one jitted lax.scan over steps, vmapped over seeds (runner.py).
"""

import collections
import csv
import io
import os
import time
from typing import NamedTuple

import jax
import numpy as np

from adversarial_crypto import config as config_lib
from adversarial_crypto.training import runner as runner_lib
from adversarial_crypto.core import selective
from adversarial_crypto.evaluation import stats
from adversarial_crypto.training import distributed
from adversarial_crypto.training import interrupts as interrupts_lib
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


def _medians(run, diverged):
  """The medians over the seeds that have not diverged ('nan' if none is left)."""
  return ' '.join(
      f'{name} {np.median(value[~diverged]) if (~diverged).any() else np.nan:.3f}'
      for name, value in jax.device_get(run.measure)._asdict().items())


def _progress_line(config, run, steps_per_s, diverged):
  step = int(run.step)
  stopped = np.asarray(run.stopped)
  active = int((~(stopped | diverged)).sum())
  left = (config.max_steps - step) / steps_per_s if steps_per_s and active else 0.0
  trained = (f'trained {int((stopped & ~diverged).sum())}/{len(stopped)} | '
             if _has_goals(config) else '')
  count = int(diverged.sum())
  over = (f'diverged {count}/{len(stopped)} | median over the {len(stopped) - count} other '
          'seeds' if count else 'median over seeds')
  return (f'step {step:>7d}/{config.max_steps} | {steps_per_s:6.2f} steps/s '
          f'({steps_per_s * active:7.1f} seed-steps/s) | left <= {_duration(left):>7s} | '
          f'{trained}{over}: {_medians(run, diverged)}')


def _done(config, run, diverged):
  """Whether no seed trains any more (stopped or diverged) or max_steps is reached."""
  return bool((np.asarray(run.stopped) | diverged).all()) or int(run.step) >= config.max_steps


def _keep_before_divergence(workdir, config, before, before_chunk, newly, host, log):
  """Saves the whole run as it was before the chunk in which the seeds `newly`
  diverged (workdir_lib.BEFORE_DIVERGENCE_FILE); the checkpoint keeps their NaN."""
  step = int(before.step)
  filename = workdir_lib.BEFORE_DIVERGENCE_FILE.format(step=step)
  workdir_lib.save_checkpoint(workdir, before, before_chunk, config, filename)
  # The run's index (which indexes the saved state), and the seed's number in its root.
  seeds = ('seed ' if newly.sum() == 1 else 'seeds ') + ', '.join(
      str(i) + (f' ({config.first_seed + i} of root {config.seed})' if config.first_seed else '')
      for i in np.flatnonzero(newly))
  log(f'{seeds} diverged between steps {step} and {int(host.step)}: the run as it was at '
      f'step {step} is in {os.path.join(workdir, filename)} (docs/runs.md: replaying a '
      'divergence)')


def _with_diverged(run, diverged):
  """`run` with `diverged` (as 0.0 or 1.0) after its measures, for MetricsWriter,
  which writes the measures' fields: a diverged column in metrics.csv."""
  fields = run.measure._fields + ('diverged',)
  measure = collections.namedtuple('MeasureAndDiverged', fields)(
      *jax.device_get(run.measure), diverged.astype(np.float32))
  return run._replace(measure=measure)


def _add_diverged_column(workdir, measures):
  """Gives a metrics.csv written before the diverged column one, resuming its run.

  A seed diverged at a row where one of its measures is not finite (a seed that
  diverged before it was detected trained on, and its measures stayed NaN). A
  row cut short by a crash is dropped, as MetricsWriter drops it.
  """
  path = os.path.join(workdir, workdir_lib.METRICS_FILE)
  if not os.path.exists(path):
    return
  with open(path, newline='') as f:
    reader = csv.DictReader(f)
    if 'diverged' in (reader.fieldnames or ()):
      return
    rows = [r for r in reader if None not in r and None not in r.values()]
  for r in rows:
    try:
      finite = all(np.isfinite(float(r[m])) for m in measures)
    except (KeyError, ValueError):  # not a number: left for MetricsWriter and its readers
      finite = True
    r['diverged'] = '0.0000' if finite else '1.0000'
  out = io.StringIO(newline='')
  writer = csv.DictWriter(out, ('chunk', 'step', 'seed') + measures + ('diverged', 'stopped'))
  writer.writeheader()
  writer.writerows(rows)
  workdir_lib.write_atomically(path, out.getvalue().encode())


def summarize(config, run, wall_s):
  """The per-seed outcome of training and, if seeds have goals, the rate of trained seeds.

  Args:
    config: the run's config.
    run: its RunState.
    wall_s: training time so far, summed over every session of the run.

  A diverged seed (runner.diverged) has 'diverged' true and is not trained;
  'diverged' counts them.
  """
  run = jax.device_get(run)
  diverged = runner_lib.diverged(run)
  measure = run.measure._asdict()
  seeds = []
  for i in range(config.num_seeds):
    seed = {'seed': i, 'steps_trained': int(run.steps[i]),
            **{name: float(value[i]) for name, value in measure.items()},
            'diverged': bool(diverged[i])}
    if _has_goals(config):
      seed['trained'] = bool(run.stopped[i]) and not diverged[i]
    seeds.append(seed)
  summary = {'experiment': config.experiment,
             'steps': int(run.step), 'max_steps': config.max_steps,
             'finished': _done(config, run, diverged),
             'wall_s': wall_s, 'seeds': seeds, 'diverged': int(diverged.sum())}
  if _has_goals(config):
    summary['trained'] = stats.rate(sum(s['trained'] for s in seeds), config.num_seeds)
  if config.first_seed:  # 'seed' numbers the run's seeds; its root's are first_seed + seed
    summary['first_seed'] = config.first_seed
  if summary['experiment'] == 'selective':
    summary['yardsticks'] = selective.yardsticks(config.correlation)
  return summary


def root_seed(summary, seed):
  """A seed's number among its root's seeds (config.first_seed + its index in the run),
  which the tables print; `summary` is a summary.json or analyse's analysis.json."""
  return summary.get('first_seed', 0) + seed['seed']


def seed_table(summary):
  """The per-seed table printed at the end of training."""
  first = summary['seeds'][0]
  fields = [k for k in first if k not in ('seed', 'steps_trained', 'trained', 'diverged')]
  diverged = summary.get('diverged', 0)  # a column only when a seed diverged
  lines = ['seed    steps  ' + ''.join(f'{f:>14s}' for f in fields) +
           ('  trained' if 'trained' in first else '') + ('  diverged' if diverged else '')]
  for s in summary['seeds']:
    lines.append(f"{root_seed(summary, s):>4d}  {s['steps_trained']:>7d}  " +
                 ''.join(f'{s[f]:14.4f}' for f in fields) +
                 (f"  {'yes' if s['trained'] else 'no':<{7 if diverged else 0}s}"
                  if 'trained' in s else '') +
                 (f"  {'yes' if s.get('diverged') else 'no'}" if diverged else ''))
  if 'trained' in summary:
    lines.append(f"trained {stats.format_rate(summary['trained'])} (95% Clopper-Pearson)")
  if diverged:
    lines.append(f"diverged {diverged}/{len(summary['seeds'])}: a NaN or infinity in the "
                 'networks, optimizer states or measures; stopped there, not trained')
  return '\n'.join(lines)


def train(config, workdir, log=print):
  """Trains every seed until it meets the goals, diverges or reaches max_steps.

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
  _add_diverged_column(workdir, host.measure._fields)
  metrics = workdir_lib.MetricsWriter(workdir, chunk, host.measure._fields + ('diverged',))
  diverged = runner_lib.diverged(host)
  if chunk == 0:
    metrics.write(0, _with_diverged(host, diverged))
    earlier_wall_s = 0.0
  else:  # summary.json is rewritten with the checkpoint; it may lag by one chunk
    try:
      earlier_wall_s = workdir_lib.read_summary(workdir).get('wall_s', 0.0)
    except (workdir_lib.WorkdirError, ValueError):
      earlier_wall_s = 0.0

  start, interrupted, chunks_now = time.time(), False, 0
  with interrupts_lib.Interrupts(collective=distributed.process_count() > 1) as interrupts:
    try:
      while not _done(config, host, diverged):
        num_steps = min(config.chunk_steps, config.max_steps - int(host.step))
        t = time.time()
        new_run = jax.block_until_ready(runner.run_chunk(run, num_steps))
        elapsed = time.time() - t
        with interrupts.deferred():
          before, before_chunk, was_diverged = host, chunk, diverged
          run, host, chunk = new_run, sharding.to_host(new_run), chunk + 1
          diverged = runner_lib.diverged(host)
          if (diverged & ~was_diverged).any():
            _keep_before_divergence(workdir, config, before, before_chunk,
                                    diverged & ~was_diverged, host, log)
          metrics.write(chunk, _with_diverged(host, diverged))
          workdir_lib.save_checkpoint(workdir, host, chunk, config)
          workdir_lib.write_summary(workdir, summarize(
              config, host, earlier_wall_s + time.time() - start))
          log(_progress_line(config, host, num_steps / elapsed, diverged) +
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
