"""Resumable evaluation: fresh Eves interrupted at any point give the numbers,
summary.json and eval_metrics.csv of an uninterrupted evaluation."""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import serialization

from adversarial_crypto.evaluation import attackers as attackers_lib
from adversarial_crypto.evaluation import eval_checkpoint
from adversarial_crypto.evaluation import evaluator
from adversarial_crypto.evaluation import robustness
from adversarial_crypto.training import train
from adversarial_crypto.training import workdir as workdir_lib
from configs import tiny

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _toy_encrypt(scale, plaintext, key):
  return jnp.tanh(scale * plaintext * key + 0.5 * plaintext)


class _StopAfter:
  """A log that interrupts the evaluation at its `chunks`-th progress line: by
  raising KeyboardInterrupt, or by sending this process a real signal."""

  def __init__(self, chunks, how='raise'):
    self.chunks, self.how, self.lines, self.seen = chunks, how, [], 0

  def __call__(self, line):
    self.lines.append(line)
    if line.startswith('fresh Eves step'):
      self.seen += 1
      if self.seen == self.chunks:
        if self.how == 'raise':
          raise KeyboardInterrupt
        os.kill(os.getpid(), self.how)


def _toy_eval():
  """A small MLP attacker (the quickest to compile) whose Eves run out of
  patience at different steps, the last at 30 of 50: states, NaN rows of
  stopped Eves and the early end are all resumed."""
  config = tiny.get_config()
  config.eval.attackers, config.eval.mlp_hidden = ('mlp',), (8,)
  config.eval.steps, config.eval.every, config.eval.patience = 50, 10, 10
  return config


def _evaluate_toy(config, checkpoint, log=lambda _: None):
  return evaluator.evaluate_cipher(
      _toy_encrypt, jnp.array([1.0, 2.0]), 8, 8, config.eval, evaluator.eval_root_key(config),
      attackers_lib.make_attackers(config), log, checkpoint=checkpoint)


def _assert_same_result(a, b):
  for field in ('best_bits', 'best_hard_bits', 'eve_steps', 'last_improved'):
    for name in getattr(a, field):
      np.testing.assert_array_equal(getattr(a, field)[name], getattr(b, field)[name])
  assert a.steps == b.steps and a.window == b.window
  assert [r['step'] for r in a.history] == [r['step'] for r in b.history]
  for ra, rb in zip(a.history, b.history):
    for name in a.best_bits:
      for f in ('bits', 'hard_bits'):
        np.testing.assert_array_equal(ra[name][f], rb[name][f])


def test_fresh_eves_interrupted_at_a_chunk_resume_bitwise(tmp_path):
  config = _toy_eval()
  plain = _evaluate_toy(config, None)
  path = str(tmp_path / eval_checkpoint.FILE)
  assert not os.path.exists(path)
  log = _StopAfter(2)
  with pytest.raises(eval_checkpoint.EvaluationInterrupted, match='run the same command'):
    _evaluate_toy(config, path, log)
  assert log.lines[-1] == (f'interrupted: the fresh Eves are saved at step 20/50 in {path}; '
                           'run the same command to resume')
  lines = []
  resumed = _evaluate_toy(config, path, lines.append)
  assert lines[0] == f'resuming the fresh Eves at step 20/50 from {path}'
  assert lines[1].startswith('fresh Eves step      30/50')
  _assert_same_result(plain, resumed)  # saving changes nothing, and resuming neither
  # Three Eves stopped at step 20, where it was cut: they stay stopped (NaN) after it.
  assert np.isnan(resumed.history[2]['mlp']['bits']).sum() == 3
  assert resumed.history[-1]['step'] == 30  # every Eve's patience ran out
  # Finished: only the verdicts' fields are kept, and nothing trains again.
  with open(path, 'rb') as f:
    saved = serialization.msgpack_restore(f.read())
  assert saved['finished'] and set(saved['eves']['mlp']) == {
      '.' + f for f in eval_checkpoint.RESULT_FIELDS}
  lines = []
  again = _evaluate_toy(config, path, lines.append)
  assert lines == [f'the fresh Eves finished before ({path}): not retrained']
  _assert_same_result(plain, again)


def test_a_checkpoint_of_another_evaluation_is_set_aside(tmp_path):
  config = _toy_eval()
  path = str(tmp_path / eval_checkpoint.FILE)
  with pytest.raises(eval_checkpoint.EvaluationInterrupted):
    _evaluate_toy(config, path, _StopAfter(1))
  # The key search's fields do not concern the Eves: the checkpoint is theirs still.
  config.eval.key_search_messages = 3
  log = _StopAfter(1)
  with pytest.raises(eval_checkpoint.EvaluationInterrupted):
    _evaluate_toy(config, path, log)
  assert log.lines[0] == f'resuming the fresh Eves at step 10/50 from {path}'
  # Any other eval field makes another evaluation.
  config.eval.seed = 1
  lines = []
  _evaluate_toy(config, path, lines.append)
  assert lines[0] == (f'{path} holds another evaluation (eval.seed: 0 then, 1 now); '
                      'the fresh Eves start afresh')
  # Other ciphers (a run trained further) too.
  lines = []
  evaluator.evaluate_cipher(
      _toy_encrypt, jnp.array([1.0, 3.0]), 8, 8, config.eval, evaluator.eval_root_key(config),
      attackers_lib.make_attackers(config), lines.append, checkpoint=path)
  assert 'other ciphers: the run was trained further' in lines[0]
  # A corrupt file is refused, not overwritten.
  with open(path, 'wb') as f:
    f.write(b'\x00garbage')
  with pytest.raises(workdir_lib.WorkdirError, match='is corrupt.*delete it'):
    _evaluate_toy(config, path)


def test_checkpoint_save_and_load_by_hand(tmp_path):
  path = str(tmp_path / 'c.msgpack')
  state = evaluator.EveState(
      params={'w': np.arange(6, dtype=np.float32).reshape(1, 2, 3)},
      opt_state=(np.zeros((1, 2), np.int32),), best_bits=np.full((1, 2), 3.5, np.float32),
      best_hard_bits=np.full((1, 2), np.inf, np.float32), steps=np.full((1, 2), 10, np.int32),
      last_improved=np.full((1, 2), 10, np.int32), stopped=np.array([[True, False]]))
  keys = {'paper': np.arange(4, dtype=np.uint32).reshape(1, 2, 2)}
  history = [{'step': 10, 'paper': {'bits': np.array([[3.5, np.nan]], np.float32),
                                    'hard_bits': np.array([[4.0, 4.5]], np.float32)}}]
  store = eval_checkpoint.EvalCheckpoint(path, {'eval': {'steps': 20}})
  store.save(10, {'paper': state}, keys, history, 1.5, finished=False)
  assert not os.path.exists(path + '.tmp')
  lines = []
  got = store.load({'paper': state}, keys, lines.append)
  assert lines == [] and got.step == 10 and not got.finished and got.wall_s == 1.5
  jax.tree_util.tree_map(np.testing.assert_array_equal, got.states['paper'], state)
  np.testing.assert_array_equal(got.history[0]['paper']['bits'], history[0]['paper']['bits'])
  assert got.history[0]['step'] == 10
  # Other keys, or states of another shape: set aside.
  other = {'paper': keys['paper'] + 1}
  assert store.load({'paper': state}, other, lines.append) is None
  assert lines.pop() == f'{path} holds other keys for the paper Eves; the fresh Eves start afresh'
  bigger = state._replace(params={'w': np.zeros((1, 2, 4), np.float32)})
  assert store.load({'paper': bigger}, keys, lines.append) is None
  assert "paper.params['w'] is float32[1, 2, 3], expected float32[1, 2, 4]" in lines.pop()
  # Finished: the parameters and Adam state are dropped.
  store.save(20, {'paper': state}, keys, history, 2.0, finished=True)
  got = store.load({'paper': state}, keys, lines.append)
  assert got.finished and got.states['paper'].params is None
  assert got.states['paper'].opt_state is None
  np.testing.assert_array_equal(got.states['paper'].stopped, state.stopped)
  assert eval_checkpoint.EvalCheckpoint(str(tmp_path / 'none'), {}).load({}, {}) is None


def _signals_reach_this_thread():
  """A signal sent to this process is handled here only in its main thread;
  elsewhere SIGTERM would end the test process."""
  if threading.current_thread() is not threading.main_thread():
    pytest.skip('signals are handled in the main thread only')


def test_deferred_signals_are_raised_after_the_block():
  _signals_reach_this_thread()
  with eval_checkpoint.Interrupts() as interrupts:
    done = []
    with pytest.raises(KeyboardInterrupt, match='deferred'):
      with interrupts.deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.01)
        done.append('saved')
    assert done == ['saved']
    with pytest.raises(KeyboardInterrupt, match=f'signal {int(signal.SIGINT)}'):
      os.kill(os.getpid(), signal.SIGINT)
      time.sleep(1)
  assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


# The tiny run, end to end: a trained workdir, evaluated whole and interrupted.

def _tiny_eval_config(config):
  config.eval.attackers = ('paper', 'mlp')
  config.eval.steps, config.eval.every = 60, 10
  config.eval.key_search_messages = 8
  return config


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp('tiny') / 'trained')
  train.train(tiny.get_config(), workdir, log=lambda _: None)
  return workdir


def _copy(trained, tmp_path, name):
  workdir = str(tmp_path / name)
  shutil.copytree(trained, workdir)
  return workdir


def _summary_without_wall_clock(workdir):
  with open(os.path.join(workdir, 'summary.json')) as f:
    return re.sub(r'"wall_s": [^,\n]*', '"wall_s": null', f.read())


def _assert_same_files(a, b):
  assert _summary_without_wall_clock(a) == _summary_without_wall_clock(b)
  with open(os.path.join(a, 'eval_metrics.csv'), 'rb') as fa, \
      open(os.path.join(b, 'eval_metrics.csv'), 'rb') as fb:
    assert fa.read() == fb.read()


def _evaluate_run(workdir, log, **eval_fields):
  config, run, train_summary = robustness.load_run(workdir)
  config = _tiny_eval_config(config)
  for k, v in eval_fields.items():
    config.eval[k] = v
  return robustness.evaluate_run(config, workdir, run, train_summary, log=log)


@pytest.mark.slow
def test_evaluate_run_interrupted_by_sigterm_resumes_to_the_same_files(trained, tmp_path):
  # SIGTERM, as a scheduler stops a job; SIGINT takes the same path, and the command-line
  # test below stops the evaluation with it and compares the files too.
  how = signal.SIGTERM
  _signals_reach_this_thread()
  whole = _copy(trained, tmp_path, 'whole')
  _evaluate_run(whole, lambda _: None)
  cut = _copy(trained, tmp_path, 'cut')
  log = _StopAfter(3, how)
  with pytest.raises(eval_checkpoint.EvaluationInterrupted):
    _evaluate_run(cut, log)
  checkpoint = os.path.join(cut, eval_checkpoint.FILE)
  assert log.lines[-1] == (f'interrupted: the fresh Eves are saved at step 30/60 in '
                           f'{checkpoint}; run the same command to resume')
  assert 'evaluation' not in workdir_lib.read_summary(cut)
  assert not os.path.exists(os.path.join(cut, 'eval_metrics.csv'))
  lines = []
  _evaluate_run(cut, lines.append)
  assert f'resuming the fresh Eves at step 30/60 from {checkpoint}' in lines
  assert sum(line.startswith('fresh Eves step') for line in lines) == 3
  _assert_same_files(whole, cut)

  # Evaluated already: not redone, the files untouched.
  before = {n: os.path.getmtime(os.path.join(cut, n)) for n in ('summary.json',
                                                                'eval_metrics.csv')}
  lines = []
  _evaluate_run(cut, lines.append)
  assert lines[0] == 'summary.json already holds this evaluation (config.eval unchanged); not redone'
  assert not any(line.startswith(('fresh Eves', 'exact leakage')) for line in lines)
  assert before == {n: os.path.getmtime(os.path.join(cut, n)) for n in before}
  # As main.py runs it again on the finished run: nothing trains, nothing is redone.
  config = _tiny_eval_config(tiny.get_config())
  result = train.train(config, cut, log=lambda _: None)
  lines = []
  robustness.evaluate_run(config, cut, result.run, result.summary, log=lines.append)
  assert lines[0] == 'summary.json already holds this evaluation (config.eval unchanged); not redone'
  assert before == {n: os.path.getmtime(os.path.join(cut, n)) for n in before}
  # Another key search: the Eves kept, the key search and verdicts redone.
  lines = []
  summary = _evaluate_run(cut, lines.append, key_search_messages=4)
  assert f'the fresh Eves finished before ({checkpoint}): not retrained' in lines
  assert summary['evaluation']['key_search']['messages'] == 4
  # Another eval field: the Eves trained again.
  lines = []
  summary = _evaluate_run(cut, lines.append, steps=20)
  assert any('holds another evaluation (eval.steps: 60 then, 20 now)' in l for l in lines)
  assert summary['evaluation']['steps'] == 20


def _evaluate_cli(workdir, *extra):
  return [sys.executable, '-m', 'adversarial_crypto.evaluate', f'--workdir={workdir}',
          '--config.eval.attackers=paper,mlp', '--config.eval.every=10',
          '--config.eval.key_search_messages=8', *extra]


def _saved_step(path):
  with open(path, 'rb') as f:
    saved = serialization.msgpack_restore(f.read())
  return saved['step'], saved['finished']


def _stop_when_saved(args, checkpoint, sig):
  """Starts an evaluation, sends `sig` once its first chunk is saved; its output."""
  proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
  deadline = time.time() + 300
  while not os.path.exists(checkpoint) and proc.poll() is None and time.time() < deadline:
    time.sleep(0.005)
  assert proc.poll() is None, 'the evaluation ended before it could be interrupted'
  proc.send_signal(sig)
  out, err = proc.communicate(timeout=300)
  return proc.returncode, out, err


@pytest.mark.slow
def test_the_command_line_resumes_after_sigint_and_kill_9(trained, tmp_path):
  steps = '--config.eval.steps=3000'  # 300 chunks: far more than one poll takes
  whole = _copy(trained, tmp_path, 'whole')
  done = subprocess.run(_evaluate_cli(whole, steps), cwd=REPO, capture_output=True, text=True,
                        timeout=600)
  assert done.returncode == 0, done.stderr[-3000:]

  cut = _copy(trained, tmp_path, 'cut')
  checkpoint = os.path.join(cut, eval_checkpoint.FILE)
  # Ctrl-C: the chunk under way is saved, one line says how to resume, the exit is not 0.
  rc, out, err = _stop_when_saved(_evaluate_cli(cut, steps), checkpoint, signal.SIGINT)
  assert rc != 0, out[-2000:]
  assert re.search(r'interrupted: the fresh Eves are saved at step \d+/3000 in '
                   rf'{re.escape(checkpoint)}; run the same command to resume', out), (
                       out[-2000:] + err[-2000:])
  interrupted_at, finished = _saved_step(checkpoint)
  assert 0 < interrupted_at < 3000 and not finished
  # kill -9 once it has saved again: at most its chunk under way is lost.
  os.utime(checkpoint, (0, 0))
  proc = subprocess.Popen(_evaluate_cli(cut, steps), cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
  deadline = time.time() + 300
  while (proc.poll() is None and time.time() < deadline and
         os.path.getmtime(checkpoint) == 0):
    time.sleep(0.005)
  assert proc.poll() is None, 'the evaluation ended before it could be killed'
  proc.kill()
  out, _ = proc.communicate(timeout=60)
  assert f'resuming the fresh Eves at step {interrupted_at}/3000' in out
  killed_at, finished = _saved_step(checkpoint)
  assert interrupted_at < killed_at < 3000 and not finished
  assert 'evaluation' not in workdir_lib.read_summary(cut)

  done = subprocess.run(_evaluate_cli(cut, steps), cwd=REPO, capture_output=True, text=True,
                        timeout=600)
  assert done.returncode == 0, done.stderr[-3000:]
  assert f'resuming the fresh Eves at step {killed_at}/3000' in done.stdout
  _assert_same_files(whole, cut)
