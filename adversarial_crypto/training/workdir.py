"""What a run keeps in its workdir: config, checkpoint, metrics.csv, summary.json.

Checkpoint format (`checkpoint.msgpack`): a flax.serialization msgpack map
  {'format': CHECKPOINT_FORMAT, 'config': the run's identity (config_lib.identity),
   'chunk': chunks completed, 'run': the RunState as a state dict}
written to a temporary file and renamed, so a crash never leaves half a file.
"""

import csv
import json
import os

import jax
import numpy as np
from flax import serialization

from adversarial_crypto import config as config_lib

CHECKPOINT_FORMAT = 'adversarial_crypto.checkpoint/1'
CONFIG_FILE = 'config.json'
CHECKPOINT_FILE = 'checkpoint.msgpack'
METRICS_FILE = 'metrics.csv'
SUMMARY_FILE = 'summary.json'


class WorkdirError(RuntimeError):
  """A workdir cannot be used as asked: another run's, missing or corrupt files."""


def _differences(old, new, prefix=''):
  """Dotted names of the fields whose values differ between two nested dicts."""
  out = []
  for name in sorted(set(old) | set(new)):
    a, b = old.get(name), new.get(name)
    if isinstance(a, dict) and isinstance(b, dict):
      out += _differences(a, b, f'{prefix}{name}.')
    elif _jsonable(a) != _jsonable(b):
      out.append(f'{prefix}{name}: {a!r} in the workdir, {b!r} now')
  return out


def _jsonable(value):
  return json.loads(json.dumps(value))


def check_or_write_config(workdir, config):
  """Refuses a workdir that holds a run of another config; else records this one.

  Raises:
    WorkdirError: naming every field that differs.
  """
  os.makedirs(workdir, exist_ok=True)
  path = os.path.join(workdir, CONFIG_FILE)
  identity = config_lib.identity(config)
  if os.path.exists(path):
    try:
      with open(path) as f:
        saved = json.load(f)
    except (OSError, ValueError) as e:
      raise WorkdirError(f'{path} is unreadable ({e}); remove it or use another --workdir') from e
    diffs = _differences(_jsonable(config_lib.identity(saved)), _jsonable(identity))
    if diffs:
      raise WorkdirError(
          f'{workdir} holds a run of a different config:\n  ' + '\n  '.join(diffs) +
          '\nUse another --workdir, or the same config to resume that run.')
  with open(path, 'w') as f:
    json.dump(_jsonable(config.to_dict()), f, indent=2)


def load_config_dict(workdir):
  """The config a workdir's run was made with, as a dict."""
  path = os.path.join(workdir, CONFIG_FILE)
  if not os.path.exists(path):
    raise WorkdirError(f'{workdir} holds no run: {CONFIG_FILE} is missing')
  with open(path) as f:
    return json.load(f)


def save_checkpoint(workdir, run, chunk, config):
  """Writes the run's state atomically."""
  payload = {'format': CHECKPOINT_FORMAT, 'config': _jsonable(config_lib.identity(config)),
             'chunk': chunk, 'run': serialization.to_state_dict(jax.device_get(run))}
  path = os.path.join(workdir, CHECKPOINT_FILE)
  with open(path + '.tmp', 'wb') as f:
    f.write(serialization.msgpack_serialize(payload))
  os.replace(path + '.tmp', path)


def has_checkpoint(workdir):
  return os.path.exists(os.path.join(workdir, CHECKPOINT_FILE))


def load_checkpoint(workdir, template, config):
  """Restores a run saved by save_checkpoint.

  Args:
    workdir: the run's directory.
    template: a RunState (arrays or ShapeDtypeStructs) of the expected shapes.
    config: the config the run must have been made with.

  Returns:
    (run, chunk): the restored RunState and the number of chunks completed.

  Raises:
    WorkdirError: the file is missing, corrupt, or of another config.
  """
  path = os.path.join(workdir, CHECKPOINT_FILE)
  try:
    with open(path, 'rb') as f:
      payload = serialization.msgpack_restore(f.read())
  except FileNotFoundError as e:
    raise WorkdirError(f'no checkpoint at {path}') from e
  except Exception as e:  # msgpack raises several unrelated types on bad bytes
    raise WorkdirError(f'{path} is corrupt ({type(e).__name__}: {e}); '
                       'delete it to restart the run from scratch') from e
  if not isinstance(payload, dict) or payload.get('format') != CHECKPOINT_FORMAT:
    raise WorkdirError(f'{path} is not an {CHECKPOINT_FORMAT} checkpoint')
  diffs = _differences(_jsonable(config_lib.identity(payload['config'])),
                       _jsonable(config_lib.identity(config)))
  if diffs:
    raise WorkdirError(f'{path} is a checkpoint of another config:\n  ' + '\n  '.join(diffs))
  state = payload['run']
  if isinstance(state, dict) and 'measure' not in state and 'bob_bits' in state:
    # Written before RunState grouped the measures: same arrays, one level up.
    state = dict(state)
    state['measure'] = {name: state.pop(name) for name in ('bob_bits', 'eve_bits')}
  try:
    run = serialization.from_state_dict(template, state)
  except Exception as e:
    raise WorkdirError(f'{path} does not hold a run of this config\'s shape ({e})') from e
  for want, got in zip(jax.tree_util.tree_leaves(template), jax.tree_util.tree_leaves(run)):
    if np.shape(got) != want.shape or np.asarray(got).dtype != want.dtype:
      raise WorkdirError(f'{path} holds an array of shape {np.shape(got)}, expected '
                         f'{want.shape}; it belongs to another run')
  return run, int(payload['chunk'])


class MetricsWriter:
  """Appends one row per seed at each chunk boundary to metrics.csv.

  Columns: chunk, step, seed, the experiment's measures (for the symmetric
  and asymmetric experiments bob_bits and eve_bits), stopped.
  """

  def __init__(self, workdir, completed_chunks, measures):
    self.path = os.path.join(workdir, METRICS_FILE)
    self.measures = tuple(measures)
    rows = []
    if os.path.exists(self.path):
      with open(self.path, newline='') as f:
        # Rows past the checkpoint were written by a chunk that will run again.
        rows = [r for r in csv.DictReader(f) if int(r['chunk']) <= completed_chunks]
    with open(self.path, 'w', newline='') as f:
      writer = csv.DictWriter(f, ('chunk', 'step', 'seed') + self.measures + ('stopped',))
      writer.writeheader()
      writer.writerows(rows)

  def write(self, chunk, run):
    steps, measure, stopped = jax.device_get((run.steps, run.measure, run.stopped))
    values = [np.asarray(getattr(measure, name)) for name in self.measures]
    with open(self.path, 'a', newline='') as f:
      writer = csv.writer(f)
      for seed in range(len(steps)):
        writer.writerow([chunk, int(steps[seed]), seed] +
                        [f'{v[seed]:.4f}' for v in values] + [int(stopped[seed])])


def read_metrics(workdir):
  """metrics.csv as a list of dicts with numeric values."""
  def parse(name, value):
    if name in ('chunk', 'step', 'seed'):
      return int(value)
    return bool(int(value)) if name == 'stopped' else float(value)

  with open(os.path.join(workdir, METRICS_FILE), newline='') as f:
    return [{k: parse(k, v) for k, v in r.items()} for r in csv.DictReader(f)]


def write_summary(workdir, summary):
  with open(os.path.join(workdir, SUMMARY_FILE), 'w') as f:
    json.dump(summary, f, indent=2)


def read_summary(workdir):
  path = os.path.join(workdir, SUMMARY_FILE)
  if not os.path.exists(path):
    raise WorkdirError(f'{path} is missing: the run has not finished')
  with open(path) as f:
    return json.load(f)
