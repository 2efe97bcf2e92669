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

Exact leakage (`leakage`). With uniform plaintexts and keys, the posterior
P(P = p | C = c) is proportional to the number of keys k with Alice(p, k) = c.
For each ciphertext `leakage` counts, per plaintext p, the consistent keys
whose decoding is p, and returns the entropy of those counts, H(P | C = c) in
bits: N for the one-time pad (every plaintext equally likely), 0 when the
ciphertext gives the plaintext away. It counts only the (plaintext, key)
pairs Bob's decoding offers, one plaintext per key: a pair (p, k) that Alice
maps to c but Bob does not decode to p is missed. So H is the entropy of what
this attacker learns, not a bound on every attacker: where Bob decodes
every key's ciphertexts exactly, as a trained Bob nearly does, no pair is
missed and H is the true H(P | C = c).

The tolerance. The ciphertext is real-valued, so "Alice(p, k) = c" needs a
tolerance. Re-encrypting the very plaintext that was encrypted, under its own
key, reproduces the ciphertext up to float32 round-off of a differently
batched computation, about 1e-6. Measured at N = 16 on 4096 messages, each
re-encrypted in its block of 4096 keys as the search does, against Alice on
the batch of messages: at most 1.3e-7 for untrained paper and MLP Alices,
6.7e-7 for a paper Alice trained 2,500 steps, 0 for keyed_bilinear. The
default, 1e-4, leaves a wide margin for that: the true key is not missed for
round-off. It also means that two (plaintext, key) pairs
whose ciphertexts lie within 1e-4 of each other in every element count as one
ciphertext: H is the plaintext's entropy for an eavesdropper who reads the
ciphertext to 1e-4. A cipher whose ciphertexts differ by less (a leak below
1e-4) looks more secure here than it is.
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


def _key_blocks(key_bits, block):
  """all_keys(key_bits) as [2^key_bits / block, block, key_bits]."""
  keys = all_keys(key_bits)
  block = min(block, keys.shape[0])
  if block < 1 or keys.shape[0] % block:
    raise ValueError(f'block = {block} must be a positive power of 2: it splits the '
                     f'2^{key_bits} keys into equal blocks')
  return keys.reshape(-1, block, key_bits)


def _try_every_key(alice, bob, c, config, keys):
  """Bob's decoding of one ciphertext c [N] under every key, and its residual.

  Args:
    keys: _key_blocks(...), tried one block at a time.

  Returns:
    (plaintext [2^K, N] -1/+1, residual [2^K]: max |Alice(plaintext, key) - c|).
  """
  block = keys.shape[1]

  def one_block(key_block):
    c_b = jnp.broadcast_to(c, (block, c.shape[-1]))
    p = jnp.where(cipher.decrypt(bob, c_b, key_block, config) >= 0, 1.0, -1.0)
    r = jnp.max(jnp.abs(cipher.encrypt(alice, p, key_block, config) - c_b), axis=-1)
    return p, r

  p, r = jax.lax.map(one_block, keys)
  return p.reshape(-1, c.shape[-1]), r.reshape(-1)


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
  keys = _key_blocks(config.key_bits, block)

  def one_message(c):
    p, r = _try_every_key(alice, bob, c, config, keys)
    best = jnp.argmin(r)
    ok = r <= tolerance
    same = jnp.all(p == p[best], axis=-1)
    return Found(p[best], r[best], jnp.sum(ok), jnp.sum(ok & same))

  return jax.lax.map(one_message, ciphertext)


class Leakage(NamedTuple):
  """What the exhaustive search leaves of each of M plaintexts."""
  consistent: jax.Array  # [M] keys whose decoding re-encrypts within the tolerance
  distinct: jax.Array    # [M] distinct plaintexts among those keys' decodings
  entropy: jax.Array     # [M] H(P | C = c) in bits; NaN where no key is consistent


def plaintext_codes(plaintext):
  """Each -1/+1 plaintext [..., N] as ceil(N / 32) uint32 words [..., W]:
  bit j of word i is set where plaintext bit 32 i + j is +1 (bits.unpack_words'
  order), so two plaintexts are equal exactly when their codes are."""
  n = plaintext.shape[-1]
  words = -(-n // bits.WORD_BITS)
  set_bits = jnp.pad(plaintext > 0, [(0, 0)] * (plaintext.ndim - 1) + [(0, words * 32 - n)])
  set_bits = set_bits.reshape(plaintext.shape[:-1] + (words, bits.WORD_BITS)).astype(jnp.uint32)
  return jnp.sum(set_bits << jnp.arange(bits.WORD_BITS, dtype=jnp.uint32), axis=-1,
                 dtype=jnp.uint32)


def entropy_bits(counts):
  """The entropy in bits of a distribution proportional to counts [..., G] (>= 0):
  log2 of the total less the count-weighted mean log2 count; NaN for no counts."""
  counts = jnp.asarray(counts, jnp.float32)
  total = jnp.sum(counts, axis=-1)
  # c log2 c is 0 at c = 0: where() keeps log2(0) = -inf out of the sum.
  c_log_c = jnp.where(counts > 0, counts * jnp.log2(jnp.maximum(counts, 1.0)), 0.0)
  h = jnp.log2(total) - jnp.sum(c_log_c, axis=-1) / total
  # Round-off can leave -1e-7 for a single plaintext; entropy is never negative.
  return jnp.where(total > 0, jnp.maximum(h, 0.0), jnp.nan)


def _posterior_counts(plaintext, ok):
  """Consistent keys per distinct decoding of one ciphertext.

  Args:
    plaintext: [T, N] the decoding under each of T keys.
    ok: [T] bool, which keys are consistent.

  Returns:
    (counts [T]: keys per distinct consistent plaintext, zero-padded to T, a
    size fixed under jit; distinct: how many are non-zero).
  """
  codes = plaintext_codes(plaintext)
  # Sort the consistent keys first, then by code: equal plaintexts end up adjacent.
  inconsistent = jnp.logical_not(ok).astype(jnp.uint32)
  operands = (inconsistent,) + tuple(codes[:, w] for w in range(codes.shape[1]))
  ordered = jax.lax.sort(operands, num_keys=len(operands))
  sorted_ok = ordered[0] == 0
  sorted_codes = jnp.stack(ordered[1:], axis=-1)
  differs = jnp.any(sorted_codes[1:] != sorted_codes[:-1], axis=-1)
  starts = sorted_ok & jnp.concatenate([jnp.ones((1,), bool), differs])
  group = jnp.maximum(jnp.cumsum(starts) - 1, 0)
  counts = jax.ops.segment_sum(sorted_ok.astype(jnp.float32), group,
                               num_segments=plaintext.shape[0])
  return counts, jnp.sum(starts)


@functools.partial(jax.jit, static_argnames=('config', 'block'))
def leakage(alice, bob, ciphertext, config, tolerance=1e-4, block=4096):
  """H(P | C = c) of each ciphertext, by trying every key (see the module docstring).

  Args:
    alice, bob: one seed's parameters (cipher.Run.seed_params).
    ciphertext: [M, N] ciphertexts.
    config: the run's config (hashable: cipher.Run.config).
    tolerance: a key is consistent when re-encrypting its decoding moves no
      element by more than this.
    block: keys tried at once.

  Returns:
    Leakage.
  """
  keys = _key_blocks(config.key_bits, block)

  def one_message(c):
    p, r = _try_every_key(alice, bob, c, config, keys)
    ok = r <= tolerance
    counts, distinct = _posterior_counts(p, ok)
    return Leakage(jnp.sum(ok), distinct, entropy_bits(counts))

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
