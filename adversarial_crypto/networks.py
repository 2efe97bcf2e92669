"""Alice, Bob and Eve as pure init/apply functions over plain parameter dicts.

Architectures:
  'paper'     the "mix & transform" network of Section 2.5: a fully connected
              layer to 2N outputs, sigmoid, then 1-D convolutions
              [window, in depth, out depth] stride: [4,1,2] 1, [2,2,4] 2,
              [1,4,4] 1, [1,4,1] 1, SAME padding, sigmoid after each but the
              last, tanh after the last. The paper does not state its
              initialisation; weights and biases are drawn uniformly from
              +-1/sqrt(fan_in), the common default (PyTorch's).
  'tf_models' the variant in the public TensorFlow code (tensorflow/models,
              research/adversarial_crypto): no nonlinearity after the fully
              connected layer, convolutions [2,1,2] 2, [1,2,2] 1, [1,2,1] 1,
              Glorot-uniform weights, zero biases. (That code runs a 2x2
              conv2d over a width-1 image; the kernel's second column only
              ever sees padding, so it is a window-2 1-D convolution.)
  'mlp'       a plain multilayer perceptron with ReLU hidden layers, for
              stronger eavesdroppers (SPEC section 7).

Every network ends in tanh: `logits` returns the pre-tanh values u and
`apply` returns tanh(u), a guess in (-1, 1) per output bit.
"""

import math
from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp

Params = Any

# (window, input depth, output depth, stride) of each 1-D convolution.
PAPER_CONVS = ((4, 1, 2, 1), (2, 2, 4, 2), (1, 4, 4, 1), (1, 4, 1, 1))
TF_MODELS_CONVS = ((2, 1, 2, 2), (1, 2, 2, 1), (1, 2, 1, 1))
ARCHS = ('paper', 'tf_models', 'mlp')


class Network(NamedTuple):
  """A pure network: `init(key) -> params`, `logits(params, x) -> u`."""
  init: Callable[[jax.Array], Params]
  logits: Callable[[Params, jax.Array], jax.Array]
  in_bits: int
  out_bits: int

  def apply(self, params, x):
    """The network's guess tanh(u), in (-1, 1), for inputs x of shape [..., in_bits]."""
    return jnp.tanh(self.logits(params, x))


def _uniform(key, shape, bound):
  return jax.random.uniform(key, shape, jnp.float32, -bound, bound)


def _dense_init(key, fan_in, fan_out, shape, init):
  """Weights and bias of one layer; `shape` is the weight's shape."""
  k_w, k_b = jax.random.split(key)
  if init == 'fan_in':
    bound = 1.0 / math.sqrt(fan_in)
    return {'w': _uniform(k_w, shape, bound), 'b': _uniform(k_b, shape[-1:], bound)}
  if init == 'glorot':
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return {'w': _uniform(k_w, shape, bound), 'b': jnp.zeros(shape[-1:], jnp.float32)}
  raise ValueError(f'unknown init {init!r}')


def same_padding(length, window, stride):
  """TensorFlow's 'SAME' padding: (left, right, output length)."""
  out = -(-length // stride)
  total = max((out - 1) * stride + window - length, 0)
  return total // 2, total - total // 2, out


def conv1d(x, kernel, stride):
  """1-D convolution with 'SAME' padding, as window slices and one einsum.

  XLA's CPU backend runs vmapped `lax.conv_general_dilated` as slow grouped
  convolutions (SPEC section 6); slices and an einsum vmap into batched
  matrix products instead. Tests check this against `lax.conv_general_dilated`.

  Args:
    x: [..., length, in_depth].
    kernel: [window, in_depth, out_depth].
    stride: the window's step.

  Returns:
    [..., ceil(length / stride), out_depth].
  """
  window = kernel.shape[0]
  left, right, out = same_padding(x.shape[-2], window, stride)
  if window == 1 and stride == 1:
    return x @ kernel[0]
  pad = [(0, 0)] * (x.ndim - 2) + [(left, right), (0, 0)]
  x = jnp.pad(x, pad)
  span = (out - 1) * stride + 1
  windows = jnp.stack(
      [x[..., i:i + span:stride, :] for i in range(window)], axis=-2)
  return jnp.einsum('...lwc,wcd->...ld', windows, kernel)


def mix_transform(in_bits, out_bits, convs, fc_activation, init):
  """The mix & transform network: fully connected to 2*out_bits, then convolutions.

  Args:
    in_bits: input length (2N for Alice and Bob, N for Eve).
    out_bits: output length N; one stride-2 convolution halves 2N to N.
    convs: (window, in depth, out depth, stride) per convolution.
    fc_activation: True for a sigmoid after the fully connected layer.
    init: 'fan_in' or 'glorot'.
  """
  width = 2 * out_bits

  def init_fn(key):
    keys = jax.random.split(key, len(convs) + 1)
    params = {'fc': _dense_init(keys[0], in_bits, width, (in_bits, width), init)}
    for i, (window, d_in, d_out, _) in enumerate(convs):
      params[f'conv{i}'] = _dense_init(keys[i + 1], window * d_in, window * d_out,
                                       (window, d_in, d_out), init)
    return params

  def logits_fn(params, x):
    h = x @ params['fc']['w'] + params['fc']['b']
    if fc_activation:
      h = jax.nn.sigmoid(h)
    h = h[..., None]  # [..., length, depth 1]
    for i, (_, _, _, stride) in enumerate(convs):
      layer = params[f'conv{i}']
      h = conv1d(h, layer['w'], stride) + layer['b']
      if i < len(convs) - 1:
        h = jax.nn.sigmoid(h)
    return h[..., 0]

  return Network(init_fn, logits_fn, in_bits, out_bits)


def mlp(in_bits, out_bits, hidden: Sequence[int]):
  """A multilayer perceptron: ReLU hidden layers, fan-in uniform init."""
  sizes = (in_bits, *hidden, out_bits)

  def init_fn(key):
    keys = jax.random.split(key, len(sizes) - 1)
    return {f'dense{i}': _dense_init(k, a, b, (a, b), 'fan_in')
            for i, (k, a, b) in enumerate(zip(keys, sizes[:-1], sizes[1:]))}

  def logits_fn(params, x):
    h = x
    for i in range(len(sizes) - 1):
      layer = params[f'dense{i}']
      h = h @ layer['w'] + layer['b']
      if i < len(sizes) - 2:
        h = jax.nn.relu(h)
    return h

  return Network(init_fn, logits_fn, in_bits, out_bits)


def make_network(arch, in_bits, out_bits, hidden=(256, 256)):
  """A network of the named architecture.

  Args:
    arch: 'paper', 'tf_models' or 'mlp'.
    in_bits: input length.
    out_bits: output length.
    hidden: hidden layer sizes, used by 'mlp' only.
  """
  if arch == 'paper':
    return mix_transform(in_bits, out_bits, PAPER_CONVS, True, 'fan_in')
  if arch == 'tf_models':
    return mix_transform(in_bits, out_bits, TF_MODELS_CONVS, False, 'glorot')
  if arch == 'mlp':
    return mlp(in_bits, out_bits, tuple(hidden))
  raise ValueError(f'unknown arch {arch!r}; choose one of {ARCHS}')


class Parties(NamedTuple):
  """The three networks of the symmetric experiment."""
  alice: Network  # [plaintext, key] -> ciphertext
  bob: Network    # [ciphertext, key] -> plaintext
  eve: Network    # ciphertext -> plaintext


def make_parties(config):
  """Alice, Bob and Eve for a symmetric config (msg_bits, key_bits, arch, eve_arch)."""
  n, k = config.msg_bits, config.key_bits
  eve_arch = config.arch if config.eve_arch == 'same' else config.eve_arch
  return Parties(
      alice=make_network(config.arch, n + k, n),
      bob=make_network(config.arch, n + k, n),
      eve=make_network(eve_arch, n, n, config.eve_hidden),
  )


def count_params(params):
  """Number of scalar parameters in a pytree."""
  return sum(x.size for x in jax.tree_util.tree_leaves(params))
