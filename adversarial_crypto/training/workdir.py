"""What a run keeps in its workdir: config, checkpoint, metrics.csv, summary.json.

Checkpoint format (`checkpoint.msgpack`): a flax.serialization msgpack map
  {'format': CHECKPOINT_FORMAT, 'config': the run's identity (config_lib.identity),
   'chunk': chunks completed, 'run': the RunState as a state dict}
written to a temporary file, synced and renamed, so a crash never leaves half a
file; config.json and summary.json are written the same way.

The command-line tools hold the workdir's lock (`locked`, a flock on `.lock`)
while they use it, so a second process on the same workdir is refused.

In a run of several processes (multi-host JAX, distributed.py) only process 0
writes: in the others write_atomically, save_checkpoint, MetricsWriter and
write_summary write nothing, and check_or_write_config only checks.
"""

import contextlib
import csv
import errno
import fcntl
import io
import json
import os
import shlex
import socket
import sys
import time

import jax
import numpy as np
from flax import serialization
from flax import traverse_util

from adversarial_crypto import config as config_lib
from adversarial_crypto.training import distributed

CHECKPOINT_FORMAT = 'adversarial_crypto.checkpoint/1'
CONFIG_FILE = 'config.json'
CHECKPOINT_FILE = 'checkpoint.msgpack'
METRICS_FILE = 'metrics.csv'
SUMMARY_FILE = 'summary.json'
LOCK_FILE = '.lock'
# Every seed's Alice and Bob alone (export_weights): what analysis needs, where the
# checkpoint, with the Eves and optimiser states, is too large to keep or carry
# (76 MB for 40 seeds at N = 32). np.savez of 'alice/NAME' and 'bob/NAME' arrays
# with a leading seed axis.
WEIGHTS_FILE = 'alice_bob.npz'
# The whole run (every seed) as it was at the chunk boundary before a seed diverged,
# in the checkpoint's format: what the run's checkpoint no longer has (a diverged seed
# keeps its NaN state), so that the chunk that diverged can be replayed and studied.
BEFORE_DIVERGENCE_FILE = 'before_divergence_step{step}.msgpack'


class WorkdirError(RuntimeError):
  """A workdir cannot be used as asked: in use, another run's, missing or corrupt
  files, or storage that refuses writes."""


# errno -> (what went wrong, what to do), for the storage faults a user can fix.
_STORAGE_FAULTS = {
    errno.ENOSPC: ('disk full', 'free some space, then run the same command again'),
    errno.EDQUOT: ('disk quota exceeded', 'free some space, then run the same command again'),
    errno.EACCES: ('permission denied', 'make it writable, or use another --workdir'),
    errno.EPERM: ('permission denied', 'make it writable, or use another --workdir'),
    errno.EROFS: ('read-only file system', 'use another --workdir'),
    errno.EIO: ('input/output error', 'check the disk'),
}


def storage_error(e, path=None, verb='write'):
  """A one-line WorkdirError for an OSError met while writing (or `verb`ing) `path`."""
  path = path or e.filename or '?'
  reason, hint = _STORAGE_FAULTS.get(e.errno, (None, None))
  detail = e.strerror or str(e)
  if reason is None:
    return WorkdirError(f'cannot {verb} {path}: {detail}')
  return WorkdirError(f'cannot {verb} {path}: {reason} ({detail}); {hint}')


@contextlib.contextmanager
def storage_errors():
  """Turns storage faults (disk full, permission denied, ...) into WorkdirError.

  For the command-line entry points, around writes outside this module (figures,
  eval_metrics.csv); other OSErrors are bugs and keep their traceback.
  """
  try:
    yield
  except OSError as e:
    if e.errno not in _STORAGE_FAULTS:
      raise
    writing = e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS)  # else maybe a read
    raise storage_error(e, verb='write' if writing else 'access') from e


def _fsync_dir(directory):
  """Makes a rename in `directory` durable; best effort (not every filesystem can)."""
  try:
    fd = os.open(directory or '.', os.O_RDONLY)
  except OSError:
    return
  try:
    os.fsync(fd)
  except OSError:
    pass
  finally:
    os.close(fd)


def write_atomically(path, data):
  """Writes bytes to `path` via a synced temporary file and a rename.

  A crash or a storage fault leaves the previous file whole; a fault raises
  WorkdirError naming `path` and removes the temporary file. Only process 0
  of a multi-process run writes; the others return at once.
  """
  if not distributed.is_writer():
    return
  tmp = path + '.tmp'
  try:
    with open(tmp, 'wb') as f:
      f.write(data)
      f.flush()
      os.fsync(f.fileno())  # the data must be on disk before the rename makes it the file
    os.replace(tmp, path)
  except OSError as e:
    with contextlib.suppress(OSError):
      os.remove(tmp)
    raise storage_error(e, path) from e
  _fsync_dir(os.path.dirname(path))


def _json_bytes(value):
  return json.dumps(value, indent=2).encode()


# The lock files this process holds (real paths), with how deeply each is held.
_HELD = {}


def command_line(module=None):
  """How this process was started, for the lock's holder line."""
  head = [f'python -m {module}'] if module else [shlex.quote(a) for a in sys.argv[:1]]
  return ' '.join(head + [shlex.quote(a) for a in sys.argv[1:]])


def _holder(fd, path):
  """The lock holder's description, as written by `locked`."""
  for _ in range(10):  # the holder writes it just after taking the lock
    try:
      info = json.loads(os.pread(fd, 1 << 16, 0).decode())
      return (f"pid {info['pid']} on host {info['host']} since {info['started']} "
              f"({' '.join(str(info['command']).split())})")
    except (OSError, ValueError, KeyError, TypeError):
      time.sleep(0.05)
  return f'another process (no holder recorded in {path})'


def locked(workdir, command=None):
  """Holds the workdir's lock, so that no other process uses it meanwhile.

  The lock is an flock on <workdir>/.lock, so the kernel drops it when its
  holder exits, however it exits (kill -9 included): a dead run never blocks
  the next. The file's text only names the holder (pid, host, start time,
  command) to whoever is refused. Re-entrant within one process. In a run of
  several processes (multi-host JAX) process 0 alone takes it; the others
  refuse the workdir as well when it could not.

  Args:
    workdir: the directory; made if missing.
    command: the holder's command line; by default this process's argv.

  Raises:
    WorkdirError: at once, if another process holds the lock (naming it), or
      the workdir cannot be written.
  """
  return distributed.in_process_0(
      _locked(workdir, command),
      lambda: WorkdirError(f'process 0 could not take the lock of {workdir}; its error says why'))


@contextlib.contextmanager
def _locked(workdir, command):
  path = os.path.join(workdir, LOCK_FILE)
  try:
    os.makedirs(workdir, exist_ok=True)
  except OSError as e:
    raise storage_error(e, workdir) from e
  key = os.path.realpath(path)
  if key in _HELD:
    _HELD[key] += 1
    try:
      yield
    finally:
      _HELD[key] -= 1
    return
  try:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
  except OSError as e:
    raise storage_error(e, path) from e
  try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except OSError as e:
    busy = e.errno in (errno.EWOULDBLOCK, errno.EAGAIN)
    holder = _holder(fd, path) if busy else None
    os.close(fd)
    if not busy:
      raise storage_error(e, path) from e
    raise WorkdirError(f'{workdir} is in use by {holder}; wait for it to finish, '
                       'or use another --workdir') from None
  _HELD[key] = 1
  try:
    info = {'pid': os.getpid(), 'host': socket.gethostname(),
            'started': time.strftime('%Y-%m-%d %H:%M:%S %Z'),
            'command': command or command_line()}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode() + b'\n', 0)
  except OSError:
    pass  # a full disk: the lock holds all the same, without its description
  try:
    yield
  finally:
    del _HELD[key]
    with contextlib.suppress(OSError):
      os.ftruncate(fd, 0)  # so that nobody reads a holder that has gone
    os.close(fd)  # releases the flock


def check_or_write_config(workdir, config):
  """Refuses a workdir that holds a run of another config; else records this one.

  Raises:
    WorkdirError: naming every field that differs.
  """
  try:
    if distributed.is_writer():
      os.makedirs(workdir, exist_ok=True)
  except OSError as e:
    raise storage_error(e, workdir) from e
  path = os.path.join(workdir, CONFIG_FILE)
  identity = config_lib.identity(config)
  if os.path.exists(path):
    try:
      with open(path) as f:
        saved = json.load(f)
    except (OSError, ValueError) as e:
      raise WorkdirError(f'{path} is unreadable ({e}); remove it or use another --workdir') from e
    diffs = config_lib.differences(config_lib.as_json(config_lib.identity(saved)),
                                   config_lib.as_json(identity), 'in the workdir', 'now')
    if diffs:
      raise WorkdirError(
          f'{workdir} holds a run of a different config:\n  ' + '\n  '.join(diffs) +
          '\nUse another --workdir, or the same config to resume that run.')
  write_atomically(path, _json_bytes(config_lib.as_json(config.to_dict())))


def load_config_dict(workdir):
  """The config a workdir's run was made with, as a dict."""
  path = os.path.join(workdir, CONFIG_FILE)
  if not os.path.exists(path):
    raise WorkdirError(f'{workdir} holds no run: {CONFIG_FILE} is missing')
  return _read_json(path)


def _read_json(path):
  try:
    with open(path) as f:
      return json.load(f)
  except ValueError as e:
    raise WorkdirError(f'{path} is corrupt ({e}); remove it or use another --workdir') from e


def save_checkpoint(workdir, run, chunk, config, filename=CHECKPOINT_FILE):
  """Writes the run's state atomically: on any failure the previous checkpoint stays.

  Raises:
    WorkdirError: a storage fault (disk full, ...), naming the file.
  """
  if not distributed.is_writer():
    return
  payload = {'format': CHECKPOINT_FORMAT,
             'config': config_lib.as_json(config_lib.identity(config)), 'chunk': chunk,
             'run': serialization.to_state_dict(jax.device_get(run))}
  write_atomically(os.path.join(workdir, filename), serialization.msgpack_serialize(payload))


def has_checkpoint(workdir):
  return os.path.exists(os.path.join(workdir, CHECKPOINT_FILE))


def load_checkpoint(workdir, template, config, filename=CHECKPOINT_FILE):
  """Restores a run saved by save_checkpoint.

  Args:
    workdir: the run's directory.
    template: a RunState (arrays or ShapeDtypeStructs) of the expected shapes.
    config: the config the run must have been made with.
    filename: the checkpoint's file in the workdir (BEFORE_DIVERGENCE_FILE's too).

  Returns:
    (run, chunk): the restored RunState and the number of chunks completed.

  Raises:
    WorkdirError: the file is missing, corrupt, or of another config.
  """
  path = os.path.join(workdir, filename)
  try:
    with open(path, 'rb') as f:
      payload = serialization.msgpack_restore(f.read())
  except FileNotFoundError as e:
    raise WorkdirError(f'no checkpoint at {path}') from e
  except Exception as e:  # msgpack raises several unrelated types on bad bytes
    detail = ' '.join(f'{type(e).__name__}: {e}'.split())
    raise WorkdirError(f'{path} is corrupt or truncated ({detail}); restore it from a copy, '
                       'or delete it to restart the run from scratch') from e
  if not isinstance(payload, dict) or payload.get('format') != CHECKPOINT_FORMAT:
    raise WorkdirError(f'{path} is not an {CHECKPOINT_FORMAT} checkpoint')
  diffs = config_lib.differences(config_lib.as_json(config_lib.identity(payload['config'])),
                                 config_lib.as_json(config_lib.identity(config)),
                                 'in the workdir', 'now')
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


def export_weights(workdir):
  """Writes WEIGHTS_FILE from the checkpoint (read as stored, with no config or
  template) and returns its path."""
  path = os.path.join(workdir, CHECKPOINT_FILE)
  try:
    with open(path, 'rb') as f:
      run = serialization.msgpack_restore(f.read())['run']
  except (OSError, KeyError, TypeError, ValueError) as e:
    raise WorkdirError(f'cannot read the weights in {path} ({e}); '
                       'train the run first, or restore the file from a copy') from e
  flat = {f'{who}/{name}': np.asarray(x)
          for who in ('alice', 'bob')
          for name, x in traverse_util.flatten_dict(run['train']['alice_bob'][who],
                                                    sep='/').items()}
  buffer = io.BytesIO()
  np.savez_compressed(buffer, **flat)
  out = os.path.join(workdir, WEIGHTS_FILE)
  write_atomically(out, buffer.getvalue())
  return out


def load_weights(workdir):
  """{'alice', 'bob'} parameter trees with a leading seed axis, from WEIGHTS_FILE."""
  path = os.path.join(workdir, WEIGHTS_FILE)
  try:
    with np.load(path) as saved:
      flat = {name: saved[name] for name in saved.files}
  except (OSError, ValueError) as e:
    raise WorkdirError(f'cannot read {path} ({e})') from e
  return {who: traverse_util.unflatten_dict(
      {name.split('/', 1)[1]: x for name, x in flat.items() if name.startswith(who + '/')},
      sep='/') for who in ('alice', 'bob')}


class MetricsWriter:
  """Appends one row per seed at each chunk boundary to metrics.csv.

  Columns: chunk, step, seed, the experiment's measures (for the symmetric
  and asymmetric experiments bob_bits and eve_bits), stopped.
  """

  def __init__(self, workdir, completed_chunks, measures):
    self.path = os.path.join(workdir, METRICS_FILE)
    self.measures = tuple(measures)
    self.writes = distributed.is_writer()  # process 0 alone, in a multi-process run
    if not self.writes:
      return
    fields = ('chunk', 'step', 'seed') + self.measures + ('stopped',)
    rows = []
    if os.path.exists(self.path):
      with open(self.path, newline='') as f:
        # Rows past the checkpoint were written by a chunk that will run again;
        # a row cut short by a crash is dropped, whatever its chunk reads.
        rows = [r for r in csv.DictReader(f)
                if _complete_row(r) and int(r['chunk']) <= completed_chunks]
    out = io.StringIO(newline='')
    writer = csv.DictWriter(out, fields)
    writer.writeheader()
    writer.writerows(rows)
    write_atomically(self.path, out.getvalue().encode())  # a crash now keeps the old rows

  def write(self, chunk, run):
    if not self.writes:
      return
    steps, measure, stopped = jax.device_get((run.steps, run.measure, run.stopped))
    values = [np.asarray(getattr(measure, name)) for name in self.measures]
    try:
      with open(self.path, 'a', newline='') as f:
        writer = csv.writer(f)
        for seed in range(len(steps)):
          writer.writerow([chunk, int(steps[seed]), seed] +
                          [f'{v[seed]:.4f}' for v in values] + [int(stopped[seed])])
        f.flush()
        os.fsync(f.fileno())  # on disk before the checkpoint that covers these rows
    except OSError as e:
      raise storage_error(e, self.path) from e


def _complete_row(row):
  """Whether a metrics.csv row was written whole (a crash can cut the last one short)."""
  if None in row or None in row.values():  # too many fields, or too few
    return False
  try:
    int(row['chunk'])
  except (KeyError, ValueError):
    return False
  return True


def read_metrics(workdir):
  """metrics.csv as a list of dicts with numeric values."""
  def parse(name, value):
    if name in ('chunk', 'step', 'seed'):
      return int(value)
    return bool(int(value)) if name == 'stopped' else float(value)

  with open(os.path.join(workdir, METRICS_FILE), newline='') as f:
    return [{k: parse(k, v) for k, v in r.items()} for r in csv.DictReader(f)]


def write_summary(workdir, summary):
  write_atomically(os.path.join(workdir, SUMMARY_FILE), _json_bytes(summary))


def read_summary(workdir):
  path = os.path.join(workdir, SUMMARY_FILE)
  if not os.path.exists(path):
    raise WorkdirError(f'{path} is missing: the run has not finished')
  return _read_json(path)
