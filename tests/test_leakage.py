"""Exact leakage by key search: H(P | C) of hand-built ciphers, and per seed of a run."""

import math

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

import adversarial_crypto as ac
from adversarial_crypto import config as config_lib
from adversarial_crypto.analysis import key_search
from adversarial_crypto.core import bits
from adversarial_crypto.evaluation import evaluator
from adversarial_crypto.evaluation import leakage
from configs import tiny

N = 4  # plaintext and key bits of the hand-built ciphers: 16 keys, 16 plaintexts


def _config(arch):
  config = config_lib.complete(tiny.get_config())
  config.msg_bits = config.key_bits = N
  config.arch, config.hidden = arch, (N,)
  config.eval.key_search_messages = 8
  return config


def _keyed(key_weights):
  """keyed_bilinear Alice = Bob with identity text and output weights:
  C_i = tanh(P_i (K B)_i), as tests/test_cipher.py builds it."""
  eye = jnp.eye(N)
  return {'text': eye, 'key': jnp.asarray(key_weights, jnp.float32), 'out': eye}


def _ignores_the_key():
  """bilinear Alice = Bob of one product unit per bit, (P_i) * (1): C = tanh(P),
  and Bob reads sign(tanh(C)) = P; the key has zero weight everywhere."""
  dense = lambda w, b: {'w': jnp.asarray(w, jnp.float32), 'b': jnp.asarray(b, jnp.float32)}
  text = np.vstack([np.eye(N), np.zeros((N, N))])   # picks P out of [P, K]
  return {'left0': dense(text, np.zeros(N)), 'right0': dense(np.zeros((2 * N, N)), np.ones(N)),
          'out': dense(np.eye(N), np.zeros(N))}


def _leakage(params, config, messages=6, shift=0.0, **kwargs):
  config = ml_collections.FrozenConfigDict(config)
  plaintext = bits.random_bits(jax.random.PRNGKey(3), (messages, N))
  key = bits.random_bits(jax.random.PRNGKey(4), (messages, N))
  ciphertext = ac.encrypt(params, plaintext, key, config) + shift
  return jax.device_get(key_search.leakage(params, params, ciphertext, config, **kwargs))


def test_entropy_and_codes_by_hand():
  # Counts 2, 1, 1: p = 1/2, 1/4, 1/4, H = log2 4 - (2 log2 2) / 4 = 2 - 0.5 = 1.5 bits.
  assert float(key_search.entropy_bits(jnp.array([2.0, 1.0, 1.0, 0.0]))) == 1.5
  assert float(key_search.entropy_bits(jnp.array([8.0, 0.0]))) == 0.0
  assert math.isnan(float(key_search.entropy_bits(jnp.zeros(3))))
  # +1 at bits 0 and 2: 1 + 4 = 5; bit 32 of 40 opens a second word.
  np.testing.assert_array_equal(key_search.plaintext_codes(jnp.array([1.0, -1.0, 1.0])), [5])
  p = -np.ones(40, np.float32)
  p[[1, 32, 33]] = 1.0
  np.testing.assert_array_equal(key_search.plaintext_codes(jnp.asarray(p)), [2, 3])


def test_the_one_time_pad_leaks_nothing():
  found = _leakage(_keyed(np.eye(N)), _config('keyed_bilinear'))   # C_i = tanh(P_i K_i)
  # Under any key K', Bob reads sign(C) K' and Alice re-encrypts it to C: all
  # 16 keys, 16 different plaintexts, one key each: H = log2 16 = 4 = N.
  np.testing.assert_array_equal(found.consistent, 16)
  np.testing.assert_array_equal(found.distinct, 16)
  np.testing.assert_allclose(found.entropy, N, atol=1e-6)
  # The same, trying the keys 4 at a time.
  in_blocks = _leakage(_keyed(np.eye(N)), _config('keyed_bilinear'), block=4)
  np.testing.assert_array_equal(in_blocks.distinct, 16)
  np.testing.assert_allclose(in_blocks.entropy, N, atol=1e-6)


def test_a_cipher_that_ignores_the_key_leaks_everything():
  found = _leakage(_ignores_the_key(), _config('bilinear'))
  # Every key explains C, and every one decodes it to P: one plaintext, H = 0.
  np.testing.assert_array_equal(found.consistent, 16)
  np.testing.assert_array_equal(found.distinct, 1)
  np.testing.assert_array_equal(found.entropy, 0.0)


def test_a_cipher_that_reuses_one_key_bit():
  reuse = np.eye(N)
  reuse[3] = 0.0
  reuse[0, 3] = 1.0      # C_i = tanh(P_i K_i) for i < 3, C_3 = tanh(P_3 K_0); K_3 unused
  found = _leakage(_keyed(reuse), _config('keyed_bilinear'))
  # Every key K' explains C, decoding to sign(C_i) K'_i (i < 3) and sign(C_3) K'_0:
  # the plaintext is fixed by K'_0, K'_1, K'_2, so 8 plaintexts of 2 keys each
  # (K'_3 free). H = log2 16 - (8 x 2 log2 2) / 16 = 4 - 1 = 3 bits: P_0 P_3 leaks.
  np.testing.assert_array_equal(found.consistent, 16)
  np.testing.assert_array_equal(found.distinct, 8)
  np.testing.assert_allclose(found.entropy, 3.0, atol=1e-6)
  # Every bit on K_0: P or -P, 8 keys each: H = 4 - (2 x 8 log2 8) / 16 = 4 - 3 = 1 bit.
  one = np.zeros((N, N))
  one[0] = 1.0
  found = _leakage(_keyed(one), _config('keyed_bilinear'))
  np.testing.assert_array_equal(found.distinct, 2)
  np.testing.assert_allclose(found.entropy, 1.0, atol=1e-6)


def test_the_tolerance_is_respected():
  pad, config = _keyed(np.eye(N)), _config('keyed_bilinear')
  # The pad re-encrypts every decoding to exactly +-tanh(1): a ciphertext moved by
  # 5e-5 is still explained by every key within 1e-4, one moved by 2e-4 by none.
  near = _leakage(pad, config, shift=5e-5)
  np.testing.assert_array_equal(near.consistent, 16)
  np.testing.assert_allclose(near.entropy, N, atol=1e-6)
  far = _leakage(pad, config, shift=2e-4)
  np.testing.assert_array_equal(far.consistent, 0)
  np.testing.assert_array_equal(far.distinct, 0)
  assert np.all(np.isnan(far.entropy))
  loose = _leakage(pad, config, shift=2e-4, tolerance=1e-3)
  np.testing.assert_array_equal(loose.consistent, 16)


def _stack(*trees):
  return jax.tree_util.tree_map(lambda *x: jnp.stack(x), *trees)


def test_measure_alices_per_seed_by_hand():
  config = _config('keyed_bilinear')
  one = np.zeros((N, N))
  one[0] = 1.0
  # Seed 0: the one-time pad; seed 1: every bit on key bit 0.
  params = _stack(_keyed(np.eye(N)), _keyed(one))
  lines = []
  out = leakage.measure_alices(config, {'alice': params, 'bob': params}, lines.append)
  assert (out['messages'], out['tolerance']) == (8, 1e-4)
  assert out['seeds'][0] == {'entropy_bits_mean': pytest.approx(4.0),
                             'entropy_bits_min': pytest.approx(4.0),
                             'consistent_keys_median': 16.0,
                             'distinct_plaintexts_median': 16.0, 'found': 1.0}
  assert out['seeds'][1] == {'entropy_bits_mean': pytest.approx(1.0),
                             'entropy_bits_min': pytest.approx(1.0),
                             'consistent_keys_median': 16.0,
                             'distinct_plaintexts_median': 2.0, 'found': 1.0}
  assert len(lines) == 2 and lines[1].startswith('key search seed 2/2')
  # Each seed's messages are its own, drawn from their own stream.
  p0, k0 = leakage.messages(config, 0)
  p1, _ = leakage.messages(config, 1)
  assert p0.shape == (8, N) and k0.shape == (8, N) and not np.array_equal(p0, p1)
  assert not np.array_equal(p0, bits.random_messages(evaluator.eval_root_key(config), 8, N, N)[0])


def test_unexplained_ciphertexts_are_left_out_of_the_mean():
  found = key_search.Leakage(np.array([16, 0, 4]), np.array([16, 0, 2]),
                             np.array([4.0, np.nan, 1.0], np.float32))
  figures = leakage.summarize_seed(found)
  assert figures == {'entropy_bits_mean': 2.5, 'entropy_bits_min': 1.0,
                     'consistent_keys_median': 4.0, 'distinct_plaintexts_median': 2.0,
                     'found': pytest.approx(2 / 3)}
  none = leakage.summarize_seed(key_search.Leakage(np.zeros(2), np.zeros(2),
                                                   np.full(2, np.nan, np.float32)))
  assert none['entropy_bits_mean'] is None and none['found'] == 0.0


def test_the_search_is_skipped_with_a_reason():
  symmetric = config_lib.complete(tiny.get_config())
  assert leakage.skip_reason(symmetric) is None
  asymmetric = config_lib.complete(tiny.get_config('asymmetric'))
  assert leakage.skip_reason(asymmetric).endswith('this run is asymmetric')
  assert leakage.measure_alices(asymmetric, {}) is None
  off = config_lib.complete(tiny.get_config())
  off.eval.key_search_messages = 0
  assert leakage.skip_reason(off) == 'key search off: config.eval.key_search_messages is 0'
  wide = config_lib.complete(tiny.get_config())
  wide.msg_bits = wide.key_bits = 32
  assert 'too many' in leakage.skip_reason(wide) and '2^32' in leakage.skip_reason(wide)
