"""Appendix A's public-key experiment: shapes, what Eve sees, gradients, learning."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from adversarial_crypto.core import asymmetric
from adversarial_crypto.core import bits
from adversarial_crypto.core import networks
from adversarial_crypto import config as config_lib
from adversarial_crypto.evaluation import robustness
from adversarial_crypto.training import experiments
from adversarial_crypto.training import runner as runner_lib
from adversarial_crypto.training import train
from configs import tiny


@pytest.fixture
def asym_config():
  """configs/tiny.py:asymmetric with a public key longer than the secret key."""
  config = tiny.get_config('asymmetric')
  config.public_key_bits = 12   # unequal lengths catch a mixed-up input
  return config


def _params_and_batch(config, size=32):
  experiment = experiments.make_experiment(config)
  state = experiment.init(jax.random.PRNGKey(0))
  plaintext, secret = bits.random_messages(jax.random.PRNGKey(1), size, config.msg_bits,
                                           config.key_bits)
  return experiment, state, plaintext, secret


def test_shapes_of_every_network_and_of_what_eve_sees(asym_config):
  experiment, state, plaintext, secret = _params_and_batch(asym_config)
  nets = experiment.scheme.networks
  n, k, pub = 8, 8, 12
  assert [(name, net.in_bits, net.out_bits) for name, net in nets.items()] == [
      ('keygen', k, pub), ('alice', n + pub, n), ('bob', n + k, n)]
  assert (experiment.eve.in_bits, experiment.eve.out_bits) == (n + pub, n)
  assert set(state.alice_bob) == {'keygen', 'alice', 'bob'}
  ciphertext, view = experiment.scheme.encrypt(state.alice_bob, plaintext, secret)
  assert ciphertext.shape == (32, n) and view.shape == (32, n + pub)
  public = nets['keygen'].apply(state.alice_bob['keygen'], secret)
  np.testing.assert_array_equal(view, jnp.concatenate([ciphertext, public], -1))
  assert experiment.scheme.decrypt(state.alice_bob, ciphertext, secret).shape == (32, n)


def test_eve_sees_the_secret_key_only_through_the_public_key(asym_config):
  experiment, state, plaintext, secret = _params_and_batch(asym_config)
  # A generator whose output ignores its input: every secret key has the same public key.
  params = dict(state.alice_bob)
  params['keygen'] = {**params['keygen'], 'fc': {**params['keygen']['fc'],
                                                  'w': jnp.zeros_like(params['keygen']['fc']['w'])}}
  other_secret = -secret
  scheme = experiment.scheme
  view = scheme.eve_view(params, plaintext, secret)
  np.testing.assert_array_equal(view, scheme.eve_view(params, plaintext, other_secret))

  def eve_guess(s):
    return jnp.sum(experiment.eve.apply(state.eve, scheme.eve_view(params, plaintext, s)))

  def bob_guess(s):
    return jnp.sum(scheme.decrypt(params, scheme.encrypt(params, plaintext, s)[0], s))

  assert float(jnp.max(jnp.abs(jax.grad(eve_guess)(secret)))) == 0.0
  assert float(jnp.max(jnp.abs(jax.grad(bob_guess)(secret)))) > 0.0
  # With the real generator, the secret key reaches Eve's view through it, and
  # the view's public-key part is all that changes with the key.
  a, b = (scheme.eve_view(state.alice_bob, plaintext, s) for s in (secret, other_secret))
  assert not np.allclose(a[:, 8:], b[:, 8:])


@pytest.mark.slow
def test_the_generator_trains_with_alice_and_bob(asym_config):
  experiment, state, plaintext, secret = _params_and_batch(asym_config, 256)
  grads, _ = jax.grad(experiment.alice_bob_objective, has_aux=True)(
      state.alice_bob, state.eve, plaintext, secret)
  # Nonzero, not large: at initialisation the gradient reaching the generator's
  # first layers through a dozen sigmoid layers is about 1e-9. A parameter the
  # loss did not depend on would get exactly zero.
  for path, g in jax.tree_util.tree_leaves_with_path(grads['keygen']):
    assert float(jnp.max(jnp.abs(g))) > 0.0, path
  # And one training step moves the generator: it is under Alice and Bob's optimizer.
  new_state, _ = jax.jit(experiment.train_step)(state, jax.random.PRNGKey(2))
  moved = jax.tree_util.tree_map(lambda a, b: bool(jnp.any(a != b)),
                                 state.alice_bob['keygen'], new_state.alice_bob['keygen'])
  assert all(jax.tree_util.tree_leaves(moved)), moved


@pytest.mark.slow
def test_bob_learns_on_a_tiny_problem(asym_config):
  asym_config.msg_bits = asym_config.key_bits = asym_config.public_key_bits = 16
  asym_config.batch_size, asym_config.eval_batch_size = 256, 1024
  asym_config.success.eve_bits = 16.0  # never met: no seed stops early
  r = runner_lib.make_runner(asym_config)
  run = r.init()
  assert np.all(np.asarray(run.bob_bits) > 7.5)
  run = r.run_chunk(run, 2500)
  assert np.all(np.asarray(run.bob_bits) < 2.0), run.bob_bits


def test_a_public_key_length_is_required(asym_config):
  del asym_config.public_key_bits
  with pytest.raises(config_lib.ConfigError, match='public_key_bits is missing'):
    config_lib.validate(asym_config)


@pytest.mark.slow
def test_training_and_the_robustness_evaluation_run_end_to_end(asym_config, tmp_path):
  result = train.train(asym_config, str(tmp_path), log=lambda _: None)
  summary = robustness.evaluate_run(asym_config, str(tmp_path), result.run, result.summary,
                                    log=lambda _: None)
  assert summary['robust']['n'] == 2
  on_disk = json.loads((tmp_path / 'summary.json').read_text())
  assert len(on_disk['seeds'][0]['retrained_eves']['mlp']['bits']) == 2
  assert json.loads((tmp_path / 'config.json').read_text())['experiment'] == 'asymmetric'


def test_secret_key_recovery_scores_a_leaking_and_a_hiding_generator():
  # Seed 0 publishes the secret key times 0.5 (fully recoverable); seed 1's
  # public key ignores the secret (a constant): the read-out is at chance.
  keygen = networks.Network(lambda key: {}, lambda p, s: p['scale'] * s + p['shift'], 8, 8)
  params = {'scale': jnp.array([0.5, 0.0]).reshape(2, 1), 'shift': jnp.array([0.0, 0.3]).reshape(2, 1)}
  leaking, hiding = asymmetric.secret_bits_recovered(keygen, params, 8, 2048,
                                                     jax.random.PRNGKey(0))
  assert leaking == 1.0
  assert abs(hiding - 0.5) < 0.03   # 16,384 held-out bits: 4 standard errors
