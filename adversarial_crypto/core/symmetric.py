"""Symmetric encryption (Section 2): Alice and Bob share the key.

A scheme is the part of an experiment that Alice and Bob own: their
parameters, how Alice turns a plaintext and a key into a ciphertext, what Eve
gets to see, and how Bob decrypts. `recipe.py` trains any scheme the
same way (Section 2.5); `asymmetric.py` is Appendix A's public-key scheme.
"""

from typing import Callable, Dict, NamedTuple

import jax
import jax.numpy as jnp

from adversarial_crypto.core import bits
from adversarial_crypto.core import networks


class Scheme(NamedTuple):
  """The pure functions of Alice and Bob's side of one experiment, for one seed.

  `params` below is a dict with one entry per network of `networks`, in its
  order; Alice and Bob's optimizer updates all of them together.
  """
  networks: Dict[str, networks.Network]
  eve_in_bits: int   # length of what Eve sees
  encrypt: Callable  # (params, plaintext [B, N], key [B, K]) -> (ciphertext, eve_view)
  decrypt: Callable  # (params, ciphertext [B, N], key [B, K]) -> Bob's guess [B, N]
  layout: bits.Layout = bits.ROWS  # COLUMNS: every batch above is transposed, [N, B]
  # (params, ciphertext, key) -> Bob's pre-tanh outputs u (decrypt is tanh(u)), for
  # losses that need them (config.bob_loss 'logistic').
  decrypt_logits: Callable = None

  def eve_view(self, params, plaintext, key):
    """What an eavesdropper sees when Alice encrypts `plaintext` under `key`."""
    return self.encrypt(params, plaintext, key)[1]


def hard_decision(x):
  """sign(x) forwards; backwards, the gradient passes as if through the identity
  (a straight-through estimator), so Alice still learns from what is done with it."""
  return x + jax.lax.stop_gradient(jnp.sign(x) - x)


def make_scheme(config, layout=bits.ROWS):
  """Alice([P, K]) -> C; Bob([C, K]) -> P; Eve sees C alone.

  With config.ciphertext 'sign' Alice sends the hard decisions of her tanh
  outputs, -1/+1 like the plaintext, and no real value whose small
  differences an eavesdropper could read (docs/beyond_the_paper.md).

  Args:
    config: a config with msg_bits, key_bits, arch (and hidden when 'mlp').
    layout: of the batches its functions take and return (bits.ROWS or COLUMNS).
  """
  n, k = config.msg_bits, config.key_bits
  hidden = tuple(config.hidden)
  hard = config.ciphertext == 'sign'
  nets = {'alice': networks.make_network(config.arch, n + k, n, hidden, key_bits=k),
          'bob': networks.make_network(config.arch, n + k, n, hidden, key_bits=k)}

  def encrypt(params, plaintext, key):
    ciphertext = layout.apply(nets['alice'], params['alice'], layout.concat([plaintext, key]))
    if hard:
      ciphertext = hard_decision(ciphertext)
    return ciphertext, ciphertext

  def decrypt_logits(params, ciphertext, key):
    return layout.logits(nets['bob'], params['bob'], layout.concat([ciphertext, key]))

  def decrypt(params, ciphertext, key):
    return jnp.tanh(decrypt_logits(params, ciphertext, key))

  return Scheme(nets, n, encrypt, decrypt, layout, decrypt_logits)
