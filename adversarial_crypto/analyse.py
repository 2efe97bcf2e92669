"""Analyses every trained pair of a run: bit-flip diffusion, influence heatmaps, linearity.

  python -m adversarial_crypto.analyse --workdir=runs/sym16 [--threshold=0.1]

Writes analysis.json and influence.png (one heatmap per seed: flipped input
bit against ciphertext element) into the workdir, or where --out points.
"""

import json
import os
import sys

from absl import app
from absl import flags

from adversarial_crypto.analysis import cipher
from adversarial_crypto.analysis import cipher_analysis
from adversarial_crypto.training import workdir as workdir_lib

_WORKDIR = flags.DEFINE_string('workdir', None, 'A finished training run.')
_THRESHOLD = flags.DEFINE_float(
    'threshold', 0.1, 'A ciphertext element "changes significantly" when it moves by more '
    'than this (ciphertexts lie in (-1, 1)); analysis.json also holds other thresholds.')
_SAMPLES = flags.DEFINE_integer('num_samples', 4096, 'Random (plaintext, key) pairs per seed.')
_OUT = flags.DEFINE_string('out', None, 'Directory for analysis.json and influence.png; '
                           'default the workdir.')


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
  analysis = cipher_analysis.analyse_run(run, _SAMPLES.value, _THRESHOLD.value)
  with open(os.path.join(out, 'analysis.json'), 'w') as f:
    json.dump(analysis, f, indent=1)
  cipher_analysis.plot_influence(analysis, os.path.join(out, 'influence.png'))
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
