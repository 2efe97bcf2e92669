"""Random messages and keys, as the paper represents bits (-1.0 / +1.0 floats), and
the two layouts of a batch of them."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

WORD_BITS = 32


class Layout(NamedTuple):
  """Where a batch keeps its bits: ROWS, [..., B, bits], as the public API
  takes and returns them, or COLUMNS, [..., bits, B], the training step's
  layout. The networks compute batch-last inside, so COLUMNS spares the
  transposes, forward and backward, around every network of a step
  (docs/performance.md). `net` below is a networks.Network."""
  bit_axis: int

  def concat(self, parts):
    """Joins bit strings of the same examples, e.g. [plaintext, key]."""
    return jnp.concatenate(parts, self.bit_axis)

  def logits(self, net, params, x):
    """u of `net` on a batch x in this layout (for COLUMNS, one batch [bits, B])."""
    if self.bit_axis == -1:
      return net.logits(params, x)
    return net.logits_columns(params, x)

  def apply(self, net, params, x):
    """The guess tanh(u) of `net` on a batch x in this layout."""
    return jnp.tanh(self.logits(net, params, x))


ROWS = Layout(-1)
COLUMNS = Layout(-2)


def unpack_words(words, num_bits, layout=ROWS):
  """The low `num_bits` bits of uint32 words, least significant first, as -1/+1.

  Args:
    words: [..., W] uint32 array with 32 * W >= num_bits; for COLUMNS, [B, W].
    num_bits: how many bits to keep.
    layout: ROWS, or COLUMNS for the transpose of the result.

  Returns:
    A float32 array [..., num_bits] (COLUMNS: [num_bits, B]): bit j of word
    i is bit 32 * i + j, +1.0 where it is set and -1.0 where it is not.
  """
  shifts = jnp.arange(WORD_BITS, dtype=jnp.uint32)
  if layout.bit_axis == -1:
    flat = ((words[..., None] >> shifts) & 1).reshape(words.shape[:-1] + (-1,))[..., :num_bits]
  else:  # [W, 32, B] -> [32 W, B]
    flat = ((words.T[:, None, :] >> shifts[:, None]) & 1).reshape(-1, words.shape[0])[:num_bits]
  return flat.astype(jnp.float32) * 2.0 - 1.0


def random_bits(key, shape):
  """Uniform random bits in -1/+1 form.

  Each random 32-bit word gives 32 bits: a training step draws millions of
  bits, and one generator call per bit (jax.random.rademacher) cost about a
  tenth of the step on CPU.

  Args:
    key: a PRNG key.
    shape: the output shape, usually [batch, bits].

  Returns:
    A float32 array of -1.0 and +1.0.
  """
  *lead, num_bits = shape
  words = jax.random.bits(key, (*lead, -(-num_bits // WORD_BITS)), jnp.uint32)
  return unpack_words(words, num_bits)


def random_messages(key, size, msg_bits, key_bits, layout=ROWS):
  """A batch of fresh plaintexts [size, msg_bits] and keys [size, key_bits]
  (COLUMNS: their transposes), drawn together: one word holds a 16-bit
  plaintext and its 16-bit key. Both layouts draw the same bits."""
  num_bits = msg_bits + key_bits
  words = jax.random.bits(key, (size, -(-num_bits // WORD_BITS)), jnp.uint32)
  return tuple(jnp.split(unpack_words(words, num_bits, layout), [msg_bits], layout.bit_axis))


def pair_parities(plaintext, layout=ROWS):
  """The product P_i P_k of every pair of bits i < k, in -1/+1 form: their parity.

  A cipher can hide every bit and still leak these (a key bit used for two
  plaintext bits leaves their product in the clear), so an Eve who guesses
  only bits cannot see such a leak.

  Args:
    plaintext: [..., N] array of -1/+1 bits (COLUMNS: [N, B]).
    layout: ROWS or COLUMNS.

  Returns:
    [..., N(N-1)/2] (COLUMNS: [N(N-1)/2, B]), pairs in numpy.triu_indices(N, 1) order.
  """
  first, second = np.triu_indices(plaintext.shape[layout.bit_axis], 1)
  return (jnp.take(plaintext, first, axis=layout.bit_axis) *
          jnp.take(plaintext, second, axis=layout.bit_axis))
