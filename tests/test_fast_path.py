"""The fast mix & transform path computes exactly the paper's network.

`networks.mix_transform` runs batch-last with convolutions as Toeplitz
matrix products and phase-split einsums (see its docstring). Here it is
checked, outputs and gradients, against a plain batch-first reference built
on `lax.conv_general_dilated` with TensorFlow's 'SAME' padding.

Tolerances: float32 throughout; the fast path sums the same products in a
different order (and adds exact zeros for the taps that fall on padding),
so outputs agree to a few ulps of values in (-1, 1) (atol 1e-5), and
gradients, sums over the batch of up to 8 * 64 products, to rtol 1e-4 with
atol 1e-5 for entries near zero.
"""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from adversarial_crypto.core import bits
from adversarial_crypto.core import losses
from adversarial_crypto.core import networks
from adversarial_crypto.core import recipe
from adversarial_crypto.training import experiments
from configs import tiny

OUT_ATOL = 1e-5
GRAD_RTOL, GRAD_ATOL = 1e-4, 1e-5

ARCH_SPECS = {
    'paper': (networks.PAPER_CONVS, True, 'fan_in'),
    'tf_models': (networks.TF_MODELS_CONVS, False, 'glorot'),
}


def reference_logits(params, x, convs, fc_activation):
  """The mix & transform network, batch-first, convolutions by lax."""
  h = x @ params['fc']['w'] + params['fc']['b']
  if fc_activation:
    h = jax.nn.sigmoid(h)
  h = h[..., None]  # [batch, length, depth]
  for i, (_, _, _, stride) in enumerate(convs):
    layer = params[f'conv{i}']
    h = jax.lax.conv_general_dilated(
        h, layer['w'], (stride,), 'SAME',
        dimension_numbers=('NWC', 'WIO', 'NWC'),
        precision=jax.lax.Precision.HIGHEST) + layer['b']
    if i < len(convs) - 1:
      h = jax.nn.sigmoid(h)
  return h[..., 0]


def _inputs(key, batch, in_bits):
  return jax.random.rademacher(key, (batch, in_bits), dtype=jnp.float32)


def _check(net, convs, fc_activation, batch=8, seed=0):
  k_p, k_x, k_w = jax.random.split(jax.random.PRNGKey(seed), 3)
  params = net.init(k_p)
  x = _inputs(k_x, batch, net.in_bits)
  weights = jax.random.normal(k_w, (batch, net.out_bits))

  def fast(p, x):
    logits = net.logits(p, x)
    return jnp.sum(weights * jnp.tanh(logits)), logits

  def ref(p, x):
    logits = reference_logits(p, x, convs, fc_activation)
    return jnp.sum(weights * jnp.tanh(logits)), logits

  # One compile per implementation: logits ride along as auxiliary output.
  g_fast, out_fast = jax.jit(jax.grad(fast, argnums=(0, 1), has_aux=True))(params, x)
  g_ref, out_ref = jax.jit(jax.grad(ref, argnums=(0, 1), has_aux=True))(params, x)
  np.testing.assert_allclose(out_fast, out_ref, atol=OUT_ATOL, rtol=0)
  # Gradients must be non-trivial for the comparison to mean anything.
  assert float(jnp.max(jnp.abs(g_ref[0]['conv0']['w']))) > 1e-3
  chex.assert_trees_all_close(g_fast, g_ref, rtol=GRAD_RTOL, atol=GRAD_ATOL)


@pytest.mark.parametrize('arch', ['paper', 'tf_models'])
# N = 16 in the fast tier; the paper's other sizes with the slow tests.
@pytest.mark.parametrize('n', [16, pytest.param(32, marks=pytest.mark.slow),
                               pytest.param(64, marks=pytest.mark.slow)])
def test_alice_matches_reference(arch, n):
  convs, fc_activation, _ = ARCH_SPECS[arch]
  _check(networks.make_network(arch, 2 * n, n), convs, fc_activation)


@pytest.mark.parametrize('arch', ['paper', 'tf_models'])
def test_eve_matches_reference(arch):
  # Eve reads N bits, not 2N: only the fully connected layer's input differs.
  convs, fc_activation, _ = ARCH_SPECS[arch]
  _check(networks.make_network(arch, 16, 16), convs, fc_activation, seed=1)


def test_key_shorter_than_message_matches_reference():
  convs, fc_activation, _ = ARCH_SPECS['paper']
  _check(networks.make_network('paper', 16 + 8, 16), convs, fc_activation, seed=2)


def test_pointwise_before_tiling_conv_matches_reference():
  """A stride-1 window-1 layer feeding a tiling (window = stride) layer: the
  one case where the fast path reorders positions by a gather."""
  convs = ((1, 1, 2, 1), (2, 2, 3, 2), (1, 3, 1, 1))
  net = networks.mix_transform(32, 16, convs, True, 'fan_in')
  _check(net, convs, True, seed=3)


def test_leading_batch_dims_and_apply():
  net = networks.make_network('paper', 32, 16)
  params = net.init(jax.random.PRNGKey(4))
  x = jax.random.rademacher(jax.random.PRNGKey(5), (3, 5, 32), dtype=jnp.float32)
  apply = jax.jit(net.apply)
  out = apply(params, x)
  assert out.shape == (3, 5, 16)
  flat = apply(params, x.reshape(15, 32)).reshape(3, 5, 16)
  np.testing.assert_allclose(out, flat, atol=1e-6, rtol=0)
  ref = jnp.tanh(reference_logits(params, x.reshape(15, 32), networks.PAPER_CONVS, True))
  np.testing.assert_allclose(flat, ref.reshape(3, 5, 16), atol=OUT_ATOL, rtol=0)


def test_vmap_over_seeds_equals_each_seed():
  net = networks.make_network('paper', 32, 16)
  params = jax.tree_util.tree_map(
      lambda *a: jnp.stack(a), *[net.init(k) for k in jax.random.split(jax.random.PRNGKey(6), 3)])
  x = jax.random.rademacher(jax.random.PRNGKey(7), (3, 8, 32), dtype=jnp.float32)
  batched = jax.jit(jax.vmap(net.apply))(params, x)
  apply = jax.jit(net.apply)
  for i in range(3):
    one = apply(jax.tree_util.tree_map(lambda a: a[i], params), x[i])
    np.testing.assert_allclose(batched[i], one, atol=1e-6, rtol=0)


@pytest.mark.parametrize('arch', networks.ARCHS)
def test_columns_equal_rows_transposed(arch):
  # Training feeds the networks examples as columns (bits.COLUMNS).
  if arch == 'keyed_orthogonal':  # exactly N units on N key bits
    net = networks.make_network(arch, 32, 16, (16,), key_bits=16)
  elif arch in networks.KEYED_ARCHS:  # one hidden layer; the last 16 inputs are a key
    net = networks.make_network(arch, 32, 16, (24,), key_bits=16)
  else:
    net = networks.make_network(arch, 32, 16, (24, 12))
  params = net.init(jax.random.PRNGKey(8))
  x = _inputs(jax.random.PRNGKey(9), 8, 32)
  np.testing.assert_allclose(jax.jit(net.logits_columns)(params, x.T),
                             jax.jit(net.logits)(params, x).T, atol=OUT_ATOL, rtol=0)
  grad = lambda f, xs: jax.grad(lambda p: jnp.sum(jnp.sin(f(p, xs))))(params)
  # keyed_orthogonal's gradients pass back through QR: float32 round-off of about 2e-5
  # on entries up to about 30, which a near-zero entry turns into a large relative error.
  atol = 1e-4 if arch == 'keyed_orthogonal' else GRAD_ATOL
  chex.assert_trees_all_close(grad(lambda p, xs: net.logits_columns(p, xs).T, x.T),
                              grad(net.logits, x), rtol=GRAD_RTOL, atol=atol)


def _rows_networks(config):
  """{name: Network} of Alice and Bob's side, and Eve, built here from the config."""
  n, k, hidden = config.msg_bits, config.key_bits, tuple(config.hidden)
  if config.experiment == 'asymmetric':
    pub = config.public_key_bits
    nets = {'keygen': networks.make_network(config.arch, k, pub, hidden),
            'alice': networks.make_network(config.arch, n + pub, n, hidden),
            'bob': networks.make_network(config.arch, n + k, n, hidden)}
    eve_in = n + pub
  else:
    nets = {'alice': networks.make_network(config.arch, n + k, n, hidden),
            'bob': networks.make_network(config.arch, n + k, n, hidden)}
    eve_in = n
  eve_arch = config.arch if config.eve_arch == 'same' else config.eve_arch
  return nets, networks.make_network(eve_arch, eve_in, n, tuple(config.eve_hidden))


def _rows_train_step(config):
  """Section 2.5's training step, batch-first: every batch [B, bits], every network
  through its row function (`apply` / `logits` on [B, in_bits]), the losses written
  out here from `losses` on the last axis. Nothing in it is the columns code."""
  nets, eve = _rows_networks(config)
  half = config.msg_bits / 2
  rows = lambda *parts: jnp.concatenate(parts, -1)

  def encrypt(alice_bob, plaintext, key):
    """(ciphertext, what Eve sees): Appendix A's Alice reads the public key."""
    if 'keygen' in nets:
      public = nets['keygen'].apply(alice_bob['keygen'], key)
      ciphertext = nets['alice'].apply(alice_bob['alice'], rows(plaintext, public))
      return ciphertext, rows(ciphertext, public)
    ciphertext = nets['alice'].apply(alice_bob['alice'], rows(plaintext, key))
    return ciphertext, ciphertext

  def alice_bob_objective(alice_bob, eve_params, plaintext, key):
    ciphertext, view = encrypt(alice_bob, plaintext, key)
    bob_bits = losses.bits_wrong(plaintext, nets['bob'].apply(alice_bob['bob'],
                                                              rows(ciphertext, key)))
    eve_bits = losses.bits_wrong(plaintext, eve.apply(eve_params, view))
    loss = jnp.mean(bob_bits + (half - eve_bits) ** 2 / half ** 2)
    return loss, recipe.Measure(jnp.mean(bob_bits), jnp.mean(eve_bits))

  def eve_objective(eve_params, alice_bob, plaintext, key):
    view = encrypt(alice_bob, plaintext, key)[1]
    if config.eve_loss == 'logistic':
      return losses.logistic_eve_loss(plaintext, eve.logits(eve_params, view))
    return losses.eve_loss(plaintext, eve.apply(eve_params, view))

  def draw(key, size):
    return bits.random_messages(key, size, config.msg_bits, config.key_bits)

  return recipe.make_train_step(
      optax.adam(config.learning_rate), draw, config.batch_size,
      config.eve_steps_per_ab_step, alice_bob_objective, eve_objective)


@pytest.mark.parametrize('name,overrides', [
    pytest.param('symmetric', {}, marks=pytest.mark.slow),
    pytest.param('symmetric', {'arch': 'tf_models', 'eve_arch': 'mlp', 'eve_hidden': (16,),
                               'eve_loss': 'logistic'}, marks=pytest.mark.slow),
    pytest.param('asymmetric', {}, marks=pytest.mark.slow),
])
def test_training_on_columns_equals_training_on_rows(name, overrides):
  # The training step draws and computes on columns; on the same draws, three
  # steps must land where the batch-first reference's steps land, both halves
  # (Alice/Bob's loss and Eve's) computed independently on rows.
  config = tiny.get_config(name)
  config.update(overrides)
  experiment = experiments.make_experiment(config)
  state = experiment.init(jax.random.PRNGKey(10))
  nets, eve = _rows_networks(config)  # the reference's networks fit the experiment's params
  chex.assert_trees_all_equal_shapes(state.alice_bob, {n: net.init(jax.random.PRNGKey(0))
                                                      for n, net in nets.items()})
  chex.assert_trees_all_equal_shapes(state.eve, eve.init(jax.random.PRNGKey(0)))
  fast, rows = jax.jit(experiment.train_step), jax.jit(_rows_train_step(config))
  a = b = state
  for step in range(3):
    a, measure_a = fast(a, jax.random.PRNGKey(step))
    b, measure_b = rows(b, jax.random.PRNGKey(step))
    chex.assert_trees_all_close(measure_a, measure_b, rtol=1e-5)
  chex.assert_trees_all_close(a, b, rtol=1e-4, atol=1e-5)
  # Three steps moved every network: the comparison is not of untouched states.
  for before, after in zip(jax.tree_util.tree_leaves((state.alice_bob, state.eve)),
                           jax.tree_util.tree_leaves((a.alice_bob, a.eve))):
    assert not np.array_equal(before, after)


def test_parameter_structure_unchanged():
  params = jax.eval_shape(networks.make_network('paper', 32, 16).init,
                          jax.random.PRNGKey(0))
  shapes = jax.tree_util.tree_map(lambda a: a.shape, params)
  assert shapes == {
      'fc': {'w': (32, 32), 'b': (32,)},
      'conv0': {'w': (4, 1, 2), 'b': (2,)},
      'conv1': {'w': (2, 2, 4), 'b': (4,)},
      'conv2': {'w': (1, 4, 4), 'b': (4,)},
      'conv3': {'w': (1, 4, 1), 'b': (1,)},
  }
  assert networks.count_params(params) == 32 * 32 + 32 + 8 + 2 + 16 + 4 + 16 + 4 + 4 + 1


def test_same_padding_is_tensorflows():
  # Window 4 over 32 positions, stride 1: 3 padding positions, 1 left, 2 right.
  assert networks.same_padding(32, 4, 1) == (1, 2, 32)
  # Window 2, stride 2 over 32: tiles exactly, no padding.
  assert networks.same_padding(32, 2, 2) == (0, 0, 16)
  # Window 3, stride 2 over 5: out 3, total (3-1)*2+3-5 = 2.
  assert networks.same_padding(5, 3, 2) == (1, 1, 3)


@pytest.mark.parametrize('window,stride', [(4, 1), (2, 2), (3, 2), (1, 1)])
def test_conv1d_reference_matches_lax(window, stride):
  kernel = jax.random.normal(jax.random.PRNGKey(8), (window, 2, 3))
  x = jax.random.normal(jax.random.PRNGKey(9), (4, 11, 2))
  ref = jax.lax.conv_general_dilated(x, kernel, (stride,), 'SAME',
                                     dimension_numbers=('NWC', 'WIO', 'NWC'),
                                     precision=jax.lax.Precision.HIGHEST)
  np.testing.assert_allclose(networks.conv1d(x, kernel, stride), ref, atol=1e-5, rtol=0)
