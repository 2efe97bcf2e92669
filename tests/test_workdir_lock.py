"""The workdir lock, with real processes: one process per workdir, and a killed
holder never blocks the next."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from adversarial_crypto.training import workdir as workdir_lib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_HOLD = '''
import sys, time
from adversarial_crypto.training import workdir as workdir_lib
with workdir_lib.locked(sys.argv[1], command='the holder'):
  print('locked', flush=True)
  time.sleep(300)
'''


def _hold(workdir):
  """A process that holds the workdir's lock until killed."""
  holder = subprocess.Popen([sys.executable, '-c', _HOLD, str(workdir)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
  assert holder.stdout.readline() == 'locked\n'
  return holder


def _start(module, *args):
  return subprocess.Popen([sys.executable, '-m', module, *args], cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_process_is_refused_at_once_naming_the_holder(tiny_config, tmp_path):
  workdir = tmp_path / 'run'
  workdir_lib.check_or_write_config(str(workdir), tiny_config)  # for evaluate to read
  holder = _hold(workdir)
  try:
    start = time.time()
    others = [
        _start('adversarial_crypto.main', '--config=configs/tiny.py', f'--workdir={workdir}',
               '--evaluate=false'),
        _start('adversarial_crypto.evaluate', f'--workdir={workdir}'),
        _start('adversarial_crypto.analyse', f'--workdir={workdir}')]
    for other in others:
      _, err = other.communicate(timeout=120)
      assert other.returncode == 1, err[-2000:]
      line = err.strip().splitlines()[-1]
      assert line.startswith(f'error: {workdir} is in use by pid {holder.pid} on host ')
      assert line.endswith('(the holder); wait for it to finish, or use another --workdir')
    assert time.time() - start < 120  # refused, not queued behind the holder
    assert holder.poll() is None
    assert sorted(os.listdir(workdir)) == ['.lock', 'config.json']  # nothing else written
  finally:
    holder.kill()
    holder.wait()


def test_a_killed_holder_never_blocks_the_next(tmp_path):
  holder = _hold(tmp_path)
  holder.send_signal(signal.SIGKILL)
  holder.wait()
  lock_file = tmp_path / workdir_lib.LOCK_FILE
  assert json.loads(lock_file.read_text())['pid'] == holder.pid  # its note stays behind...
  with workdir_lib.locked(str(tmp_path), command='next'):  # ...and blocks nothing
    assert json.loads(lock_file.read_text())['command'] == 'next'
  assert lock_file.read_text() == ''  # released: no holder named


def test_the_lock_is_released_on_exit_and_reentrant_within_a_process(tmp_path):
  with workdir_lib.locked(str(tmp_path)):
    with workdir_lib.locked(str(tmp_path)):  # e.g. main around a library call that locks
      pass
    info = json.loads((tmp_path / workdir_lib.LOCK_FILE).read_text())
    assert info['pid'] == os.getpid() and info['command']
  with pytest.raises(ValueError):
    with workdir_lib.locked(str(tmp_path)):
      raise ValueError()
  holder = _hold(tmp_path)  # another process may take it now
  holder.kill()
  holder.wait()


@pytest.mark.slow
def test_two_mains_started_at_once_give_one_runs_metrics(tmp_path):
  # Before the lock both exited 0 (or one died on the other's temporary file) and
  # metrics.csv held both runs' rows.
  args = ('--config=configs/tiny.py', '--config.max_steps=1000', '--config.chunk_steps=100',
          '--evaluate=false', f'--workdir={tmp_path}')
  runs = [_start('adversarial_crypto.main', *args) for _ in range(2)]
  done = [r.communicate(timeout=600) + (r.returncode, r.pid) for r in runs]
  assert sorted(code for _, _, code, _ in done) == [0, 1], [e[-2000:] for _, e, _, _ in done]
  (_, _, _, winner), (_, refused, _, _) = sorted(done, key=lambda d: d[2])
  assert f'is in use by pid {winner} on host ' in refused.strip().splitlines()[-1]
  rows = workdir_lib.read_metrics(str(tmp_path))
  assert [(r['chunk'], r['step'], r['seed']) for r in rows] == [
      (c, 100 * c, s) for c in range(11) for s in (0, 1)]
  # The lock is free again: a new run proceeds (and has nothing left to train).
  again = subprocess.run([sys.executable, '-m', 'adversarial_crypto.main', *args], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
  assert again.returncode == 0 and 'resumed from' in again.stdout, again.stderr[-2000:]
