"""Analyses every trained pair of a run: bit-flip diffusion, influence heatmaps, linearity.

  python -m adversarial_crypto.analyse --workdir=runs/sym16 [--threshold=0.1]

Writes analysis.json and influence.png (one heatmap per seed: flipped input
bit against ciphertext element) into the workdir, or where --out points.
"""

import json
import os
import sys

import jax
import numpy as np
from absl import app
from absl import flags

from adversarial_crypto import cipher
from adversarial_crypto import cipher_analysis
from adversarial_crypto import workdir as workdir_lib

_WORKDIR = flags.DEFINE_string('workdir', None, 'A finished training run.')
_THRESHOLD = flags.DEFINE_float(
    'threshold', 0.1, 'A ciphertext element "changes significantly" when it moves by more '
    'than this (ciphertexts lie in (-1, 1)); analysis.json also holds other thresholds.')
_SAMPLES = flags.DEFINE_integer('num_samples', 4096, 'Random (plaintext, key) pairs per seed.')
_OUT = flags.DEFINE_string('out', None, 'Directory for analysis.json and influence.png; '
                           'default the workdir.')


def analyse_run(run, num_samples=4096, threshold=0.1, rng_seed=0):
  """analyse_cipher for every seed of a loaded Run; returns a JSON-ready dict."""
  seeds = []
  for seed in range(run.num_seeds):
    alice, _, _ = run.seed_params(seed)
    encrypt = jax.jit(lambda p, k, alice=alice: cipher.encrypt(alice, p, k, run.config))
    result = cipher_analysis.analyse_cipher(
        encrypt, run.config.msg_bits, run.config.key_bits,
        jax.random.fold_in(jax.random.PRNGKey(rng_seed), seed), num_samples, threshold)
    result.update(seed=seed, trained=bool(run.trained[seed]))
    seeds.append(result)
  key_means = [s['diffusion']['key_bit']['mean_changed'] for s in seeds]
  return {'msg_bits': run.config.msg_bits, 'key_bits': run.config.key_bits,
          'num_samples': num_samples, 'threshold': threshold, 'seeds': seeds,
          'key_bit_mean_changed_over_seeds': {
              'min': min(key_means), 'mean': float(np.mean(key_means)), 'max': max(key_means)}}


def plot_influence(analysis, path):
  """One heatmap per seed of mean |ciphertext change| per flipped input bit."""
  import matplotlib
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt
  seeds = analysis['seeds']
  cols = min(5, len(seeds))
  rows = -(-len(seeds) // cols)
  fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3.2 * rows), squeeze=False)
  n = analysis['msg_bits']
  for ax in axes.flat:
    ax.axis('off')
  for ax, s in zip(axes.flat, seeds):
    ax.axis('on')
    image = ax.imshow(np.asarray(s['influence']), vmin=0, vmax=2, cmap='viridis', aspect='auto')
    ax.axhline(n - 0.5, color='white', lw=0.8)   # plaintext bits above, key bits below
    ax.set_title(f"seed {s['seed']}{' (trained)' if s['trained'] else ''}", fontsize=9)
    ax.set_xlabel('ciphertext element', fontsize=8)
    ax.set_ylabel('flipped bit: plaintext | key', fontsize=8)
  fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6, label='mean |change|')
  fig.savefig(path, dpi=100)
  plt.close(fig)


def main(argv):
  del argv
  if not _WORKDIR.value:
    sys.exit('error: --workdir is required')
  try:
    run = cipher.load_run(_WORKDIR.value)
  except workdir_lib.WorkdirError as e:
    sys.exit(f'error: {e}')
  out = _OUT.value or _WORKDIR.value
  os.makedirs(out, exist_ok=True)
  analysis = analyse_run(run, _SAMPLES.value, _THRESHOLD.value)
  with open(os.path.join(out, 'analysis.json'), 'w') as f:
    json.dump(analysis, f, indent=1)
  plot_influence(analysis, os.path.join(out, 'influence.png'))
  n = run.config.msg_bits
  print(f'elements of {n} changing by more than {_THRESHOLD.value} per flipped bit '
        f'({_SAMPLES.value} random inputs per seed):')
  print('seed  trained  key bit  plaintext bit  affine R^2 (mean)')
  for s in analysis['seeds']:
    d = s['diffusion']
    print(f"{s['seed']:>4d}  {'yes' if s['trained'] else 'no ':>7s}  "
          f"{d['key_bit']['mean_changed']:7.2f}  {d['plaintext_bit']['mean_changed']:13.2f}  "
          f"{s['affine_r2']['mean']:.3f}")
  print(f'wrote {out}/analysis.json and {out}/influence.png')


if __name__ == '__main__':
  app.run(main)
