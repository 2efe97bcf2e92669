"""config.leak_penalty: an Eve-free term in Alice and Bob's loss (beyond the paper).

On its own batch of batch_size / keys plaintexts, each under `keys` fresh
keys, the share of Alice's ciphertext that the plaintext explains through its
moments (losses.moment_leak), times `weight`. The one-time pad scores 0.
"""

import jax
import jax.numpy as jnp

from adversarial_crypto.core import losses

# Folded into an Alice/Bob step's batch key: the batch of the penalty.
LEAK_STREAM = 5


def with_leak_penalty(objective, scheme, draw, batch_size, msg_bits, options):
  """Alice and Bob's objective on a fresh batch, plus the weighted leak penalty.

  Args:
    objective: (alice_bob, eve_params, plaintext, key) -> (loss, measure), on columns.
    scheme: Alice and Bob's scheme on columns.
    draw: (key, size) -> (plaintext, key), columns.
    batch_size: the minibatch.
    msg_bits: N.
    options: config.leak_penalty (weight, keys, order).

  Returns:
    (alice_bob, eve_params, batch_key) -> (loss, measure).
  """
  weight, m, order = options['weight'], options['keys'], options['order']  # .keys is a method
  num = batch_size // m

  def leak_term(alice_bob, leak_key):
    plaintext, msg_key = draw(leak_key, batch_size)
    plaintext = jnp.repeat(plaintext[:, :num], m, axis=1)  # column i * m + j: plaintext i
    ciphertext = scheme.encrypt(alice_bob, plaintext, msg_key)[0]  # [N, B]
    return losses.moment_leak(ciphertext.reshape(msg_bits, num, m).transpose(1, 2, 0), order)

  def step_objective(alice_bob, eve_params, batch_key):
    loss, measure = objective(alice_bob, eve_params, *draw(batch_key, batch_size))
    if weight:
      loss = loss + weight * leak_term(alice_bob, jax.random.fold_in(batch_key, LEAK_STREAM))
    return loss, measure

  return step_objective
