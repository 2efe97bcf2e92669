"""The paper's losses (Section 2.5), measured in bits wrong.

On the -1/+1 scale one wrong bit costs 2 in L1 distance, so bits wrong = L1 / 2.
Each loss takes the bit axis of its arrays: -1 (bits.ROWS, the default) or -2
(bits.COLUMNS).
"""

import jax
import jax.numpy as jnp


def bits_wrong(plaintext, guess, axis=-1):
  """Per-example bits wrong of a real-valued guess: L1 distance / 2.

  Args:
    plaintext: [..., N] array of -1/+1 bits.
    guess: [..., N] array in [-1, 1].
    axis: the bit axis (-2 for examples as columns, bits.COLUMNS).

  Returns:
    [...] array of bits wrong, between 0 and N.
  """
  return jnp.sum(jnp.abs(plaintext - guess), axis=axis) / 2.0


def hard_bits_wrong(plaintext, guess, axis=-1, tie=1.0):
  """Per-example bits wrong after a hard decision on the sign of each guess.

  A guess of exactly 0 commits to neither bit: it counts `tie` wrong, by default
  1 (a decoder that says nothing is wrong); the evaluator scores it 0.5, a coin
  flip, so an attacker whose answers tie is not pushed above chance.
  """
  wrong = (jnp.sign(guess) != plaintext).astype(jnp.float32)
  if tie != 1.0:
    wrong = jnp.where(guess == 0, jnp.float32(tie), wrong)
  return jnp.sum(wrong, axis=axis)


def eve_loss(plaintext, eve_guess, axis=-1):
  """Eve's loss: mean bits wrong of her guess against the plaintext."""
  return jnp.mean(bits_wrong(plaintext, eve_guess, axis))


def logistic_eve_loss(plaintext, eve_logits, axis=-1):
  """A per-bit logistic (cross-entropy) loss for an Eve whose guess is tanh(u).

  With u the network's pre-tanh output, P(bit = +1) = sigmoid(2u), so the
  expected number of bits wrong equals bits_wrong(plaintext, tanh(u)): the two
  losses share one guess and one scale of bits, and differ only in gradients.

  Returns:
    Mean over the batch of the summed per-bit cross-entropy, in nats.
  """
  return jnp.mean(jnp.sum(jax.nn.softplus(-2.0 * plaintext * eve_logits),
                          axis=axis))


def bob_cross_entropy(plaintext, bob_logits, axis=-1):
  """Bob's per-bit cross-entropy, scaled so that a guess at chance costs half a bit
  per bit, as bits_wrong does (config.bob_loss 'logistic').

  bits_wrong of a tanh output has no gradient where Bob is confidently wrong
  (tanh saturates); this loss keeps one there, so the rare messages a nearly
  right cipher gets wrong still pull on Bob, and through him on Alice.

  Returns:
    [...] per-example loss: sum over bits of softplus(-2 P u) / (2 ln 2).
  """
  return jnp.sum(jax.nn.softplus(-2.0 * plaintext * bob_logits), axis=axis) / (
      2.0 * jnp.log(2.0))


def eve_information(plaintext, eve_logits, axis=-1):
  """What an Eve's per-bit guesses tell about the plaintext, as a fraction of it.

  An Eve who outputs u and thus P(bit = +1) = sigmoid(2u) pays a cross-entropy
  of N ln 2 nats per example by knowing nothing (u = 0); by how much less she
  pays is a lower bound on the information her view carries about the
  plaintext. Unlike bits wrong of tanh(u), it counts a weak but consistent
  lean towards the right bit, which hard decisions turn into bits read.

  Returns:
    max(0, N ln 2 - cross-entropy) / (N ln 2), with the cross-entropy averaged
    over the batch: 0 for an Eve no better than chance, 1 for one who is sure and right.
  """
  chance = plaintext.shape[axis] * jnp.log(2.0)
  return jnp.maximum(chance - logistic_eve_loss(plaintext, eve_logits, axis), 0.0) / chance


def target_information(targets, eve_logits, axis=-1):
  """What an Eve knows of each of her targets, as a fraction of a bit.

  Each target's cross-entropy, averaged over the batch, is clipped at chance
  on its own, so no target she reads worse than chance offsets one she reads
  better (eve_information clips the sum over targets instead).

  Returns:
    [targets]: max(0, ln 2 - her cross-entropy on it) / ln 2, 0 for a target
    she reads no better than chance, 1 for one she is sure and right on.
  """
  batch_axis = -1 if axis == -2 else -2  # the other of the last two axes
  ce = jnp.mean(jax.nn.softplus(-2.0 * targets * eve_logits), axis=batch_axis)
  chance = jnp.log(2.0)
  return jnp.maximum(chance - ce, 0.0) / chance


def mean_target_information(targets, eve_logits, axis=-1):
  """The mean over her targets of target_information."""
  return jnp.mean(target_information(targets, eve_logits, axis))


def worst_target_information(targets, eve_logits, axis=-1):
  """What an Eve knows of the one target she reads best: the max over her targets of
  target_information. eve_information averages over the targets, so one target read
  exactly among the 136 of a parity Eve (16 bits, 120 parities) counts 1/136; here 1."""
  return jnp.max(target_information(targets, eve_logits, axis))


# Below this fraction of a bit, what an Eve seems to know of a target is taken for
# noise by excess_target_information: the best of 136 targets read by a parity Eve
# on a minibatch of 512 sits near 0.08 where nothing leaks (docs/one_time_pad.md, P10).
LEAK_FLOOR = 0.1


def excess_target_information(targets, eve_logits, axis=-1, floor=LEAK_FLOOR):
  """The sum over her targets of what an Eve knows of each beyond `floor`.

  The mean over targets counts one parity read in full 1/120 (and costs a cipher
  that leaks it almost nothing), the max follows the noise of whichever target
  leads; this counts every target read better than the noise in full, and the
  others not at all, so targets that leak nothing give no gradient."""
  return jnp.sum(jnp.maximum(target_information(targets, eve_logits, axis) - floor, 0.0))


def moment_leak(ciphertexts, order=1, ridge=1e-3):
  """The share of the ciphertext that the plaintext explains, through its moments.

  For each plaintext P, Alice's ciphertexts C under independent keys. With a
  one-time pad (C = P x K) the distribution of C, and so the mean of any
  feature of it, is the same for every P. This measures how far the means of
  the features phi(C) move with P: the trace of T^-1 B / F, where B is the
  covariance over plaintexts of E[phi | P] (estimated without bias: the
  spread of the group means less the within-group noise), T the total
  covariance of phi and F the number of features. It is the share of
  phi's variance, in whitened coordinates, that P explains: 0 for the pad, 1
  for a cipher that ignores the key, whatever the scale of C (a tiny but
  plaintext-driven C leaks as much as a large one). It is what a linear
  Eve on phi(C) can find; it misses dependence in higher moments.

  Args:
    ciphertexts: [P, M, N]: M >= 2 ciphertexts of each of P plaintexts.
    order: 1 for phi(C) = C; 2 adds every product C_a C_b, a <= b.
    ridge: added to T's diagonal, times its mean variance, so that constant
      features do not make it singular.

  Returns:
    A scalar, at most about 1; an estimate may fall below 0.
  """
  num, m, n = ciphertexts.shape
  phi = ciphertexts
  if order == 2:
    rows, cols = jnp.triu_indices(n)
    phi = jnp.concatenate([phi, phi[..., rows] * phi[..., cols]], -1)
  f = phi.shape[-1]
  means = jnp.mean(phi, 1)  # [P, F]
  centred = means - jnp.mean(means, 0)
  noise = phi - means[:, None]
  within = jnp.einsum('pmf,pmg->fg', noise, noise) / (num * (m - 1))
  between = centred.T @ centred / (num - 1) - within / m
  flat = phi.reshape(-1, f)
  flat = flat - jnp.mean(flat, 0)
  total = flat.T @ flat / flat.shape[0]
  total = total + ridge * jnp.trace(total) / f * jnp.eye(f)
  return jnp.trace(jnp.linalg.solve(total, between)) / f


def alice_bob_loss(plaintext, bob_guess, eve_guess, axis=-1):
  """Alice and Bob's loss: Bob's bits wrong + (N/2 - Eve's bits wrong)^2/(N/2)^2.

  The Eve term is smallest when Eve is wrong on half the bits (a random
  guess), not when she is wrong on all of them: an Eve wrong on every bit
  would only need to flip her output to be always right.

  Returns:
    (loss, (bob_bits, eve_bits)): the mean loss over the batch and the mean
    bits wrong of Bob and Eve.
  """
  half = plaintext.shape[axis] / 2.0
  bob = bits_wrong(plaintext, bob_guess, axis)
  eve = bits_wrong(plaintext, eve_guess, axis)
  loss = jnp.mean(bob + (half - eve) ** 2 / half ** 2)
  return loss, (jnp.mean(bob), jnp.mean(eve))
