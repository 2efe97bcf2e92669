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
              stronger eavesdroppers (docs/reproduction.md).
  'bilinear'  a multilayer perceptron whose hidden units multiply two linear
              functions of their input, (x A + a) * (x B + b), with no other
              nonlinearity: a product of two inputs, such as a plaintext bit
              and a key bit, is one unit (docs/beyond_the_paper.md).
  'keyed_bilinear'   units (t A) * (k B) of the text t and the key k, then W.
  'keyed_orthogonal' keyed_bilinear with N units whose A, B and W are each
              the orthogonal factor of a free matrix (docs/one_time_pad.md).

Every network ends in tanh: `logits` returns the pre-tanh values u and
`apply` returns tanh(u), a guess in (-1, 1) per output bit.
"""

import functools
import math
from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

Params = Any

# (window, input depth, output depth, stride) of each 1-D convolution.
PAPER_CONVS = ((4, 1, 2, 1), (2, 2, 4, 2), (1, 4, 4, 1), (1, 4, 1, 1))
TF_MODELS_CONVS = ((2, 1, 2, 2), (1, 2, 2, 1), (1, 2, 1, 1))
ARCHS = ('paper', 'tf_models', 'mlp', 'bilinear', 'keyed_bilinear', 'keyed_orthogonal')
# Architectures whose inputs end with a key (Alice's and Bob's, not Eve's).
KEYED_ARCHS = ('keyed_bilinear', 'keyed_orthogonal')


class Network(NamedTuple):
  """A pure network: `init(key) -> params`, `logits(params, x) -> u`."""
  init: Callable[[jax.Array], Params]
  logits: Callable[[Params, jax.Array], jax.Array]
  in_bits: int
  out_bits: int
  # `logits` on examples as columns, (params, x [in_bits, M]) -> u [out_bits, M];
  # None: transpose around `logits`.
  columns: Callable = None

  def apply(self, params, x):
    """The network's guess tanh(u), in (-1, 1), for inputs x of shape [..., in_bits]."""
    return jnp.tanh(self.logits(params, x))

  def logits_columns(self, params, x):
    """`logits` of inputs x [in_bits, M], one example per column; u is [out_bits, M]."""
    if self.columns is not None:
      return self.columns(params, x)
    return self.logits(params, x.T).T


def _uniform(key, shape, bound):
  return jax.random.uniform(key, shape, jnp.float32, -bound, bound)


def _uniforms(draws):
  """[_uniform(key, shape, bound) for key, shape, bound in draws], bit for bit,
  from one call of the random generator.

  Why: each jax.random call is a loop of its own in the compiled program, which
  XLA's CPU backend compiles separately (docs/performance.md); drawn one by one, a
  network's weights made its init cost more to compile than a training chunk.
  With jax's counter-based generator (jax_threefry_partitionable, the default),
  the bits of (key, shape) are the first prod(shape) bits of (key, (n,)) for any
  larger n; they become floats as jax.random.uniform makes them. Tests check the
  values against jax.random.uniform.
  """
  if not jax.config.jax_threefry_partitionable:  # the bits of a shape depend on it
    return [_uniform(*draw) for draw in draws]
  return _uniform_values(jnp.stack([key for key, _, _ in draws]),
                         tuple((tuple(shape), float(bound)) for _, shape, bound in draws))


# Jitted, as jax.random.uniform is, so that its arithmetic compiles as one fused
# program (XLA may fuse a multiply and an add into one rounding) when called eagerly.
@functools.partial(jax.jit, static_argnums=1)
def _uniform_values(keys, shapes_and_bounds):
  sizes = [math.prod(shape) for shape, _ in shapes_and_bounds]
  bits = jax.vmap(lambda k: jax.random.bits(k, (max(sizes),), jnp.uint32))(keys)
  # jax.random.uniform's map: 23 random bits as the mantissa of a float in [1, 2),
  # minus 1, scaled to [-bound, bound).
  ones = np.array(1.0, np.float32).view(np.uint32)
  floats = jax.lax.bitcast_convert_type((bits >> np.uint32(9)) | ones, jnp.float32) - 1.0
  low = np.array([[-bound] for _, bound in shapes_and_bounds], np.float32)
  values = jax.lax.max(low, floats * (-low - low) + low)
  return [values[i, :size].reshape(shape)
          for i, (size, (shape, _)) in enumerate(zip(sizes, shapes_and_bounds))]


def _dense_inits(keys, layers, init):
  """Weights and biases of several layers, one key each: [{'w', 'b'}] for
  `layers` [(fan_in, fan_out, weight shape)], drawn as one call (`_uniforms`).

  Each layer's key splits into its weight's and its bias's key.
  init: 'fan_in' (weights and biases uniform in +-1/sqrt(fan_in)) or 'glorot'
  (weights uniform in +-sqrt(6 / (fan_in + fan_out)), biases zero).
  """
  if init not in ('fan_in', 'glorot'):
    raise ValueError(f'unknown init {init!r}')
  weight_bias_keys = jax.vmap(jax.random.split)(keys)
  draws = []
  for (fan_in, fan_out, shape), (k_w, k_b) in zip(layers, weight_bias_keys):
    if init == 'fan_in':
      bound = 1.0 / math.sqrt(fan_in)
      draws += [(k_w, shape, bound), (k_b, shape[-1:], bound)]
    else:
      draws.append((k_w, shape, math.sqrt(6.0 / (fan_in + fan_out))))
  values = iter(_uniforms(draws))
  return [{'w': next(values),
           'b': next(values) if init == 'fan_in' else jnp.zeros(shape[-1:], jnp.float32)}
          for _, _, shape in layers]


def same_padding(length, window, stride):
  """TensorFlow's 'SAME' padding: (left, right, output length)."""
  out = -(-length // stride)
  total = max((out - 1) * stride + window - length, 0)
  return total // 2, total - total // 2, out


def conv1d(x, kernel, stride):
  """1-D convolution with 'SAME' padding, as window slices and one einsum.

  A readable batch-first reference; `mix_transform` computes the same
  convolutions in a faster layout. XLA's CPU backend runs vmapped
  `lax.conv_general_dilated` as slow grouped convolutions.

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


def _taps(length, window, stride):
  """0/1 taps T[w, o, l] = 1 where output o reads input l at window offset w.

  'SAME' padding as TensorFlow (pad left = total // 2); taps that fall on
  padding have no entry, since padding contributes zero.
  """
  left, _, out = same_padding(length, window, stride)
  taps = np.zeros((window, out, length), np.float32)
  for w in range(window):
    for o in range(out):
      i = o * stride + w - left
      if 0 <= i < length:
        taps[w, o, i] = 1.0
  return taps


def _phase_order(length, stride):
  """Positions grouped by phase: all l % stride == 0 first, then 1, ...

  A convolution with window == stride and no padding reads, for its output
  o, the inputs o * stride + p, p < stride; with its input stored in this
  order, tap p of every output is one contiguous slab, so the convolution
  is a small matrix product without any slicing.
  """
  return np.array([p + stride * i for p in range(stride) for i in range(length // stride)])


def _conv_kinds(width, convs):
  """'split' for a convolution whose windows tile its input (window == stride,
  no padding), else 'dense' (overlapping or padded windows)."""
  kinds, length = [], width
  for window, _, _, stride in convs:
    left, right, out = same_padding(length, window, stride)
    kinds.append('split' if window == stride and left == right == 0 else 'dense')
    length = out
  return kinds


def mix_transform(in_bits, out_bits, convs, fc_activation, init):
  """The mix & transform network: fully connected to 2*out_bits, then convolutions.

  One function of about 80 lines, most of them this docstring: the layers of
  the paper's network in the order they run, which is easiest to check whole.

  The fast path (docs/performance.md): layout and how the seed axis enters
  matter more than FLOPs. Activations are batch-last, [depth, position, batch], so
  the batch is the long, contiguous axis of every elementwise op and the tiny
  depth axis never is. A convolution with overlapping or padded windows is
  one dense (Toeplitz) matrix built from its kernel, [out depth * out
  length, in depth * in length], times the activations: one real matrix
  product instead of shifted slices, whose gradients XLA's CPU backend
  lowers to slow padded fusions. A convolution whose windows tile the input
  reads it in phase order (see `_phase_order`; the layer before writes it so
  by permuting its own output rows) and is a small einsum. Under vmap over
  seeds every op gains a leading batch dimension and stays a matrix product
  or an elementwise op. The parameters keep the layout of `conv1d`; tests
  check outputs and gradients against `lax.conv_general_dilated`.

  Args:
    in_bits: input length (2N for Alice and Bob, N for Eve).
    out_bits: output length N; one stride-2 convolution halves 2N to N.
    convs: (window, in depth, out depth, stride) per convolution.
    fc_activation: True for a sigmoid after the fully connected layer.
    init: 'fan_in' or 'glorot'.
  """
  width = 2 * out_bits
  kinds = _conv_kinds(width, convs)
  # Layer i writes its output in the phase order of layer i + 1 if that
  # layer is 'split' (stride > 1), else in natural order.
  out_stride = [convs[i + 1][3] if i + 1 < len(convs) and kinds[i + 1] == 'split' else 1
                for i in range(len(convs))]
  fc_stride = convs[0][3] if kinds[0] == 'split' else 1
  lengths = [width]
  for window, _, _, stride in convs:
    lengths.append(same_padding(lengths[-1], window, stride)[2])
  if lengths[-1] != out_bits or convs[-1][2] != 1:
    raise ValueError(f'convolutions {convs} do not map {width} positions to {out_bits}')
  taps = []
  for i, (window, _, _, stride) in enumerate(convs):
    t = _taps(lengths[i], window, stride) if kinds[i] == 'dense' else None
    if t is not None and out_stride[i] > 1:
      t = t[:, _phase_order(lengths[i + 1], out_stride[i])]
    taps.append(t)

  def init_fn(key):
    layers = [(in_bits, width, (in_bits, width))] + [
        (window * d_in, window * d_out, (window, d_in, d_out))
        for window, d_in, d_out, _ in convs]
    values = _dense_inits(jax.random.split(key, len(convs) + 1), layers, init)
    return dict(zip(['fc'] + [f'conv{i}' for i in range(len(convs))], values))

  def columns_fn(params, x):
    m = x.shape[1]
    w, b = params['fc']['w'], params['fc']['b']
    if fc_stride > 1:
      order = _phase_order(width, fc_stride)
      w, b = w[:, order], b[order]
    h = w.T @ x + b[:, None]
    if fc_activation:
      h = jax.nn.sigmoid(h)
    h = h.reshape(1, width, m)  # [depth, position, batch]
    for i, (_, d_in, d_out, stride) in enumerate(convs):
      kernel, bias = params[f'conv{i}']['w'], params[f'conv{i}']['b']
      length, out = lengths[i], lengths[i + 1]
      if kinds[i] == 'dense':
        toeplitz = jnp.einsum('wol,wcd->docl', taps[i], kernel).reshape(
            d_out * out, d_in * length)
        h = (toeplitz @ h.reshape(d_in * length, m)).reshape(d_out, out, m)
      else:
        # A plain 2-D product [d_out, (c, p)] @ [(c, p), (l, m)]: its gradients
        # are plain products too, where an einsum's came with transposed copies.
        k2 = jnp.transpose(kernel, (2, 1, 0)).reshape(d_out, d_in * stride)
        h = (k2 @ h.reshape(d_in * stride, out * m)).reshape(d_out, out, m)
        if out_stride[i] > 1:  # a second tiling convolution right after this one
          h = h[:, _phase_order(out, out_stride[i])]
      h = h + bias[:, None, None]
      if i < len(convs) - 1:
        h = jax.nn.sigmoid(h)
    return h.reshape(out_bits, m)

  def logits_fn(params, x):
    batch_shape = x.shape[:-1]
    m = math.prod(batch_shape)
    u = columns_fn(params, x.reshape(m, in_bits).T)
    return u.T.reshape(batch_shape + (out_bits,))

  return Network(init_fn, logits_fn, in_bits, out_bits, columns_fn)


def mlp(in_bits, out_bits, hidden: Sequence[int]):
  """A multilayer perceptron: ReLU hidden layers, fan-in uniform init."""
  sizes = (in_bits, *hidden, out_bits)

  def init_fn(key):
    layers = [(a, b, (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    values = _dense_inits(jax.random.split(key, len(layers)), layers, 'fan_in')
    return {f'dense{i}': value for i, value in enumerate(values)}

  def forward(params, x, columns):
    """u of x [..., in_bits], or with `columns` of x [in_bits, M]."""
    h = x
    for i in range(len(sizes) - 1):
      w, b = params[f'dense{i}']['w'], params[f'dense{i}']['b']
      h = w.T @ h + b[:, None] if columns else h @ w + b
      if i < len(sizes) - 2:
        h = jax.nn.relu(h)
    return h

  return Network(init_fn, functools.partial(forward, columns=False), in_bits, out_bits,
                 functools.partial(forward, columns=True))


def bilinear(in_bits, out_bits, hidden: Sequence[int]):
  """A multilayer perceptron of product units: each hidden layer is
  (h A + a) * (h B + b), the output layer is linear; fan-in uniform init."""
  sizes = (in_bits, *hidden, out_bits)

  def init_fn(key):
    names, layers = [], []
    for i, (a, b) in enumerate(zip(sizes[:-2], sizes[1:-1])):
      names += [f'left{i}', f'right{i}']
      layers += [(a, b, (a, b))] * 2
    names.append('out')
    layers.append((sizes[-2], out_bits, (sizes[-2], out_bits)))
    values = _dense_inits(jax.random.split(key, len(layers)), layers, 'fan_in')
    return dict(zip(names, values))

  def forward(params, x, columns):
    """u of x [..., in_bits], or with `columns` of x [in_bits, M]."""
    def dense(layer, h):
      return layer['w'].T @ h + layer['b'][:, None] if columns else h @ layer['w'] + layer['b']

    h = x
    for i in range(len(hidden)):
      h = dense(params[f'left{i}'], h) * dense(params[f'right{i}'], h)
    return dense(params['out'], h)

  return Network(init_fn, functools.partial(forward, columns=False), in_bits, out_bits,
                 functools.partial(forward, columns=True))


def keyed_bilinear(in_bits, out_bits, hidden: Sequence[int], key_bits):
  """Product units of a text feature and a key feature, u = ((t A) * (k B)) W.

  The input is [t, k], its last key_bits the key. There are no biases, so u
  is odd in t for every key and every weight: u(-t, k) = u(t, -k) = -u(t, k).
  As Alice, with the key uniform over -1/+1, the ciphertext of -P is then
  distributed as that of P, and no eavesdropper can guess any single bit of
  P better than chance: what she may learn are even functions of P, such as
  the parities P_i P_j. The one-time pad, u_i = P_i K_i, is one unit per bit.
  """
  if len(hidden) != 1:
    raise ValueError(f'keyed_bilinear takes one hidden layer, got {tuple(hidden)}: a second '
                     'layer of products would no longer be odd in the text')
  if not 0 < key_bits < in_bits:
    raise ValueError(f'keyed_bilinear needs 0 < key_bits < in_bits, got {key_bits} of {in_bits}')
  text_bits, (width,) = in_bits - key_bits, hidden

  def init_fn(key):
    k_text, k_key, k_out = jax.random.split(key, 3)
    text, key_, out = _uniforms([(k_text, (text_bits, width), 1.0 / math.sqrt(text_bits)),
                                 (k_key, (key_bits, width), 1.0 / math.sqrt(key_bits)),
                                 (k_out, (width, out_bits), 1.0 / math.sqrt(width))])
    return {'text': text, 'key': key_, 'out': out}

  def forward(params, x, columns):
    """u of x [..., in_bits], or with `columns` of x [in_bits, M]."""
    if columns:
      h = (params['text'].T @ x[:text_bits]) * (params['key'].T @ x[text_bits:])
      return params['out'].T @ h
    h = (x[..., :text_bits] @ params['text']) * (x[..., text_bits:] @ params['key'])
    return h @ params['out']

  return Network(init_fn, functools.partial(forward, columns=False), in_bits, out_bits,
                 functools.partial(forward, columns=True))


def orthogonal_factor(m):
  """The orthogonal factor Q of m = QR (square m), with the signs that make R's
  diagonal positive: unique, and continuous in m wherever m is invertible."""
  q, r = jnp.linalg.qr(m)
  return q * jnp.where(jnp.diagonal(r) < 0, -1.0, 1.0)[None, :]


# keyed_orthogonal's free matrices, each used through its orthogonal factor.
ORTHOGONAL_FACTORS = ('text', 'key', 'out')


def refactor(params):
  """keyed_orthogonal params with each free matrix M (text, key, out) replaced by
  s Q, Q = orthogonal_factor(M) and s its root-mean-square singular value: the
  same network (orthogonal_factor(s Q) = Q), but every singular value s. Q's
  gradient goes through R^-1, so where M is near singular a weight step turns Q
  far along one direction (a seed diverged so, docs/one_time_pad.md), and where
  M has grown Q barely moves; s keeps M's overall scale."""
  out = dict(params)
  for name in ORTHOGONAL_FACTORS:
    m = params[name]
    scale = jnp.sqrt(jnp.mean(jnp.square(m)) * m.shape[-1])
    out[name] = scale * orthogonal_factor(m)
  return out


def keyed_orthogonal(in_bits, out_bits, hidden: Sequence[int], key_bits):
  """keyed_bilinear with N = out_bits units and orthogonal A, B and W.

  u = ((t A) * (k B)) W as in keyed_bilinear (odd in the text, no biases), with
  text, key and output all of N bits and the width N, where each of A, B, W is
  the orthogonal factor (`orthogonal_factor`) of a free N x N parameter drawn
  uniformly at random, so a random orthogonal matrix at initialisation, not the
  identity, and each output i is scaled by exp(g_i), a learned gain (init 0):
  orthogonal factors bound |u|, and Bob needs |u| large to be sure of a bit.
  The prior it builds in: the N text features are orthonormal, so no two of
  them can merge, and likewise the N key features and the N output mixes.
  The one-time pad is representable: A, B, W signed permutations, for which
  u_i = +-exp(g_i) P_a K_b, one plaintext bit and one key bit per output bit.
  """
  text_bits = in_bits - key_bits
  if tuple(hidden) != (out_bits,) or text_bits != out_bits or key_bits != out_bits:
    raise ValueError(f'keyed_orthogonal maps N text bits and N key bits through N units to '
                     f'N outputs; got {text_bits} text, {key_bits} key bits, hidden '
                     f'{tuple(hidden)}, {out_bits} outputs')
  n = out_bits

  def init_fn(key):
    keys = jax.random.split(key, 3)
    bound = 1.0 / math.sqrt(n)
    params = dict(zip(ORTHOGONAL_FACTORS, _uniforms([(k, (n, n), bound) for k in keys])))
    return dict(params, gain=jnp.zeros((n,), jnp.float32))

  def forward(params, x, columns):
    a, b, w = (orthogonal_factor(params[name]) for name in ORTHOGONAL_FACTORS)
    gain = jnp.exp(params['gain'])
    if columns:
      return gain[:, None] * (w.T @ ((a.T @ x[:n]) * (b.T @ x[n:])))
    return gain * (((x[..., :n] @ a) * (x[..., n:] @ b)) @ w)

  return Network(init_fn, functools.partial(forward, columns=False), in_bits, out_bits,
                 functools.partial(forward, columns=True))


# Hidden layer sizes of an 'mlp' network, and of 'mlp' Alice and Bob when a config has none.
DEFAULT_HIDDEN = (256, 256)


def keyless(arch):
  """The architecture of Alice and Bob's kind for a network without a key, an Eve."""
  return 'bilinear' if arch in KEYED_ARCHS else arch


def make_network(arch, in_bits, out_bits, hidden=DEFAULT_HIDDEN, key_bits=None):
  """A network of the named architecture.

  Args:
    arch: one of ARCHS.
    in_bits: input length.
    out_bits: output length.
    hidden: hidden layer sizes, used by 'mlp' and the bilinear ones only.
    key_bits: how many of the last inputs are a key; KEYED_ARCHS only.
  """
  if arch == 'paper':
    return mix_transform(in_bits, out_bits, PAPER_CONVS, True, 'fan_in')
  if arch == 'tf_models':
    return mix_transform(in_bits, out_bits, TF_MODELS_CONVS, False, 'glorot')
  if arch == 'mlp':
    return mlp(in_bits, out_bits, tuple(hidden))
  if arch == 'bilinear':
    return bilinear(in_bits, out_bits, tuple(hidden))
  if arch == 'keyed_bilinear':
    if key_bits is None:
      raise ValueError("arch 'keyed_bilinear' is for networks that take a key (Alice, Bob); "
                       'pass key_bits')
    return keyed_bilinear(in_bits, out_bits, tuple(hidden), key_bits)
  if arch == 'keyed_orthogonal':
    if key_bits is None:
      raise ValueError("arch 'keyed_orthogonal' is for networks that take a key (Alice, Bob); "
                       'pass key_bits')
    return keyed_orthogonal(in_bits, out_bits, tuple(hidden), key_bits)
  raise ValueError(f'unknown arch {arch!r}; choose one of {ARCHS}')


def count_params(params):
  """Number of scalar parameters in a pytree."""
  return sum(x.size for x in jax.tree_util.tree_leaves(params))
