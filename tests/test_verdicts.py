"""Verdicts beyond the paper on synthetic evaluations: secure, perfect, and Eves still improving."""

import json
import os

import numpy as np
import pytest

from adversarial_crypto.evaluation import attackers as attackers_lib
from adversarial_crypto.evaluation import evaluator
from adversarial_crypto.evaluation import robustness
from adversarial_crypto.evaluation import stats
from adversarial_crypto.evaluation import verdicts
from adversarial_crypto.training import train
from configs import sym16
from configs import tiny

NAMES = ('paper', 'mlp')


def _result(best, hard, eve_steps=None, last_improved=None, steps=100, window=10):
  """An EvalResult of P seeds x E Eves; eve_steps and last_improved optional, as
  in results made before they were recorded."""
  attackers = tuple(attackers_lib.Attacker(n, None, 'l1', n) for n in NAMES)
  as_arrays = lambda d, t: None if d is None else {n: np.asarray(d[n], t) for n in NAMES}
  return evaluator.EvalResult(attackers, as_arrays(best, np.float32),
                              as_arrays(hard, np.float32), [], steps, 1.0,
                              as_arrays(eve_steps, np.int32),
                              as_arrays(last_improved, np.int32), window)


def _seeds(trained):
  return [{'seed': i, 'trained': t, 'bob_bits': 0.0} for i, t in enumerate(trained)]


def _leak(means):
  return {'messages': 64, 'tolerance': 1e-4, 'wall_s': 2.0,
          'seeds': [{'entropy_bits_mean': m, 'entropy_bits_min': m,
                     'consistent_keys_median': 2.0 ** 16, 'distinct_plaintexts_median': 2.0 ** 16,
                     'found': 1.0 if m is not None else 0.0} for m in means]}


def test_secure_needs_every_hard_bits_within_the_margin_of_chance():
  config = sym16.get_config()    # robust: paper Eve >= 6; secure: every hard >= 8 - 0.25
  assert verdicts.secure_bits(config) == 7.75
  assert verdicts.secure_bits(tiny.get_config()) == 4 - 0.125    # scaled to N = 8
  best = {'paper': [[7.0, 7.2], [7.0, 7.0], [5.9, 8.0], [8.0, 8.0]],
          'mlp': [[7.9, 7.9], [7.9, 7.9], [8.0, 8.0], [8.0, 8.0]]}
  hard = {'paper': [[7.8, 7.9], [7.8, 7.8], [8.0, 8.0], [8.0, 8.0]],
          'mlp': [[7.75, 8.0], [7.7, 8.0], [8.0, 8.0], [8.0, 8.0]]}
  judged = verdicts.judge_seeds(config, _seeds([True, True, True, False]), _result(best, hard))
  # Seed 0: the lowest hard bits, 7.75, sit on the bound: secure. Seed 1: an MLP
  # Eve at 7.7 hard bits, far above the paper's 6, is 0.3 from chance: robust,
  # not secure. Seed 2: the paper Eve's 5.9 breaks robust, and secure with it.
  # Seed 3 failed training.
  assert [s['robust'] for s in judged] == [True, True, False, False]
  assert [s['secure'] for s in judged] == [True, False, False, False]
  # Without the key search, perfect is not judged: None, not False.
  assert [s['perfect'] for s in judged] == [None] * 4
  assert [s['leakage'] for s in judged] == [None] * 4


def test_perfect_needs_the_mean_entropy_within_its_margin_of_n():
  config = sym16.get_config()    # perfect: trained and mean H(P|C) >= 16 - 0.1 = 15.9
  assert verdicts.perfect_bits(config) == pytest.approx(15.9)
  eights = {n: [[8.0]] * 5 for n in NAMES}
  leak = _leak([15.95, 15.9, 15.85, None, 16.0])
  judged = verdicts.judge_seeds(config, _seeds([True, True, True, True, False]),
                                _result(eights, eights), leak)
  # 15.95 and 15.9 (on the bound) pass, 15.85 does not; a seed whose ciphertexts
  # no key explained has no entropy to judge; an untrained pair fails whatever it is.
  assert [s['perfect'] for s in judged] == [True, True, False, False, False]
  assert judged[0]['leakage'] == leak['seeds'][0]
  assert [s['secure'] for s in judged] == [True, True, True, True, False]
  with pytest.raises(ValueError, match='key search covers 5'):
    verdicts.judge_seeds(config, _seeds([True] * 4), _result(
        {n: [[8.0]] * 4 for n in NAMES}, {n: [[8.0]] * 4 for n in NAMES}), leak)


def test_eves_still_improving_at_the_cap_are_recorded():
  config = sym16.get_config()
  best = {'paper': [[7.0, 7.0], [7.0, 7.0], [5.0, 7.0]], 'mlp': [[8.0, 8.0]] * 3}
  # Budget 100, window 10: an Eve is still improving if she trained 100 steps
  # and improved after step 90.
  eve_steps = {'paper': [[100, 60], [100, 100], [100, 100]],
               'mlp': [[100, 100], [100, 100], [100, 100]]}
  last_improved = {'paper': [[95, 60], [90, 40], [100, 100]],
                   'mlp': [[50, 50], [50, 100], [50, 50]]}
  hard = {n: [[8.0, 8.0]] * 3 for n in NAMES}
  judged = verdicts.judge_seeds(config, _seeds([True] * 3),
                                _result(best, hard, eve_steps, last_improved))
  eves = [s['retrained_eves'] for s in judged]
  assert eves[0]['paper']['eve_steps'] == [100, 60]
  # Seed 0: paper Eve 0 improved at 95 (stopped Eve 1 did not reach the cap);
  # seed 1: the paper Eves last improved at 90 and 40, not after 90, but MLP Eve 1
  # improved at the cap; seed 2: the paper Eves were still improving.
  assert [e['paper']['still_improving'] for e in eves] == [True, False, True]
  assert [e['mlp']['still_improving'] for e in eves] == [False, True, False]
  # A longer budget could overturn seed 0's robust and secure and seed 1's secure;
  # seed 2 is not robust (5.0 < 6), which no longer budget can change.
  assert [s['could_fall'] for s in judged] == [['robust', 'secure'], ['secure'], []]
  summary = verdicts.summarize(config, {'seeds': _seeds([True] * 3)},
                               _result(best, hard, eve_steps, last_improved))
  assert summary['evaluation']['could_fall'] == {'robust': [0], 'secure': [0, 1]}
  assert summary['evaluation']['window'] == 10
  attackers = summary['evaluation']['attackers']
  assert attackers['paper']['trained_pairs_still_improving'] == 2
  assert attackers['mlp']['trained_pairs_still_improving'] == 1
  text = verdicts.table(summary)
  assert 'a longer budget could overturn: robust of seeds [0]; secure of seeds [0, 1]' in text
  assert '    7.00/8.00    *' in text  # seed 0's paper Eve, marked


def test_results_that_do_not_record_eve_steps():
  config = sym16.get_config()
  eights = {n: [[8.0]] for n in NAMES}
  judged = verdicts.judge_seeds(config, _seeds([True]), _result(eights, eights))
  assert judged[0]['retrained_eves']['paper']['eve_steps'] is None
  assert judged[0]['retrained_eves']['paper']['still_improving'] is None
  assert judged[0]['could_fall'] == []


def test_summary_with_and_without_the_key_search():
  config = sym16.get_config()
  train_summary = {'steps': 10, 'trained': stats.rate(3, 4), 'seeds': [
      {'seed': i, 'trained': i < 3, 'bob_bits': 0.01} for i in range(4)]}
  eights = {n: [[8.0]] * 4 for n in NAMES}
  summary = verdicts.summarize(config, train_summary, _result(eights, eights),
                               _leak([16.0, 15.0, 15.99, 16.0]))
  # Seeds 0 and 2 are perfect; seed 1 leaks a bit, seed 3 failed training.
  assert summary['perfect'] == stats.rate(2, 4)
  assert summary['secure'] == stats.rate(3, 4)
  assert summary['seeds'][1]['leakage']['entropy_bits_mean'] == 15.0
  assert summary['evaluation']['secure_bits'] == 7.75
  assert summary['evaluation']['key_search'] == {
      'ran': True, 'method': 'search', 'messages': 64, 'tolerance': 1e-4, 'wall_s': 2.0,
      'perfect_bits': pytest.approx(15.9)}
  json.dumps(summary)  # summary.json must be able to hold it
  text = verdicts.table(summary)
  assert 'H(P|C)  robust  secure  perfect' in text
  assert 'perfect 2/4 = 0.50 [0.07, 0.93]' in text
  assert 'secure every hard >= 7.75, perfect H(P|C) >= 15.9 bits' in text
  assert ' 15.000  yes     yes     no' in text      # seed 1's row ends so

  off = verdicts.summarize(config, train_summary, _result(eights, eights),
                           leak_reason='key search off: config.eval.key_search_messages is 0')
  assert off['perfect'] is None
  assert [s['perfect'] for s in off['seeds']] == [None] * 4
  assert off['evaluation']['key_search']['ran'] is False
  text = verdicts.table(off)
  assert 'perfect not judged: key search off: config.eval.key_search_messages is 0' in text
  assert '       -  yes     yes     -' in text


def test_protocol_states_the_secure_bound_and_the_key_search():
  diffs = verdicts.protocol_differences(sym16.get_config())
  assert len(diffs) == 2
  assert ("the stricter verdict \"secure\" (robust, and every attacker's best fresh Eve "
          '>= 7.75 hard bits wrong: within 0.25 of chance, N/2)') in diffs[-1]
  assert ('"perfect" (trained, and H(P|C) >= 15.9 bits, N - 0.1, exact by trying all 2^16 '
          'keys on 64 fresh ciphertexts per seed, tolerance 0.0001)') in diffs[-1]
  asym = verdicts.protocol_differences(tiny.get_config('asymmetric'))
  assert asym[-1].endswith('no verdict "perfect" (no key search: it needs Bob to decode '
                           'under a shared key, and this run is asymmetric)')
  patient = sym16.get_config()
  patient.eval.patience, patient.eval.lr_schedule = 20_000, 'cosine'
  diffs = verdicts.protocol_differences(patient)
  assert ('fresh Eves stop after 20000 steps without improvement, 250000 at most (beyond '
          'the paper: a fixed budget)') in diffs
  assert "fresh Eves' learning rate: cosine decay over 250000 steps (paper: constant)" in diffs


def test_benchmark_has_a_perfect_column(success_rate_benchmark):
  bench = success_rate_benchmark
  config = sym16.get_config()
  train_summary = {'seeds': _seeds([True, False])}
  eights = {n: [[8.0]] * 2 for n in NAMES}
  ran = verdicts.summarize(config, train_summary, _result(eights, eights), _leak([16.0, 16.0]))
  off = verdicts.summarize(config, train_summary, _result(eights, eights),
                           leak_reason='key search off')
  rows = [bench.row('sym16', config, ran, 1.0, 2.0), bench.row('sym16', config, off, 1.0, 2.0)]
  assert rows[0]['perfect'] == stats.rate(1, 2) and rows[1]['perfect'] is None
  table = bench.format_table('cpu', rows)
  lines = table.split('\n')
  assert 'perfect' in lines[1]
  # trained, robust, secure and perfect: 1/2 each where the search ran.
  assert lines[2].count(' 1/2  0.50 [0.01,0.99]') == 4
  assert 'perfect not judged: key search off' in table
  json.dumps(rows)


@pytest.mark.slow
def test_evaluate_run_searches_every_key_after_the_fresh_eves(tmp_path, tiny_config):
  tiny_config.eval.steps, tiny_config.eval.every = 20, 20
  tiny_config.eval.key_search_messages = 8
  workdir = str(tmp_path)
  result = train.train(tiny_config, workdir, log=lambda _: None)
  lines = []
  summary = robustness.evaluate_run(tiny_config, workdir, result.run, result.summary,
                                    log=lines.append)
  searched = [i for i, line in enumerate(lines) if line.startswith('key search seed')]
  fresh = [i for i, line in enumerate(lines) if line.startswith('fresh Eves step')]
  assert len(searched) == 2 and max(fresh) < min(searched)
  with open(os.path.join(workdir, 'summary.json')) as f:
    written = json.load(f)
  # 40 training steps train no pair: none is perfect, whatever the search found.
  assert written['perfect'] == json.loads(json.dumps(stats.rate(0, 2)))
  for seed in written['seeds']:
    assert seed['perfect'] is False
    figures = seed['leakage']
    assert 0.0 <= figures['found'] <= 1.0
    assert 0.0 <= figures['distinct_plaintexts_median'] <= figures['consistent_keys_median'] <= 256
    if figures['found']:
      # No more than log2 of the 256 keys, nor than N = 8 bits.
      assert 0.0 <= figures['entropy_bits_min'] <= figures['entropy_bits_mean'] <= 8.0
    assert seed['retrained_eves']['paper']['eve_steps'] == [20, 20]
  assert written['evaluation']['key_search']['messages'] == 8
  table = [line for text in lines for line in text.split('\n')]
  assert any(line.startswith('perfect 0/2 = 0.00') for line in table)
  assert summary['evaluation']['key_search']['ran'] is True
