"""The family of fresh Eves that attack a frozen Alice (config.eval.attackers).

  'paper'  the training config's Eve (config.eve_arch resolved) with the
           paper's L1 loss: the attacker of the paper's robustness check.
  'mlp'    a ReLU multilayer perceptron (config.eval.mlp_hidden) trained with
           config.eval.mlp_loss, by default a per-bit logistic loss. It breaks
           pairs that the paper's Eve cannot (docs/reproduction.md).
  'deep_mlp'  the same with config.eval.deep_mlp_hidden: by default wider and
           deeper than any Eve that configs/secure16.py trains against.
  'parity' the 'mlp' network and loss, guessing the N(N-1)/2 pairwise parities
           P_i P_k (bits.pair_parities) instead of the bits: a cipher that
           reuses a key bit hides every bit from the others and leaks these.
  'products'  the 'mlp' network given, beside what she sees, every pairwise
           product of it (C_i C_k) as features, guessing the bits: a leak
           carried by products of ciphertext elements is linear in her input.
  'parity4'  the 'mlp' network given the same product features, guessing
           PARITY4_SAMPLES products of 4 plaintext bits (a fixed sample):
           ciphers that hide every bit and every pair can still leak these.
  'distinguish'  a distinguisher: given two plaintexts and the ciphertext of
           one of them (extensions/eve_games.distinguishing_game), say which.
           She scores each candidate plaintext m against the ciphertext C with
           one network s(C, m) of [C, m, every C_i m_j] and answers
           s(C, second) - s(C, first): the answer flips when the candidates
           swap, whatever her weights, and a correlation between any C_i and
           m_j is linear in her input (docs/calibration.md).

Every attacker's bits wrong are N x an error rate, so chance is N/2 for all of
them and one bound judges every attacker: her mean error rate over her targets
(for the bits: her bits wrong), or for 'parity' and 'parity4' the error rate of
the target she reads best, measured on N times the held-out examples: planted
leaks showed that one parity read perfectly among 120 moves the mean by 0.07
bits, below any bound that noise allows (docs/calibration.md).
"""

import itertools
from typing import Callable, NamedTuple

import jax.numpy as jnp
import numpy as np

from adversarial_crypto import config as config_lib
from adversarial_crypto.core import bits
from adversarial_crypto.core import networks
from adversarial_crypto.core import recipe
from adversarial_crypto.extensions import eve_games

# How many products of 4 plaintext bits the 'parity4' attacker guesses (all of
# them when there are fewer), drawn once with PARITY4_SEED.
PARITY4_SAMPLES, PARITY4_SEED = 64, 0


def quads(msg_bits):
  """[Q, 4]: the 4-bit groups whose products 'parity4' guesses, sorted."""
  every = np.array(list(itertools.combinations(range(msg_bits), 4)), np.int32)
  if len(every) <= PARITY4_SAMPLES:
    return every
  pick = np.random.default_rng(PARITY4_SEED).choice(len(every), PARITY4_SAMPLES, replace=False)
  return every[np.sort(pick)]


def quad_parities(plaintext, layout=bits.ROWS):
  """The product of each group of quads(N) of the plaintext's bits, [..., Q]."""
  groups = quads(plaintext.shape[layout.bit_axis])
  product = 1.0
  for column in groups.T:
    product = product * jnp.take(plaintext, column, axis=layout.bit_axis)
  return product


def with_products(view, layout=bits.ROWS):
  """[view, every pairwise product of its elements] along the bit axis."""
  return layout.concat([view, bits.pair_parities(view, layout)])


# What each attacker trains on: task(plaintext, view, layout) -> (her input, her targets).
TASKS = {
    'plaintext': lambda p, v, layout: (v, p),
    'pair_parity': lambda p, v, layout: (v, bits.pair_parities(p, layout)),
    'products': lambda p, v, layout: (with_products(v, layout), p),
    'quad_parity': lambda p, v, layout: (with_products(v, layout), quad_parities(p, layout)),
    'distinguish': eve_games.distinguishing_game,
}


class Attacker(NamedTuple):
  """One kind of fresh Eve: a network, the loss it trains with, and its task."""
  name: str
  network: networks.Network  # her input [..., in_bits] -> guesses of her targets
  loss_name: str             # 'l1' or 'logistic' (recipe.make_eve_loss)
  description: str
  target: str = 'plaintext'  # a key of TASKS: what she sees and guesses
  score: str = 'mean'        # her bits: N x her error rate, 'mean' over her targets or
                             # of her 'best'-read one (evaluator.py)

  @property
  def task(self) -> Callable:
    return TASKS[self.target]


def siamese_scorer(view_bits, msg_bits, hidden):
  """The 'distinguish' network: input [first, second, view] (N + N + V),
  output s(view, second) - s(view, first) with s a ReLU MLP of
  [view, m, view_i m_j for every i, j]."""
  score = networks.make_network('mlp', view_bits + msg_bits + view_bits * msg_bits, 1, hidden)

  def features(view, text):
    outer = (view[..., :, None] * text[..., None, :]).reshape(view.shape[:-1] + (-1,))
    return jnp.concatenate([view, text, outer], -1)

  def logits(params, x):
    first, second, view = x[..., :msg_bits], x[..., msg_bits:2 * msg_bits], x[..., 2 * msg_bits:]
    return (score.logits(params, features(view, second)) -
            score.logits(params, features(view, first)))

  return networks.Network(score.init, logits, 2 * msg_bits + view_bits, 1)


def make_attacker(name, config):
  """The attacker called `name` for a complete config with an eval section.

  Args:
    name: one of config_lib.ATTACKERS.
    config: a symmetric or asymmetric config.

  Returns:
    An Attacker whose network maps her input (what Eve sees: the ciphertext,
    and the public key when asymmetric; with features for some) to guesses
    of her targets.
  """
  n = config.msg_bits
  view_bits = recipe.make_scheme(config).eve_in_bits
  if name == 'paper':
    eve = recipe.make_eve(config, view_bits)
    return Attacker(name, eve, 'l1', f"the training Eve's network "
                    f'({recipe.describe_eve_arch(config)}), L1 loss')
  if name in ('mlp', 'deep_mlp'):
    return _mlp_attacker(name, config, view_bits, f'{name}_hidden', n)
  products = view_bits + view_bits * (view_bits - 1) // 2
  if name == 'parity':
    pairs = n * (n - 1) // 2
    return _mlp_attacker(name, config, view_bits, 'mlp_hidden', pairs, 'pair_parity',
                         f' of the {pairs} pairwise parities', make_attacker_score(name))
  if name == 'products':
    return _mlp_attacker(name, config, products, 'mlp_hidden', n, 'products',
                         ' on the view and its pairwise products')
  if name == 'parity4':
    count = len(quads(n))
    return _mlp_attacker(name, config, products, 'mlp_hidden', count, 'quad_parity',
                         f' on the view and its pairwise products, of {count} 4-bit products',
                         make_attacker_score(name))
  if name == 'distinguish':
    hidden = tuple(config.eval.mlp_hidden)
    return Attacker(name, siamese_scorer(view_bits, n, hidden), 'logistic',
                    f'siamese distinguisher, MLP {"x".join(map(str, hidden))} ReLU scoring '
                    '[C, m, C_i m_j], logistic loss', 'distinguish')
  raise ValueError(f'unknown attacker {name!r}; choose from {config_lib.ATTACKERS}')


def _mlp_attacker(name, config, in_bits, hidden_field, out_bits, target='plaintext', of='',
                  score='mean'):
  """A ReLU MLP of hidden sizes config.eval[hidden_field], trained with config.eval.mlp_loss."""
  hidden = tuple(config.eval[hidden_field])
  loss = config.eval.mlp_loss
  note = {'mean': '', 'best': '; bits = N x error rate of her best-read one'}[score]
  return Attacker(name, networks.make_network('mlp', in_bits, out_bits, hidden), loss,
                  f'MLP {"x".join(map(str, hidden))} ReLU{of}, {loss} loss{note}', target, score)


# How each attacker's bits are scored (Attacker.score): 'best' for the parity
# attackers, whose one leaked target among many would hardly move a mean.
BEST_TARGET_ATTACKERS = ('parity', 'parity4')


def make_attacker_score(name):
  """'best' or 'mean': how attacker `name`'s bits wrong are scored."""
  return 'best' if name in BEST_TARGET_ATTACKERS else 'mean'


def make_attackers(config):
  """Every attacker named in config.eval.attackers, in order."""
  return tuple(make_attacker(name, config) for name in tuple(config.eval.attackers))
