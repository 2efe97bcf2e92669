"""The command line, end to end on the tiny config, in a fresh process."""

import json
import os
import subprocess
import sys


from adversarial_crypto.training import runner as runner_lib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_main(*args):
  return subprocess.run([sys.executable, '-m', 'adversarial_crypto.main', *args],
                        cwd=REPO, capture_output=True, text=True, timeout=600)


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


def test_a_chunk_compiles_once_for_repeated_calls(tiny_config):
  r = runner_lib.make_runner(tiny_config)
  run = r.run_chunk(r.init(), 20)
  run = r.run_chunk(run, 20)
  assert r.run_chunk._cache_size() == 1
