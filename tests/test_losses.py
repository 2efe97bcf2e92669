"""The paper's losses against values computed by hand."""

import jax.numpy as jnp
import numpy as np
import pytest

from adversarial_crypto.core import losses

N = 16
PLAINTEXT = jnp.array([[1., -1.] * (N // 2)])


def test_bits_wrong_counts_half_the_l1_distance():
  p = jnp.array([[1., -1., 1., -1.]])
  assert losses.bits_wrong(p, p)[0] == 0.0
  assert losses.bits_wrong(p, -p)[0] == 4.0          # L1 = 8
  assert losses.bits_wrong(p, jnp.zeros((1, 4)))[0] == 2.0  # L1 = 4: undecided
  assert losses.bits_wrong(p, jnp.array([[0.5, -1., 1., 0.]]))[0] == 0.75  # (0.5 + 1) / 2


def test_hard_bits_wrong_counts_sign_errors_and_zero_as_wrong():
  p = jnp.array([[1., 1., 1., -1.]])
  guess = jnp.array([[0.3, -0.2, 0.0, -0.9]])
  assert losses.hard_bits_wrong(p, guess)[0] == 2.0


def test_hard_bits_wrong_can_score_a_tie_as_a_coin_flip():
  p = jnp.array([[1., 1., 1., -1.]])
  guess = jnp.array([[0.3, -0.2, 0.0, 0.0]])   # right, wrong, tie, tie
  assert losses.hard_bits_wrong(p, guess, tie=0.5)[0] == 2.0
  assert losses.hard_bits_wrong(p, guess)[0] == 3.0


def test_alice_bob_loss_perfect_bob_eve_at_chance_is_zero():
  eve_at_chance = PLAINTEXT.at[:, :N // 2].multiply(-1)   # exactly 8 of 16 wrong
  loss, (bob, eve) = losses.alice_bob_loss(PLAINTEXT, PLAINTEXT, eve_at_chance)
  assert (float(loss), float(bob), float(eve)) == (0.0, 0.0, 8.0)
  loss, _ = losses.alice_bob_loss(PLAINTEXT, PLAINTEXT, jnp.zeros((1, N)))
  assert float(loss) == 0.0   # an undecided Eve also sits at 8 bits wrong


def test_alice_bob_loss_eve_inverting_every_bit_is_as_bad_as_a_perfect_eve():
  # (8 - 16)^2 / 8^2 = 1 = (8 - 0)^2 / 8^2: an always-wrong Eve just flips her output.
  loss_inverting, (_, eve) = losses.alice_bob_loss(PLAINTEXT, PLAINTEXT, -PLAINTEXT)
  loss_perfect, _ = losses.alice_bob_loss(PLAINTEXT, PLAINTEXT, PLAINTEXT)
  assert float(eve) == 16.0
  assert float(loss_inverting) == 1.0 == float(loss_perfect)


def test_alice_bob_loss_adds_bobs_bits_to_the_eve_term():
  bob_one_wrong = PLAINTEXT.at[0, 0].multiply(-1)
  eve_two_right_extra = PLAINTEXT.at[:, :6].multiply(-1)  # 6 wrong: (8-6)^2/64
  loss, (bob, eve) = losses.alice_bob_loss(PLAINTEXT, bob_one_wrong, eve_two_right_extra)
  assert (float(bob), float(eve)) == (1.0, 6.0)
  assert float(loss) == pytest.approx(1.0 + 4.0 / 64.0)


def test_alice_bob_loss_is_a_mean_over_examples():
  p = jnp.concatenate([PLAINTEXT, PLAINTEXT])
  bob = p.at[0, :3].multiply(-1)           # 3 bits wrong on example 0, none on 1
  loss, (bob_bits, _) = losses.alice_bob_loss(p, bob, jnp.zeros_like(p))
  assert float(bob_bits) == 1.5 and float(loss) == 1.5


def test_logistic_eve_loss_values_and_expected_bits():
  p = jnp.array([[1., -1., 1., 1.]])
  assert float(losses.logistic_eve_loss(p, jnp.zeros((1, 4)))) == pytest.approx(4 * np.log(2))
  u = jnp.array([[0.3, -2.0, -0.5, 1.5]])
  # The expected bits wrong under P(+1) = sigmoid(2u) equal the L1 bits of tanh(u).
  expected = jnp.sum(1 / (1 + jnp.exp(2 * p * u)))
  assert float(losses.bits_wrong(p, jnp.tanh(u))[0]) == pytest.approx(float(expected), rel=1e-6)
  assert float(losses.logistic_eve_loss(p, u)) == pytest.approx(
      float(jnp.sum(jnp.log1p(jnp.exp(-2 * p * u)))), rel=1e-6)
