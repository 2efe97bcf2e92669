"""key_schedule.describe on sign ciphers built by hand at N = 4."""

import numpy as np
import pytest

from adversarial_crypto.analysis import key_schedule


def maj(a, b, c):
  return np.sign(a + b + c)


def cipher(key_functions, text_bits):
  """C_i = P[text_bits[i]] x key_functions(K)[i]."""
  return lambda p, k: p[:, text_bits] * np.stack(key_functions(k), axis=1)


def test_the_pad_up_to_permutations_and_signs():
  pad = cipher(lambda k: [k[:, 1], -k[:, 3], k[:, 0], -k[:, 2]], [2, 0, 3, 1])
  out = key_schedule.describe(pad, 4, 4, samples=512)
  assert out['kind'] == 'pad'
  assert [e['text_bit'] for e in out['elements']] == [2, 0, 3, 1]
  assert [e['form'] for e in out['elements']] == ['K1', '-K3', 'K0', '-K2']
  assert all(e['key_flips'] == {b: 1.0} for e, b in zip(out['elements'], [1, 3, 0, 2]))
  assert [b['elements'] for b in out['blocks']] == [[0], [1], [2], [3]]


def test_a_pad_under_a_key_bijection_of_majorities():
  # (maj(-a, b, -c), maj(a, b, c), maj(-a, -b, c)) over (a, b, c) = (K0, K1, K2), by hand:
  # --- +-+, --+ --+, -+- +--, -++ +++, +-- ---, +-+ -++, ++- ++-, +++ -+-: eight
  # different triples, so one-to-one; with K3 alone, f is a bijection of the keys.
  f = lambda k: [maj(-k[:, 0], k[:, 1], -k[:, 2]), maj(k[:, 0], k[:, 1], k[:, 2]),
                 maj(-k[:, 0], -k[:, 1], k[:, 2]), -k[:, 3]]
  out = key_schedule.describe(cipher(f, [3, 1, 0, 2]), 4, 4, samples=2048)
  assert out['kind'] == 'pad under a key bijection'
  assert [e['form'] for e in out['elements']] == [
      'maj(-K0, K1, -K2)', 'maj(K0, K1, K2)', 'maj(-K0, -K1, K2)', '-K3']
  # A bit of a majority of three changes it when the other two disagree: half the time.
  assert all(abs(r - 0.5) < 0.1 for r in out['elements'][0]['key_flips'].values())
  assert [(b['elements'], b['key_bits'], b['one_to_one']) for b in out['blocks']] == [
      ([0, 1, 2], [0, 1, 2], True), ([3], [3], True)]


def test_a_block_that_is_not_one_to_one():
  # (maj(K0, K1, K2), the same, K2) takes at most 4 values on the 8 of (K0, K1, K2).
  f = lambda k: [maj(k[:, 0], k[:, 1], k[:, 2]), maj(k[:, 0], k[:, 1], k[:, 2]), k[:, 2],
                 k[:, 3]]
  out = key_schedule.describe(cipher(f, [0, 1, 2, 3]), 4, 4, samples=2048)
  assert out['kind'] == 'neither'
  assert out['blocks'][0] == {'elements': [0, 1, 2], 'key_bits': [0, 1, 2],
                              'one_to_one': False}


def test_a_reused_key_bit_and_a_second_plaintext_bit():
  reused = cipher(lambda k: [k[:, 0], k[:, 0], k[:, 2], k[:, 3]], [0, 1, 2, 3])
  out = key_schedule.describe(reused, 4, 4, samples=512)
  assert out['kind'] == 'neither' and out['unused_key_bits'] == [1]
  # C_0 = P0 P1 K0: both plaintext bits always flip it, so it has no one text bit.
  two = lambda p, k: np.stack([p[:, 0] * p[:, 1] * k[:, 0], p[:, 1] * k[:, 1],
                               p[:, 2] * k[:, 2], p[:, 3] * k[:, 3]], axis=1)
  out = key_schedule.describe(two, 4, 4, samples=512)
  assert out['kind'] == 'neither'
  assert out['elements'][0]['text_bit'] is None and out['elements'][0]['form'] is None


def forms_of(rows, noise=0.0, seed=0):
  """[4, 4, 4] bilinear forms: element i puts rows[i] = (text bit j, {key bit: weight})
  in row j, and `noise` x a random sign everywhere else."""
  rng = np.random.default_rng(seed)
  forms = noise * rng.choice([-1.0, 1.0], size=(4, 4, 4))
  for i, (j, weights) in enumerate(rows):
    for b, w in weights.items():
      forms[i, j, b] = w
  return forms


def signs_of(forms):
  """The sign cipher of bilinear forms: C_i = sign(P^T M_i K)."""
  return lambda p, k: np.sign(np.einsum('mt,itk,mk->mi', p, forms, k))


MAJORITY_ROWS = [(3, {0: -1.0, 1: 1.0, 2: -1.0}), (1, {0: 1.0, 1: 1.0, 2: 1.0}),
                 (0, {0: -1.0, 1: -1.0, 2: 1.0}), (2, {3: -1.0})]


def test_prove_the_pad_and_a_pad_under_a_key_bijection_from_the_weights():
  # Pad: C_i = +-P_j K_k. Each element's rest is 15 entries of 0.01, 0.15 < its 1.
  pad = forms_of([(2, {1: 1.0}), (0, {3: -1.0}), (3, {0: 1.0}), (1, {2: -1.0})], noise=0.01)
  out = key_schedule.prove(pad)
  assert out['perfect'] is True and out['kind'] == 'pad' and out['reason'] == ''
  assert [e['form'] for e in out['elements']] == ['K1', '-K3', 'K0', '-K2']
  assert out['min_margin'] == pytest.approx((1 - 0.15) / 1.15)
  # Majorities: |+-1 +-1 +-1| is at least 1, and the rest 13 x 0.01 = 0.13 is less.
  bijection = forms_of(MAJORITY_ROWS, noise=0.01)
  out = key_schedule.prove(bijection)
  assert out['perfect'] is True and out['kind'] == 'pad under a key bijection'
  assert [e['form'] for e in out['elements']] == [
      'maj(-K0, K1, -K2)', 'maj(K0, K1, K2)', 'maj(-K0, -K1, K2)', '-K3']
  assert out['elements'][0]['margin'] == pytest.approx((1 - 0.13) / 3.13)
  # What the weights prove, the sampled description sees.
  assert key_schedule.describe(signs_of(bijection), 4, 4, samples=2048)['kind'] == (
      'pad under a key bijection')


def test_prove_a_leak_and_leave_the_undecided_undecided():
  # (maj(K0, K1, K2), the same, K2, K3): one block not one-to-one.
  same = forms_of([(0, {0: 1.0, 1: 1.0, 2: 1.0}), (1, {0: 1.0, 1: 1.0, 2: 1.0}),
                   (2, {2: 1.0}), (3, {3: 1.0})])
  out = key_schedule.prove(same)
  assert out['perfect'] is False and out['kind'] is None
  assert out['reason'] == 'key bits [0, 1, 2] map to fewer values than they take'
  # A pad that uses key bit 0 twice and key bit 1 never.
  reused = key_schedule.prove(forms_of([(0, {0: 1.0}), (1, {0: 1.0}), (2, {2: 1.0}),
                                        (3, {3: 1.0})]))
  assert reused['perfect'] is False and reused['reason'] == 'key bits [1] change no element'
  # Two equal key weights: K0 - K1 is 0 on half the keys, where the rest decides.
  even = key_schedule.prove(forms_of([(0, {0: 1.0, 1: -1.0}), (1, {1: 1.0}), (2, {2: 1.0}),
                                      (3, {3: 1.0})], noise=0.01))
  assert even['perfect'] is None
  assert even['reason'] == 'elements [0] are not proved t_j sign(w . k_S)'
  # The rest outweighs the leading entry: nothing proved either way.
  noisy = key_schedule.prove(forms_of(MAJORITY_ROWS, noise=0.1))
  assert noisy['perfect'] is None and noisy['elements'][3]['margin'] < 0
