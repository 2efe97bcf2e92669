"""config.train_eves: each option does what it claims, on tiny configs."""

import functools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from adversarial_crypto import config as config_lib
from adversarial_crypto.analysis import cipher
from adversarial_crypto.core import bits
from adversarial_crypto.core import losses
from adversarial_crypto.core import networks
from adversarial_crypto.core import recipe
from adversarial_crypto.evaluation import attackers
from adversarial_crypto.extensions import eve_games
from adversarial_crypto.extensions import training_eves
from adversarial_crypto.training import experiments
from configs import secure16
from configs import tiny

K = 3


def _config(**train_eves):
  config = tiny.get_config()
  config.eve_arch = 'mlp'
  config.eve_hidden = (16,)
  config.eve_loss = 'logistic'
  config.train_eves.update(train_eves)
  config_lib.validate(config)
  return config


def _leaves(tree):
  return jax.tree_util.tree_leaves(tree)


def _chunk(experiment, state, key, first, num):
  return _chunk_with_measures(experiment, state, key, first, num)[0]


def _chunk_with_measures(experiment, state, key, first, num):
  return jax.jit(experiment.train_chunk, static_argnums=3)(state, key, first, num)


@pytest.mark.slow
def test_the_alice_bob_loss_takes_the_mean_or_the_strongest_eve_weighted():
  key = jax.random.PRNGKey(1)
  plaintext, msg_key = bits.random_messages(key, 32, 8, 8)
  values = {}
  for combine, weight in (('mean', 1.0), ('max', 4.0)):
    experiment = experiments.make_experiment(_config(count=K, combine=combine,
                                                     eve_weight=weight))
    state = experiment.init(key)
    loss, measure = experiment.alice_bob_objective(state.alice_bob, state.eve,
                                                   plaintext, msg_key)
    values[combine, weight] = loss
  # By hand: Bob's mean bits wrong plus w x (mean or max) of (4 - E_k)^2 / 16.
  ciphertext, _ = experiment.scheme.encrypt(state.alice_bob, plaintext, msg_key)
  bob = np.mean(losses.bits_wrong(plaintext, experiment.scheme.decrypt(
      state.alice_bob, ciphertext, msg_key)))
  terms, eve_bits = [], []
  for i in range(K):
    eve_i = jax.tree_util.tree_map(lambda x, i=i: x[i], state.eve)
    wrong = losses.bits_wrong(plaintext, experiment.eve.apply(eve_i, ciphertext))
    terms.append(np.mean((4.0 - wrong) ** 2 / 16.0))
    eve_bits.append(np.mean(wrong))
  assert len(set(np.round(terms, 6))) == K
  np.testing.assert_allclose(values['mean', 1.0], bob + np.mean(terms), rtol=1e-5)
  np.testing.assert_allclose(values['max', 4.0], bob + 4.0 * np.max(terms), rtol=1e-5)
  np.testing.assert_allclose(measure.eve_bits, np.min(eve_bits), rtol=1e-5)  # the strongest


def test_eve_information_by_hand():
  plaintext = jnp.array([[1.0, -1.0]])
  # u = 0 says nothing: cross-entropy 2 ln 2, the chance level.
  assert float(losses.eve_information(plaintext, jnp.zeros((1, 2)))) == 0.0
  # u = (0.5, 0): softplus(-1) + ln 2 = 0.313262 + 0.693147 = 1.006409 nats against
  # 1.386294, so (1.386294 - 1.006409) / 1.386294 = 0.274030 of the plaintext.
  np.testing.assert_allclose(losses.eve_information(plaintext, jnp.array([[0.5, 0.0]])),
                             0.274030, rtol=1e-5)
  # Leaning the wrong way costs more than chance; the term stops at 0.
  assert float(losses.eve_information(plaintext, jnp.array([[-0.5, 0.0]]))) == 0.0
  # Sure and right: nearly all of it.
  assert float(losses.eve_information(plaintext, jnp.array([[20.0, -20.0]]))) > 0.999


@pytest.mark.slow
def test_the_information_eve_term_is_the_strongest_eves_by_hand():
  key = jax.random.PRNGKey(2)
  plaintext, msg_key = bits.random_messages(key, 32, 8, 8)
  experiment = experiments.make_experiment(_config(count=K, combine='max', eve_weight=2.0,
                                                   eve_term='information'))
  state = experiment.init(key)
  # Eves whose output layer ignores what they see and leans, by 0.02, 0.04 and
  # 0.06, towards this batch's more frequent value of each bit: their logits
  # are their biases, their information is positive and differs between them.
  lean = np.sign(np.mean(plaintext, 0) + 1e-3)
  biases = np.stack([0.02 * (k + 1) * lean for k in range(K)]).astype(np.float32)
  eve = dict(state.eve, dense1={'w': jnp.zeros_like(state.eve['dense1']['w']),
                                'b': jnp.asarray(biases)})
  loss, _ = experiment.alice_bob_objective(state.alice_bob, eve, plaintext, msg_key)
  ciphertext, _ = experiment.scheme.encrypt(state.alice_bob, plaintext, msg_key)
  bob = np.mean(losses.bits_wrong(plaintext, experiment.scheme.decrypt(
      state.alice_bob, ciphertext, msg_key)))
  chance = 8 * np.log(2.0)
  info = [max(chance - np.mean(np.sum(np.logaddexp(0.0, -2.0 * plaintext * b), -1)), 0.0)
          / chance for b in biases]
  assert min(info) > 0 and len(set(np.round(info, 6))) == K
  np.testing.assert_allclose(loss, bob + 2.0 * max(info), rtol=1e-5)


@pytest.mark.slow
def test_an_ensemble_trains_k_distinct_eves_and_a_reset_reinitialises_one_in_turn():
  key = jax.random.PRNGKey(2)
  plain = experiments.make_experiment(_config(count=K))
  resets = experiments.make_experiment(_config(count=K, reset_every=4))
  start = plain.init(key)
  chex.assert_trees_all_equal(start, resets.init(key))
  assert all(x.shape[0] == K for x in _leaves(start.eve))
  assert all(x.shape[0] == K for x in _leaves(start.eve_opt))  # Adam's count per Eve too
  kept, reset = _chunk(plain, start, key, 0, 4), _chunk(resets, start, key, 0, 4)
  # The ensemble: every Eve trains, and they stay distinct.
  for before, after in zip(_leaves(start.eve), _leaves(kept.eve)):
    for i in range(K):
      assert not np.allclose(before[i], after[i])
    for i, j in ((0, 1), (0, 2), (1, 2)):
      assert not np.allclose(after[i], after[j])
  # After step 4, Eve 0 starts again: params as drawn from the reset stream, Adam at zero.
  for was, now in zip(_leaves(kept.eve), _leaves(reset.eve)):
    assert not np.allclose(was[0], now[0])
    np.testing.assert_array_equal(was[1:], now[1:])
  for was, now in zip(_leaves(kept.eve_opt), _leaves(reset.eve_opt)):
    np.testing.assert_array_equal(now[0], np.zeros_like(now[0]))   # count, mu and nu
    np.testing.assert_array_equal(was[1:], now[1:])
  reset_key = jax.random.fold_in(jax.random.fold_in(key, training_eves.RESET_STREAM), 4)
  expected = resets.eve.init(jax.random.split(reset_key, K)[0])
  for got, want in zip(_leaves(reset.eve), _leaves(expected)):
    np.testing.assert_array_equal(got[0], want)
  chex.assert_trees_all_equal(kept.alice_bob, reset.alice_bob)
  # Four steps later it is Eve 1's turn, while Eve 0 has taken 4 x 2 Adam steps since hers.
  again = _chunk(resets, reset, key, 4, 4)
  np.testing.assert_array_equal(again.eve_opt[0].count, [8, 0, 16])


@pytest.mark.slow
def test_phases_warm_up_with_the_papers_eve_then_the_ensemble_then_alice_frozen():
  config = _config(count=K, warmup_steps=20, steps_per_ab_step=5)
  config.freeze_alice_at = 40
  config_lib.validate(config)
  experiment = experiments.make_experiment(config)
  # The warm-up Eve is the paper's: Alice and Bob's architecture, N bits to N bits.
  paper_eve = networks.make_network(config.arch, 8, 8).init(jax.random.PRNGKey(0))
  eves = training_eves.make_training_eves(config_lib.complete(config), 8)
  chex.assert_trees_all_equal_shapes(eves.warmup.init(jax.random.PRNGKey(0)), paper_eve)
  key = jax.random.PRNGKey(3)
  start = experiment.init(key)
  chex.assert_trees_all_equal_shapes(start.eve['warmup'], paper_eve)
  changed = lambda a, b: not np.allclose(_leaves(a)[0], _leaves(b)[0])
  # Steps 0-20: Alice, Bob and the warm-up Eve learn; the main Eves wait.
  warm = _chunk(experiment, start, key, 0, 20)
  chex.assert_trees_all_equal(start.eve['main'], warm.eve['main'])
  assert changed(start.eve['warmup'], warm.eve['warmup'])
  assert changed(start.alice_bob['alice'], warm.alice_bob['alice'])
  # Steps 20-40: the main Eves learn, the warm-up Eve rests.
  main = _chunk(experiment, warm, key, 20, 20)
  chex.assert_trees_all_equal(warm.eve['warmup'], main.eve['warmup'])
  assert changed(warm.eve['main'], main.eve['main'])
  # The warm-up Eve took the paper's 2 minibatches per step, the main Eves 5 each.
  np.testing.assert_array_equal(main.eve_opt['warmup'][0].count, 2 * 20)
  np.testing.assert_array_equal(main.eve_opt['main'][0].count, [5 * 20] * K)
  assert changed(warm.alice_bob['alice'], main.alice_bob['alice'])
  # From step 40: Alice is frozen; Bob and the main Eves learn on.
  frozen = _chunk(experiment, main, key, 40, 20)
  chex.assert_trees_all_equal(main.alice_bob['alice'], frozen.alice_bob['alice'])
  assert changed(main.alice_bob['bob'], frozen.alice_bob['bob'])
  assert changed(main.eve['main'], frozen.eve['main'])
  # No seed stops during the warm-up, however good its measures.
  perfect = recipe.Measure(jnp.float32(0.0), jnp.float32(8.0))
  assert not experiment.goals_met(perfect, 20)
  assert experiment.goals_met(perfect, 40)


def _paper_networks(config):
  """Alice, Bob and Eve of Section 2.5 for a symmetric config, built here."""
  n, k = config.msg_bits, config.key_bits
  return (networks.make_network(config.arch, n + k, n),   # Alice: [P, K] -> C
          networks.make_network(config.arch, n + k, n),   # Bob: [C, K] -> P
          networks.make_network(config.arch, n, n))       # Eve: C -> P


def _reference_init(config, seed_key):
  """A seed's fresh state as Section 2.5 and core/recipe.py's docstring describe it:
  Alice, Bob and Eve from the splits of the seed's init stream, fresh Adam states."""
  alice, bob, eve = _paper_networks(config)
  adam = optax.adam(config.learning_rate)
  k_alice, k_bob, k_eve = jax.random.split(jax.random.fold_in(seed_key, recipe.INIT_STREAM), 3)
  alice_bob = {'alice': alice.init(k_alice), 'bob': bob.init(k_bob)}
  eve_params = eve.init(k_eve)
  return recipe.TrainState(alice_bob, adam.init(alice_bob), eve_params, adam.init(eve_params))


def _reference_step(config, state, step_key):
  """Section 2.5's training step written out here, batch-first (rows): one
  Alice/Bob minibatch against Eve, then eve_steps_per_ab_step Eve minibatches
  against the updated Alice, each fresh from its split of the step's key, all
  with Adam. Alice and Bob minimise Bob's bits wrong + (N/2 - Eve's bits
  wrong)^2 / (N/2)^2; Eve minimises her bits wrong (the L1 loss)."""
  alice, bob, eve = _paper_networks(config)
  n, k, half = config.msg_bits, config.key_bits, config.msg_bits / 2
  adam = optax.adam(config.learning_rate)

  def encrypt(alice_bob, plaintext, key):
    return alice.apply(alice_bob['alice'], jnp.concatenate([plaintext, key], -1))

  def alice_bob_loss(alice_bob, eve_params, plaintext, key):
    ciphertext = encrypt(alice_bob, plaintext, key)
    bob_guess = bob.apply(alice_bob['bob'], jnp.concatenate([ciphertext, key], -1))
    bob_bits = losses.bits_wrong(plaintext, bob_guess)
    eve_bits = losses.bits_wrong(plaintext, eve.apply(eve_params, ciphertext))
    loss = jnp.mean(bob_bits + (half - eve_bits) ** 2 / half ** 2)
    return loss, recipe.Measure(jnp.mean(bob_bits), jnp.mean(eve_bits))

  def eve_loss(eve_params, alice_bob, plaintext, key):
    guess = eve.apply(eve_params, encrypt(alice_bob, plaintext, key))
    return jnp.mean(losses.bits_wrong(plaintext, guess))

  def draw(key):
    return bits.random_messages(key, config.batch_size, n, k)

  keys = jax.random.split(step_key, 1 + config.eve_steps_per_ab_step)
  grads, measure = jax.grad(alice_bob_loss, has_aux=True)(state.alice_bob, state.eve,
                                                          *draw(keys[0]))
  updates, alice_bob_opt = adam.update(grads, state.alice_bob_opt, state.alice_bob)
  alice_bob = optax.apply_updates(state.alice_bob, updates)
  eve_params, eve_opt = state.eve, state.eve_opt
  for key in keys[1:]:
    grads = jax.grad(eve_loss)(eve_params, alice_bob, *draw(key))
    updates, eve_opt = adam.update(grads, eve_opt, eve_params)
    eve_params = optax.apply_updates(eve_params, updates)
  return recipe.TrainState(alice_bob, alice_bob_opt, eve_params, eve_opt), measure


@pytest.mark.slow
def test_the_default_config_trains_with_the_papers_step():
  config = tiny.get_config()
  assert config_lib.is_paper_recipe(config_lib.complete(config))
  experiment = experiments.make_experiment(config)
  assert experiment.train_step.__module__ == recipe.__name__  # core/recipe.py's step
  seed_key = jax.random.PRNGKey(4)
  state = experiment.init(seed_key)
  # One Eve, unstacked, and everything drawn as the recipe says: bitwise.
  chex.assert_trees_all_equal(state, _reference_init(config, seed_key))
  step_key = jax.random.PRNGKey(5)
  got, got_measure = jax.jit(experiment.train_step)(state, step_key)
  want, want_measure = jax.jit(functools.partial(_reference_step, config))(state, step_key)
  # The same draws; the recipe computes on columns, the reference on rows, so
  # sums run in another order: float32 agreement to a few ulps, after Adam's
  # step (about lr x sign of each gradient) on one Alice/Bob and two Eve minibatches.
  chex.assert_trees_all_close(got_measure, want_measure, rtol=1e-5)
  chex.assert_trees_all_close(got, want, rtol=1e-5, atol=1e-6)
  # The step did something: every network moved, Eve by two Adam steps.
  for before, after in zip(_leaves(state), _leaves(got)):
    assert not np.array_equal(before, after)
  np.testing.assert_array_equal(got.eve_opt[0].count, config.eve_steps_per_ab_step)


@pytest.mark.slow
def test_the_research_options_at_their_defaults_train_as_the_recipe():
  # training_eves.make_experiment on a config whose research options are all at
  # their defaults (which experiments.make_experiment would give to the recipe)
  # must train exactly as core/recipe.py does.
  config = config_lib.complete(tiny.get_config())
  assert config_lib.is_paper_recipe(config)
  paper = recipe.make_experiment(config)
  options = training_eves.make_experiment(config)
  assert options.train_step.__module__ == training_eves.__name__  # not the recipe's step
  seed_key = jax.random.PRNGKey(6)
  state = paper.init(seed_key)
  chex.assert_trees_all_equal(options.init(seed_key), state)
  first = jnp.int32(20)  # a chunk that does not start at step 0
  paper_out = _chunk_with_measures(paper, state, seed_key, first, 5)
  options_out = _chunk_with_measures(options, state, seed_key, first, 5)
  # Bitwise (assert_trees_all_equal, not merely close): with the defaults the
  # research step computes the recipe's loss with the recipe's objective, on the
  # same draws, and XLA compiles both to the same arithmetic. States and the
  # per-step measures of the chunk both.
  chex.assert_trees_all_equal(options_out, paper_out)
  # And the seed's measure on a fresh evaluation batch, by which it stops.
  trained, step = paper_out[0], first + 5
  measured = jax.jit(paper.measure)(trained, seed_key, step)
  chex.assert_trees_all_equal(jax.jit(options.measure)(trained, seed_key, step), measured)
  for m in (measured, recipe.Measure(jnp.float32(0.0), jnp.float32(4.0))):
    assert bool(options.goals_met(m, step)) == bool(paper.goals_met(m, step))


@pytest.mark.parametrize('field, value, message', [
    ('colour', 1, 'unknown fields'),
    ('count', 0, 'count must be an integer >= 1'),
    ('combine', 'min', "'mean' or 'max'"),
    ('warmup_steps', 30, 'multiple of'),
    ('eve_weight', 0.0, 'positive number'),
    ('eve_term', 'entropy', 'eve_term must be one of'),
    ('steps_per_ab_step', -1, 'steps_per_ab_step must be an integer >= 0'),
    ('game', 'guess', 'game must be one of'),
    ('freeze_alice_at', 30, 'freeze_alice_at must be'),
])
def test_bad_train_eves_fields_are_refused(field, value, message):
  config = tiny.get_config()
  if field == 'freeze_alice_at':
    config.freeze_alice_at = value
  else:
    config.train_eves[field] = value
  with pytest.raises(config_lib.ConfigError, match=message):
    config_lib.validate(config)


def test_the_deep_mlp_attacker_has_the_configured_layers():
  config = tiny.get_config()
  config.eval.attackers = ('paper', 'mlp', 'deep_mlp')
  config.eval.deep_mlp_hidden = (24, 24, 24)
  config_lib.validate(config)
  deep = attackers.make_attacker('deep_mlp', config)
  params = deep.network.init(jax.random.PRNGKey(0))
  shapes = [x.shape for x in _leaves(params) if x.ndim == 2]
  assert sorted(shapes) == sorted([(8, 24), (24, 24), (24, 24), (24, 8)])


def test_alice_and_bob_may_be_mlps_of_the_configured_sizes():
  config = tiny.get_config()
  config.arch = 'mlp'
  config.hidden = (12, 10)
  config_lib.validate(config)
  state = experiments.make_experiment(config).init(jax.random.PRNGKey(6))
  for name in ('alice', 'bob'):
    shapes = sorted(x.shape for x in _leaves(state.alice_bob[name]) if x.ndim == 2)
    assert shapes == sorted([(16, 12), (12, 10), (10, 8)])
  config.hidden = (12, 0)
  with pytest.raises(config_lib.ConfigError, match='config.hidden'):
    config_lib.validate(config)


def test_moment_leak_by_hand():
  moment_leak = jax.jit(losses.moment_leak, static_argnums=1)
  key_p, key_k = jax.random.split(jax.random.PRNGKey(11))
  plaintext = jax.random.rademacher(key_p, (64, 1, 8), dtype=jnp.float32)
  keys = jax.random.rademacher(key_k, (64, 8, 8), dtype=jnp.float32)
  ignores_key = jnp.broadcast_to(0.3 * plaintext, keys.shape)
  # A cipher that ignores the key: its means are all its variance. (The group
  # means' spread is over 63 degrees of freedom, the total over all 512 samples.)
  assert float(moment_leak(ignores_key)) == pytest.approx(1.0, abs=0.03)
  # The one-time pad: no mean moves with the plaintext; the estimate is noise
  # around 0 (8 features x 64 groups).
  for order in (1, 2):
    assert abs(float(moment_leak(plaintext * keys, order))) < 0.02
  # Scale does not hide a leak: bit 0 sent in the clear is 1/8 of the features.
  clear = (plaintext * keys).at[..., 0].set(jnp.broadcast_to(plaintext[..., 0], (64, 8)))
  for scale in (1.0, 0.01):
    assert float(moment_leak(scale * clear)) == pytest.approx(1 / 8, abs=0.03)


@pytest.mark.slow
def test_the_leak_penalty_moves_alice_only():
  config = tiny.get_config()
  experiment = experiments.make_experiment(config)
  state = experiment.init(jax.random.PRNGKey(12))
  step = jax.random.PRNGKey(13)
  plain, _ = jax.jit(experiment.train_step)(state, step)
  config.leak_penalty.weight = 4.0
  config_lib.validate(config)
  penalised, _ = jax.jit(experiments.make_experiment(config).train_step)(state, step)
  # The term depends on Alice alone: Bob's gradient, and so his Adam step, is unchanged.
  chex.assert_trees_all_equal(penalised.alice_bob['bob'], plain.alice_bob['bob'])
  # Adam's first step is lr x sign(gradient): Alice's step differs where the
  # penalty flips a gradient's sign.
  assert any(not np.array_equal(a, b) for a, b in zip(_leaves(penalised.alice_bob['alice']),
                                                      _leaves(plain.alice_bob['alice'])))


@pytest.mark.parametrize('field, value, message', [
    ('colour', 1, 'unknown fields'),
    ('weight', -1.0, 'number >= 0'),
    ('keys', 5, 'divides config.batch_size'),
    ('keys', 64, 'fewer than 2 plaintexts'),
    ('order', 3, 'order must be 1'),
])
def test_bad_leak_penalty_fields_are_refused(field, value, message):
  config = tiny.get_config()
  config.leak_penalty[field] = value
  with pytest.raises(config_lib.ConfigError, match=message):
    config_lib.validate(config)


def test_a_sign_ciphertext_is_hard_and_learns_through_tanh():
  config = tiny.get_config()
  tanh_scheme = recipe.make_scheme(config, bits.COLUMNS)
  config.ciphertext = 'sign'
  config_lib.validate(config)
  scheme = recipe.make_scheme(config, bits.COLUMNS)
  params = experiments.make_experiment(config).init(jax.random.PRNGKey(14)).alice_bob
  plaintext, key = bits.random_messages(jax.random.PRNGKey(15), 32, 8, 8, bits.COLUMNS)
  soft = tanh_scheme.encrypt(params, plaintext, key)[0]
  hard = scheme.encrypt(params, plaintext, key)[0]
  np.testing.assert_array_equal(hard, jnp.sign(soft))
  assert set(np.unique(hard)) <= {-1.0, 1.0}
  # The public cipher.encrypt sends the same hard bits.
  np.testing.assert_array_equal(
      cipher.encrypt(params['alice'], plaintext.T, key.T, config), hard.T)
  # Straight through: Alice's gradient of any use of C is that of tanh's C.
  weights = jax.random.normal(jax.random.PRNGKey(16), soft.shape)
  grad = lambda s: jax.grad(lambda p: jnp.sum(weights * s.encrypt(p, plaintext, key)[0]))(
      params)['alice']
  chex.assert_trees_all_equal(grad(scheme), grad(tanh_scheme))


def test_a_sign_ciphertext_is_for_the_symmetric_experiment():
  config = tiny.get_config('asymmetric')
  config.ciphertext = 'sign'
  with pytest.raises(config_lib.ConfigError, match='for the symmetric experiment'):
    config_lib.validate(config)
  config = tiny.get_config()
  config.ciphertext = 'round'
  with pytest.raises(config_lib.ConfigError, match='config.ciphertext must be one of'):
    config_lib.validate(config)


def test_the_distinguishing_game_by_hand():
  # Five examples of 2 bits; example i's decoy is example i-1's plaintext, and
  # it comes first when bit 0 of example i-2's plaintext is +1.
  plaintext = jnp.array([[1., 1.], [-1., 1.], [1., -1.], [-1., -1.], [-1., 1.]])
  view = jnp.arange(10.0).reshape(5, 2)
  eve_input, target = eve_games.distinguishing_game(plaintext, view)
  decoy = plaintext[np.array([4, 0, 1, 2, 3])]
  second = np.array(plaintext[np.array([3, 4, 0, 1, 2]), 0]) > 0  # [F, F, T, F, T]
  np.testing.assert_array_equal(target[:, 0], np.where(second, 1.0, -1.0))
  for i in range(5):
    pair = (decoy[i], plaintext[i]) if second[i] else (plaintext[i], decoy[i])
    np.testing.assert_array_equal(eve_input[i], np.concatenate([*pair, view[i]]))
  # Batches as columns: the same game, transposed.
  columns = eve_games.distinguishing_game(plaintext.T, view.T, bits.COLUMNS)
  np.testing.assert_array_equal(columns[0], eve_input.T)
  np.testing.assert_array_equal(columns[1], target.T)


def _loss_on_a_batch(config, seed):
  """(experiment, state, plaintext, loss, measure, ciphertext, Bob's bits wrong) of
  Alice and Bob's objective on 32 fresh examples, from fresh parameters."""
  experiment = experiments.make_experiment(config)
  state = experiment.init(jax.random.PRNGKey(seed))
  plaintext, msg_key = bits.random_messages(jax.random.PRNGKey(seed + 1), 32, 8, 8)
  loss, measure = jax.jit(experiment.alice_bob_objective)(state.alice_bob, state.eve,
                                                          plaintext, msg_key)
  ciphertext, _ = experiment.scheme.encrypt(state.alice_bob, plaintext, msg_key)
  bob = np.mean(losses.bits_wrong(plaintext, experiment.scheme.decrypt(
      state.alice_bob, ciphertext, msg_key)))
  return experiment, state, plaintext, loss, measure, ciphertext, bob


def test_distinguishing_eves_score_one_bit_in_the_alice_bob_loss():
  config = _config(count=K, combine='max', eve_weight=4.0, game='distinguish')
  experiment, state, plaintext, loss, measure, ciphertext, bob = _loss_on_a_batch(config, 5)
  # Each Eve reads two plaintexts and a ciphertext, 3 x 8 bits, and gives one logit.
  assert state.eve['dense0']['w'].shape == (K, 3 * 8, 16)
  assert state.eve['dense1']['w'].shape == (K, 16, 1)
  # By hand: Bob's bits wrong + 4 x max over Eves of (1/2 - E_k)^2 / (1/2)^2, with
  # E_k Eve k's error rate on which plaintext (her advantage squared, not the mean
  # of per-example squares); her measure is N x her error rate.
  eve_input, target = eve_games.distinguishing_game(plaintext, ciphertext)
  wrong = [np.mean(losses.bits_wrong(target, experiment.eve.apply(
      jax.tree_util.tree_map(lambda x, i=i: x[i], state.eve), eve_input))) for i in range(K)]
  terms = [(0.5 - w) ** 2 / 0.25 for w in wrong]
  np.testing.assert_allclose(loss, bob + 4.0 * max(terms), rtol=1e-5)
  np.testing.assert_allclose(measure.eve_bits, 8 * min(wrong), rtol=1e-5)
  with pytest.raises(ValueError, match='tell which of two plaintexts'):
    cipher.eavesdrop(state.eve, ciphertext, config)


def test_parity_eves_guess_bits_and_parities_scored_in_bits_of_n():
  config = _config(count=K, combine='mean', game='parity')
  experiment, state, plaintext, loss, measure, ciphertext, bob = _loss_on_a_batch(config, 7)
  # N = 8 bits and 28 pairwise parities per Eve.
  assert state.eve['dense1']['w'].shape == (K, 16, 8 + 28)
  # By hand: Bob's bits wrong + the mean over Eves of the larger of the paper's
  # terms on her 8 bits, (4 - E)^2 / 4^2, and on her 28 parities, (14 - E')^2 / 14^2;
  # her measure is the lower of E and 8 / 28 x E', for the strongest Eve.
  parity = bits.pair_parities(plaintext)
  eve_k = [jax.tree_util.tree_map(lambda x, i=i: x[i], state.eve) for i in range(K)]
  guesses = [experiment.eve.apply(p, ciphertext) for p in eve_k]
  on_bits = [losses.bits_wrong(plaintext, g[:, :8]) for g in guesses]
  on_parities = [losses.bits_wrong(parity, g[:, 8:]) for g in guesses]
  terms = [max(np.mean((4 - w) ** 2) / 4 ** 2, np.mean((14 - v) ** 2) / 14 ** 2)
           for w, v in zip(on_bits, on_parities)]
  np.testing.assert_allclose(loss, bob + np.mean(terms), rtol=1e-5)
  np.testing.assert_allclose(
      measure.eve_bits, min(min(np.mean(w), 8 / 28 * np.mean(v))
                            for w, v in zip(on_bits, on_parities)), rtol=1e-5)
  # cipher.eavesdrop returns her guesses of the bits alone.
  guess = cipher.eavesdrop(eve_k[0], ciphertext, config)
  np.testing.assert_allclose(guess, experiment.eve.apply(eve_k[0], ciphertext)[:, :8], rtol=1e-6)


def test_no_seed_is_trained_before_min_steps():
  met = recipe.Measure(jnp.float32(0.0), jnp.float32(4.0))  # Bob perfect, Eve at chance
  config = _config(warmup_steps=20, min_steps=60)
  goals_met = experiments.make_experiment(config).goals_met
  assert [bool(goals_met(met, s)) for s in (20, 40, 59, 60, 80)] == [False] * 3 + [True] * 2
  # Without min_steps, the first step after the warm-up.
  goals_met = experiments.make_experiment(_config(warmup_steps=20)).goals_met
  assert [bool(goals_met(met, s)) for s in (20, 40)] == [False, True]
  with pytest.raises(config_lib.ConfigError, match='min_steps'):
    _config(min_steps=-1)


def test_every_secure16_recipe_is_a_valid_config():
  for name in secure16.RECIPES:
    config = secure16.get_config(name)
    config_lib.validate(config)
    assert config.eval.attackers == config_lib.ALL_ATTACKERS  # the whole family
  assert secure16.get_config('keyed_parity').arch == 'keyed_bilinear'
  with pytest.raises(ValueError, match='choose one of'):
    secure16.get_config('no_such_recipe')


def test_bobs_cross_entropy_by_hand_and_its_gradient_where_he_is_confidently_wrong():
  plaintext = jnp.asarray([[1.0, -1.0]])
  # At chance (u = 0) each bit costs ln 2 nats, scaled to half a bit: as bits_wrong.
  np.testing.assert_allclose(losses.bob_cross_entropy(plaintext, jnp.zeros((1, 2))), [1.0],
                             rtol=1e-6)
  np.testing.assert_allclose(losses.bits_wrong(plaintext, jnp.tanh(jnp.zeros((1, 2)))), [1.0])
  # u = (ln 3 / 2, 0): softplus(-ln 3) = ln(4/3) nats for the first bit.
  u = jnp.asarray([[np.log(3.0) / 2, 0.0]], jnp.float32)
  want = (np.log(4.0 / 3.0) + np.log(2.0)) / (2 * np.log(2.0))
  np.testing.assert_allclose(losses.bob_cross_entropy(plaintext, u), [want], rtol=1e-6)
  # Confidently wrong on the first bit (u = -10): bits wrong of tanh(u) has almost no
  # gradient there, the cross-entropy about 1 / ln 2 per unit of u.
  wrong = jnp.asarray([[-10.0, -10.0]])
  l1 = jax.grad(lambda v: jnp.sum(losses.bits_wrong(plaintext, jnp.tanh(v))))(wrong)
  ce = jax.grad(lambda v: jnp.sum(losses.bob_cross_entropy(plaintext, v)))(wrong)
  assert abs(float(l1[0, 0])) < 1e-7
  np.testing.assert_allclose(ce[0, 0], -1.0 / np.log(2.0), rtol=1e-6)
  np.testing.assert_allclose(ce[0, 1], 0.0, atol=1e-7)  # right and sure: nothing


@pytest.mark.slow
def test_a_logistic_bob_changes_only_bobs_term_of_the_loss():
  config = _config(count=1, eve_term='information', game='parity')
  experiment = experiments.make_experiment(config)
  state = experiment.init(jax.random.PRNGKey(20))
  plaintext, key = bits.random_messages(jax.random.PRNGKey(21), 64, 8, 8)
  l1_loss, l1_measure = experiment.alice_bob_objective(state.alice_bob, state.eve,
                                                       plaintext, key)
  config.bob_loss = 'logistic'
  config_lib.validate(config)
  assert not config_lib.is_paper_recipe(config_lib.complete(config))
  logistic = experiments.make_experiment(config)
  loss, measure = logistic.alice_bob_objective(state.alice_bob, state.eve, plaintext, key)
  chex.assert_trees_all_close(measure, l1_measure)  # Bob is still measured in bits wrong
  scheme = recipe.make_scheme(config)
  ciphertext = scheme.encrypt(state.alice_bob, plaintext, key)[0]
  bob_ce = jnp.mean(losses.bob_cross_entropy(
      plaintext, scheme.decrypt_logits(state.alice_bob, ciphertext, key)))
  np.testing.assert_allclose(loss - bob_ce, l1_loss - l1_measure.bob_bits, rtol=1e-4,
                             atol=1e-6)
  with pytest.raises(config_lib.ConfigError, match="'l1' or 'logistic'"):
    config.bob_loss = 'hinge'
    config_lib.validate(config)


@pytest.mark.slow
def test_the_later_lr_factor_scales_alice_and_bobs_steps_from_later_from_only():
  def moves(factor, first):
    config = _config(count=1, later_from=20, later_eve_weight=1.0, later_lr_factor=factor)
    experiment = experiments.make_experiment(config)
    key = jax.random.PRNGKey(22)
    start = experiment.init(key)
    after = _chunk(experiment, start, key, jnp.int32(first), 1)
    return [a - b for a, b in zip(_leaves(after.alice_bob), _leaves(start.alice_bob))]

  # From step 20 Adam's first step is x 0.25; before it, as at factor 1.
  for slow, fast in zip(moves(0.25, 20), moves(1.0, 20)):
    np.testing.assert_allclose(slow, 0.25 * fast, rtol=1e-4, atol=1e-8)
    assert np.abs(fast).max() > 0
  for slow, fast in zip(moves(0.25, 0), moves(1.0, 0)):
    np.testing.assert_array_equal(slow, fast)
  with pytest.raises(config_lib.ConfigError, match='later_lr_factor'):
    _config(later_lr_factor=0.0)
