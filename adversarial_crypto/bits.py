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
