"""H(P | C) of each Alice with the decoder of her own pad skeleton, not her Bob.

  python benchmarks/alice_leakage.py --workdir=WORKDIR [--out=F.json]

The evaluator's key search (evaluation/leakage.py) decodes each ciphertext under
every key with the seed's Bob, so a seed whose Bob fails has no H(P | C), or a
lower one, whatever its Alice does. For keyed product-unit Alices sending signs
at N <= 20, this runs the same exhaustive search on the same messages with the
decoder an eavesdropper builds from Alice's weights alone
(pad_structure.skeleton_decoder of her leading terms), and prints per seed both
figures beside the run's verdicts: a seed that is not `perfect` while its Alice's
H is within 0.1 bit of N failed for Bob's sake, not Alice's.
"""

import argparse
import json
import time

import jax
import ml_collections
import numpy as np

import adversarial_crypto as ac
from adversarial_crypto.analysis import cipher
from adversarial_crypto.analysis import key_search
from adversarial_crypto.analysis import pad_structure
from adversarial_crypto.evaluation import leakage


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--workdir', required=True, help='a finished, evaluated keyed run')
  parser.add_argument('--out', help='write the figures as JSON here')
  args = parser.parse_args()
  run = ac.load_run(args.workdir)
  config = run.config
  if not leakage.proof_applies(config) or config.key_bits > key_search.MAX_KEY_BITS:
    raise SystemExit(f'error: {args.workdir} is arch {config.arch!r} with {config.ciphertext!r} '
                     f'ciphertexts and {config.key_bits} key bits; this needs a keyed arch '
                     f'sending signs with at most {key_search.MAX_KEY_BITS} key bits')
  if not config.eval.key_search_messages:
    raise SystemExit('error: config.eval.key_search_messages is 0; set it (e.g. 64) to search')
  frozen = ml_collections.FrozenConfigDict(config)
  seeds = {s['seed']: s for s in (run.summary or {}).get('seeds', [])}
  num_seeds = jax.tree_util.tree_leaves(run.alice)[0].shape[0]
  as_f32 = lambda t: jax.tree_util.tree_map(lambda x: np.asarray(x, np.float32), t)
  target = config.msg_bits - 0.1
  print(f'{args.workdir}: {num_seeds} seeds, {config.eval.key_search_messages} ciphertexts each')
  print('seed  trained  perfect  H(P|C) with Bob  with the skeleton: mean  min  explained')
  rows, start = [], time.time()
  for i in range(num_seeds):
    alice = jax.tree_util.tree_map(lambda x, i=i: np.asarray(x[i]), run.alice)
    cert = pad_structure.certify(alice, config.arch)   # only its leading (j, k, s)
    verdicts = seeds.get(i, {})
    bob_h = (verdicts.get('leakage') or {}).get('entropy_bits_mean')
    row = {'seed': i, 'trained': verdicts.get('trained'), 'perfect': verdicts.get('perfect'),
           'bob_entropy_bits_mean': bob_h, 'skeleton_entropy_bits_mean': None,
           'skeleton_entropy_bits_min': None, 'skeleton_found': 0.0}
    if pad_structure.is_permutation(cert.text_bit, config.msg_bits):
      decoder = as_f32(pad_structure.skeleton_decoder(cert, config.key_bits, config.arch))
      plaintext, key = leakage.messages(config, i)
      ciphertext = cipher.encrypt(as_f32(alice), plaintext, key, frozen)
      found = key_search.leakage(as_f32(alice), decoder, ciphertext, frozen,
                                 config.eval.key_search_tolerance)
      h = np.asarray(found.entropy, np.float64)
      row['skeleton_found'] = float(np.mean(np.isfinite(h)))   # ciphertexts some key explains
      if np.isfinite(h).any():
        row['skeleton_entropy_bits_mean'] = float(np.nanmean(h))
        row['skeleton_entropy_bits_min'] = float(np.nanmin(h))
    rows.append(row)
    fmt = lambda x: '-' if x is None else f'{x:.4f}'
    print(f"{i:4d}  {str(row['trained']):7s}  {str(row['perfect']):7s}  {fmt(bob_h):>15s}  "
          f"{fmt(row['skeleton_entropy_bits_mean']):>22s}  {fmt(row['skeleton_entropy_bits_min'])}  "
          f"{row['skeleton_found']:.3f}")
  # Within 0.1 bit on the mean, every ciphertext explained by some key (as `perfect`
  # reads the mean over the explained ones, this asks more).
  whole = [r for r in rows
           if (r['skeleton_entropy_bits_mean'] or 0) >= target and r['skeleton_found'] == 1.0]
  print(f'Alice within 0.1 bit of N by her skeleton, every ciphertext explained: '
        f'{len(whole)}/{num_seeds}; of them not '
        f"perfect: {sum(not r['perfect'] for r in whole)} ({time.time() - start:.0f} s)")
  if args.out:
    with open(args.out, 'w') as f:
      json.dump({'workdir': args.workdir, 'messages': config.eval.key_search_messages,
                 'seeds': rows}, f, indent=1)


if __name__ == '__main__':
  main()
