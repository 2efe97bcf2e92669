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
           Her bits wrong are N x her mean error rate over the parities, so
           chance is N/2 for her too and one bound judges every attacker.
"""

from typing import NamedTuple

from adversarial_crypto.core import recipe
from adversarial_crypto.core import bits
from adversarial_crypto import config as config_lib
from adversarial_crypto.core import networks

# What an attacker's Eve guesses: target(plaintext, layout) -> [..., M] of -1/+1.
TARGETS = {'plaintext': lambda plaintext, layout: plaintext,
           'pair_parity': bits.pair_parities}


class Attacker(NamedTuple):
  """One kind of fresh Eve: a network and the loss it trains with."""
  name: str
  network: networks.Network  # ciphertext [..., N] -> guess of the plaintext
  loss_name: str             # 'l1' or 'logistic' (recipe.make_eve_loss)
  description: str
  target: str = 'plaintext'  # a key of TARGETS: what the network guesses


def make_attacker(name, config):
  """The attacker called `name` for a config with an eval section.

  Args:
    name: one of config_lib.ATTACKERS.
    config: a symmetric or asymmetric config.

  Returns:
    An Attacker whose network maps what Eve sees (the ciphertext, and the
    public key when asymmetric) to guesses of its target: msg_bits of them,
    or N(N-1)/2 for 'parity'.
  """
  n = config.msg_bits
  view_bits = recipe.make_scheme(config).eve_in_bits
  if name == 'paper':
    eve = recipe.make_eve(config, view_bits)
    return Attacker(name, eve, 'l1', f"the training Eve's network "
                    f'({recipe.describe_eve_arch(config)}), L1 loss')
  if name in ('mlp', 'deep_mlp'):
    return _mlp_attacker(name, config, view_bits, f'{name}_hidden', n)
  if name == 'parity':
    pairs = n * (n - 1) // 2
    return _mlp_attacker(name, config, view_bits, 'mlp_hidden', pairs, 'pair_parity',
                         f' of the {pairs} pairwise parities', '; bits = N x error rate')
  raise ValueError(f'unknown attacker {name!r}; choose from {config_lib.ATTACKERS}')


def _mlp_attacker(name, config, view_bits, hidden_field, out_bits, target='plaintext', of='',
                  note=''):
  """A ReLU MLP of hidden sizes config.eval[hidden_field], trained with config.eval.mlp_loss."""
  hidden = tuple(config.eval[hidden_field])
  loss = config.eval.mlp_loss
  return Attacker(name, networks.make_network('mlp', view_bits, out_bits, hidden), loss,
                  f'MLP {"x".join(map(str, hidden))} ReLU{of}, {loss} loss{note}', target)


def make_attackers(config):
  """Every attacker named in config.eval.attackers, in order."""
  return tuple(make_attacker(name, config) for name in tuple(config.eval.attackers))
