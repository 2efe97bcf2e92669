"""Multi-host JAX (training/distributed.py): several processes make the run one
process makes.

The fast tests check the pieces in this process (one process: everything is
as before) and a non-writing process by pretending to be process 1. The slow
ones launch real runs of two processes with one CPU device each
(jax.distributed over localhost, gloo collectives) and compare their workdir
byte for byte with one process of two CPU devices: training, the fresh Eves,
a resume, the evaluation command line, the lock and a signal.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from adversarial_crypto import config as config_lib
from adversarial_crypto.training import distributed
from adversarial_crypto.training import runner as runner_lib
from adversarial_crypto.training import sharding
from adversarial_crypto.training import train
from adversarial_crypto.training import workdir as workdir_lib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAME_BYTES = ('config.json', 'checkpoint.msgpack', 'metrics.csv', 'eval_metrics.csv')


class _Device:
  def __init__(self, process_index):
    self.process_index = process_index


def test_devices_of_several_processes_are_used_evenly():
  two_by_four = [_Device(p) for p in (0, 0, 0, 0, 1, 1, 1, 1)]
  assert sharding.usable_device_count(20, two_by_four) == 4   # 2 of each process
  assert sharding.usable_device_count(16, two_by_four) == 8
  assert sharding.usable_device_count(6, two_by_four) == 6    # 3 of each
  assert sharding.usable_device_count(10, two_by_four) == 2   # 5 of each: too many
  grouped = sharding._by_process([_Device(1), _Device(0), _Device(1)])
  assert [[d.process_index for d in g] for g in grouped] == [[0], [1, 1]]
  with pytest.raises(config_lib.ConfigError, match='multiple of 2'):
    sharding.usable_device_count(5, two_by_four)


def test_one_process_places_and_reads_as_before():
  mesh = sharding.make_mesh(4)
  split, whole = sharding.leading_sharding(mesh), sharding.replicated(mesh)
  make = jax.jit(lambda: {'seeds': jnp.arange(4.0), 'step': jnp.ones((), jnp.int32)},
                 out_shardings={'seeds': split, 'step': whole})
  run = make()
  host = sharding.to_host(run)
  chex.assert_trees_all_equal(host, jax.device_get(run))
  assert all(isinstance(x, np.ndarray) for x in jax.tree_util.tree_leaves(host))
  placed = sharding.put_like(host, jax.eval_shape(make))
  chex.assert_trees_all_equal(jax.device_get(placed), host)
  assert placed['seeds'].sharding == split and placed['step'].sharding == whole
  assert sharding.put_leading(np.arange(4.0), mesh).sharding == split
  assert sharding.put_global(host, whole)['seeds'].sharding == whole


def test_one_process_is_the_writer_and_nothing_is_started():
  assert distributed.process_count() == 1 and distributed.process_index() == 0
  assert distributed.is_writer()
  assert distributed.any_process(True) and not distributed.any_process(False)
  distributed.barrier('nothing to wait for')
  assert distributed.initialize() is False  # no flag: nothing started
  lines = []
  distributed.writer_log(lines.append)('kept')
  assert lines == ['kept']


def test_a_process_other_than_0_writes_nothing(tiny_config, tmp_path, monkeypatch):
  monkeypatch.setattr(distributed, 'process_index', lambda: 1)
  assert not distributed.is_writer()
  lines = []
  distributed.writer_log(lines.append)('dropped')
  assert lines == []
  quiet = str(tmp_path / 'quiet')
  config = config_lib.complete(tiny_config)
  workdir_lib.check_or_write_config(quiet, config)
  workdir_lib.write_atomically(os.path.join(tmp_path, 'file'), b'x')
  workdir_lib.write_summary(quiet, {'steps': 0})
  run = {'steps': np.zeros(2, np.int32)}
  workdir_lib.save_checkpoint(quiet, run, 1, config)
  metrics = workdir_lib.MetricsWriter(quiet, 0, ('bob_bits',))
  metrics.write(0, run)
  from adversarial_crypto.analysis import figures  # pylint: disable=g-import-not-at-top
  assert len(figures.write_figures(quiet, config, {'seeds': []}, [])) == 2
  assert os.listdir(tmp_path) == []
  # It still checks: a workdir of another config is refused.
  os.makedirs(quiet)
  with open(os.path.join(quiet, 'config.json'), 'w') as f:
    json.dump({**config.to_dict(), 'msg_bits': 16}, f)
  with pytest.raises(workdir_lib.WorkdirError, match='msg_bits'):
    workdir_lib.check_or_write_config(quiet, config)


@pytest.mark.slow
def test_a_process_other_than_0_trains_and_writes_nothing(tiny_config, tmp_path, monkeypatch):
  tiny_config.max_steps = 20
  written = train.train(tiny_config, str(tmp_path / 'writer'), log=lambda _: None)
  monkeypatch.setattr(distributed, 'process_index', lambda: 1)
  quiet = tmp_path / 'quiet'
  result = train.train(tiny_config, str(quiet), log=lambda _: None)
  assert not quiet.exists()  # not even made
  chex.assert_trees_all_equal(jax.device_get(result.run), jax.device_get(written.run))
  assert {k: v for k, v in result.summary.items() if k != 'wall_s'} == {
      k: v for k, v in written.summary.items() if k != 'wall_s'}
  # It reads what process 0 wrote (a resume), and still writes nothing.
  before = {f: os.path.getmtime(tmp_path / 'writer' / f) for f in SAME_BYTES[:3]}
  tiny_config.max_steps = 40
  train.train(tiny_config, str(tmp_path / 'writer'), log=lambda _: None)
  assert before == {f: os.path.getmtime(tmp_path / 'writer' / f) for f in SAME_BYTES[:3]}


def test_the_command_lines_take_the_flags():
  env = {k: v for k, v in os.environ.items() if k != 'XLA_FLAGS'}
  env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
  result = subprocess.run(
      [sys.executable, '-m', 'adversarial_crypto.main', '--config=configs/tiny.py',
       '--process_id=0'], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
  assert result.returncode == 1
  assert 'error: cannot start multi-host JAX' in result.stderr
  assert '--coordinator_address' in result.stderr.strip().splitlines()[-1]
  help_text = subprocess.run(
      [sys.executable, '-m', 'adversarial_crypto.main', '--helpfull'], env=env, cwd=ROOT,
      capture_output=True, text=True, timeout=300).stdout
  for flag in distributed.FLAG_NAMES:
    assert f'--{flag}' in help_text


# --- several processes ---------------------------------------------------------


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


def _start(module, args, log_dir, processes, name):
  """Starts `processes` processes (one CPU device each) of `module`; returns
  [(Popen, log path)]. With processes=1: one process of two devices, no flag."""
  port = _free_port()
  started = []
  for i in range(processes):
    flags = ([] if processes == 1 else
             [f'--coordinator_address=localhost:{port}', f'--num_processes={processes}',
              f'--process_id={i}'])
    log = os.path.join(log_dir, f'{name}.{i}.log')
    with open(log, 'w') as out:
      started.append((subprocess.Popen(
          [sys.executable, '-m', module] + args + flags,
          env=_env(2 if processes == 1 else 1), cwd=ROOT, stdout=out,
          stderr=subprocess.STDOUT), log))
  return started


def _wait(started, timeout=900):
  results = []
  for proc, log in started:
    try:
      proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
      for p, _ in started:
        p.kill()
      raise
    with open(log) as f:
      results.append((proc.returncode, f.read()))
  return results


def _run(module, args, log_dir, processes, name):
  """Runs to the end; asserts every process succeeded; returns (outputs, seconds)."""
  start = time.time()
  results = _wait(_start(module, args, log_dir, processes, name))
  seconds = time.time() - start
  for i, (code, out) in enumerate(results):
    assert code == 0, f'{name} process {i} exited {code}:\n{out[-4000:]}'
  return [out for _, out in results], seconds


def _train(workdir, log_dir, processes, name, *extra):
  return _run('adversarial_crypto.main',
              ['--config=configs/tiny.py', f'--workdir={workdir}', *extra],
              log_dir, processes, name)


def _without_wall_clock(value):
  if isinstance(value, dict):
    return {k: _without_wall_clock(v) for k, v in value.items() if k != 'wall_s'}
  if isinstance(value, list):
    return [_without_wall_clock(v) for v in value]
  return value


def _assert_same_run(a, b, files=SAME_BYTES, summary=True):
  for name in files:
    with open(os.path.join(a, name), 'rb') as f, open(os.path.join(b, name), 'rb') as g:
      assert f.read() == g.read(), f'{name} differs between {a} and {b}'
  if not summary:
    return
  with open(os.path.join(a, 'summary.json')) as f, open(os.path.join(b, 'summary.json')) as g:
    assert _without_wall_clock(json.load(f)) == _without_wall_clock(json.load(g))


@pytest.fixture(scope='module')
def one_process_run(tmp_path_factory):
  """configs/tiny.py trained and evaluated by one process of two CPU devices."""
  root = tmp_path_factory.mktemp('one_process')
  outputs, seconds = _train(str(root / 'run'), str(root), 1, 'one')
  return str(root / 'run'), outputs, seconds


@pytest.mark.slow
def test_two_processes_stopped_and_resumed_make_the_run_one_process_makes(
    one_process_run, tmp_path):
  # One test for both (each two-process run costs a minute or more on a 2-core CI):
  # stopped at step 20, resumed, and evaluated by main.py, the bytes of one process.
  # The evaluation command line in two processes is checked by the signal test below.
  reference, _, one_s = one_process_run
  run = str(tmp_path / 'run')
  first, _ = _train(run, str(tmp_path), 2, 'first', '--config.max_steps=20',
                    '--evaluate=false')
  assert 'multi-host JAX: process 0 of 2, 1 of the 2 devices here (cpu)' in first[0]
  assert 'multi-host JAX: process 1 of 2' in first[1]
  with open(os.path.join(run, 'metrics.csv')) as f:
    assert f.read().splitlines()[-1].startswith('1,20,')
  outputs, two_s = _train(run, str(tmp_path), 2, 'resumed')
  assert f'resumed from {run} at step 20' in outputs[0]
  assert 'step      40/40' in outputs[0] and 'figures:' in outputs[0]
  assert all('step ' not in out[1] for out in (first, outputs))  # process 0 alone speaks
  _assert_same_run(reference, run)
  with open(os.path.join(run, 'summary.json')) as f:
    assert json.load(f)['steps'] == 40
  print(f'tiny.py with its evaluation: one process of 2 devices {one_s:.0f} s; two '
        f'processes of 1 device, resumed at step 20 and evaluated, {two_s:.0f} s')


@pytest.mark.slow
def test_a_workdir_in_use_is_refused_by_every_process(tmp_path):
  run = str(tmp_path / 'run')
  with workdir_lib.locked(run, 'the test'):
    results = _wait(_start('adversarial_crypto.main',
                           ['--config=configs/tiny.py', f'--workdir={run}'],
                           str(tmp_path), 2, 'refused'), timeout=300)
  assert results[0][0] == 1 and f'{run} is in use by pid {os.getpid()}' in results[0][1]
  assert results[1][0] == 1 and 'process 0 could not take the lock' in results[1][1]
  assert not os.path.exists(os.path.join(run, 'config.json'))


@pytest.mark.slow
def test_a_signal_to_one_process_stops_both_after_a_saved_chunk(tmp_path):
  run = str(tmp_path / 'run')
  started = _start('adversarial_crypto.main',
                   ['--config=configs/tiny.py', f'--workdir={run}', '--evaluate=false',
                    '--config.max_steps=400000', '--config.chunk_steps=400'],
                   str(tmp_path), 2, 'signal')
  deadline = time.time() + 600
  while time.time() < deadline:  # the first chunk (and its compile) is done
    with open(started[0][1]) as f:
      if 'step ' in f.read():
        break
    time.sleep(0.5)
  started[1][0].send_signal(signal.SIGINT)  # to process 1 alone
  results = _wait(started, timeout=300)
  assert [code for code, _ in results] == [130, 130], results[0][1][-3000:]
  assert 'interrupted: saved step' in results[0][1]
  _, chunk = runner_lib.load_state(run, _tiny_long())
  with open(os.path.join(run, 'metrics.csv')) as f:
    rows = f.read().splitlines()[1:]
  assert chunk >= 1 and int(rows[-1].split(',')[0]) == chunk


@pytest.mark.slow
def test_a_signal_stops_a_two_process_evaluation_which_resumes_as_one_process(
    one_process_run, tmp_path):
  reference, _, _ = one_process_run
  longer = ['--config.eval.steps=20000', '--config.eval.every=500']
  run, one = str(tmp_path / 'run'), str(tmp_path / 'one')
  shutil.copytree(reference, run)
  shutil.copytree(reference, one)
  started = _start('adversarial_crypto.evaluate', [f'--workdir={run}', *longer],
                   str(tmp_path), 2, 'cut')
  deadline = time.time() + 600
  while time.time() < deadline:  # a chunk of the Eves is saved
    with open(started[0][1]) as f:
      if 'fresh Eves step' in f.read():
        break
    time.sleep(0.5)
  started[1][0].send_signal(signal.SIGINT)  # to process 1 alone
  results = _wait(started, timeout=300)
  assert [code for code, _ in results] == [130, 130], results[0][1][-3000:]
  assert 'interrupted: the fresh Eves are saved at step' in results[0][1]
  outputs, _ = _run('adversarial_crypto.evaluate', [f'--workdir={run}', *longer],
                    str(tmp_path), 2, 'resumed')
  assert 'resuming the fresh Eves at step' in outputs[0]
  _run('adversarial_crypto.evaluate', [f'--workdir={one}', *longer], str(tmp_path), 1,
       'uncut')
  _assert_same_run(one, run)


def _tiny_long():
  from configs import tiny  # pylint: disable=g-import-not-at-top
  config = tiny.get_config()
  config.max_steps = 400000
  config.chunk_steps = 400
  return config_lib.complete(config)
