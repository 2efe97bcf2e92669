"""key_schedule on sign ciphers and bilinear forms built by hand (N = 4, 2 and 32)."""

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
  assert [(b['elements'], b['key_bits'], b['balanced']) for b in out['blocks']] == [
      ([0, 1, 2], [0, 1, 2], True), ([3], [3], True)]


def test_a_block_that_is_not_balanced():
  # (maj(K0, K1, K2), the same, K2) takes at most 4 values on the 8 of (K0, K1, K2).
  f = lambda k: [maj(k[:, 0], k[:, 1], k[:, 2]), maj(k[:, 0], k[:, 1], k[:, 2]), k[:, 2],
                 k[:, 3]]
  out = key_schedule.describe(cipher(f, [0, 1, 2, 3]), 4, 4, samples=2048)
  assert out['kind'] == 'neither'
  assert out['blocks'][0] == {'elements': [0, 1, 2], 'key_bits': [0, 1, 2],
                              'balanced': False}


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
  # (maj(K0, K1, K2), the same, K2, K3): one block not one-to-one, so not balanced.
  same = forms_of([(0, {0: 1.0, 1: 1.0, 2: 1.0}), (1, {0: 1.0, 1: 1.0, 2: 1.0}),
                   (2, {2: 1.0}), (3, {3: 1.0})])
  out = key_schedule.prove(same)
  assert out['perfect'] is False and out['kind'] is None
  assert out['reason'] == ('key bits [0, 1, 2] give elements [0, 1, 2] some values more '
                           'often than others')
  # A pad that uses key bit 0 twice and key bit 1 never.
  reused = key_schedule.prove(forms_of([(0, {0: 1.0}), (1, {0: 1.0}), (2, {2: 1.0}),
                                        (3, {3: 1.0})]))
  assert reused['perfect'] is False and reused['unused_key_bits'] == [1]
  assert reused['reason'] == 'key bits [0] give elements [0, 1] some values more often than others'
  # Two equal key weights: K0 - K1 is 0 on half the keys, where the rest decides.
  even = key_schedule.prove(forms_of([(0, {0: 1.0, 1: -1.0}), (1, {1: 1.0}), (2, {2: 1.0}),
                                      (3, {3: 1.0})], noise=0.01))
  assert even['perfect'] is None
  assert even['reason'] == 'elements [0] are not proved t_j sign(w . k_S)'
  # The rest outweighs the leading entry: nothing proved either way.
  noisy = key_schedule.prove(forms_of(MAJORITY_ROWS, noise=0.1))
  assert noisy['perfect'] is None and noisy['elements'][3]['margin'] < 0


def _keyed_bilinear(rows, n):
  """keyed_bilinear params with one hidden unit per (element, key bit) of `rows`:
  unit h reads text bit j and key bit b, and adds weight w to element i."""
  units = [(i, j, b, w) for i, (j, weights) in enumerate(rows) for b, w in weights.items()]
  text, key, out = (np.zeros((n, len(units))), np.zeros((n, len(units))),
                    np.zeros((len(units), n)))
  for h, (i, j, b, w) in enumerate(units):
    text[j, h], key[b, h], out[h, i] = 1.0, 1.0, w
  return {'text': text, 'key': key, 'out': out}


def test_beyond_20_key_bits_a_pad_under_a_key_bijection_is_perfect_by_its_weights():
  from adversarial_crypto import config as config_lib  # pylint: disable=g-import-not-at-top
  from adversarial_crypto.core import networks  # pylint: disable=g-import-not-at-top
  from adversarial_crypto.evaluation import leakage  # pylint: disable=g-import-not-at-top
  import jax  # pylint: disable=g-import-not-at-top
  from configs import tiny  # pylint: disable=g-import-not-at-top
  n = 32
  config = config_lib.complete(tiny.get_config())
  config.msg_bits = config.key_bits = n
  config.arch, config.ciphertext = 'keyed_bilinear', 'sign'
  assert leakage.method(config) == 'weights'
  # Elements 0-2 the majorities of MAJORITY_ROWS (text bits 3, 1, 0), the rest the pad.
  rows = MAJORITY_ROWS[:3] + [(2, {3: -1.0})] + [(i, {i: 1.0}) for i in range(4, n)]
  params = _keyed_bilinear(rows, n)
  # The network computes the majorities: C_0 = P3 maj(-K0, K1, -K2) on 4096 inputs.
  net = networks.make_network('keyed_bilinear', 2 * n, n, (len(params['out']),), key_bits=n)
  rng = np.random.default_rng(0)
  p, k = rng.choice([-1.0, 1.0], (2, 4096, n))
  c = np.sign(np.asarray(net.logits(params, np.hstack([p, k]))))
  np.testing.assert_array_equal(c[:, 0], p[:, 3] * maj(-k[:, 0], k[:, 1], -k[:, 2]))
  np.testing.assert_array_equal(c[:, 5:], p[:, 5:] * k[:, 5:])
  stacked = jax.tree_util.tree_map(lambda x: np.stack([x]), params)
  lines = []
  leak = leakage.measure_alices(config, {'alice': stacked, 'bob': stacked}, lines.append)
  seed = leak['seeds'][0]
  assert not seed['proof']['alice_pad'] and seed['bound']['bits'] < n
  assert seed['proof']['key_bijection']['kind'] == 'pad under a key bijection'
  assert seed['entropy_bits_mean'] == n and seed['entropy_bits_min'] == n
  assert '0/1 Alices proved one-time pads, 1 more the pad under a key bijection' in lines[-1]


def test_more_or_fewer_key_bits_than_message_bits():
  # N = 2, K = 3: C = (P0 K0, P1 K1) leaves K2 unused and is the pad all the same.
  forms = np.zeros((2, 2, 3))
  forms[0, 0, 0] = forms[1, 1, 1] = 1.0
  out = key_schedule.prove(forms)
  assert out['perfect'] is True and out['kind'] == 'pad' and out['unused_key_bits'] == [2]
  assert key_schedule.describe(signs_of(forms), 2, 3, samples=256)['kind'] == 'pad'
  # C0 = P0 sign(K0 + K2 / 2) = P0 K0: a block of two key bits, each value of C0 twice.
  forms[0, 0, 2] = 0.5
  out = key_schedule.prove(forms)
  assert out['perfect'] is True and out['kind'] == 'pad under a balanced key map'
  assert out['blocks'][0] == {'elements': [0], 'key_bits': [0, 2], 'balanced': True}
  # N = 2, K = 1: C = (P0 K0, -P1 K0) takes 2 of the 4 values of (C0 P0, C1 P1).
  short = np.zeros((2, 2, 1))
  short[0, 0, 0], short[1, 1, 0] = 1.0, -1.0
  assert key_schedule.prove(short)['perfect'] is False
  assert key_schedule.describe(signs_of(short), 2, 1, samples=256)['kind'] == 'neither'


def test_a_form_of_zeros_is_not_certified():
  forms = forms_of([(0, {0: 1.0}), (1, {1: 1.0}), (2, {2: 1.0}), (3, {3: 1.0})])
  forms[2] = 0.0
  out = key_schedule.prove(forms)
  assert out['perfect'] is None and out['elements'][2]['margin'] == 0.0
  assert out['reason'] == 'elements [2] are not proved t_j sign(w . k_S)'
