"""Storage faults: a one-line error naming the file, and the last good checkpoint kept.

A full disk is real where it can be: a workdir's temporary file made a symlink to
/dev/full, on which every write fails with ENOSPC.
"""

import builtins
import errno
import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from adversarial_crypto.training import workdir as workdir_lib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
needs_dev_full = pytest.mark.skipif(not os.path.exists('/dev/full'), reason='no /dev/full')


def _run(chunk):
  """A small stand-in for a RunState: save and load take any pytree."""
  return {'w': np.arange(6, dtype=np.float32).reshape(2, 3) + chunk, 'step': np.int32(chunk)}


def _template():
  return jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct(np.shape(x), np.asarray(x).dtype),
                                _run(0))


def _saved(workdir, config, chunk=1):
  workdir_lib.save_checkpoint(str(workdir), _run(chunk), chunk, config)
  return (workdir / workdir_lib.CHECKPOINT_FILE).read_bytes()


def _full_disk_at(path):
  """Makes writes to path's temporary file fail as on a full disk (ENOSPC)."""
  os.symlink('/dev/full', str(path) + '.tmp')


def _one_line(error):
  message = str(error.value)
  assert '\n' not in message, message
  return message


@needs_dev_full
def test_a_full_disk_keeps_the_previous_checkpoint_and_says_so(tiny_config, tmp_path):
  before = _saved(tmp_path, tiny_config, chunk=1)
  path = tmp_path / workdir_lib.CHECKPOINT_FILE
  _full_disk_at(path)
  with pytest.raises(workdir_lib.WorkdirError) as error:
    workdir_lib.save_checkpoint(str(tmp_path), _run(2), 2, tiny_config)
  message = _one_line(error)
  assert message.startswith(f'cannot write {path}: disk full (')
  assert 'free some space, then run the same command again' in message
  assert path.read_bytes() == before
  assert not os.path.lexists(str(path) + '.tmp')  # no stray temporary file
  run, chunk = workdir_lib.load_checkpoint(str(tmp_path), _template(), tiny_config)
  assert chunk == 1 and np.array_equal(run['w'], _run(1)['w'])
  # Space again: the next save goes through.
  workdir_lib.save_checkpoint(str(tmp_path), _run(2), 2, tiny_config)
  assert workdir_lib.load_checkpoint(str(tmp_path), _template(), tiny_config)[1] == 2


@needs_dev_full
@pytest.mark.parametrize('name', [workdir_lib.SUMMARY_FILE, workdir_lib.CONFIG_FILE])
def test_a_full_disk_keeps_the_previous_summary_and_config(tiny_config, tmp_path, name):
  workdir_lib.check_or_write_config(str(tmp_path), tiny_config)
  workdir_lib.write_summary(str(tmp_path), {'steps': 20})
  path = tmp_path / name
  before = path.read_bytes()
  _full_disk_at(path)
  with pytest.raises(workdir_lib.WorkdirError, match=f'cannot write {path}: disk full'):
    if name == workdir_lib.SUMMARY_FILE:
      workdir_lib.write_summary(str(tmp_path), {'steps': 40})
    else:
      workdir_lib.check_or_write_config(str(tmp_path), tiny_config)
  assert path.read_bytes() == before and not os.path.lexists(str(path) + '.tmp')


@needs_dev_full
def test_a_full_disk_while_appending_metrics_is_one_line(tmp_path):
  writer = workdir_lib.MetricsWriter(str(tmp_path), 0, ('bob_bits',))
  os.remove(writer.path)
  os.symlink('/dev/full', writer.path)

  class Run:  # what write reads of a RunState
    steps, stopped = np.array([20, 20]), np.array([False, False])
    measure = type('Measure', (), {'bob_bits': np.array([1.0, 2.0])})()

  with pytest.raises(workdir_lib.WorkdirError) as error:
    writer.write(1, Run())
  assert _one_line(error).startswith(f'cannot write {writer.path}: disk full (')


def _refuse_writes(monkeypatch, err):
  """Every file this module opens for writing fails as on a refusing disk."""
  def fake_open(file, mode='r', *args, **kwargs):
    if any(c in mode for c in 'wax'):
      raise OSError(err, os.strerror(err), str(file))
    return builtins.open(file, mode, *args, **kwargs)
  monkeypatch.setattr(workdir_lib, 'open', fake_open, raising=False)


@pytest.mark.parametrize('err, reason', [(errno.EACCES, 'permission denied'),
                                         (errno.ENOSPC, 'disk full'),
                                         (errno.EROFS, 'read-only file system')])
def test_refused_writes_keep_every_file_and_name_it(tiny_config, tmp_path, monkeypatch, err,
                                                    reason):
  before = _saved(tmp_path, tiny_config)
  workdir_lib.write_summary(str(tmp_path), {'steps': 20})
  summary = (tmp_path / workdir_lib.SUMMARY_FILE).read_bytes()
  _refuse_writes(monkeypatch, err)
  for write, name in [
      (lambda: workdir_lib.save_checkpoint(str(tmp_path), _run(2), 2, tiny_config),
       workdir_lib.CHECKPOINT_FILE),
      (lambda: workdir_lib.write_summary(str(tmp_path), {'steps': 40}), workdir_lib.SUMMARY_FILE)]:
    with pytest.raises(workdir_lib.WorkdirError) as error:
      write()
    assert _one_line(error).startswith(f'cannot write {tmp_path / name}: {reason} (')
  assert (tmp_path / workdir_lib.CHECKPOINT_FILE).read_bytes() == before
  assert (tmp_path / workdir_lib.SUMMARY_FILE).read_bytes() == summary


@pytest.mark.skipif(os.geteuid() == 0, reason='root writes through chmod; '
                    'test_refused_writes_keep_every_file_and_name_it simulates EACCES')
def test_an_unwritable_workdir_is_refused_in_one_line(tiny_config, tmp_path):
  before = _saved(tmp_path, tiny_config)
  os.chmod(tmp_path, 0o500)
  try:
    with pytest.raises(workdir_lib.WorkdirError) as error:
      workdir_lib.save_checkpoint(str(tmp_path), _run(2), 2, tiny_config)
    assert 'permission denied' in _one_line(error)
    with pytest.raises(workdir_lib.WorkdirError, match='permission denied'):
      with workdir_lib.locked(str(tmp_path)):
        pass
  finally:
    os.chmod(tmp_path, 0o700)
  assert (tmp_path / workdir_lib.CHECKPOINT_FILE).read_bytes() == before


@pytest.mark.parametrize('keep', [0, 1, 5, 0.5, -1])
def test_a_truncated_checkpoint_is_one_line_that_says_what_to_do(tiny_config, tmp_path, keep):
  whole = _saved(tmp_path, tiny_config)
  size = int(keep * len(whole)) if isinstance(keep, float) else keep % len(whole)
  (tmp_path / workdir_lib.CHECKPOINT_FILE).write_bytes(whole[:size])
  with pytest.raises(workdir_lib.WorkdirError) as error:
    workdir_lib.load_checkpoint(str(tmp_path), _template(), tiny_config)
  message = _one_line(error)
  assert 'corrupt or truncated' in message and 'delete it to restart the run' in message


class _Crash(BaseException):
  """The process dying mid-write: nothing after it runs, no handler sees it."""


def _crash_mid_write(monkeypatch):
  """The next file this module writes gets half its bytes, then the process 'dies'."""
  class HalfFile:
    def __init__(self, f):
      self.f = f
    def __enter__(self):
      return self
    def __exit__(self, *exc):
      self.f.close()
    def write(self, data):
      self.f.write(data[:len(data) // 2])
      self.f.flush()
      raise _Crash()

  def fake_open(file, mode='r', *args, **kwargs):
    f = builtins.open(file, mode, *args, **kwargs)
    return HalfFile(f) if 'w' in mode else f
  monkeypatch.setattr(workdir_lib, 'open', fake_open, raising=False)


def test_a_crash_mid_write_leaves_the_previous_checkpoint_and_summary(tiny_config, tmp_path,
                                                                      monkeypatch):
  before = _saved(tmp_path, tiny_config)
  workdir_lib.write_summary(str(tmp_path), {'steps': 20})
  summary = (tmp_path / workdir_lib.SUMMARY_FILE).read_text()
  with monkeypatch.context() as m:
    _crash_mid_write(m)
    with pytest.raises(_Crash):
      workdir_lib.save_checkpoint(str(tmp_path), _run(2), 2, tiny_config)
    with pytest.raises(_Crash):
      workdir_lib.write_summary(str(tmp_path), {'steps': 40, 'seeds': list(range(100))})
  assert (tmp_path / workdir_lib.CHECKPOINT_FILE).read_bytes() == before
  assert workdir_lib.load_checkpoint(str(tmp_path), _template(), tiny_config)[1] == 1
  assert workdir_lib.read_summary(str(tmp_path)) == json.loads(summary) == {'steps': 20}
  # The half-written temporary file is simply overwritten by the next save.
  assert os.path.getsize(str(tmp_path / workdir_lib.CHECKPOINT_FILE) + '.tmp') < len(before)
  workdir_lib.save_checkpoint(str(tmp_path), _run(2), 2, tiny_config)
  assert workdir_lib.load_checkpoint(str(tmp_path), _template(), tiny_config)[1] == 2
  assert not os.path.exists(str(tmp_path / workdir_lib.CHECKPOINT_FILE) + '.tmp')


def test_a_half_written_summary_is_one_line(tmp_path):
  (tmp_path / workdir_lib.SUMMARY_FILE).write_text('{"steps": 2')
  with pytest.raises(workdir_lib.WorkdirError) as error:
    workdir_lib.read_summary(str(tmp_path))
  assert 'is corrupt' in _one_line(error)


def test_the_checkpoint_is_synced_before_it_replaces_the_last(tiny_config, tmp_path,
                                                             monkeypatch):
  events = []
  real_fsync, real_replace = os.fsync, os.replace
  monkeypatch.setattr(os, 'fsync', lambda fd: (events.append('fsync'), real_fsync(fd))[1])
  monkeypatch.setattr(os, 'replace', lambda a, b: (events.append('replace'), real_replace(a, b))[1])
  _saved(tmp_path, tiny_config)
  assert events[:2] == ['fsync', 'replace']


_METRICS = ('chunk,step,seed,bob_bits,eve_bits,stopped\r\n'
            '0,0,0,4.0000,4.0000,0\r\n0,0,1,4.0000,4.0000,0\r\n'
            '1,20,0,3.0000,4.0000,0\r\n1,20,1,3.5000,4.0000,0\r\n')


@pytest.mark.parametrize('tail', [
    '2,40,0,2.0000,4.0000,0\r\n2,40,1,2.5',  # a row of a chunk past the checkpoint, cut
    '1',              # chunk 10's row cut to '1': it would pass for chunk 1
    '1,20,0,3.0',     # the measures cut
    '1,20,0,3.0000,4.0000,0,7\r\n',  # a field too many
    '\x00\x00\x00',   # zeros left where a crash lost the data
])
def test_a_cut_last_row_of_metrics_is_dropped_on_resume(tmp_path, tail):
  path = tmp_path / workdir_lib.METRICS_FILE
  path.write_bytes((_METRICS + tail).encode())
  workdir_lib.MetricsWriter(str(tmp_path), 1, ('bob_bits', 'eve_bits'))
  assert path.read_bytes() == _METRICS.encode()
  assert [(r['chunk'], r['seed']) for r in workdir_lib.read_metrics(str(tmp_path))] == [
      (0, 0), (0, 1), (1, 0), (1, 1)]


@pytest.mark.slow
@needs_dev_full
def test_the_command_line_reports_a_full_disk_in_one_line_and_resumes(tmp_path):
  """End to end: a real ENOSPC on the second chunk's checkpoint, then a clean resume."""
  workdir = tmp_path / 'run'
  def main(*args):
    return subprocess.run([sys.executable, '-m', 'adversarial_crypto.main',
                           '--config=configs/tiny.py', f'--workdir={workdir}',
                           '--evaluate=false', *args],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
  first = main('--config.max_steps=20')
  assert first.returncode == 0, first.stderr[-2000:]
  checkpoint = workdir / workdir_lib.CHECKPOINT_FILE
  before = checkpoint.read_bytes()
  _full_disk_at(checkpoint)
  full = main()
  assert full.returncode == 1
  assert full.stderr.strip().splitlines()[-1] == (
      f'error: cannot write {checkpoint}: disk full (No space left on device); '
      'free some space, then run the same command again')
  assert checkpoint.read_bytes() == before and not os.path.lexists(str(checkpoint) + '.tmp')
  again = main()
  assert again.returncode == 0, again.stderr[-2000:]
  assert 'resumed from' in again.stdout and 'at step 20' in again.stdout
  rows = workdir_lib.read_metrics(str(workdir))
  assert [(r['step'], r['seed']) for r in rows] == [(s, i) for s in (0, 20, 40) for i in (0, 1)]


def test_the_entry_points_turn_storage_faults_elsewhere_into_one_line(tmp_path):
  # main and evaluate wrap training and evaluation in storage_errors(), for the files
  # written outside workdir.py (figures, eval_metrics.csv).
  path = str(tmp_path / 'eval_metrics.csv')
  with pytest.raises(workdir_lib.WorkdirError) as error:
    with workdir_lib.storage_errors():
      raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
  assert _one_line(error) == (f'cannot write {path}: disk full (No space left on device); '
                              'free some space, then run the same command again')
  with pytest.raises(workdir_lib.WorkdirError, match=f'cannot access {path}: permission denied'):
    with workdir_lib.storage_errors():
      raise PermissionError(errno.EACCES, 'Permission denied', path)
  with pytest.raises(FileNotFoundError):  # not a storage fault: a bug keeps its traceback
    with workdir_lib.storage_errors():
      raise FileNotFoundError(errno.ENOENT, 'No such file or directory', path)
