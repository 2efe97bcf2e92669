"""Random plaintexts and keys: 32 bits from each random word."""

import jax
import jax.numpy as jnp
import numpy as np

from adversarial_crypto.core import bits


def test_unpack_words_by_hand():
  # 5 = 0b101 sets bits 0 and 2 of the first word; 8 sets bit 3 of the second,
  # entry 32 + 3; 2**31 sets bit 31; 2**20 in the second word is entry 52,
  # past the 40 kept.
  words = jnp.array([[5, 8], [2 ** 31, 2 ** 20]], jnp.uint32)
  out = np.asarray(bits.unpack_words(words, 40))
  expected = -np.ones((2, 40), np.float32)
  expected[0, [0, 2, 35]] = 1.0
  expected[1, 31] = 1.0
  np.testing.assert_array_equal(out, expected)
  columns = np.asarray(bits.unpack_words(words, 40, bits.COLUMNS))
  np.testing.assert_array_equal(columns, expected.T)


def test_random_messages_shapes_values_and_balance():
  plaintext, key = bits.random_messages(jax.random.PRNGKey(0), 20000, 16, 24)
  assert plaintext.shape == (20000, 16) and key.shape == (20000, 24)
  both = np.concatenate([plaintext, key], -1)
  assert set(np.unique(both)) == {-1.0, 1.0}
  # Each of the 40 bit positions is fair: 20000 draws put the mean within 0.03 of 0
  # (4.2 standard deviations), and neighbouring positions are uncorrelated.
  assert np.abs(both.mean(0)).max() < 0.03
  assert np.abs((both[:, :-1] * both[:, 1:]).mean(0)).max() < 0.03


def test_random_bits_deterministic_per_key():
  a = bits.random_bits(jax.random.PRNGKey(3), (7, 5))
  np.testing.assert_array_equal(a, bits.random_bits(jax.random.PRNGKey(3), (7, 5)))
  assert not np.array_equal(a, bits.random_bits(jax.random.PRNGKey(4), (7, 5)))


def test_columns_draw_the_same_messages():
  rows = bits.random_messages(jax.random.PRNGKey(5), 9, 16, 24)
  columns = bits.random_messages(jax.random.PRNGKey(5), 9, 16, 24, bits.COLUMNS)
  for r, c in zip(rows, columns):
    np.testing.assert_array_equal(np.asarray(r).T, c)


def test_pair_parities_by_hand():
  plaintext = np.array([[1, -1, 1, 1], [-1, -1, 1, -1]], np.float32)
  # pairs (0,1) (0,2) (0,3) (1,2) (1,3) (2,3)
  expected = np.array([[-1, 1, 1, -1, -1, 1], [1, -1, 1, -1, 1, -1]], np.float32)
  np.testing.assert_array_equal(bits.pair_parities(jnp.asarray(plaintext)), expected)
  np.testing.assert_array_equal(bits.pair_parities(jnp.asarray(plaintext.T), bits.COLUMNS),
                                expected.T)
