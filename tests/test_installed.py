"""The package installed without the repository: a non-editable install, run
from another directory, loads and evaluates a finished run (its evaluation
defaults live in the package, not in the repository's configs/)."""

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
def test_a_non_editable_install_loads_and_evaluates_a_run(tmp_path):
  site = tmp_path / 'site'
  install = subprocess.run(
      [sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--target', str(site), REPO],
      capture_output=True, text=True, timeout=600)
  assert install.returncode == 0, install.stderr[-3000:]
  assert not (site / 'configs').exists()  # the repository's configs are not packaged

  workdir = tmp_path / 'run'
  train = subprocess.run(
      [sys.executable, '-m', 'adversarial_crypto.main', '--config=configs/tiny.py',
       f'--workdir={workdir}', '--evaluate=false'],
      cwd=REPO, capture_output=True, text=True, timeout=600)
  assert train.returncode == 0, train.stderr[-3000:]
  # As a run made before the evaluator existed: no eval section, no retrained bound.
  config = json.loads((workdir / 'config.json').read_text())
  del config['eval'], config['success']['retrained_eve_bits']
  (workdir / 'config.json').write_text(json.dumps(config))

  elsewhere = tmp_path / 'elsewhere'
  elsewhere.mkdir()
  env = dict(os.environ, PYTHONPATH=str(site))
  check = subprocess.run(
      [sys.executable, '-c',
       'import adversarial_crypto as ac, sys; '
       f'assert ac.__file__.startswith({str(site)!r}), ac.__file__; '
       f'run = ac.load_run({str(workdir)!r}); '
       'print(run.config.eval.num_eves, run.config.eval.attackers, '
       'run.config.success.retrained_eve_bits, run.num_seeds)'],
      cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600)
  assert check.returncode == 0, check.stderr[-3000:]
  # the package's evaluation defaults, and the paper's bound scaled to N = 8
  assert check.stdout.split('\n')[-2] == "5 ('paper', 'mlp') 3.0 2", check.stdout

  evaluate = subprocess.run(
      [sys.executable, '-m', 'adversarial_crypto.evaluate', f'--workdir={workdir}',
       '--config.eval.num_eves=1', '--config.eval.steps=20', '--config.eval.every=10',
       '--config.eval.batch_size=64', '--config.eval.eval_batch_size=64',
       '--config.eval.mlp_hidden=(16,16)'],
      cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600)
  assert evaluate.returncode == 0, evaluate.stderr[-3000:]
  summary = json.loads((workdir / 'summary.json').read_text())
  assert summary['robust']['n'] == 2
  assert tuple(summary['evaluation']['config']['attackers']) == ('paper', 'mlp')
