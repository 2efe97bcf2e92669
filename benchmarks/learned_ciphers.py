"""What each seed's Alice learned: the pad, a pad under a key bijection, or neither.

For each seed of a trained symmetric run that sends signs, describes Alice's
cipher element by element as C_i = P_j x s_i(K) (analysis/key_schedule.py:
sampled, a description, not a proof) and prints per seed its kind, beside
`perfect` from the run's summary and, for keyed networks, what the weights prove
on every input (key_schedule.prove), and the elements that are not one
plaintext bit times one key bit, with the blocks of key bits they share.

  python benchmarks/learned_ciphers.py --workdir=results/perfect16_refactor_cpu [--out=F]
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
from adversarial_crypto.analysis import key_schedule
from adversarial_crypto.analysis import pad_structure
from adversarial_crypto.core import networks
from adversarial_crypto.training import workdir as workdir_lib


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--workdir', required=True, help='a trained symmetric run')
  parser.add_argument('--samples', type=int, default=4096, help='random inputs per seed')
  parser.add_argument('--out', help='write the descriptions as JSON here')
  args = parser.parse_args()
  try:
    run = ac.load_run(args.workdir)
  except (workdir_lib.WorkdirError, ValueError) as e:
    sys.exit(f'error: {e}')
  if run.config.ciphertext != 'sign':
    sys.exit(f"error: {args.workdir} sends {run.config.ciphertext!r} ciphertexts; this "
             "describes sign ciphers (config.ciphertext = 'sign')")
  n, k = run.config.msg_bits, run.config.key_bits
  print(f'{args.workdir}: {run.num_seeds} seeds, {args.samples} random inputs each')
  rows, start = [], time.time()
  # Alice an argument, not a constant: one compile for every seed of the run.
  encrypt = jax.jit(lambda a, p, key: ac.encrypt(a, p, key, run.config))
  for seed in range(run.num_seeds):
    alice, _, _ = run.seed_params(seed)
    out = key_schedule.describe(lambda p, key, a=alice: np.asarray(encrypt(a, p, key)), n, k,
                                samples=args.samples)
    perfect = (run.summary['seeds'][seed].get('perfect') if run.summary else None)
    proof = None
    if run.config.arch in networks.KEYED_ARCHS:
      proof = key_schedule.prove(pad_structure.bilinear_forms(alice, run.config.arch))
      out['proof'] = {k: proof[k] for k in ('perfect', 'kind', 'min_margin', 'reason')}
    # Numbered among the root's seeds, as the run's tables number them.
    print(f"seed {run.config.first_seed + seed:>2d}: {out['kind']}" +
          ('' if perfect is None else f"; the `perfect` verdict: {'yes' if perfect else 'no'}") +
          ('' if proof is None else '; the weights prove: ' + (
              {True: f"perfect ({proof['kind']})", False: 'not perfect'}.get(
                  proof['perfect'], 'nothing') + (f" ({proof['reason']})"
                                                   if proof['perfect'] is False else ''))))
    for block in out['blocks']:
      if len(block['key_bits']) == 1 and len(block['elements']) == 1:
        continue
      print(f"  block of key bits {block['key_bits']}, balanced: {block['balanced']}")
      for i in block['elements']:
        e = out['elements'][i]
        text = 'P?' if e['text_bit'] is None else f"P{e['text_bit']}"
        flips = ', '.join(f'K{b} {r:.2f}' for b, r in e['key_flips'].items() if r >= 0.01)
        rare = sum(r < 0.01 for r in e['key_flips'].values())
        flips += f'; {rare} more bits under 0.01' if rare else ''
        print(f"    C{i} = {text} x {e['form'] or 'another function'} "
              f"(flip rates: {flips})")
    rows.append(dict(seed=seed, perfect=perfect, **out))
  kinds = [r['kind'] for r in rows]
  names = ('pad', 'pad under a key bijection', 'pad under a balanced key map', 'neither')
  print(', '.join(f'{kinds.count(kind)} {kind}' for kind in names
                  if kind in kinds or kind != 'pad under a balanced key map') +
        f' of {len(rows)} seeds; {time.time() - start:.0f} s')
  proofs = [r['proof']['perfect'] for r in rows if 'proof' in r]
  if proofs:
    print(f'the weights prove {proofs.count(True)} perfect on every input, '
          f'{proofs.count(False)} not, and decide nothing on {proofs.count(None)}')
  if args.out:
    with open(args.out, 'w') as f:
      json.dump({'workdir': args.workdir, 'samples': args.samples, 'seeds': rows,
                 **({'first_seed': run.config.first_seed} if run.config.first_seed else {})}, f)


if __name__ == '__main__':
  main()
