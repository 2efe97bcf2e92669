"""The stronger attackers (products, parity4, distinguish), best-target scoring,
and the fresh Eves' budgets (patience, learning-rate schedule), by hand."""

import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from adversarial_crypto import config as config_lib
from adversarial_crypto.core import bits
from adversarial_crypto.core import networks
from adversarial_crypto.evaluation import attackers
from adversarial_crypto.evaluation import evaluator
from configs import tiny


def _config():
  config = config_lib.complete(tiny.get_config())
  config.eval.attackers = config_lib.ALL_ATTACKERS
  return config


def test_quads_are_a_fixed_sorted_sample_of_distinct_groups():
  assert attackers.quads(6).tolist() == [list(c) for c in itertools.combinations(range(6), 4)]
  sample = attackers.quads(16)
  assert sample.shape == (attackers.PARITY4_SAMPLES, 4)
  assert len({tuple(q) for q in sample.tolist()}) == attackers.PARITY4_SAMPLES
  assert (np.diff(sample, axis=1) > 0).all()           # each group sorted, no repeats
  np.testing.assert_array_equal(sample, attackers.quads(16))  # the same every time


def test_quad_parities_and_products_by_hand():
  p = jnp.array([[1., -1., 1., 1., -1., 1.]])  # N = 6: all 15 groups of 4
  groups = attackers.quads(6)
  want = [np.prod(np.asarray(p[0])[list(g)]) for g in groups]
  np.testing.assert_array_equal(attackers.quad_parities(p)[0], want)
  np.testing.assert_array_equal(attackers.quad_parities(p.T, bits.COLUMNS)[:, 0], want)
  v = jnp.array([[0.5, -2., 3.]])
  np.testing.assert_allclose(attackers.with_products(v)[0], [0.5, -2., 3., -1., 1.5, -6.])


@pytest.mark.slow
def test_every_attacker_maps_its_input_to_its_targets():
  config = _config()
  p, k = bits.random_messages(jax.random.PRNGKey(0), 5, 8, 8)
  for attacker in attackers.make_attackers(config):
    eve_input, target = attacker.task(p, p * k, bits.ROWS)
    params = attacker.network.init(jax.random.PRNGKey(1))
    out = attacker.network.apply(params, eve_input)
    chex.assert_shape(eve_input, (5, attacker.network.in_bits))
    chex.assert_equal_shape([out, target])
  names = [a.name for a in attackers.make_attackers(config)]
  assert names == list(config_lib.ALL_ATTACKERS)


def test_the_distinguisher_answers_the_opposite_when_the_candidates_swap():
  n, v = 8, 8
  net = attackers.siamese_scorer(v, n, (16,))
  params = net.init(jax.random.PRNGKey(0))
  x = jax.random.normal(jax.random.PRNGKey(1), (7, 2 * n + v))
  swapped = jnp.concatenate([x[:, n:2 * n], x[:, :n], x[:, 2 * n:]], -1)
  np.testing.assert_allclose(net.logits(params, swapped), -net.logits(params, x), atol=1e-6)
  # Rows and columns agree (the evaluator trains on columns).
  np.testing.assert_allclose(net.logits_columns(params, x.T), net.logits(params, x).T,
                             atol=1e-6)


def _parity_reader(msg_bits):
  """A stub 'parity' Eve that reads the first pairwise parity exactly from an
  identity cipher (C = P) and says 0 for every other: her best target is read
  perfectly, her mean over the N(N-1)/2 parities is nearly all wrong."""
  pairs = msg_bits * (msg_bits - 1) // 2

  def logits(params, x):
    del params
    first = 10.0 * x[..., :1] * x[..., 1:2]
    return jnp.concatenate([first, jnp.zeros(x.shape[:-1] + (pairs - 1,))], -1)

  return networks.Network(lambda key: {'w': jnp.zeros(())}, logits, msg_bits, pairs)


@pytest.mark.parametrize('layout', [bits.ROWS, bits.COLUMNS])
def test_parity_attackers_are_scored_by_their_best_read_target(layout):
  config = _config()
  config.eval.eval_batch_size = 64
  n = config.msg_bits
  best = attackers.Attacker('parity', _parity_reader(n), 'logistic', 'stub', 'pair_parity',
                            'best')
  mean = best._replace(score='mean')
  identity = lambda params, p, k: p
  for attacker, want_hard in ((best, 0.0), (mean, n * 27 * 0.5 / 28)):
    trainer = evaluator.make_eve_trainer(attacker, identity, n, config.key_bits, config.eval,
                                         layout)
    m = trainer.measure(trainer.init(jax.random.PRNGKey(0)), {}, jax.random.PRNGKey(1), 0)
    # The stub's other 27 guesses are exactly 0: a tie, scored as a coin flip (half wrong).
    np.testing.assert_allclose(m.hard_bits, want_hard, rtol=1e-6)


def _evaluate_pad(eval_overrides, steps=60):
  config = _config()
  config.eval.update(dict(num_eves=2, steps=steps, every=10, batch_size=32,
                          eval_batch_size=64, **eval_overrides))
  pad = lambda params, p, k: p * k
  return evaluator.evaluate_cipher(pad, {'w': jnp.zeros((2, 1))}, 8, 8, config.eval,
                                   jax.random.PRNGKey(0),
                                   [attackers.make_attacker('mlp', config)],
                                   log=lambda line: None, layout=bits.COLUMNS), config


@pytest.mark.slow
def test_patience_stops_eves_that_stop_improving_and_records_their_budget():
  fixed, config = _evaluate_pad({})
  assert (fixed.eve_steps['mlp'] == 60).all()        # the paper's fixed budget
  assert fixed.window == evaluator.improvement_window(config.eval) == 10
  patient, _ = _evaluate_pad({'patience': 20})
  steps, last = patient.eve_steps['mlp'], patient.last_improved['mlp']
  # On the pad nothing is learnt: each Eve stops 20 steps after her last real
  # improvement, or runs to the cap.
  assert ((steps == np.minimum(last + 20, 60)) | (steps == 60)).all()
  assert (steps < 60).any()
  improving = evaluator.still_improving(patient)['mlp']
  np.testing.assert_array_equal(improving, (steps >= 60) & (last > 60 - 20))
  # A stopped Eve's measurements are NaN from then on; before, as many as without patience.
  assert np.isnan(patient.history[-1]['mlp']['hard_bits']).any()


@pytest.mark.slow
def test_a_cosine_schedule_changes_the_eves_and_is_deterministic():
  constant, _ = _evaluate_pad({}, steps=20)
  cosine, _ = _evaluate_pad({'lr_schedule': 'cosine'}, steps=20)
  again, _ = _evaluate_pad({'lr_schedule': 'cosine'}, steps=20)
  np.testing.assert_array_equal(cosine.best_bits['mlp'], again.best_bits['mlp'])
  assert not np.array_equal(cosine.best_bits['mlp'], constant.best_bits['mlp'])


def test_bad_budget_fields_are_refused_in_one_line():
  for field, value, message in (('patience', -1, 'eval.patience must be an integer >= 0'),
                                ('lr_schedule', 'step', 'eval.lr_schedule must be one of'),
                                ('key_search_messages', -2, 'key_search_messages must be')):
    config = _config()
    config.eval[field] = value
    with pytest.raises(config_lib.ConfigError, match=message) as e:
      config_lib.validate(config)
    assert '\n' not in str(e.value)
