"""Network shapes, ranges, parameter counts and initialisation."""

import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from adversarial_crypto import config as config_lib
from adversarial_crypto.core import networks
from adversarial_crypto.core import recipe
from adversarial_crypto.core import symmetric
from configs import asym16


def paper_params(in_bits, n):
  # FC in x 2N + bias, then convs [4,1,2] [2,2,4] [1,4,4] [1,4,1] with biases.
  return in_bits * 2 * n + 2 * n + (8 + 2) + (16 + 4) + (16 + 4) + (4 + 1)


def tf_models_params(in_bits, n):
  # FC in x 2N + bias, then convs [2,1,2] [1,2,2] [1,2,1] with biases.
  return in_bits * 2 * n + 2 * n + (4 + 2) + (4 + 2) + (2 + 1)


@pytest.mark.parametrize('n', [16, 32, 64])
@pytest.mark.parametrize('arch', ['paper', 'tf_models'])
def test_alice_and_eve_shapes_ranges_and_counts(arch, n):
  count = paper_params if arch == 'paper' else tf_models_params
  x = jax.random.rademacher(jax.random.PRNGKey(0), (5, 2 * n), jnp.float32)
  alice = networks.make_network(arch, 2 * n, n)
  eve = networks.make_network(arch, n, n)
  alice_params = alice.init(jax.random.PRNGKey(1))
  eve_params = eve.init(jax.random.PRNGKey(2))
  c = alice.apply(alice_params, x)
  assert c.shape == (5, n)
  assert bool(jnp.all(jnp.abs(c) < 1))
  assert eve.apply(eve_params, c).shape == (5, n)
  assert networks.count_params(alice_params) == count(2 * n, n)
  assert networks.count_params(eve_params) == count(n, n)


def test_paper_counts_by_hand_for_n16():
  assert networks.count_params(networks.make_network('paper', 32, 16).init(jax.random.PRNGKey(0))) == 1111
  assert networks.count_params(networks.make_network('paper', 16, 16).init(jax.random.PRNGKey(0))) == 599
  assert networks.count_params(networks.make_network('tf_models', 32, 16).init(jax.random.PRNGKey(0))) == 1071


def test_key_shorter_than_message(tiny_config):
  tiny_config.msg_bits, tiny_config.key_bits = 16, 8
  scheme = symmetric.make_scheme(tiny_config)
  alice, bob = scheme.networks['alice'], scheme.networks['bob']
  eve = recipe.make_eve(tiny_config, scheme.eve_in_bits)
  assert (alice.in_bits, bob.in_bits, eve.in_bits) == (24, 24, 16)
  params = alice.init(jax.random.PRNGKey(0))
  assert params['fc']['w'].shape == (24, 32)
  assert alice.apply(params, jnp.ones((3, 24))).shape == (3, 16)


def test_mlp_eve_shape_and_count(tiny_config):
  tiny_config.msg_bits = tiny_config.key_bits = 16
  tiny_config.eve_arch, tiny_config.eve_hidden = 'mlp', (32, 8)
  eve = recipe.make_eve(tiny_config, tiny_config.msg_bits)
  params = eve.init(jax.random.PRNGKey(0))
  assert networks.count_params(params) == 16 * 32 + 32 + 32 * 8 + 8 + 8 * 16 + 16
  assert eve.apply(params, jnp.ones((4, 16))).shape == (4, 16)


def test_bilinear_units_multiply_two_linear_functions_by_hand():
  net = networks.make_network('bilinear', 4, 2, (3,))
  params = net.init(jax.random.PRNGKey(0))
  assert networks.count_params(params) == 2 * (4 * 3 + 3) + 3 * 2 + 2
  x = np.array([[1., -1., 1., 1.], [-1., -1., 1., -1.]], np.float32)
  left, right, out = (jax.tree_util.tree_map(np.asarray, params[k])
                      for k in ('left0', 'right0', 'out'))
  hidden = (x @ left['w'] + left['b']) * (x @ right['w'] + right['b'])
  np.testing.assert_allclose(net.logits(params, x), hidden @ out['w'] + out['b'], rtol=1e-5)
  # One unit holds a product of two inputs: here the pad's P_0 x K_0 (inputs 0 and 2).
  pad = {'left0': {'w': np.eye(4, 1, 0, np.float32), 'b': np.zeros(1, np.float32)},
         'right0': {'w': np.eye(4, 1, -2, np.float32), 'b': np.zeros(1, np.float32)},
         'out': {'w': np.ones((1, 1), np.float32), 'b': np.zeros(1, np.float32)}}
  one = networks.make_network('bilinear', 4, 1, (1,))
  np.testing.assert_array_equal(one.logits(pad, x)[:, 0], x[:, 0] * x[:, 2])


def test_keyed_bilinear_multiplies_a_text_feature_by_a_key_feature_by_hand():
  net = networks.make_network('keyed_bilinear', 5, 3, (4,), key_bits=2)
  params = jax.tree_util.tree_map(np.asarray, net.init(jax.random.PRNGKey(0)))
  assert {k: v.shape for k, v in params.items()} == {'text': (3, 4), 'key': (2, 4),
                                                     'out': (4, 3)}
  x = np.array([[1., -1., 1., 1., -1.], [-1., -1., 1., -1., 1.]], np.float32)
  by_hand = ((x[:, :3] @ params['text']) * (x[:, 3:] @ params['key'])) @ params['out']
  np.testing.assert_allclose(net.logits(params, x), by_hand, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(net.logits_columns(params, x.T).T, by_hand, rtol=1e-5, atol=1e-6)
  # The one-time pad u_i = P_i K_i is one unit per bit.
  pad = {'text': np.eye(2, dtype=np.float32), 'key': np.eye(2, dtype=np.float32),
         'out': np.eye(2, dtype=np.float32)}
  two = networks.make_network('keyed_bilinear', 4, 2, (2,), key_bits=2)
  np.testing.assert_array_equal(two.logits(pad, x[:, 1:]), x[:, 1:3] * x[:, 3:])


def test_keyed_bilinear_alice_hides_every_single_bit_whatever_her_weights():
  # u(-P, K) = -u(P, K) = u(P, -K): over all keys, the ciphertexts of P and of -P
  # are the same multiset, so no ciphertext tells P_i = 1 from P_i = -1 better than chance.
  n = k = 3
  alice = networks.make_network('keyed_bilinear', n + k, n, (5,), key_bits=k)
  signs = np.array(list(itertools.product([-1., 1.], repeat=n)), np.float32)
  for seed in range(3):
    params = alice.init(jax.random.PRNGKey(seed))
    for p in signs:
      def ciphertexts(text):
        x = np.concatenate([np.tile(text, (len(signs), 1)), signs], axis=1)
        return np.asarray(alice.apply(params, x))
      sort = lambda c: c[np.lexsort(np.round(c, 5).T)]
      np.testing.assert_allclose(sort(ciphertexts(-p)), sort(ciphertexts(p)), atol=1e-6)
      assert np.abs(ciphertexts(-p) - ciphertexts(p)).max() > 1e-3  # not trivially equal


def test_keyed_bilinear_eves_are_keyless_and_the_arch_is_checked(tiny_config):
  tiny_config.arch, tiny_config.hidden, tiny_config.eve_arch = 'keyed_bilinear', (8,), 'same'
  config_lib.validate(tiny_config)
  assert recipe.eve_arch(tiny_config) == 'bilinear'
  scheme = symmetric.make_scheme(tiny_config)
  assert scheme.networks['alice'].init(jax.random.PRNGKey(0))['key'].shape == (8, 8)
  for field, value, message in [('hidden', (8, 8), 'one hidden layer'),
                                ('eve_arch', 'keyed_bilinear', 'Eve has no key')]:
    bad = tiny_config.copy_and_resolve_references()
    bad[field] = value
    with pytest.raises(config_lib.ConfigError, match=message):
      config_lib.validate(bad)
  asym = asym16.get_config()
  asym.arch, asym.hidden = 'keyed_bilinear', (8,)
  with pytest.raises(config_lib.ConfigError, match="asymmetric experiment.*'bilinear'"):
    config_lib.validate(asym)


def test_same_padding_matches_tensorflow():
  assert networks.same_padding(32, 4, 1) == (1, 2, 32)   # extra pad on the right
  assert networks.same_padding(32, 2, 2) == (0, 0, 16)
  assert networks.same_padding(16, 1, 1) == (0, 0, 16)
  assert networks.same_padding(7, 2, 2) == (0, 1, 4)


def test_init_is_deterministic_per_key_and_follows_each_arch():
  paper = networks.make_network('paper', 32, 16)
  a, b = paper.init(jax.random.PRNGKey(3)), paper.init(jax.random.PRNGKey(3))
  c = paper.init(jax.random.PRNGKey(4))
  chex.assert_trees_all_equal(a, b)
  assert not np.array_equal(a['fc']['w'], c['fc']['w'])
  # 'paper': uniform +-1/sqrt(fan_in), biases too; 'tf_models': Glorot, zero biases.
  assert float(jnp.max(jnp.abs(a['fc']['w']))) <= 1 / np.sqrt(32)
  assert float(jnp.max(jnp.abs(a['conv0']['b']))) > 0
  tf = networks.make_network('tf_models', 32, 16).init(jax.random.PRNGKey(3))
  assert float(jnp.max(jnp.abs(tf['fc']['w']))) <= np.sqrt(6 / 64)
  assert all(float(jnp.max(jnp.abs(tf[k]['b']))) == 0 for k in tf)


def _one_by_one(key, layers, init):
  """Each layer's weights and biases drawn one jax.random.uniform call at a time."""
  params = []
  for k, (fan_in, fan_out, shape) in zip(jax.random.split(key, len(layers)), layers):
    k_w, k_b = jax.random.split(k)
    if init == 'fan_in':
      bound = 1 / np.sqrt(fan_in)
      params.append({'w': jax.random.uniform(k_w, shape, jnp.float32, -bound, bound),
                     'b': jax.random.uniform(k_b, shape[-1:], jnp.float32, -bound, bound)})
    else:
      bound = np.sqrt(6 / (fan_in + fan_out))
      params.append({'w': jax.random.uniform(k_w, shape, jnp.float32, -bound, bound),
                     'b': jnp.zeros(shape[-1:], jnp.float32)})
  return params


def test_uniforms_are_jax_random_uniform_bit_for_bit():
  keys = jax.random.split(jax.random.PRNGKey(5), 3)
  draws = [(keys[0], (3, 4), 0.5), (keys[1], (7,), 0.1), (keys[2], (2, 3, 2), 1.0)]
  expected = [jax.random.uniform(k, shape, jnp.float32, -b, b) for k, shape, b in draws]
  chex.assert_trees_all_equal(networks._uniforms(draws), expected)  # pylint: disable=protected-access
  chex.assert_trees_all_equal(jax.jit(lambda: networks._uniforms(draws))(), expected)  # pylint: disable=protected-access


@pytest.mark.slow
@pytest.mark.parametrize('jitted', [False, True])
def test_init_draws_in_one_call_what_one_call_per_layer_draws(jitted):
  # Every weight of a network comes from one generator call (networks._uniforms),
  # which must be bit for bit the values of one jax.random.uniform per weight.
  key = jax.random.PRNGKey(11)
  init = lambda net: (jax.jit(net.init) if jitted else net.init)(key)
  n, convs = 8, networks.PAPER_CONVS
  layers = [(2 * n, 2 * n, (2 * n, 2 * n))] + [(w * i, w * o, (w, i, o)) for w, i, o, _ in convs]
  names = ['fc'] + [f'conv{i}' for i in range(len(convs))]
  chex.assert_trees_all_equal(init(networks.make_network('paper', 2 * n, n)),
                              dict(zip(names, _one_by_one(key, layers, 'fan_in'))))
  tf_convs = networks.TF_MODELS_CONVS
  tf_layers = [(n, 2 * n, (n, 2 * n))] + [(w * i, w * o, (w, i, o)) for w, i, o, _ in tf_convs]
  chex.assert_trees_all_equal(
      init(networks.make_network('tf_models', n, n)),
      dict(zip(['fc'] + [f'conv{i}' for i in range(3)], _one_by_one(key, tf_layers, 'glorot'))))
  mlp = _one_by_one(key, [(n, 5, (n, 5)), (5, 3, (5, 3)), (3, 2, (3, 2))], 'fan_in')
  chex.assert_trees_all_equal(init(networks.make_network('mlp', n, 2, (5, 3))),
                              {f'dense{i}': p for i, p in enumerate(mlp)})
  bilinear = _one_by_one(key, [(n, 5, (n, 5))] * 2 + [(5, 2, (5, 2))], 'fan_in')
  chex.assert_trees_all_equal(init(networks.make_network('bilinear', n, 2, (5,))),
                              dict(zip(['left0', 'right0', 'out'], bilinear)))
  k_text, k_key, k_out = jax.random.split(key, 3)
  u = lambda k, shape, fan_in: jax.random.uniform(k, shape, jnp.float32, -1 / np.sqrt(fan_in),
                                                  1 / np.sqrt(fan_in))
  chex.assert_trees_all_equal(
      init(networks.make_network('keyed_bilinear', 2 * n, n, (6,), key_bits=n)),
      {'text': u(k_text, (n, 6), n), 'key': u(k_key, (n, 6), n), 'out': u(k_out, (6, n), 6)})
  chex.assert_trees_all_equal(
      init(networks.make_network('keyed_orthogonal', 2 * n, n, (n,), key_bits=n)),
      {'text': u(k_text, (n, n), n), 'key': u(k_key, (n, n), n), 'out': u(k_out, (n, n), n),
       'gain': jnp.zeros(n)})


def test_unknown_arch_names_the_choices():
  with pytest.raises(ValueError, match='paper'):
    networks.make_network('resnet', 32, 16)
