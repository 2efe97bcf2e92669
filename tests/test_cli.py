"""The command line, end to end on the tiny config, in a fresh process."""

import json
import os
import signal
import subprocess
import sys
import time

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from adversarial_crypto.training import experiments
from adversarial_crypto.training import runner as runner_lib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_main(*args):
  return subprocess.run([sys.executable, '-m', 'adversarial_crypto.main', *args],
                        cwd=REPO, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_ctrl_c_ends_main_at_once_not_when_the_chunk_in_flight_ends(tmp_path):
  workdir = tmp_path / 'run'
  # One chunk of 400,000 steps: minutes on a CPU, which a plain exit would wait out.
  proc = subprocess.Popen(
      [sys.executable, '-m', 'adversarial_crypto.main', '--config=configs/tiny.py',
       '--config.max_steps=400000', '--config.chunk_steps=400000', '--evaluate=false',
       f'--workdir={workdir}'], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
      text=True)
  deadline = time.time() + 300
  while not (workdir / 'metrics.csv').exists() and proc.poll() is None and time.time() < deadline:
    time.sleep(0.05)  # step 0's rows are written just before the chunk is compiled and run
  time.sleep(15)  # past the chunk's compilation: it is running
  assert proc.poll() is None, proc.stderr.read()[-3000:]
  signalled = time.time()
  proc.send_signal(signal.SIGINT)
  out, err = proc.communicate(timeout=600)
  took = time.time() - signalled
  assert proc.returncode == 130, err[-3000:]
  assert f'interrupted: saved step 0 to {workdir}; run the same command to resume' in out
  assert (workdir / 'checkpoint.msgpack').exists()
  assert took < 60, f'{took:.0f} s from SIGINT to the exit'


@pytest.mark.slow
def test_main_trains_the_tiny_config_and_writes_its_files(tmp_path):
  workdir = tmp_path / 'run'
  done = run_main('--config=configs/tiny.py', f'--workdir={workdir}')
  assert done.returncode == 0, done.stderr[-3000:]
  out = done.stdout
  assert 'msg_bits: 8' in out                       # the config is printed first
  assert out.count('\nstep ') == 2                  # one progress line per chunk
  assert 'seed-steps/s' in out and 'trained 0/2' in out
  assert 'median over seeds: bob_bits' in out and ' eve_bits ' in out
  assert 'seed    steps        bob_bits      eve_bits  trained' in out
  for name in ('config.json', 'checkpoint.msgpack', 'metrics.csv', 'summary.json'):
    assert (workdir / name).exists(), name
  summary = json.loads((workdir / 'summary.json').read_text())
  assert [s['steps_trained'] for s in summary['seeds']] == [40, 40]
  assert json.loads((workdir / 'config.json').read_text())['msg_bits'] == 8

  assert summary['robust']['n'] == 2 and 'retrained_eves' in summary['seeds'][0]

  again = run_main('--config=configs/tiny.py', f'--workdir={workdir}', '--evaluate=false')
  assert again.returncode == 0 and 'resumed from' in again.stdout
  assert '\nstep ' not in again.stdout               # nothing left to train
  # Nothing trained, so the evaluation recorded before is kept.
  assert json.loads((workdir / 'summary.json').read_text()) == summary

  other = run_main('--config=configs/tiny.py', '--config.msg_bits=16', f'--workdir={workdir}',
                   '--evaluate=false')
  assert other.returncode != 0
  assert 'holds a run of a different config' in other.stderr
  assert 'msg_bits: 8 in the workdir, 16 now' in other.stderr


def test_a_misspelt_field_is_refused_with_a_hint(tmp_path):
  done = run_main('--config=configs/tiny.py', '--config.max_step=5', f'--workdir={tmp_path}')
  assert done.returncode != 0
  assert 'Did you mean "max_steps"' in done.stderr
  assert 'Traceback' not in done.stderr


def test_an_odd_bit_count_is_refused_with_a_message(tmp_path):
  done = run_main('--config=configs/tiny.py', '--config.msg_bits=7', f'--workdir={tmp_path}')
  assert done.returncode != 0
  assert 'msg_bits must be even, got 7' in done.stderr
  assert 'Traceback' not in done.stderr


def test_repeated_chunks_of_the_runner_trace_once(tiny_config, monkeypatch):
  # A retrace guard on the public single-seed chunk function: the runner's jitted
  # run_chunk traces experiment.train_chunk exactly when it traces itself (once
  # for all seeds: lax.map or vmap trace their body once), so every retrace of
  # the runner over repeated chunks would trace it again.
  chex.clear_trace_counter()
  make_experiment = experiments.make_experiment

  def guarded(config):
    experiment = make_experiment(config)
    return experiment._replace(train_chunk=chex.assert_max_traces(experiment.train_chunk, n=1))

  monkeypatch.setattr(runner_lib.experiments, 'make_experiment', guarded)
  r = runner_lib.make_runner(tiny_config)
  run = r.init()
  for _ in range(3):  # three chunks of both seeds, 20 steps each: one program
    run = r.run_chunk(run, 20)
  np.testing.assert_array_equal(run.steps, [60, 60])
  # The guard is live: another chunk length is another program, a second trace.
  with pytest.raises(AssertionError, match='traced > 1 times'):
    r.run_chunk(run, 10)


@pytest.mark.slow
def test_the_single_seed_chunk_traces_once_for_every_seed_and_chunk(tiny_config):
  # The same guard on the single-seed functions themselves, jitted as a caller
  # would: new seeds and new first steps are traced values, not new programs.
  chex.clear_trace_counter()
  experiment = experiments.make_experiment(tiny_config)
  init = jax.jit(chex.assert_max_traces(experiment.init, n=1))
  chunk = jax.jit(chex.assert_max_traces(experiment.train_chunk, n=1), static_argnums=3)
  seed_keys = runner_lib.seed_keys(tiny_config.seed, 3)
  for seed_key in seed_keys:
    state = init(seed_key)
    for first in range(0, 60, 20):
      state, measures = chunk(state, seed_key, jnp.int32(first), 20)
      chex.assert_shape(measures.bob_bits, (20,))
