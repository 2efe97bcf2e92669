"""Asymmetric (public-key) encryption, the paper's Appendix A.

A public-key generator network maps Bob's secret key to a public key and
trains jointly with Alice and Bob (its parameters are one more entry of
their parameters, under their optimizer and loss). Alice gets the
plaintext and the public key; Bob gets the ciphertext and the secret key;
Eve gets the ciphertext and the public key, never the secret key. The
generator has the same mix & transform structure as Alice and Bob
(config.arch), from key_bits inputs to public_key_bits outputs; like every
network here it ends in tanh, so the public key is real-valued in (-1, 1).
The paper does not give the public key's length; config.public_key_bits
sets it (configs/asym16.py: as long as the secret key).
"""

import jax
import jax.numpy as jnp
import numpy as np

from adversarial_crypto.core import bits
from adversarial_crypto.core import networks
from adversarial_crypto.core import symmetric


def make_scheme(config, layout=bits.ROWS):
  """Keygen(S) -> K_pub; Alice([P, K_pub]) -> C; Bob([C, S]) -> P; Eve sees [C, K_pub].

  Args:
    config: a config with msg_bits, key_bits (the secret key), public_key_bits
      and arch.
    layout: of the batches its functions take and return (bits.ROWS or COLUMNS).

  Returns:
    A symmetric.Scheme whose `key` arguments are secret keys.
  """
  n, k, pub = config.msg_bits, config.key_bits, config.public_key_bits
  hidden = tuple(config.hidden)
  nets = {'keygen': networks.make_network(config.arch, k, pub, hidden),
          'alice': networks.make_network(config.arch, n + pub, n, hidden),
          'bob': networks.make_network(config.arch, n + k, n, hidden)}

  def encrypt(params, plaintext, secret_key):
    public_key = layout.apply(nets['keygen'], params['keygen'], secret_key)
    ciphertext = layout.apply(nets['alice'], params['alice'],
                              layout.concat([plaintext, public_key]))
    # Eve's view is built from Alice's outputs and the public key only.
    return ciphertext, layout.concat([ciphertext, public_key])

  def decrypt_logits(params, ciphertext, secret_key):
    return layout.logits(nets['bob'], params['bob'], layout.concat([ciphertext, secret_key]))

  def decrypt(params, ciphertext, secret_key):
    return jnp.tanh(decrypt_logits(params, ciphertext, secret_key))

  return symmetric.Scheme(nets, n + pub, encrypt, decrypt, layout, decrypt_logits)


def secret_bits_recovered(keygen, keygen_params, key_bits, num_keys, rng):
  """How much of the secret key each seed's public key gives away.

  Fits a least-squares linear read-out (with a bias) from public key to
  secret-key bits on `num_keys` fresh secret keys and scores the sign of its
  guess on `num_keys` others.

  Args:
    keygen: the generator network.
    keygen_params: its parameters with a leading seed axis [S, ...].
    key_bits: the secret key's length.
    num_keys: secret keys to fit on, and as many to test on.
    rng: a PRNG key.

  Returns:
    Per seed, the held-out fraction of secret-key bits recovered: 0.5 is
    chance, 1.0 means the public key publishes the secret key.
  """
  secret = np.asarray(bits.random_bits(rng, (2 * num_keys, key_bits)))
  out = []
  for seed in range(jax.tree_util.tree_leaves(keygen_params)[0].shape[0]):
    params = jax.tree_util.tree_map(lambda x, s=seed: x[s], keygen_params)
    public = np.asarray(keygen.apply(params, secret), np.float64)
    x = np.concatenate([public, np.ones((len(public), 1))], 1)
    w, *_ = np.linalg.lstsq(x[:num_keys], secret[:num_keys], rcond=None)
    out.append(float((np.sign(x[num_keys:] @ w) == secret[num_keys:]).mean()))
  return out
