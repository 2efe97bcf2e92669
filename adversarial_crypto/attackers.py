"""The family of fresh Eves that attack a frozen Alice (config.eval.attackers).

  'paper'  the training config's Eve (config.eve_arch resolved) with the
           paper's L1 loss: the attacker of the paper's robustness check.
  'mlp'    a ReLU multilayer perceptron (config.eval.mlp_hidden) trained with
           config.eval.mlp_loss, by default a per-bit logistic loss. It breaks
           pairs that the paper's Eve cannot (README, Robustness).
  'deep_mlp'  the same with config.eval.deep_mlp_hidden: by default wider and
           deeper than any Eve that configs/secure16.py trains against.
"""

from typing import NamedTuple

from adversarial_crypto import config_checks
from adversarial_crypto import networks
from adversarial_crypto import adversarial


class Attacker(NamedTuple):
  """One kind of fresh Eve: a network and the loss it trains with."""
  name: str
  network: networks.Network  # ciphertext [..., N] -> guess of the plaintext
  loss_name: str             # 'l1' or 'logistic' (adversarial.make_eve_loss)
  description: str


def make_attacker(name, config):
  """The attacker called `name` for a config with an eval section.

  Args:
    name: one of config_checks.ATTACKERS.
    config: a symmetric or asymmetric config.

  Returns:
    An Attacker whose network maps what Eve sees (the ciphertext, and the
    public key when asymmetric) to msg_bits guesses.
  """
  n = config.msg_bits
  view_bits = adversarial.make_scheme(config).eve_in_bits
  if name == 'paper':
    eve = adversarial.make_eve(config, view_bits)
    arch = config.arch if config.eve_arch == 'same' else config.eve_arch
    if arch in ('mlp', 'bilinear'):
      arch = f'{arch} {tuple(config.eve_hidden)}'
    return Attacker(name, eve, 'l1', f"the training Eve's network ({arch}), L1 loss")
  if name in ('mlp', 'deep_mlp'):
    hidden = tuple(config.eval[f'{name}_hidden'])
    eve = networks.make_network('mlp', view_bits, n, hidden)
    loss = config.eval.mlp_loss
    return Attacker(name, eve, loss, f'MLP {"x".join(map(str, hidden))} ReLU, {loss} loss')
  raise ValueError(f'unknown attacker {name!r}; choose from {config_checks.ATTACKERS}')


def make_attackers(config):
  """Every attacker named in config.eval.attackers, in order."""
  return tuple(make_attacker(name, config) for name in config_checks.attacker_names(config))
