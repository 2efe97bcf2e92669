"""An eavesdropper who knows Alice and Bob's weights and tries every key.

The paper models attackers by neural networks that learn from ciphertexts.
An attacker who knows the trained networks (Kerckhoffs's principle: the
cipher is public, only the key is secret) can instead try each of the 2^K
keys: decode the ciphertext with Bob under that key, re-encrypt the decoded
bits with Alice, and keep the keys under which that reproduces the
ciphertext. With the paper's 16-bit keys that is 65,536 tries per message.
A cipher resists her only where many keys explain a ciphertext with
different plaintexts, as every key does for the one-time pad. A
keyed_bilinear cipher always has two such keys, K and -K, for P and -P
(networks.keyed_bilinear), so she learns P up to its sign.

She tries only Bob's decoding under each key, so the keys she finds, and
what she recovers, are a lower bound on what this attacker can do.
"""

import functools
import itertools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from adversarial_crypto.core import bits
from adversarial_crypto.analysis import cipher

# The search is exhaustive: each key bit more doubles its time.
MAX_KEY_BITS = 20


class Found(NamedTuple):
  """The search's result for each of M ciphertexts."""
  plaintext: jax.Array   # [M, N] -1/+1: the bits decoded under the best key (among
                         # equally good keys, the first in all_keys' order)
  residual: jax.Array    # [M] max |Alice(plaintext, key) - ciphertext| under that key
  consistent: jax.Array  # [M] keys whose decoding re-encrypts within the tolerance
  agreeing: jax.Array    # [M] of those, keys that decode to the same plaintext


def all_keys(key_bits):
  """Every key of key_bits -1/+1 bits, [2^key_bits, key_bits] float32."""
  if not 0 < key_bits <= MAX_KEY_BITS:
    raise ValueError(f'key search tries all 2^key_bits keys; key_bits = {key_bits} is outside '
                     f'1..{MAX_KEY_BITS}')
  return jnp.asarray(np.array(list(itertools.product((-1.0, 1.0), repeat=key_bits)),
                              np.float32))


@functools.partial(jax.jit, static_argnames=('config', 'block'))
def search(alice, bob, ciphertext, config, tolerance=1e-4, block=4096):
  """Tries every key on each ciphertext.

  Args:
    alice, bob: one seed's parameters (cipher.Run.seed_params).
    ciphertext: [M, N] ciphertexts.
    config: the run's config (hashable: cipher.Run.config).
    tolerance: a key explains a ciphertext when re-encrypting its decoding
      moves no element by more than this.
    block: keys tried at once.

  Returns:
    Found.
  """
  keys = all_keys(config.key_bits)
  block = min(block, keys.shape[0])
  if block < 1 or keys.shape[0] % block:
    raise ValueError(f'block = {block} must be a positive power of 2: it splits the '
                     f'2^{config.key_bits} keys into equal blocks')
  keys = keys.reshape(-1, block, config.key_bits)

  def one_message(c):
    def one_block(key_block):
      c_b = jnp.broadcast_to(c, (block, c.shape[-1]))
      p = jnp.where(cipher.decrypt(bob, c_b, key_block, config) >= 0, 1.0, -1.0)
      r = jnp.max(jnp.abs(cipher.encrypt(alice, p, key_block, config) - c_b), axis=-1)
      return p, r

    p, r = jax.lax.map(one_block, keys)
    p, r = p.reshape(-1, c.shape[-1]), r.reshape(-1)
    best = jnp.argmin(r)
    ok = r <= tolerance
    same = jnp.all(p == p[best], axis=-1)
    return Found(p[best], r[best], jnp.sum(ok), jnp.sum(ok & same))

  return jax.lax.map(one_message, ciphertext)


def attack(alice, bob, plaintext, key, config, tolerance=1e-4):
  """Encrypts plaintext [M, N] under key [M, K] with Alice and searches every key.

  Returns:
    A dict of floats over the M messages: 'exact' and 'up_to_sign', the
    fraction whose best-key plaintext is P, or P or -P; 'bits_wrong' and
    'parity_bits_wrong', its mean bits wrong and N x its error rate over the
    pairwise parities (the evaluator's scales: chance is N/2 for both);
    'found', the fraction with a key within the tolerance; 'consistent' and
    'other_plaintexts', the median number of such keys and of those among
    them that decode to another plaintext; 'bob_exact', the fraction Bob
    reads exactly with the key; 'missed', the fraction Bob reads exactly
    and she does not read up to sign.
  """
  ciphertext = cipher.encrypt(alice, plaintext, key, config)
  found = search(alice, bob, ciphertext, config, tolerance)
  guess = found.plaintext
  n = plaintext.shape[-1]
  wrong = jnp.sum(guess != plaintext, axis=-1)
  bob_reads = jnp.all((cipher.decrypt(bob, ciphertext, key, config) >= 0) == (plaintext > 0),
                      axis=-1)
  parity_wrong = jnp.mean(bits.pair_parities(guess) != bits.pair_parities(plaintext))
  as_float = lambda x: float(np.asarray(x))
  return {'exact': as_float(jnp.mean(wrong == 0)),
          'up_to_sign': as_float(jnp.mean((wrong == 0) | (wrong == n))),
          'bits_wrong': as_float(jnp.mean(wrong)),
          'parity_bits_wrong': as_float(n * parity_wrong),
          'found': as_float(jnp.mean(found.residual <= tolerance)),
          'consistent': as_float(jnp.median(found.consistent)),
          'other_plaintexts': as_float(jnp.median(found.consistent - found.agreeing)),
          'bob_exact': as_float(jnp.mean(bob_reads)),
          'missed': as_float(jnp.mean(bob_reads & (wrong != 0) & (wrong != n)))}
