"""Control ciphers with planted leaks (evaluation/controls.py): each leak by hand,
and the attacker suited to each leak detecting it while staying at chance on the pad."""

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from adversarial_crypto.core import bits
from adversarial_crypto.evaluation import attackers as attackers_lib
from adversarial_crypto.evaluation import controls
from adversarial_crypto.evaluation import evaluator
from configs import tiny


def _gate_key(g, pad_bits=4):
  """A key of `pad_bits` pad bits (all +1) whose gate bits read as the integer g."""
  gate = [1.0 if (g >> j) & 1 else -1.0 for j in range(controls.GATE_BITS)]
  return jnp.array([1.0] * pad_bits + gate)


def _all_texts(n):
  """[2^n, n]: every string of n bits, -1/+1."""
  return jnp.array(list(itertools.product([-1.0, 1.0], repeat=n)))


def _exhaustive(n, gate_value=0):
  """Every (plaintext, pad key) pair of n bits, [4^n, n] plaintexts and [4^n, n + 8]
  keys, every key's gate bits reading as `gate_value` (0: open for any q > 0)."""
  texts = _all_texts(n)
  plaintext = jnp.repeat(texts, len(texts), axis=0)
  pad = jnp.tile(texts, (len(texts), 1))
  gate = jnp.broadcast_to(_gate_key(gate_value, 0), (len(pad), controls.GATE_BITS))
  return plaintext, jnp.concatenate([pad, gate], -1)


def test_key_bits_and_bad_key_length():
  assert controls.key_bits(16) == 24
  with pytest.raises(ValueError, match='24 bits'):
    controls.encrypt('pad', {'q': 1.0}, jnp.ones((2, 16)), jnp.ones((2, 16)))
  with pytest.raises(ValueError, match='unknown control'):
    controls.make_encrypt('triple')


@pytest.mark.parametrize('q, fires', [(0.0, 0), (1 / 256, 1), (0.25, 64), (37 / 256, 37),
                                      (0.5, 128), (1.0, 256)])
def test_gate_fires_on_exactly_256q_of_the_gate_patterns(q, fires):
  keys = jnp.stack([_gate_key(g) for g in range(256)])
  opened = np.asarray(controls.gate(q, keys, 4))[:, 0]
  assert opened.sum() == fires
  # The first 256 q patterns, g = 0, 1, ...: the gate bits read as g, bit j worth 2^j.
  np.testing.assert_array_equal(np.flatnonzero(opened), np.arange(fires))


@pytest.mark.parametrize('control', controls.CONTROLS)
def test_every_control_at_q_0_is_the_pad(control):
  plaintext, key = bits.random_messages(jax.random.PRNGKey(0), 512, 16, 24)
  pad = plaintext * key[:, :16]
  np.testing.assert_array_equal(controls.make_encrypt('pad')({'q': 0.7}, plaintext, key), pad)
  np.testing.assert_array_equal(controls.make_encrypt(control)({'q': 0.0}, plaintext, key), pad)


def test_pad_ciphertext_is_uniform_for_every_plaintext():
  # For each of the 16 plaintexts of 4 bits, its 16 pad keys give each of the
  # 16 ciphertexts once: C carries nothing about P.
  plaintext, key = _exhaustive(4)
  c = controls.make_encrypt('pad')({'q': 1.0}, plaintext, key).reshape(16, 16, 4)
  codes = np.asarray((c > 0).astype(int) @ (2 ** np.arange(4)))
  for row in codes:
    np.testing.assert_array_equal(np.sort(row), np.arange(16))


def test_leaks_at_q_1_by_hand():
  plaintext, key = bits.random_messages(jax.random.PRNGKey(1), 1024, 16, 24)
  p, k = plaintext, key[:, :16]
  c = {name: controls.make_encrypt(name)({'q': 1.0}, plaintext, key) for name in controls.CONTROLS}
  np.testing.assert_array_equal(c['bit'][:, 0], p[:, 0])
  np.testing.assert_array_equal(c['bit'][:, 1:], (p * k)[:, 1:])
  np.testing.assert_array_equal(c['pair'][:, 1], p[:, 1] * k[:, 0])
  np.testing.assert_array_equal(c['pair'][:, 0] * c['pair'][:, 1], p[:, 0] * p[:, 1])
  np.testing.assert_array_equal(c['quad'][:, 3], p[:, 3] * k[:, 0] * k[:, 1] * k[:, 2])
  np.testing.assert_array_equal(jnp.prod(c['quad'][:, :4], -1), jnp.prod(p[:, :4], -1))
  # Only the carrier differs from the pad.
  for name, carrier in (('bit', 0), ('pair', 1), ('quad', 3)):
    others = [i for i in range(16) if i != carrier]
    np.testing.assert_array_equal(c[name][:, others], (p * k)[:, others])
  # magnitude: the pad's signs, and |C| = 1 + q P_0 on every element.
  m = controls.make_encrypt('magnitude')({'q': 0.01}, plaintext, key)
  np.testing.assert_array_equal(jnp.sign(m), p * k)
  np.testing.assert_allclose(jnp.abs(m), jnp.broadcast_to(1 + 0.01 * p[:, :1], m.shape),
                             rtol=1e-6)


def test_quad_and_pair_hide_every_lower_product():
  # Over all 256 (plaintext, pad key) pairs of 4 bits, gate open: for each
  # plaintext, the product of C over every nonempty group of bits is balanced
  # (mean 0 over the keys), except the leaked one, which equals P's product.
  plaintext, key = _exhaustive(4)
  for name, leaked in (('quad', (0, 1, 2, 3)), ('pair', (0, 1)), ('bit', (0,))):
    c = controls.make_encrypt(name)({'q': 1.0}, plaintext, key).reshape(16, 16, 4)
    p = plaintext.reshape(16, 16, 4)
    for size in range(1, 5):
      for group in itertools.combinations(range(4), size):
        product = jnp.prod(c[..., list(group)], -1)
        if group == leaked:
          np.testing.assert_array_equal(product, jnp.prod(p[..., list(group)], -1))
        else:
          np.testing.assert_array_equal(jnp.mean(product, 1), 0.0, err_msg=f'{name} {group}')


def test_gated_leak_only_where_the_gate_opens():
  plaintext, key = bits.random_messages(jax.random.PRNGKey(2), 4096, 16, 24)
  c = controls.make_encrypt('bit')({'q': 0.25}, plaintext, key)
  opened = np.asarray(controls.gate(0.25, key, 16))[:, 0]
  np.testing.assert_array_equal(c[opened, 0], plaintext[opened, 0])
  np.testing.assert_array_equal(c[~opened, 0], plaintext[~opened, 0] * key[~opened, 0])
  # 4096 keys, gate open with probability 1/4: 1024 +- 28 (one SD), within 4 SD.
  assert abs(opened.sum() - 1024) < 4 * math.sqrt(4096 * 0.25 * 0.75)


@pytest.mark.parametrize('control', controls.CONTROLS)
@pytest.mark.parametrize('q', [0.0, 0.25, 1.0])
def test_layouts_agree(control, q):
  rows = bits.random_messages(jax.random.PRNGKey(3), 256, 16, 24, bits.ROWS)
  columns = bits.random_messages(jax.random.PRNGKey(3), 256, 16, 24, bits.COLUMNS)
  c_rows = controls.make_encrypt(control, bits.ROWS)({'q': q}, *rows)
  c_columns = controls.make_encrypt(control, bits.COLUMNS)({'q': q}, *columns)
  np.testing.assert_array_equal(c_columns, c_rows.T)


def test_encrypt_any_picks_each_control():
  names = ('pad', 'bit', 'quad', 'magnitude')
  any_ = controls.make_encrypt_any(names, bits.COLUMNS, [controls.QUAD, controls.QUAD,
                                                         (0, 1, 2, 7), controls.QUAD])
  plaintext, key = bits.random_messages(jax.random.PRNGKey(4), 128, 16, 24, bits.COLUMNS)
  for i, name in enumerate(names):
    quad = (0, 1, 2, 7) if name == 'quad' else controls.QUAD
    want = controls.make_encrypt(name, bits.COLUMNS, quad)({'q': 0.5}, plaintext, key)
    got = any_({'control': jnp.int32(i), 'q': 0.5}, plaintext, key)
    np.testing.assert_array_equal(got, want)
  quad7 = controls.make_encrypt('quad', bits.COLUMNS, (0, 1, 2, 7))({'q': 1.0}, plaintext, key)
  np.testing.assert_array_equal(jnp.prod(quad7[jnp.array([0, 1, 2, 7])], 0),
                                jnp.prod(plaintext[jnp.array([0, 1, 2, 7])], 0))


def test_ideal_bits_by_hand():
  ideal = controls.ideal_bits
  assert ideal('pad', 1.0, 'mlp', 16) == 8.0
  assert ideal('bit', 1.0, 'mlp', 16) == 7.5           # bit 0 always right: 15 / 2
  assert ideal('bit', 0.25, 'paper', 16) == 7.875      # error (1 - q) / 2 on bit 0
  assert ideal('bit', 1.0, 'parity', 16) == 8.0        # every pair keeps a hidden bit
  assert ideal('magnitude', 0.001, 'deep_mlp', 16) == 7.5
  assert ideal('pair', 1.0, 'mlp', 16) == 8.0
  # parity is scored by her best-read pair: the leaked one, read with error (1 - q) / 2.
  assert ideal('pair', 1.0, 'parity', 16) == 0.0
  assert ideal('pair', 0.25, 'parity', 16) == 6.0
  assert ideal('bit', 0.25, 'distinguish', 16) == 7.0  # 16 (1/2 - q/4)
  assert ideal('quad', 1.0, 'distinguish', 16) == 4.0
  # parity4's sample of 64 groups lacks (0, 1, 2, 3) at N = 16, holds it at N = 8.
  assert [0, 1, 2, 3] not in attackers_lib.quads(16).tolist()
  assert ideal('quad', 1.0, 'parity4', 16) == 8.0
  assert ideal('quad', 1.0, 'parity4', 8) == 0.0
  # On the sample's first group, (0, 1, 2, 7), she sees it at N = 16 too.
  assert attackers_lib.quads(16)[0].tolist() == [0, 1, 2, 7]
  assert ideal('quad', 0.25, 'parity4', 16, (0, 1, 2, 7)) == 6.0
  assert ideal('quad', 0.25, 'distinguish', 16, (0, 1, 2, 7)) == 7.0


# Fresh Eves against controls, N = 8: small MLPs, short budgets (10 to 16 s each
# on the shared 2-core CPU, compilation included).
N = 8


def _eval_config(steps, eval_batch_size=4096):
  config = tiny.get_config()  # N = 8, eval.mlp_hidden = (32, 32)
  config.eval.num_eves = 2
  config.eval.steps = steps
  config.eval.every = steps // 2
  config.eval.batch_size = 256
  config.eval.eval_batch_size = eval_batch_size
  return config


def _held_out_se(attacker, config):
  """SD of one held-out measurement of an Eve at chance: N / (2 sqrt(T M)) for T
  targets (pairwise independent on the pad) on M examples; for an attacker scored
  by her best-read target, of one target on her N x as many examples."""
  if attacker.score == 'best':
    return N / (2 * math.sqrt(config.eval.eval_batch_size * N))
  examples = config.eval.eval_batch_size * max(1, N // attacker.network.out_bits)
  return N / (2 * math.sqrt(attacker.network.out_bits * examples))


def _best_hard_bits(name, control, q, config):
  """Best hard bits wrong over the Eves of attacker `name`, on [pad, control at q]."""
  config.eval.attackers = (name,)
  attacker = attackers_lib.make_attacker(name, config)
  encrypt = controls.make_encrypt_any(('pad', control), bits.COLUMNS)
  params = {'control': jnp.array([0, 1], jnp.int32), 'q': jnp.array([q, q], jnp.float32)}
  result = evaluator.evaluate_cipher(
      encrypt, params, N, controls.key_bits(N), config.eval, jax.random.PRNGKey(5),
      [attacker], log=lambda _: None, layout=bits.COLUMNS)
  best = np.min(result.best_hard_bits[name], -1)
  return best[0], best[1], _held_out_se(attacker, config)


# attacker, control, steps, held-out examples. The leak's ideal gap below chance
# (controls.ideal_bits) is 0.5 bits for mlp, N/4 = 2 for distinguish, and N/2 = 4
# for parity and parity4, scored by their best-read target (the leaked one).
# On the pad those two are the lowest of their 28 or 64 targets' measures, each
# 1 SE wide: below chance by about 2.5 SE in the median, rarely by 4.
SUITED = [('mlp', 'bit', 200, 4096), ('distinguish', 'bit', 200, 4096),
          ('parity', 'pair', 400, 4096), ('parity4', 'quad', 400, 8192)]


@pytest.mark.slow
@pytest.mark.parametrize('name, control, steps, held_out', SUITED)
def test_suited_attacker_detects_its_leak_and_not_the_pad(name, control, steps, held_out):
  config = _eval_config(steps, held_out)
  pad, leak, se = _best_hard_bits(name, control, 1.0, config)
  ideal = controls.ideal_bits(control, 1.0, name, N)
  chance = N / 2
  # On the pad her best is the lowest of 4 measurements (2 Eves x 2) of an Eve at
  # chance: below chance - 4 SE with probability about 4 x 3e-5. Hard guesses of
  # exactly 0 count as wrong, which can only raise her figure; 0.25 bits bounds it.
  floor = 4.5 if attackers_lib.make_attacker_score(name) == 'best' else 4
  assert chance - floor * se < pad < chance + 0.25, (pad, se)
  # She detects the leak: well below chance (more than half of the ideal gap, and
  # more than 5 SE), and no better than a Bayes-optimal Eve allows (less 4 SE).
  assert leak < chance - 0.5 * (chance - ideal), (leak, ideal)
  assert leak < chance - 5 * se, (leak, se)
  assert leak > ideal - 4 * se, (leak, ideal, se)
