"""Random messages and keys, as the paper represents bits: -1.0 / +1.0 floats."""

import jax
import jax.numpy as jnp


def random_bits(key, shape):
  """Uniform random bits in -1/+1 form.

  Args:
    key: a PRNG key.
    shape: the output shape, usually [batch, bits].

  Returns:
    A float32 array of -1.0 and +1.0.
  """
  return jax.random.rademacher(key, shape, dtype=jnp.float32)


def random_messages(key, size, msg_bits, key_bits):
  """A batch of fresh plaintexts [size, msg_bits] and keys [size, key_bits]."""
  k_plaintext, k_key = jax.random.split(key)
  return (random_bits(k_plaintext, (size, msg_bits)),
          random_bits(k_key, (size, key_bits)))
