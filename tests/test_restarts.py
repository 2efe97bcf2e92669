"""adversarial_crypto.restarts on hand-written summaries: which attempt each run
returns, what the loop trains, and the one-line errors."""

import json
import os

import pytest

from adversarial_crypto import restarts
from configs import perfect16


def _seed(i, bob, eve, perfect, steps=100):
  return {'seed': i, 'steps_trained': steps, 'bob_bits': bob, 'eve_bits': eve,
          'trained': bob <= 0.05, 'robust': bob <= 0.05, 'secure': perfect,
          'perfect': perfect}


# Three runs, two attempts. Run 0: the first attempt passes. Run 1: the first fails
# the Eve bound (7.95 < 7.99), the second passes. Run 2: both fail (Bob 0.5 wrong,
# then Eve 7.96), so the loop returns its last attempt.
_FIRST = [_seed(0, 0.00, 8.00, True), _seed(1, 0.01, 7.95, False), _seed(2, 0.50, 8.00, False)]
_SECOND = [_seed(0, 0.00, 7.90, False, 50), _seed(1, 0.02, 7.999, True, 50),
           _seed(2, 0.01, 7.96, False, 50)]


def test_each_run_returns_its_first_accepted_attempt_or_its_last():
  runs = restarts.choose([_FIRST, _SECOND], bob_bits=0.05, eve_bits=7.99)
  assert [r['attempt'] for r in runs] == [0, 1, 1]
  assert [r['accepted'] for r in runs] == [True, True, False]
  assert [r['perfect'] for r in runs] == [True, True, False]
  assert [r['trained'] for r in runs] == [True, True, True]  # run 2's second attempt
  assert [r['attempts_trained'] for r in runs] == [1, 2, 2]
  assert [r['steps_trained'] for r in runs] == [100, 150, 150]


def test_report_counts_runs_cost_and_the_rule_against_perfect():
  result = restarts.report([_FIRST, _SECOND], bob_bits=0.05, eve_bits=7.99)
  assert result['rates']['perfect']['count'] == 2 and result['rates']['perfect']['n'] == 3
  assert result['per_attempt_perfect']['count'] == 2
  assert result['per_attempt_perfect']['n'] == 6
  assert result['attempts_trained'] == 5 and result['steps_trained'] == 400
  # Over all six attempts: accepted (0,0), (1,1), both perfect; the rest rejected and
  # not perfect, including run 0's second attempt, which the loop never trains.
  assert result['rule_against_perfect'] == {
      'accepted_perfect': 2, 'accepted_not_perfect': 0,
      'rejected_perfect': 0, 'rejected_not_perfect': 4}


def test_the_bounds_are_inclusive_and_a_diverged_seed_never_passes():
  on_the_bounds = _seed(0, 0.05, 7.99, True)
  assert restarts.accepted(on_the_bounds, bob_bits=0.05, eve_bits=7.99)
  assert not restarts.accepted(_seed(0, 0.0501, 8.0, False), bob_bits=0.05, eve_bits=7.99)
  assert not restarts.accepted(_seed(0, 0.0, 7.9899, False), bob_bits=0.05, eve_bits=7.99)
  assert not restarts.accepted(dict(on_the_bounds, diverged=True), bob_bits=0.05, eve_bits=7.99)


def test_the_default_eve_bound_keeps_one_parity_leak_rejected_at_every_n():
  # 7.99 at N = 16, where it was fixed; a parity Eve's measure moves by 2/(N-1) of her
  # gain on one parity, so the margin below chance (N/2) scales by 15/(N-1).
  assert restarts.default_eve_bits(16) == pytest.approx(7.99, abs=1e-12)
  assert restarts.default_eve_bits(32) == pytest.approx(16 - 0.01 * 15 / 31, abs=1e-12)
  assert restarts.default_eve_bits(64) == pytest.approx(32 - 0.01 * 15 / 63, abs=1e-12)


def test_one_attempt_is_the_run_itself():
  runs = restarts.choose([_FIRST], bob_bits=0.05, eve_bits=7.99)
  assert [r['attempt'] for r in runs] == [0, 0, 0]
  assert [r['perfect'] for r in runs] == [s['perfect'] for s in _FIRST]


def _workdir(tmp_path, name, seed, seeds, recipe='logistic_bob', finished=True,
             num_seeds=None, **fields):
  d = tmp_path / name
  d.mkdir()
  config = perfect16.get_config(recipe)
  config.seed = seed
  config.num_seeds = len(seeds) if num_seeds is None else num_seeds
  config.update_from_flattened_dict(fields)
  (d / 'config.json').write_text(config.to_json())
  (d / 'summary.json').write_text(json.dumps({'finished': finished, 'seeds': seeds}))
  return str(d)


def test_load_attempts_reads_runs_of_one_recipe_from_distinct_roots(tmp_path):
  w0 = _workdir(tmp_path, 'a', 0, _FIRST)
  w1 = _workdir(tmp_path, 'b', 1, _SECOND)
  assert restarts.load_attempts([w0, w1]) == ([_FIRST, _SECOND], 16)


@pytest.mark.parametrize('second, message', [
    (dict(seed=0), 'share a root'),
    (dict(seed=1, recipe='logistic_bob_slow'), 'another recipe'),
    (dict(seed=1, finished=False), 'not a finished, evaluated run'),
    # Fields the training identity leaves out (a run may resume with another
    # max_steps or evaluation) still make another recipe here.
    (dict(seed=1, max_steps=6_000), 'another recipe'),
    (dict(seed=1, **{'eval.key_search_messages': 32}), 'another recipe'),
    # A summary that does not list its config's seeds 0..n-1 in order.
    (dict(seed=1, seeds=_SECOND[:2], num_seeds=3), 'does not list seeds 0-2'),
    (dict(seed=1, seeds=_SECOND[::-1]), 'does not list seeds 0-2'),
])
def test_load_attempts_refuses_what_are_not_restarts(tmp_path, second, message):
  w0 = _workdir(tmp_path, 'a', 0, _FIRST)
  seeds = second.pop('seeds', _SECOND)
  w1 = _workdir(tmp_path, 'b', second.pop('seed'), seeds, **second)
  with pytest.raises(restarts.RestartsError, match=message):
    restarts.load_attempts([w0, w1])


def test_load_attempts_refuses_a_run_without_the_key_search(tmp_path):
  unverified = [dict(s, perfect=None) for s in _SECOND]
  w0 = _workdir(tmp_path, 'a', 0, _FIRST)
  w1 = _workdir(tmp_path, 'b', 1, unverified)
  with pytest.raises(restarts.RestartsError, match='key search'):
    restarts.load_attempts([w0, w1])
  with pytest.raises(restarts.RestartsError, match='holds no run'):
    restarts.load_attempts([w0, os.path.join(str(tmp_path), 'missing')])


def test_judging_at_an_earlier_step_reads_metrics_and_costs_that_step(tmp_path):
  # Both attempts train 100 steps; the rule reads step 50 of metrics.csv, which says
  # otherwise than the summaries (step 100). Attempt 1: run 0 fails there (Eve 7.95),
  # run 1 passes, run 2 is diverged. Attempt 2 (no `diverged` column, as in older
  # files): run 0 passes; run 2 stopped measuring at step 40 (its last row counts),
  # and fails (Eve 7.0).
  def metrics(d, rows, diverged_column=True):
    head = 'chunk,step,seed,bob_bits,eve_bits' + (',diverged' if diverged_column else '')
    lines = [head + ',stopped']
    lines += [f'0,{step},{i},{bob},{eve}' + (f',{div}' if diverged_column else '') + ',0'
              for step, i, bob, eve, div in rows]
    (tmp_path / d / 'metrics.csv').write_text('\n'.join(lines) + '\n')
  second = [dict(seed, steps_trained=100) for seed in _SECOND]
  w0 = _workdir(tmp_path, 'a', 0, _FIRST)
  w1 = _workdir(tmp_path, 'b', 1, second)
  metrics('a', [(50, 0, 0.0, 7.95, 0), (50, 1, 0.01, 8.0, 0), (50, 2, 0.0, 8.0, 1),
                (100, 0, 0.0, 8.0, 0), (100, 1, 0.01, 7.95, 0), (100, 2, 0.5, 8.0, 0)])
  metrics('b', [(50, 0, 0.0, 8.0, 0), (50, 1, 0.5, 8.0, 0), (40, 2, 0.0, 7.0, 0),
                (100, 0, 0.0, 7.0, 0)], diverged_column=False)
  attempts, _ = restarts.load_attempts([w0, w1], judge_at=50)
  assert [s['eve_bits'] for s in attempts[0]] == [7.95, 8.0, 8.0]
  assert [s['diverged'] for s in attempts[0]] == [False, False, True]
  assert [s['eve_bits'] for s in attempts[1]] == [8.0, 8.0, 7.0]
  runs = restarts.choose(attempts, bob_bits=0.05, eve_bits=7.99)
  assert [r['attempt'] for r in runs] == [1, 0, 1]
  assert [r['accepted'] for r in runs] == [True, True, False]
  # The returned attempts' own verdicts. A rejected attempt costs 50 steps; an
  # accepted one, and the last one (its verdicts are returned), all 100: run 0
  # 50 + 100, run 1 100, run 2 50 + 100.
  assert [r['perfect'] for r in runs] == [False, False, False]
  assert [r['steps_trained'] for r in runs] == [150, 100, 150]
  with pytest.raises(restarts.RestartsError, match='at or before step 30'):
    restarts.load_attempts([w0, w1], judge_at=30)
