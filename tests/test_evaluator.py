"""The robustness evaluator: fresh Eves, verdicts, rates, and controls it must judge right."""

import json
import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from adversarial_crypto.evaluation import attackers as attackers_lib
from adversarial_crypto.core import bits
from adversarial_crypto.core import recipe
from adversarial_crypto import config as config_lib
from adversarial_crypto.evaluation import evaluator
from adversarial_crypto.evaluation import leakage
from adversarial_crypto.evaluation import robustness
from adversarial_crypto.training import experiments
from adversarial_crypto.training import runner as runner_lib
from adversarial_crypto.evaluation import stats
from adversarial_crypto.training import train
from adversarial_crypto.evaluation import verdicts
from configs import sym16
from configs import sym32
from configs import tiny


def _leaves_differ(a, b):
  return all(not np.allclose(x, y) for x, y in
             zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))


def _toy_encrypt(scale, plaintext, key):
  return jnp.tanh(scale * plaintext * key + 0.5 * plaintext)


@pytest.mark.slow
def test_fresh_eves_shapes_keys_state_and_vmap():
  config = tiny.get_config()
  config.eval.num_eves = 3
  ciphers = jnp.array([1.0, 2.0])  # one parameter per cipher, for _toy_encrypt
  num_pairs = len(ciphers)
  ev = evaluator.make_evaluator(_toy_encrypt, 8, 8, config.eval,
                                attackers_lib.make_attackers(config))
  root = evaluator.eval_root_key(config)
  keys = ev.eve_keys(root, num_pairs)
  states = ev.init(keys)
  assert set(states) == {'paper', 'mlp'}
  for name, state in states.items():
    single = jax.eval_shape(ev.trainers[name].init, keys[name][0, 0])
    for leaf, one in zip(jax.tree_util.tree_leaves(state), jax.tree_util.tree_leaves(single)):
      chex.assert_shape(leaf, (num_pairs, 3) + one.shape)
    # Every Eve starts with Adam's fresh state: no steps, zero moments.
    np.testing.assert_array_equal(state.opt_state[0].count, 0)
    for moment in jax.tree_util.tree_leaves((state.opt_state[0].mu, state.opt_state[0].nu)):
      np.testing.assert_array_equal(moment, 0.0)
    assert np.all(np.isinf(state.best_bits)) and np.all(np.isinf(state.best_hard_bits))
    flat = [jax.tree_util.tree_map(lambda x, p=p, e=e: x[p, e], state.params)
            for p in range(num_pairs) for e in range(3)]
    for i in range(len(flat)):
      for j in range(i):
        assert _leaves_differ(flat[i], flat[j]), (name, i, j)
  # The paper's attacker has the trained Eve's shapes, yet none of her values.
  seed_keys = runner_lib.seed_keys(config.seed, config.num_seeds)
  trained_eve = experiments.make_experiment(config).init(seed_keys[0]).eve
  chex.assert_trees_all_equal_shapes(
      jax.tree_util.tree_map(lambda x: x[0, 0], states['paper'].params), trained_eve)
  for p in range(num_pairs):
    for e in range(3):
      assert _leaves_differ(jax.tree_util.tree_map(lambda x, p=p, e=e: x[p, e],
                                                   states['paper'].params), trained_eve)
  # Keys do not depend on how many pairs are evaluated, nor on the other attackers.
  more = ev.eve_keys(root, num_pairs + 3)
  np.testing.assert_array_equal(more['paper'][:num_pairs], keys['paper'])
  config.eval.attackers = ('paper',)
  alone = evaluator.make_evaluator(_toy_encrypt, 8, 8, config.eval,
                                   attackers_lib.make_attackers(config))
  np.testing.assert_array_equal(alone.eve_keys(root, num_pairs)['paper'], keys['paper'])

  # The evaluator's vmap over (cipher, Eve) changes nothing about each Eve:
  # Eve (1, 2) alone, from her own key, does what she does among the others.
  new_states, measures = ev.run_chunk(states, ciphers, keys, jnp.int32(0), 5)
  trainer = ev.trainers['paper']
  start = trainer.init(keys['paper'][1, 2])
  chex.assert_trees_all_close(
      jax.tree_util.tree_map(lambda x: x[1, 2], states['paper']), start, atol=0)
  one, one_measure = jax.jit(trainer.run_chunk, static_argnums=4)(
      start, ciphers[1], keys['paper'][1, 2], jnp.int32(0), 5)
  chex.assert_trees_all_close(jax.tree_util.tree_map(lambda x: x[1, 2], new_states['paper']),
                              one, atol=1e-5)
  np.testing.assert_allclose(measures['paper'].bits[1, 2], one_measure.bits, atol=1e-5)
  # A later chunk of the same length reuses the compiled chunk.
  ev.run_chunk(new_states, ciphers, keys, jnp.int32(5), 5)
  assert ev.run_chunk._cache_size() == 1
  for name in ('paper', 'mlp'):
    assert np.all(new_states[name].opt_state[0].count == 5)
    np.testing.assert_array_equal(new_states[name].best_bits, measures[name].bits)
    np.testing.assert_array_equal(new_states[name].best_hard_bits, measures[name].hard_bits)


@pytest.mark.slow
def test_mapped_and_vmapped_eve_loops_agree():
  config = tiny.get_config()
  config.eval.num_eves = 2
  config.eval.attackers = ('paper',)
  ciphers = jnp.array([1.0, 2.0])
  out = {}
  for loop in evaluator.EVE_LOOPS:
    ev = evaluator.make_evaluator(_toy_encrypt, 8, 8, config.eval,
                                  attackers_lib.make_attackers(config), eve_loop=loop)
    keys = ev.eve_keys(evaluator.eval_root_key(config), len(ciphers))
    out[loop] = ev.run_chunk(ev.init(keys), ciphers, keys, jnp.int32(0), 5)
  chex.assert_trees_all_close(out['map'], out['vmap'], atol=1e-5)
  assert np.all(out['map'][0]['paper'].opt_state[0].count == 5)
  with pytest.raises(ValueError, match="unknown eve_loop 'scan'"):
    evaluator.make_evaluator(_toy_encrypt, 8, 8, config.eval,
                             attackers_lib.make_attackers(config), eve_loop='scan')


@pytest.mark.slow
def test_eves_on_columns_equal_eves_on_rows():
  # evaluate_alices trains the fresh Eves on batches as columns; against the
  # same Alices they must learn what Eves on batch-first rows learn.
  config = tiny.get_config()
  # The MLP attacker alone (the paper's network on columns is checked in
  # test_fast_path's training steps), to keep this quick.
  config.eval.num_eves, config.eval.attackers = 2, ('mlp',)
  experiment = experiments.make_experiment(config)
  alices = jax.vmap(lambda k: experiment.init(k).alice_bob)(
      runner_lib.seed_keys(config.seed, 2))
  out = {}
  for layout in (bits.ROWS, bits.COLUMNS):
    scheme = recipe.make_scheme(config, layout)
    ev = evaluator.make_evaluator(scheme.eve_view, 8, 8, config.eval,
                                  attackers_lib.make_attackers(config), layout=layout)
    keys = ev.eve_keys(evaluator.eval_root_key(config), 2)
    out[layout] = ev.run_chunk(ev.init(keys), alices, keys, jnp.int32(0), 5)
  chex.assert_trees_all_close(out[bits.ROWS], out[bits.COLUMNS], atol=1e-5)
  assert np.all(out[bits.COLUMNS][0]['mlp'].opt_state[0].count == 5)


def test_clopper_pearson_known_values():
  # The paper's 10/20 robust and 14/20 trained (README, Results).
  np.testing.assert_allclose(stats.clopper_pearson(10, 20), (0.272, 0.728), atol=5e-4)
  np.testing.assert_allclose(stats.clopper_pearson(14, 20), (0.457, 0.881), atol=5e-4)
  # k = 0 and k = n have closed forms: (alpha/2)^(1/n).
  assert stats.clopper_pearson(0, 20) == (0.0, pytest.approx(1 - 0.025 ** (1 / 20)))
  assert stats.clopper_pearson(20, 20) == (pytest.approx(0.025 ** (1 / 20)), 1.0)
  r = stats.rate(1, 3)
  assert (r['count'], r['n']) == (1, 3) and r['rate'] == pytest.approx(1 / 3)
  np.testing.assert_allclose((r['ci_low'], r['ci_high']), (0.0084, 0.9057), atol=5e-4)
  assert stats.format_rate(stats.rate(10, 20)) == '10/20 = 0.50 [0.27, 0.73]'


def _fake_result(best, hard, names=('paper', 'mlp')):
  attackers = tuple(attackers_lib.Attacker(n, None, 'l1', n) for n in names)
  return evaluator.EvalResult(attackers, {n: np.asarray(best[n], np.float32) for n in names},
                              {n: np.asarray(hard[n], np.float32) for n in names}, [], 10, 1.0)


def test_verdicts_by_hand():
  config = sym16.get_config()   # bound 6.0
  seeds = [{'seed': i, 'trained': t, 'bob_bits': 0.0} for i, t in
           enumerate([True, True, True, False])]
  best = {'paper': [[6.5, 6.0], [7.0, 5.9], [7.0, 7.0], [8.0, 8.0]],
          'mlp': [[7.0, 7.0], [7.0, 7.0], [7.0, 7.0], [8.0, 8.0]]}
  hard = {'paper': [[7.8, 7.75], [6.0, 6.0], [6.5, 6.5], [8.0, 8.0]],
          'mlp': [[7.9, 7.76], [6.0, 6.0], [1.0, 7.0], [8.0, 8.0]]}
  judged = verdicts.judge_seeds(config, seeds, _fake_result(best, hard))
  # Seed 0 sits exactly on both bounds (6 for robust; 8 - 0.25 for secure): robust
  # and secure. Seed 1: one paper Eve at 5.9 breaks it. Seed 2: the paper Eve
  # fails, one MLP Eve succeeds in hard bits: robust, not secure (its paper Eve at
  # 6.5 hard bits alone would be too). Seed 3 failed training: a failure whatever its Eves.
  assert [s['robust'] for s in judged] == [True, False, True, False]
  assert [s['secure'] for s in judged] == [True, False, False, False]
  assert [s['best_retrained_eve_bits'] for s in judged] == pytest.approx([6.0, 5.9, 7.0, 8.0])
  assert judged[2]['retrained_eves']['mlp']['best_hard_bits'] == 1.0
  assert judged[2]['retrained_eves']['mlp']['hard_bits'] == [1.0, 7.0]


def test_summary_rates_and_table():
  config = sym16.get_config()
  train_summary = {'steps': 10, 'wall_s': 1.0, 'trained': stats.rate(3, 4),
                   'seeds': [{'seed': i, 'trained': i < 3, 'bob_bits': 0.01,
                              'steps_trained': 10, 'eve_bits': 7.5} for i in range(4)]}
  best = {'paper': [[6.5], [4.0], [7.0], [8.0]], 'mlp': [[7.0], [7.0], [7.0], [8.0]]}
  hard = {'paper': [[7.8], [6.0], [6.5], [8.0]], 'mlp': [[7.9], [6.0], [1.0], [8.0]]}
  summary = verdicts.summarize(config, train_summary, _fake_result(best, hard))
  assert summary['robust']['count'] == 2 and summary['secure']['count'] == 1
  assert summary['trained']['count'] == 3 and summary['robust']['n'] == 4
  spread = summary['evaluation']['attackers']['paper']['trained_pairs_best_bits']
  assert spread == {'mean': pytest.approx(17.5 / 3), 'min': 4.0, 'max': 7.0, 'n': 3}
  assert summary['evaluation']['attackers']['mlp']['trained_pairs_below_bound_hard_bits'] == 1
  json.dumps(summary)  # summary.json must be able to hold it
  text = verdicts.table(summary)
  assert 'robust  2/4 = 0.50 [0.07, 0.93]' in text
  assert 'steps per retrained Eve: 10' not in text  # config.eval.steps is the paper's
  # The paper's protocol itself differs only by what goes beyond it.
  diffs = verdicts.protocol_differences(config)
  assert len(diffs) == 2 and diffs[-1].startswith('beyond the paper')
  config.batch_size, config.eval.steps = 512, 3000
  diffs = verdicts.protocol_differences(config)
  assert 'minibatch: 512 (paper 4096)' in diffs
  assert 'steps per retrained Eve: 3000 (paper 250000)' in diffs
  config.leak_penalty.weight, config.ciphertext = 8.0, 'sign'
  diffs = verdicts.protocol_differences(config)
  assert ('leak penalty (beyond the paper): x 8, moments up to order 1, 8 keys per plaintext'
          in diffs)
  assert "ciphertext: sign of Alice's outputs (paper: the tanh outputs)" in diffs


def test_a_run_from_first_seed_f_gives_its_seeds_what_one_run_from_seed_0_gives():
  # Seeds 3 and 4 of root 7, trained by a run of 2 seeds from first_seed 3, get the
  # training keys, fresh Eves' keys and key-search messages of seeds 3, 4 of a 5-seed run.
  np.testing.assert_array_equal(runner_lib.seed_keys(7, 2, first_seed=3),
                                runner_lib.seed_keys(7, 5)[3:])
  root = jax.random.PRNGKey(7)
  np.testing.assert_array_equal(evaluator.fresh_eve_keys(root, 2, 'mlp', 3, first_cipher=3),
                                evaluator.fresh_eve_keys(root, 5, 'mlp', 3)[3:])
  whole = config_lib.complete(tiny.get_config())
  part = config_lib.complete(tiny.get_config())
  part.first_seed = 3
  for i in range(2):
    for a, b in zip(leakage.messages(part, i), leakage.messages(whole, 3 + i)):
      np.testing.assert_array_equal(a, b)
  # The tables number a seed among its root's; summary.json keeps the run's index.
  config = sym16.get_config()
  config.first_seed = 3
  train_summary = {'steps': 10, 'wall_s': 1.0, 'trained': stats.rate(2, 2), 'first_seed': 3,
                   'seeds': [{'seed': i, 'trained': True, 'bob_bits': 0.01,
                              'steps_trained': 10, 'eve_bits': 7.5} for i in range(2)]}
  best = {'paper': [[8.0], [8.0]], 'mlp': [[8.0], [8.0]]}
  summary = verdicts.summarize(config, train_summary, _fake_result(best, best))
  assert [s['seed'] for s in summary['seeds']] == [0, 1] and summary['first_seed'] == 3
  rows = [line.split()[0] for line in verdicts.table(summary).splitlines()[2:4]]
  assert rows == ['3', '4']
  assert [line.split()[0] for line in train.seed_table(train_summary).splitlines()[1:3]] == [
      '3', '4']


def test_config_fields_and_checks():
  assert sym16.get_config().success.retrained_eve_bits == 6.0
  assert sym32.get_config().success.retrained_eve_bits == 12.0
  assert tiny.get_config().success.retrained_eve_bits == 3.0
  config = sym16.get_config()
  assert config.eval.attackers == ('paper', 'mlp')
  # Older configs and --config.eval.attackers=a,b give a comma-separated string.
  assert config_lib.attacker_names('paper, mlp') == ('paper', 'mlp')
  assert config_lib.attacker_names(('paper', 'mlp')) == ('paper', 'mlp')
  old = sym16.get_config().to_dict()
  old['eval']['attackers'] = 'paper,mlp'
  assert config_lib.complete(old).eval.attackers == ('paper', 'mlp')
  # The bound and the evaluation do not define the training run.
  other = sym16.get_config()
  other.success.retrained_eve_bits, other.eval.steps = 5.0, 10
  assert config_lib.identity(config) == config_lib.identity(other)
  assert 'retrained_eve_bits' in config.success  # identity() did not mutate it
  for field, value, message in (('attackers', ('mlp',), "must include 'paper'"),
                                ('attackers', ('paper', 'cnn'), 'distinct names'),
                                ('num_eves', 0, 'config.eval.num_eves'),
                                ('mlp_loss', 'l2', 'config.eval.mlp_loss'),
                                ('mlp_hidden', (), 'config.eval.mlp_hidden')):
    bad = sym16.get_config()
    bad.eval[field] = value
    with pytest.raises(config_lib.ConfigError, match=message):
      config_lib.validate(bad)
  bad = sym16.get_config()
  bad.success.retrained_eve_bits = 17.0
  with pytest.raises(config_lib.ConfigError, match='retrained_eve_bits'):
    config_lib.validate(bad)
  config.eval.attackers = ('paper', 'parity')
  config_lib.validate(config)
  parity = attackers_lib.make_attacker('parity', config)
  assert parity.target == 'pair_parity'
  assert parity.network.logits(parity.network.init(jax.random.PRNGKey(0)),
                               jnp.zeros((3, 16))).shape == (3, 120)
  selective = tiny.get_config('selective')
  selective.eval.attackers = ('paper', 'parity')
  with pytest.raises(config_lib.ConfigError, match="must be from 'paper', 'mlp'"):
    config_lib.validate(selective)


# Controls, N = 8, bound 3 bits: ciphertext = tanh(a * plaintext * key + b * plaintext).
CONTROLS = {'identity': (0.0, 1.0, 0.0),   # passes the plaintext through
            'one_time_pad': (1.0, 0.0, 0.0),   # tanh(P x K): a perfect pad
            'leaky_pad': (1.0, 0.3, 0.0),  # the sign is the pad's, the magnitude leaks P
            'reused_key': (0.0, 0.0, 1.0)}  # tanh(P x K_0): C_i C_k = P_i P_k


def _control_encrypt(params, plaintext, key):
  a, b, c = params[0], params[1], params[2]
  return jnp.tanh(a * plaintext * key + b * plaintext + c * plaintext * key[..., :1])


@pytest.mark.slow
def test_controls_are_judged_right():
  config = tiny.get_config()
  ev_config = config.eval
  ev_config.num_eves, ev_config.steps, ev_config.every = 2, 600, 200
  # Held out: 8192 examples, so that an Eve at chance stays within the secure
  # margin (0.125 bits at N = 8) by about 8 standard errors (0.016 bits).
  ev_config.batch_size, ev_config.eval_batch_size = 256, 8192
  ev_config.mlp_hidden = (64, 64)
  # A faster learning rate than the paper's keeps the budget short; the paper's
  # Eve then learns the identity within 400 steps and the MLP the leak within 200.
  ev_config.learning_rate = 0.003
  ev_config.attackers = ('paper', 'mlp', 'parity')
  params = jnp.array(list(CONTROLS.values()))
  result = evaluator.evaluate_cipher(_control_encrypt, params, 8, 8, ev_config,
                                     jax.random.PRNGKey(0),
                                     attackers_lib.make_attackers(config), log=lambda s: None)
  assert result.best_bits['paper'].shape == (4, 2) and len(result.history) == 3
  seeds = [{'seed': i, 'trained': True, 'bob_bits': 0.0} for i in range(4)]
  judged = dict(zip(CONTROLS, verdicts.judge_seeds(config, seeds, result)))
  identity, pad, leaky = judged['identity'], judged['one_time_pad'], judged['leaky_pad']
  # The identity is broken by every Eve: not robust.
  assert identity['retrained_eves']['paper']['best_bits'] < 0.5
  assert max(identity['retrained_eves']['mlp']['hard_bits']) < 0.1
  assert not identity['robust'] and not identity['secure']
  # Against a one-time pad no Eve does better than guessing: N/2 = 4 bits, within
  # the secure margin (4 - 0.125). The parity Eve counts N x the error rate of her
  # best-read parity, so chance is 4 for her too.
  for name in ('paper', 'mlp', 'parity'):
    assert min(pad["retrained_eves"][name]["bits"]) > 3.875
    assert min(pad["retrained_eves"][name]["hard_bits"]) > 3.875
  assert pad['robust'] and pad['secure']
  # The leaky pad: the MLP Eve reads the plaintext from the magnitude.
  assert max(leaky['retrained_eves']['mlp']['hard_bits']) < 1.0
  assert not leaky['secure']
  # One key bit for every bit hides each bit from the bit Eves, and gives every
  # parity away: only the parity Eve sees it, and the verdict with her.
  reused = judged['reused_key']['retrained_eves']
  for name in ('paper', 'mlp'):
    assert min(reused[name]['hard_bits']) > 3.6
  assert max(reused['parity']['hard_bits']) < 1.0
  assert judged['reused_key']['robust'] and not judged['reused_key']['secure']


@pytest.mark.slow
def test_reevaluate_a_finished_tiny_run(tmp_path, tiny_config):
  workdir = str(tmp_path / 'run')
  result = train.train(tiny_config, workdir, log=lambda s: None)
  # What adversarial_crypto.evaluate does: the run's own config, a new evaluation.
  config, run, train_summary = robustness.load_run(workdir)
  assert config.eval.num_eves == 2 and config.eval.mlp_hidden == (32, 32)
  np.testing.assert_array_equal(run.steps, result.run.steps)
  for a, b in zip(train_summary['seeds'], result.summary['seeds']):
    assert a['trained'] == b['trained'] and a['bob_bits'] == pytest.approx(b['bob_bits'])
  config.eval.num_eves, config.eval.steps, config.eval.every = 3, 20, 10
  summary = robustness.evaluate_run(config, workdir, run, train_summary, log=lambda s: None)
  for name in ('summary.json', 'eval_metrics.csv', 'figure2_training.png',
               'figure3_robustness.png'):
    assert os.path.getsize(os.path.join(workdir, name)) > 0, name
  with open(os.path.join(workdir, 'summary.json')) as f:
    assert json.load(f) == json.loads(json.dumps(summary))
  assert summary['evaluation']['config']['num_eves'] == 3
  assert [s['seed'] for s in summary['seeds']] == [0, 1]
  for seed in summary['seeds']:
    for name in ('paper', 'mlp'):
      eves = seed['retrained_eves'][name]
      assert len(eves['bits']) == len(eves['hard_bits']) == 3
      assert eves['best_bits'] == min(eves['bits'])
      assert all(0.0 <= b <= 8.0 for b in eves['bits'] + eves['hard_bits'])
    # 40 steps cannot train a pair; it is evaluated all the same, and fails.
    assert not seed['trained'] and not seed['robust'] and not seed['secure']
  # 2 measurements x 2 seeds x 2 attackers x 3 Eves, and a header.
  with open(os.path.join(workdir, 'eval_metrics.csv')) as f:
    assert len(f.readlines()) == 1 + 2 * 2 * 2 * 3

  # A run made before the evaluator: no eval section, no retrained bound.
  with open(os.path.join(workdir, 'config.json')) as f:
    old = json.load(f)
  del old['eval'], old['success']['retrained_eve_bits']
  with open(os.path.join(workdir, 'config.json'), 'w') as f:
    json.dump(old, f)
  completed, run, _ = robustness.load_run(workdir)
  assert completed.success.retrained_eve_bits == 3.0
  assert completed.eval.steps == sym16.get_config().eval.steps
  assert completed.eval.mlp_hidden == (256, 256)
  np.testing.assert_array_equal(run.steps, result.run.steps)


def test_benchmark_presets_and_table(success_rate_benchmark):
  bench = success_rate_benchmark
  cpu = bench.make_config('sym16', bench.PRESETS['cpu'])
  # Exactly the overrides of a run trained by main.py with these flags, so the
  # benchmark can reuse such a workdir.
  trained = sym16.get_config()
  trained.batch_size, trained.max_steps, trained.chunk_steps = 512, 20_000, 500
  assert config_lib.identity(cpu) == config_lib.identity(trained)
  config_lib.validate(cpu)
  assert bench.make_config('sym16', bench.PRESETS['paper']).to_dict() == sym16.get_config().to_dict()
  extra = bench.make_config('sym32', bench.PRESETS['cpu'], num_seeds=4,
                            extra=['eval.steps=10', "eval.attackers=paper"])
  assert (extra.num_seeds, extra.eval.steps, extra.eval.attackers) == (4, 10, ('paper',))
  assert extra.success.retrained_eve_bits == 12.0
  with pytest.raises(ValueError, match='unknown config field'):
    bench.make_config('sym16', bench.PRESETS['cpu'], extra=['eval.stepz=10'])
  train_summary = {'trained': stats.rate(1, 2), 'seeds': [
      {'seed': i, 'trained': i == 0, 'bob_bits': 0.0} for i in range(2)]}
  best = {'paper': [[6.5], [4.0]], 'mlp': [[1.0], [7.0]]}
  summary = verdicts.summarize(cpu, train_summary, _fake_result(best, best))
  table = bench.format_table('cpu', [bench.row('sym16', cpu, summary, 1.0, 2.0)])
  assert ' 1/2  0.50 [0.01,0.99]' in table   # trained and robust
  assert ' 0/2  0.00 [0.00,0.84]' in table   # secure: the MLP Eve breaks seed 0
  assert 'steps per retrained Eve: 2000 (paper 250000)' in table
  assert 'minibatch: 512 (paper 4096)' in table


def test_the_progress_line_lowest_leaves_out_nan():
  # A diverged seed's Eves measure NaN; the progress line's lowest is the others'.
  assert evaluator._lowest(np.array([[np.nan, 3.0], [2.5, np.nan]])) == 2.5
  assert np.isnan(evaluator._lowest(np.array([np.nan, np.nan])))
  assert evaluator._lowest(np.array([np.inf, 7.0])) == 7.0


@pytest.mark.slow
def test_the_patience_benchmark_compares_the_same_eves(tmp_path, benchmark_module):
  # benchmarks/patience.py on a tiny run: the fixed budget trains every Eve to the
  # cap, patience no more, and the JSON holds both with the verdicts per pair.
  from adversarial_crypto.training import train
  from configs import tiny
  train.train(tiny.get_config(), str(tmp_path / 'run'), log=lambda line: None)
  bench = benchmark_module('patience')
  out = tmp_path / 'patience.json'
  bench.main([f'--workdir={tmp_path / "run"}', '--seeds=2', '--eves=2', '--steps=40',
              '--patience=10', '--every=10', '--batch=32', f'--out={out}'])
  result = json.loads(out.read_text())
  # 2 pairs x 2 Eves x 2 attackers (paper, mlp) x 40 steps.
  assert result['fixed']['eve_steps'] == 2 * 2 * 2 * 40
  assert 0 < result['patience']['eve_steps'] <= result['fixed']['eve_steps']
  assert result['seeds'] == [0, 1] and len(result['patience']['pairs']) == 2
  assert set(result['fixed']['pairs'][0]['best']) == {'paper', 'mlp'}
  assert isinstance(result['verdicts_differ_on_pairs'], list)
  with pytest.raises(SystemExit):   # --patience must be a multiple of --every
    bench.parse_args([f'--workdir={tmp_path}', '--patience=15', '--every=10'])
