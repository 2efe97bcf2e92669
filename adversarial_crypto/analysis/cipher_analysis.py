"""What a learned cipher does: bit-flip diffusion and how linear it is.

The paper (Section 2.5) flipped single key bits of a trained Alice and saw 3
to 6 of the 16 ciphertext elements change significantly; these functions make
that measurement over many random (plaintext, key) pairs, for any encryption
function, and add a linearity measure.
"""

import jax
import jax.numpy as jnp
import numpy as np

from adversarial_crypto.core import bits
from adversarial_crypto.analysis import cipher
from adversarial_crypto.training import train

THRESHOLDS = (0.05, 0.1, 0.25, 0.5)


def flip_responses(encrypt, msg_bits, key_bits, num_samples, rng):
  """Ciphertext changes when each single input bit is flipped.

  Args:
    encrypt: (plaintext [B, N], key [B, K]) -> ciphertext [B, N].
    msg_bits: N.
    key_bits: K.
    num_samples: how many random (plaintext, key) pairs.
    rng: a PRNG key.

  Returns:
    [num_samples, N + K, N]: |ciphertext change| at each element when input
    bit i (plaintext bits first, then key bits) is flipped.
  """
  plaintext, key = bits.random_messages(rng, num_samples, msg_bits, key_bits)
  ciphertext = encrypt(plaintext, key)
  flips = 1.0 - 2.0 * jnp.eye(msg_bits + key_bits)           # row i flips bit i
  inputs = jnp.concatenate([plaintext, key], -1)[:, None, :] * flips[None]
  flipped = encrypt(inputs[..., :msg_bits].reshape(-1, msg_bits),
                    inputs[..., msg_bits:].reshape(-1, key_bits))
  flipped = flipped.reshape(num_samples, msg_bits + key_bits, msg_bits)
  return jnp.abs(flipped - ciphertext[:, None, :])


def diffusion(responses, msg_bits, threshold):
  """How many ciphertext elements change by more than `threshold` per flipped bit.

  Returns:
    {'plaintext_bit': stats, 'key_bit': stats}, each with the mean count and
    its distribution (fraction of flips that changed 0..N elements).
  """
  changed = np.asarray(jnp.sum(responses > threshold, axis=-1))   # [S, N + K]
  out = {}
  for name, part in (('plaintext_bit', changed[:, :msg_bits]),
                     ('key_bit', changed[:, msg_bits:])):
    counts = np.bincount(part.reshape(-1), minlength=msg_bits + 1)
    out[name] = {'mean_changed': float(part.mean()),
                 'distribution': (counts / counts.sum()).tolist()}
  return out


def influence(responses):
  """[N + K, N] mean |ciphertext change| per (flipped input bit, ciphertext element)."""
  return np.asarray(jnp.mean(responses, axis=0))


def affine_fit(encrypt, msg_bits, key_bits, num_samples, rng):
  """How well the best affine function of the -1/+1 input bits explains each element.

  Returns:
    [N] R^2 of the least-squares affine predictor of each ciphertext element
    (1: exactly affine; near 0: no affine signal, as for XOR).
  """
  plaintext, key = bits.random_messages(rng, num_samples, msg_bits, key_bits)
  ciphertext = np.asarray(encrypt(plaintext, key), np.float64)
  design = np.concatenate([np.asarray(plaintext), np.asarray(key),
                           np.ones((num_samples, 1))], -1).astype(np.float64)
  coef, *_ = np.linalg.lstsq(design, ciphertext, rcond=None)
  residual = ciphertext - design @ coef
  total = ((ciphertext - ciphertext.mean(0)) ** 2).sum(0)
  # A constant element is explained exactly by the bias.
  return np.where(total > 0, 1 - (residual ** 2).sum(0) / np.maximum(total, 1e-30), 1.0)


def analyse_cipher(encrypt, msg_bits, key_bits, rng, num_samples=4096, threshold=0.1):
  """Diffusion at several thresholds, the influence matrix and the affine fit.

  Returns:
    A JSON-ready dict; 'influence' is [N + K][N].
  """
  k_flip, k_fit = jax.random.split(rng)
  responses = flip_responses(encrypt, msg_bits, key_bits, num_samples, k_flip)
  r2 = affine_fit(encrypt, msg_bits, key_bits, num_samples, k_fit)
  return {'threshold': threshold,
          'diffusion': diffusion(responses, msg_bits, threshold),
          'diffusion_by_threshold': {str(t): diffusion(responses, msg_bits, t)
                                     for t in sorted(set(THRESHOLDS) | {threshold})},
          'influence': influence(responses).tolist(),
          'affine_r2': {'per_element': r2.tolist(), 'mean': float(r2.mean()),
                        'min': float(r2.min()), 'max': float(r2.max())}}


def analyse_run(run, num_samples=4096, threshold=0.1, rng_seed=0):
  """analyse_cipher for every seed of a loaded Run; returns a JSON-ready dict."""
  seeds, first = [], run.config.first_seed
  for seed in range(run.num_seeds):
    alice, _, _ = run.seed_params(seed)
    encrypt = jax.jit(lambda p, k, alice=alice: cipher.encrypt(alice, p, k, run.config))
    # Inputs drawn by the seed's number in its root: the same whichever run trained it.
    result = analyse_cipher(
        encrypt, run.config.msg_bits, run.config.key_bits,
        jax.random.fold_in(jax.random.PRNGKey(rng_seed), np.uint32(first + seed)),
        num_samples, threshold)
    result.update(seed=seed, trained=bool(run.trained[seed]))
    seeds.append(result)
  key_means = [s['diffusion']['key_bit']['mean_changed'] for s in seeds]
  return {'msg_bits': run.config.msg_bits, 'key_bits': run.config.key_bits,
          'num_samples': num_samples, 'threshold': threshold, 'seeds': seeds,
          'key_bit_mean_changed_over_seeds': {
              'min': min(key_means), 'mean': float(np.mean(key_means)), 'max': max(key_means)},
          **({'first_seed': first} if first else {})}


def plot_influence(analysis, path):
  """One heatmap per seed of mean |ciphertext change| per flipped input bit."""
  import matplotlib
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt
  seeds = analysis['seeds']
  cols = min(5, len(seeds))
  rows = -(-len(seeds) // cols)
  # Constrained layout: titles, labels and the colour bar never overlap a panel.
  fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3.2 * rows), squeeze=False,
                           layout='constrained')
  n = analysis['msg_bits']
  for ax in axes.flat:
    ax.axis('off')
  for index, (ax, s) in enumerate(zip(axes.flat, seeds)):
    ax.axis('on')
    image = ax.imshow(np.asarray(s['influence']), vmin=0, vmax=2, cmap='viridis', aspect='auto')
    ax.axhline(n - 0.5, color='white', lw=0.8)   # plaintext bits above, key bits below
    ax.set_title(f"seed {train.root_seed(analysis, s)}{' (trained)' if s['trained'] else ''}",
                 fontsize=9)
    if index + cols >= len(seeds):  # the lowest panel of its column
      ax.set_xlabel('ciphertext element', fontsize=8)
    if index % cols == 0:
      ax.set_ylabel('flipped bit: plaintext | key', fontsize=8)
  fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6, label='mean |change|')
  fig.savefig(path, dpi=100)
  plt.close(fig)
