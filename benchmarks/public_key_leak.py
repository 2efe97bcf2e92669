"""How much of the secret key an asymmetric run's public key gives away.

For each seed of a trained asymmetric run, draws fresh secret keys, computes
their public keys with that seed's generator, fits a least-squares linear
read-out (with a bias) from public key to each secret-key bit on one half,
and reports the fraction of secret-key bits whose sign it gets right on the
other half. 0.5 is chance; 1.0 means the public key publishes the secret key.

  python benchmarks/public_key_leak.py --workdir=runs/asym16 [--out=leak.json]
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
import jax
import numpy as np

from adversarial_crypto.core import recipe
from adversarial_crypto.core import asymmetric
from adversarial_crypto import config as config_lib
from adversarial_crypto.training import runner as runner_lib
from adversarial_crypto.training import workdir as workdir_lib


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--workdir', required=True, help='a trained asymmetric run')
  parser.add_argument('--keys', type=int, default=4096, help='secret keys to fit and to test')
  parser.add_argument('--out', help='write the results as JSON here')
  args = parser.parse_args()
  try:
    config = config_lib.complete(workdir_lib.load_config_dict(args.workdir))
    if config.experiment != 'asymmetric':
      sys.exit(f'error: {args.workdir} holds a {config.experiment} run; '
               'this measures asymmetric runs')
    if args.keys <= config.public_key_bits + 1:
      sys.exit(f'error: --keys must exceed public_key_bits + 1 = {config.public_key_bits + 1} '
               'for the read-out to be determined; the default is 4096')
    run, _ = runner_lib.load_state(args.workdir, config)
  except (workdir_lib.WorkdirError, ValueError) as e:
    sys.exit(f'error: {e}')
  keygen = recipe.make_scheme(config).networks['keygen']
  recovered = asymmetric.secret_bits_recovered(keygen, run.train.alice_bob['keygen'], config.key_bits,
                                    args.keys, jax.random.PRNGKey(1234))
  print('seed  secret-key bits recovered from the public key (held out; 0.5 is chance)')
  for seed, r in enumerate(recovered):
    print(f'{seed:>4d}  {r:.3f}')
  print(f'median {np.median(recovered):.3f}, range [{min(recovered):.3f}, {max(recovered):.3f}]')
  if args.out:
    with open(args.out, 'w') as f:
      json.dump({'workdir': args.workdir, 'keys': args.keys, 'recovered': recovered}, f, indent=2)


if __name__ == '__main__':
  main()
