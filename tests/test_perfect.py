"""configs/perfect16.py's pieces, checked by hand: the keyed_orthogonal network, the
worst-target Eve term, and the `perfect` verification on hand-built ciphers.

The weights below are set by hand in these tests only, to know the answer; the
recipe itself trains every weight from random initialisation.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from adversarial_crypto import config as config_lib
from adversarial_crypto.core import bits
from adversarial_crypto.core import losses
from adversarial_crypto.core import networks
from adversarial_crypto.evaluation import leakage
from adversarial_crypto.evaluation import verdicts
from adversarial_crypto.extensions import eve_games
from adversarial_crypto.extensions import training_eves
from adversarial_crypto.training import experiments
from configs import perfect16

N = 16


def _signed_permutation(perm, signs):
  m = np.zeros((len(perm), len(perm)), np.float32)
  m[perm, np.arange(len(perm))] = signs
  return m


def test_orthogonal_factor_keeps_a_signed_permutation_and_orthogonalises_anything():
  s = _signed_permutation([2, 0, 1], [1.0, -1.0, 1.0])
  np.testing.assert_allclose(networks.orthogonal_factor(jnp.asarray(s)), s, atol=1e-6)
  m = jax.random.uniform(jax.random.PRNGKey(0), (5, 5), minval=-1, maxval=1)
  q = networks.orthogonal_factor(m)
  np.testing.assert_allclose(q.T @ q, np.eye(5), atol=1e-5)


def test_orthogonal_factor_does_not_see_r():
  # M and M R' (R' upper triangular, positive diagonal) have the same factor Q, so
  # nothing in a loss of Q holds the free matrix's R (benchmarks/factor_conditioning.py).
  m = jax.random.uniform(jax.random.PRNGKey(0), (4, 4), minval=-1, maxval=1)
  r = jnp.triu(jax.random.uniform(jax.random.PRNGKey(1), (4, 4), minval=-1, maxval=1))
  r = r + jnp.diag(jnp.abs(jnp.diag(r)) + 0.5 - jnp.diag(r))
  q = networks.orthogonal_factor(m)
  np.testing.assert_allclose(networks.orthogonal_factor(m @ r), q, atol=1e-5)
  # Hence a loss's gradient is orthogonal to M's moves along its own R: d/dt f(M (1 + tD))
  # = <grad, M D> = 0 for D upper triangular (here the diagonal and one entry above it).
  loss = lambda x: jnp.sum(networks.orthogonal_factor(x) * jnp.arange(16.0).reshape(4, 4))
  grad = jax.grad(loss)(m)
  for d in (jnp.eye(4), jnp.zeros((4, 4)).at[0, 2].set(1.0)):
    assert abs(float(jnp.sum(grad * (m @ d)))) < 1e-4


def test_factor_conditioning_reads_each_seeds_singular_values(benchmark_module):
  bench = benchmark_module('factor_conditioning')
  rotation = np.array([[0.6, -0.8], [0.8, 0.6]])
  m = np.stack([rotation @ np.diag([3.0, 0.5]), [[1.0, np.nan], [0.0, 1.0]]])
  sv = bench.singular_values({name: m for name in bench.FACTORS})
  for name in bench.FACTORS:
    np.testing.assert_allclose(sv[name][0], [0.5, 3.0], atol=1e-12)
    assert np.isnan(sv[name][1]).all()


def test_keyed_orthogonal_multiplies_a_text_feature_by_a_key_feature_by_hand():
  net = networks.make_network('keyed_orthogonal', 4, 2, (2,), key_bits=2)
  params = {'text': jnp.asarray(_signed_permutation([1, 0], [1.0, 1.0])),   # t A = (t1, t0)
            'key': jnp.asarray(_signed_permutation([0, 1], [1.0, -1.0])),   # k B = (k0, -k1)
            'out': jnp.asarray(_signed_permutation([1, 0], [1.0, 1.0])),    # h W = (h1, h0)
            'gain': jnp.asarray([0.0, np.log(3.0)], jnp.float32)}
  x = jnp.asarray([[1.0, -1.0, -1.0, 1.0]])  # t = (1, -1), k = (-1, 1)
  # h = (t1 k0, -t0 k1) = (1, -1); u = (h1, 3 h0) = (-1, 3)
  np.testing.assert_allclose(net.logits(params, x), [[-1.0, 3.0]], atol=1e-6)
  np.testing.assert_allclose(net.logits_columns(params, x.T), [[-1.0], [3.0]], atol=1e-6)
  # Odd in the text, as keyed_bilinear: u(-t, k) = -u(t, k).
  flipped = x * jnp.asarray([-1.0, -1.0, 1.0, 1.0])
  np.testing.assert_allclose(net.logits(params, flipped), [[1.0, -3.0]], atol=1e-6)
  # Drawn at random, it is not the identity, and every factor is orthogonal.
  drawn = net.init(jax.random.PRNGKey(1))
  assert set(drawn) == {'text', 'key', 'out', 'gain'}
  for name in ('text', 'key', 'out'):
    q = networks.orthogonal_factor(drawn[name])
    np.testing.assert_allclose(q.T @ q, np.eye(2), atol=1e-5)


def test_keyed_orthogonal_needs_n_units_on_n_key_bits():
  with pytest.raises(ValueError, match='N text bits and N key bits'):
    networks.make_network('keyed_orthogonal', 2 * N, N, (128,), key_bits=N)
  with pytest.raises(ValueError, match='pass key_bits'):
    networks.make_network('keyed_orthogonal', 2 * N, N, (N,))


def test_worst_target_information_by_hand():
  # Two targets, two examples (rows): target 0 read sure and right, target 1 at chance.
  targets = jnp.asarray([[1.0, -1.0], [-1.0, 1.0]])
  logits = jnp.asarray([[20.0, 0.0], [-20.0, 0.0]])
  assert float(losses.worst_target_information(targets, logits)) == pytest.approx(1.0, abs=1e-6)
  # The mean over targets (eve_information) is half of that.
  assert float(losses.eve_information(targets, logits)) == pytest.approx(0.5, abs=1e-6)
  # As columns, [targets, batch], the same.
  assert float(losses.worst_target_information(targets.T, logits.T, axis=-2)) == pytest.approx(
      1.0, abs=1e-6)
  # An Eve at chance, or sure and wrong, knows nothing (the term is clipped at 0).
  assert float(losses.worst_target_information(targets, 0 * logits)) == 0.0
  assert float(losses.worst_target_information(targets, -logits)) == 0.0


def _parity_game(term, n, seed):
  """A parity game of `term` at N = n, the targets of 512 random plaintexts (Eve sees
  the plaintext), and one Eve's logits, all 0."""
  game = eve_games.make_game('parity', term, n, n, bits.COLUMNS)
  plaintext = bits.random_messages(jax.random.PRNGKey(seed), 512, n, n, bits.COLUMNS)[0]
  _, target = game.task(plaintext, plaintext)
  return game, target, jnp.zeros((1,) + target.shape)


def test_a_parity_eve_reading_one_parity_counts_fully_in_the_worst_term():
  n = 4
  game, target, logits = _parity_game('worst_information', n, 0)
  logits = logits.at[0, n].set(30.0 * target[n])   # the first parity, P_0 P_1, read exactly
  assert float(game.term(target, logits)[0]) == pytest.approx(1.0, abs=1e-5)
  mean_game = eve_games.make_game('parity', 'information', n, n, bits.COLUMNS)
  # 'information' takes the mean over the 6 parities: 1/6.
  assert float(mean_game.term(target, logits)[0]) == pytest.approx(1 / 6, abs=1e-3)


def test_excess_information_counts_every_target_read_beyond_the_noise_in_full():
  n = 4
  game, target, logits = _parity_game('excess_information', n, 1)
  # Two parities read exactly: each counts 1 - LEAK_FLOOR, the sum 2 x 0.9.
  logits = logits.at[0, n].set(30.0 * target[n]).at[0, n + 1].set(30.0 * target[n + 1])
  assert float(game.term(target, logits)[0]) == pytest.approx(2 * (1 - losses.LEAK_FLOOR),
                                                              abs=1e-4)
  # A lean of u = 0.05 towards every target: (ln 2 - softplus(-0.1)) / ln 2 = 7 % of a
  # bit each, below the floor, so nothing, and no gradient.
  weak = 0.05 * target[None]
  info = float(losses.target_information(target[:1], weak[0, :1], axis=-2)[0])
  assert info == pytest.approx((np.log(2) - np.log1p(np.exp(-0.1))) / np.log(2), rel=1e-4)
  assert info < losses.LEAK_FLOOR
  assert float(game.term(target, weak)[0]) == 0.0
  grad = jax.grad(lambda u: game.term(target, u)[0])(weak)
  assert float(jnp.abs(grad).max()) == 0.0


def test_the_later_eve_term_replaces_the_term_from_later_from():
  config = perfect16.get_config()
  config.num_seeds = 1
  config.train_eves['later_eve_term'] = 'excess_information'
  config_lib.validate(config)
  complete = config_lib.complete(config)
  eves = training_eves.make_training_eves(complete, N, bits.COLUMNS)
  assert eves.game.eve_term == 'target_information'
  assert eves.later_game.eve_term == 'excess_information'
  assert 'excess_information from then on' in ' '.join(verdicts.protocol_differences(complete))


def _config(arch, hidden, messages=8):
  # logistic_bob: re-factoring (the default's) is for keyed_orthogonal networks only.
  config = perfect16.get_config('logistic_bob')
  config.arch, config.hidden = arch, hidden
  config.num_seeds = 1
  config.eval.key_search_messages = messages
  config = config_lib.complete(config)
  config_lib.validate(config)
  return config


def _keyed_bilinear_pad(key_matrix):
  """Alice u = (P * (K B)) I, Bob likewise: the pad when B = I."""
  eye = jnp.eye(N)
  alice = {'text': eye, 'key': jnp.asarray(key_matrix, jnp.float32), 'out': eye}
  bob = {'text': eye, 'key': jnp.asarray(key_matrix, jnp.float32), 'out': eye}
  return {'alice': jax.tree_util.tree_map(lambda x: x[None], alice),
          'bob': jax.tree_util.tree_map(lambda x: x[None], bob)}


def _judge(config, params):
  found = leakage.measure_alices(config, params, log=lambda *_: None)
  seed = found['seeds'][0]
  mean = seed['entropy_bits_mean']
  return mean, mean >= verdicts.perfect_bits(config)


def test_the_verification_accepts_a_hand_built_pad_up_to_permutation_and_signs():
  perm = np.random.RandomState(0).permutation(N)
  signs = np.where(np.random.RandomState(1).rand(N) < 0.5, -1.0, 1.0)
  pad = _signed_permutation(perm, signs)
  gain = jnp.full((N,), 2.0)
  # keyed_orthogonal: C_j = sign(P_j K_perm^-1(j)) up to signs; Bob the same network,
  # which undoes it: his unit j multiplies C by the same key bit.
  alice = {'text': jnp.eye(N), 'key': jnp.asarray(pad), 'out': jnp.eye(N), 'gain': gain}
  params = {'alice': jax.tree_util.tree_map(lambda x: x[None], alice),
            'bob': jax.tree_util.tree_map(lambda x: x[None], alice)}
  config = _config('keyed_orthogonal', (N,))
  mean, perfect = _judge(config, params)
  assert mean == pytest.approx(N, abs=1e-4)
  assert perfect


def test_the_verification_rejects_a_pad_that_uses_one_key_bit_twice():
  reuse = np.eye(N, dtype=np.float32)
  reuse[5, 5] = 0.0
  reuse[0, 5] = 1.0   # C_5 = P_5 K_0 beside C_0 = P_0 K_0; K_5 unused: P_0 P_5 leaks
  config = _config('keyed_bilinear', (N,))
  mean, perfect = _judge(config, _keyed_bilinear_pad(reuse))
  assert mean == pytest.approx(N - 1, abs=1e-4)
  assert not perfect
  # The same pad with every key bit used once is accepted.
  mean, perfect = _judge(config, _keyed_bilinear_pad(np.eye(N)))
  assert mean == pytest.approx(N, abs=1e-4) and perfect


def test_the_recipe_validates():
  config = config_lib.complete(perfect16.get_config())
  config_lib.validate(config)
  assert config.arch == 'keyed_orthogonal' and config.ciphertext == 'sign'
  # The default is logistic_bob re-factored after every step; the ablation rows stay
  # on logistic_bob (they ran on it, and the arch rows cannot re-factor).
  assert perfect16.BEST == 'logistic_bob_refactor' and config.refactor_every == 1
  assert perfect16.RECIPES[perfect16.BEST] == dict(perfect16.RECIPES['logistic_bob'],
                                                   refactor_every=1)
  for name in perfect16.ABLATIONS:
    assert perfect16.get_config(f'logistic_bob_{name}').refactor_every == 0
  # The rows that keep keyed_orthogonal again on the default: one field changed each.
  default = perfect16.get_config()
  for name in perfect16.REFACTOR_ABLATIONS:
    config = perfect16.get_config(f'logistic_bob_refactor_{name}')
    config_lib.validate(config_lib.complete(config))
    changed = {line.split(':')[0] for line in config_lib.differences(
        default.to_dict(), config.to_dict(), 'default', name)}
    assert changed == set(perfect16.ABLATIONS[name]), (name, changed)
    assert config.refactor_every == 1
  with pytest.raises(ValueError, match='choose one of'):
    perfect16.get_config('no_such_recipe')


def test_refactor_keeps_q_and_makes_every_singular_value_the_rms_by_hand():
  # diag(3, 4): Q = I, RMS singular value sqrt((9 + 16) / 2). [[0, 2], [1, 0]]: Q the
  # swap (R = diag(1, 2)), RMS sqrt((4 + 1) / 2). The gain is left as it is.
  params = {'text': jnp.diag(jnp.array([3.0, 4.0])), 'key': jnp.array([[0.0, 2.0], [1.0, 0.0]]),
            'out': jnp.eye(2), 'gain': jnp.array([0.5, -0.5])}
  out = networks.refactor(params)
  np.testing.assert_allclose(out['text'], np.sqrt(12.5) * np.eye(2), rtol=1e-6)
  np.testing.assert_allclose(out['key'], np.sqrt(2.5) * np.array([[0, 1], [1, 0]]), atol=1e-6)
  np.testing.assert_allclose(out['out'], np.eye(2), atol=1e-6)
  np.testing.assert_array_equal(out['gain'], params['gain'])


def _spread(m):
  """Largest over least singular value."""
  sv = np.linalg.svd(np.asarray(m), compute_uv=False)
  return sv[0] / sv[-1]


def _refactor_experiment(every):
  config = perfect16.get_config()
  config.num_seeds, config.batch_size, config.refactor_every = 1, 64, every
  config_lib.validate(config)
  return experiments.make_experiment(config_lib.complete(config))


def test_the_refactor_hook_acts_after_every_kth_step_only():
  state = _refactor_experiment(3).init(jax.random.PRNGKey(5))
  hook = training_eves.make_refactor(3)
  assert training_eves.make_refactor(0) is None
  after = hook(state, None, jnp.int32(3))
  for name in ('alice', 'bob'):
    assert _spread(state.alice_bob[name]['key']) > 2
    for factor in ('text', 'key', 'out'):
      assert _spread(after.alice_bob[name][factor]) == pytest.approx(1.0, abs=1e-4)
      np.testing.assert_allclose(networks.orthogonal_factor(after.alice_bob[name][factor]),
                                 networks.orthogonal_factor(state.alice_bob[name][factor]),
                                 atol=1e-5)
  # Not after step 2, nor anything but Alice and Bob's matrices.
  same = hook(state, None, jnp.int32(2))
  for a, b in zip(jax.tree_util.tree_leaves(same), jax.tree_util.tree_leaves(state)):
    np.testing.assert_array_equal(a, b)
  for a, b in zip(jax.tree_util.tree_leaves((after.eve, after.alice_bob_opt)),
                  jax.tree_util.tree_leaves((state.eve, state.alice_bob_opt))):
    np.testing.assert_array_equal(a, b)
  with pytest.raises(config_lib.ConfigError, match='refactor_every'):
    config = perfect16.get_config()
    config.arch, config.hidden, config.refactor_every = 'keyed_bilinear', (N,), 1
    config_lib.validate(config)
  assert not config_lib.is_paper_recipe(config_lib.complete(config))


@pytest.mark.slow
def test_training_with_refactor_every_1_ends_each_step_re_factored():
  experiment = _refactor_experiment(1)
  key = jax.random.PRNGKey(5)
  start = experiment.init(key)
  end = jax.jit(experiment.train_chunk, static_argnums=3)(start, key, jnp.int32(0), 1)[0]
  for name in ('alice', 'bob'):
    assert _spread(start.alice_bob[name]['key']) > 2
    for factor in ('text', 'key', 'out'):
      assert _spread(end.alice_bob[name][factor]) == pytest.approx(1.0, abs=1e-4)
    assert np.abs(np.asarray(end.alice_bob[name]['key'])
                  - np.asarray(start.alice_bob[name]['key'])).max() > 0
