"""Analyses every trained pair of a run: bit-flip diffusion, influence heatmaps, linearity.

  python -m adversarial_crypto.analyse --workdir=runs/sym16 [--threshold=0.1]

Writes analysis.json and influence.png (one heatmap per seed: flipped input
bit against ciphertext element) into the workdir, or where --out points.
"""

import contextlib
import json
import os
import sys

from absl import app
from absl import flags

from adversarial_crypto.analysis import cipher
from adversarial_crypto.analysis import cipher_analysis
from adversarial_crypto.training import train
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
  out = _OUT.value or _WORKDIR.value
  # Writing into the workdir takes its lock (not reading it: checkpoints are
  # replaced whole, so a run in progress is read consistently).
  writes_workdir = (os.path.isdir(_WORKDIR.value) and os.path.isdir(out) and
                    os.path.samefile(out, _WORKDIR.value))
  lock = (workdir_lib.locked(_WORKDIR.value, workdir_lib.command_line('adversarial_crypto.analyse'))
          if writes_workdir else contextlib.nullcontext())
  try:
    with lock, workdir_lib.storage_errors():
      run = cipher.load_run(_WORKDIR.value)
      try:
        os.makedirs(out, exist_ok=True)
      except OSError as e:
        raise workdir_lib.storage_error(e, out) from e
      analysis = cipher_analysis.analyse_run(run, _SAMPLES.value, _THRESHOLD.value)
      workdir_lib.write_atomically(os.path.join(out, 'analysis.json'),
                                   json.dumps(analysis, indent=1).encode())
      cipher_analysis.plot_influence(analysis, os.path.join(out, 'influence.png'))
  except workdir_lib.WorkdirError as e:
    sys.exit(f'error: {e}')
  n = run.config.msg_bits
  print(f'elements of {n} changing by more than {_THRESHOLD.value} per flipped bit '
        f'({_SAMPLES.value} random inputs per seed):')
  print('seed  trained  key bit  plaintext bit  affine R^2 (mean)')
  for s in analysis['seeds']:
    d = s['diffusion']
    print(f"{train.root_seed(analysis, s):>4d}  {'yes' if s['trained'] else 'no ':>7s}  "
          f"{d['key_bit']['mean_changed']:7.2f}  {d['plaintext_bit']['mean_changed']:13.2f}  "
          f"{s['affine_r2']['mean']:.3f}")
  print(f'wrote {out}/analysis.json and {out}/influence.png')

if __name__ == '__main__':
  app.run(main)
