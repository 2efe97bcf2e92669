"""What an eavesdropper who knows the trained networks reads by trying every key.

For each seed of a trained symmetric run, encrypts fresh messages under fresh
keys with Alice, then, without the key, tries all 2^K keys on each ciphertext
(adversarial_crypto.analysis.key_search): Bob decodes it under the key, Alice
re-encrypts his decoding, and the keys that reproduce the ciphertext are kept.
Prints per seed the share of messages Bob reads exactly with the key, the
share she reads exactly and up to their sign, the share Bob reads and she
does not, her bits wrong and pairwise-parity bits wrong on the evaluator's
scale (chance is N/2, `secure` needs at least 6 of 16), and how many keys
explain a ciphertext.

  python benchmarks/key_search.py --workdir=runs/secure16 [--messages=64] [--out=search.json]
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
import jax
import numpy as np

import adversarial_crypto as ac
from adversarial_crypto.core import bits
from adversarial_crypto.analysis import key_search
from adversarial_crypto.training import workdir as workdir_lib

_COLUMNS = ('bob_exact', 'exact', 'up_to_sign', 'missed', 'bits_wrong', 'parity_bits_wrong',
            'found', 'consistent', 'other_plaintexts')


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--workdir', required=True, help='a trained symmetric run')
  parser.add_argument('--messages', type=int, default=64, help='messages per seed')
  parser.add_argument('--out', help='write the results as JSON here')
  args = parser.parse_args()
  if args.messages < 1:
    sys.exit('error: --messages must be at least 1')
  try:
    run = ac.load_run(args.workdir)
    key_search.all_keys(run.config.key_bits)
    if args.out:   # fail now rather than after the search
      with open(args.out, 'a'):
        pass
  except (workdir_lib.WorkdirError, ValueError, OSError) as e:
    sys.exit(f'error: {e}')
  n, k = run.config.msg_bits, run.config.key_bits
  print(f'{args.workdir}: {run.num_seeds} seeds, {args.messages} messages each, all 2^{k} keys '
        f'tried on each; bits wrong on the evaluator\'s scale (chance {n / 2:g})')
  print('seed  Bob bits  trained  ' + '  '.join(f'{c:>11s}' for c in _COLUMNS) + '   s')
  rows = []
  for seed in range(run.num_seeds):
    alice, bob, _ = run.seed_params(seed)
    k_p, k_k = jax.random.split(jax.random.fold_in(jax.random.PRNGKey(2016), seed))
    start = time.time()
    result = key_search.attack(alice, bob, bits.random_bits(k_p, (args.messages, n)),
                               bits.random_bits(k_k, (args.messages, k)), run.config)
    result.update(seed=seed, trained=bool(run.trained[seed]),
                  bob_bits=(run.summary['seeds'][seed]['bob_bits'] if run.summary else None),
                  wall_s=time.time() - start)
    rows.append(result)
    bob = '' if result['bob_bits'] is None else f"{result['bob_bits']:.3f}"
    print(f"{seed:>4d}  {bob:>8s}  {str(result['trained']):>7s}  " +
          '  '.join(f'{result[c]:>11.3f}' for c in _COLUMNS) + f"  {result['wall_s']:>4.0f}",
          flush=True)
  for label, subset in (('all seeds', rows), ('trained seeds', [r for r in rows if r['trained']])):
    if subset:
      print(f'median over {label} ({len(subset)}): ' + ', '.join(
          f'{c} {np.median([r[c] for r in subset]):.3f}' for c in _COLUMNS))
  if args.out:
    with open(args.out, 'w') as f:
      json.dump({'workdir': args.workdir, 'messages': args.messages, 'seeds': rows}, f,
                indent=2)


if __name__ == '__main__':
  main()
