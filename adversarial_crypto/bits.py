"""Random messages and keys, as the paper represents bits: -1.0 / +1.0 floats."""

import jax
import jax.numpy as jnp

WORD_BITS = 32


def unpack_words(words, num_bits):
  """The low `num_bits` bits of uint32 words, least significant first, as -1/+1.

  Args:
    words: [..., W] uint32 array with 32 * W >= num_bits.
    num_bits: how many bits to keep.

  Returns:
    A float32 array [..., num_bits]: bit j of word i is entry 32 * i + j,
    +1.0 where it is set and -1.0 where it is not.
  """
  shifts = jnp.arange(WORD_BITS, dtype=jnp.uint32)
  flat = ((words[..., None] >> shifts) & 1).reshape(words.shape[:-1] + (-1,))
  return flat[..., :num_bits].astype(jnp.float32) * 2.0 - 1.0


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


def random_messages(key, size, msg_bits, key_bits):
  """A batch of fresh plaintexts [size, msg_bits] and keys [size, key_bits],
  drawn together (one word holds a 16-bit plaintext and its 16-bit key)."""
  both = random_bits(key, (size, msg_bits + key_bits))
  return both[:, :msg_bits], both[:, msg_bits:]
