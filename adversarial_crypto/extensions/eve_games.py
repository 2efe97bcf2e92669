"""What the training Eves play (config.train_eves.game) and what Alice and Bob pay for it.

  'reconstruct'  guess the plaintext from the ciphertext (the paper's game).
  'distinguish'  given two plaintexts and the ciphertext of one, say which
                 (the indistinguishability game of a chosen-plaintext attack).
  'parity'       guess the plaintext's bits and every pairwise parity P_i P_k.

A Game is built for one config and works on batches as columns or rows
(bits.Layout); the main Eves' logits carry a leading axis of K Eves.
"""

import functools
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from adversarial_crypto.core import bits
from adversarial_crypto.core import losses


# Eve terms of what she knows of each target, clipped at chance target by target
# (losses.target_information): their mean, the one she reads best, or the sum of
# what she knows beyond the noise.
TARGET_TERMS = {'target_information': losses.mean_target_information,
                'worst_information': losses.worst_target_information,
                'excess_information': losses.excess_target_information}


class Game(NamedTuple):
  """The pure functions of one game, for Eves of `in_bits` -> `out_bits`."""
  name: str
  eve_term: str
  in_bits: int
  out_bits: int
  task: Callable     # (plaintext, view) -> (what Eve sees, her targets)
  bits_of: Callable  # (targets, logits [K, ., B]) -> [K] bits wrong, as bits of N
  term: Callable     # (targets, logits [K, ., B]) -> [K] each Eve's term in Alice/Bob's loss


def distinguishing_game(plaintext, view, layout=bits.ROWS):
  """A main Eve's task when config.train_eves.game is 'distinguish'.

  Eve sees two plaintexts and what she sees of the ciphertext of one of them,
  and says which one it is: the indistinguishability game, in which a cipher
  that leaks anything about its plaintext loses, however little it leaks per bit.
  The other plaintext is the batch's previous example's (its roll by one), and
  which of the two comes first is bit 0 of the example two before (its roll by
  two): for a batch of independent examples both are uniform and independent of
  the example, and no more randomness has to be drawn.

  Args:
    plaintext: the batch's plaintexts, [B, N] (COLUMNS: [N, B]).
    view: what Eve sees of their ciphertexts, [B, V] (COLUMNS: [V, B]).
    layout: bits.ROWS or bits.COLUMNS.

  Returns:
    (eve_input, target): [first, second, view] along the bit axis, and +1 where
    the ciphertext is the second plaintext's, -1 where it is the first's, [B, 1]
    (COLUMNS: [1, B]).
  """
  axis = layout.bit_axis
  batch_axis = -3 - axis  # ROWS: -2; COLUMNS: -1
  decoy = jnp.roll(plaintext, 1, batch_axis)
  second = jnp.take(jnp.roll(plaintext, 2, batch_axis), jnp.array([0]), axis) > 0
  first_text = jnp.where(second, decoy, plaintext)
  second_text = jnp.where(second, plaintext, decoy)
  target = jnp.where(second, 1.0, -1.0).astype(plaintext.dtype)
  return layout.concat([first_text, second_text, view]), target


def make_game(name, eve_term, msg_bits, view_bits, layout=bits.ROWS):
  """The Game `name` of Eves who see `view_bits`, with Alice/Bob's `eve_term`.

  Args:
    name: 'reconstruct', 'distinguish' or 'parity'.
    eve_term: 'paper', (N/2 - E)^2 / (N/2)^2 of an Eve's bits wrong E,
      'information' (losses.eve_information), 'target_information' (its mean
      over the targets, each clipped at chance on its own), 'worst_information'
      (of the one target she reads best; losses.target_information) or
      'excess_information' (the sum over targets of what she knows of each beyond
      losses.LEAK_FLOOR).
    msg_bits: N.
    view_bits: the length of what Eve sees of a ciphertext.
    layout: of the batches.
  """
  n, axis = msg_bits, layout.bit_axis

  def task(plaintext, view):
    """Her bits wrong are of her own targets: 1 for a distinguishing Eve,
    N + N(N-1)/2 for a parity Eve; bits_of scales them to N."""
    if name == 'distinguish':
      return distinguishing_game(plaintext, view, layout)
    if name == 'parity':
      return view, layout.concat([plaintext, bits.pair_parities(plaintext, layout)])
    return view, plaintext

  def groups(target, logits):
    """[(targets, logits)] of each group of targets that her term scores apart: a
    parity Eve's N bits, then her N(N-1)/2 parities, so that 120 parities do not
    drown a leak of 16 bits; otherwise all her targets at once."""
    if name != 'parity':
      return [(target, logits)]
    return list(zip(jnp.split(target, [n], axis), jnp.split(logits, [n], axis)))

  def bits_of(target, logits):
    """[K]: each Eve's error rate x N on each group of targets, the lowest."""
    return jnp.min(jnp.stack([
        jnp.mean(losses.bits_wrong(t, jnp.tanh(u), axis), axis=-1) * n / t.shape[axis]
        for t, u in groups(target, logits)]), axis=0)

  def group_term(target, logits):
    half = target.shape[axis] / 2.0
    if eve_term == 'information':
      information = functools.partial(losses.eve_information, axis=axis)
      return jax.vmap(information, (None, 0))(target, logits)
    if eve_term in TARGET_TERMS:
      per_eve = functools.partial(TARGET_TERMS[eve_term], axis=axis)
      return jax.vmap(per_eve, (None, 0))(target, logits)
    eve_wrong = losses.bits_wrong(target, jnp.tanh(logits), axis)  # [K, B]
    if name == 'distinguish':
      # (1/2 - her error rate)^2 / (1/2)^2, her squared advantage. Squared per
      # example, as the paper's term is, it would count her confidence, not her
      # success: sure and right half the time scores as sure and always right.
      return (half - jnp.mean(eve_wrong, axis=-1)) ** 2 / half ** 2
    # the paper's Eve term, (N/2 - E)^2 / (N/2)^2 averaged over the batch, per Eve
    return jnp.mean((half - eve_wrong) ** 2, axis=-1) / half ** 2

  def term(target, logits):
    """[K]: per Eve, the larger of her terms: the group she reads best."""
    return jnp.max(jnp.stack([group_term(t, u) for t, u in groups(target, logits)]), 0)

  if name == 'distinguish':
    in_bits, out_bits = 2 * n + view_bits, 1
  elif name == 'parity':
    in_bits, out_bits = view_bits, n + n * (n - 1) // 2
  else:
    in_bits, out_bits = view_bits, n
  return Game(name, eve_term, in_bits, out_bits, task, bits_of, term)
