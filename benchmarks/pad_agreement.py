"""How close each seed of a keyed run is to the one-time pad its weights describe.

  python benchmarks/pad_agreement.py --workdir=WORKDIR [--messages=200000] [--out=F.json]

Per seed: the leading (plaintext bit, key bit, sign) of each ciphertext element
(pad_structure.certify), whether those bits are permutations, how many elements
are exactly +-P_j K_k on every input (certify_exactly; beyond
pad_structure.EXACT_MAX_BITS text bits, certify_decided's branch and bound, exact
where it decides: each other element has a counterexample or is undecided), and on how many of
--messages random messages Alice's ciphertext equals that pad
(pad_structure.pad_agreement), and the lower bound of H(P | C) over every input
that the weights give (pad_structure.entropy_bound; `perfect` by it: trained and
within success.perfect_margin_bits of N), beside the run's `perfect` verdict. For
keyed_bilinear or keyed_orthogonal Alices sending signs.
"""

import argparse
import json
import time

import jax
import numpy as np

import adversarial_crypto as ac
from adversarial_crypto.analysis import pad_structure
from adversarial_crypto.core import bits
from adversarial_crypto.evaluation import leakage


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--workdir', required=True, help='a finished keyed run')
  parser.add_argument('--messages', type=int, default=200_000, help='random messages per seed')
  parser.add_argument('--out', help='write the figures as JSON here')
  args = parser.parse_args()
  run = ac.load_run(args.workdir)
  config = run.config
  if not leakage.proof_applies(config):
    raise SystemExit(f'error: {args.workdir} is arch {config.arch!r} with {config.ciphertext!r} '
                     "ciphertexts; this needs a keyed arch sending signs")
  seeds = jax.tree_util.tree_leaves(run.alice)[0].shape[0]
  verdicts = {s['seed']: s for s in (run.summary or {}).get('seeds', [])}
  start, rows = time.time(), []
  print(f'{args.workdir}: {seeds} seeds, {args.messages} random messages each')
  exhaustive = config.msg_bits <= pad_structure.EXACT_MAX_BITS
  if not exhaustive:
    print(f'exact elements by branch and bound (2^{config.msg_bits} texts are too many to try '
          'one by one): decided exactly unless it says undecided')
  need = leakage.perfect_bits(config)
  print('seed  perfect  bits perm.  exact elements  messages = pad  H(P|C) >=  by bound  '
        'worst element')
  for seed in range(seeds):
    alice = jax.tree_util.tree_map(lambda x, s=seed: x[s], run.alice)
    exact = (pad_structure.certify_exactly(alice, config.arch) if exhaustive
             else pad_structure.certify_decided(alice, config.arch))
    keys = jax.random.split(jax.random.PRNGKey(seed), 2)
    p = bits.random_bits(keys[0], (args.messages, config.msg_bits))
    k = bits.random_bits(keys[1], (args.messages, config.key_bits))
    c = ac.encrypt(alice, p, k, config)
    per_message, per_element = pad_structure.pad_agreement(
        np.asarray(c), np.asarray(p), np.asarray(k), exact)
    permutations = (pad_structure.is_permutation(exact.text_bit, config.msg_bits) and
                    pad_structure.is_permutation(exact.key_bit, config.key_bits))
    perfect = verdicts.get(seed, {}).get('perfect')
    bound = pad_structure.entropy_bound(alice, config.arch)
    by_bound = bool(verdicts.get(seed, {}).get('trained')) and bound['bits'] >= need
    undecided = 0 if exact.decided is None else int((~exact.decided).sum())
    rows.append({'seed': seed, 'perfect': perfect, 'permutations': permutations,
                 'exact_elements': int(exact.certified.sum()), 'undecided_elements': undecided,
                 'messages_equal_pad': per_message, 'per_element': per_element.tolist(),
                 'entropy_bound_bits': bound['bits'], 'flips_bound': bound['flips'],
                 'perfect_by_bound': by_bound})
    print(f'{seed:4d}  {str(perfect):7s}  {str(permutations):10s}  {int(exact.certified.sum()):5d} '
          f'of {len(exact.certified):<3d}    {per_message:12.5f}  {bound["bits"]:9.4f}  '
          f'{str(by_bound):8s}  {per_element.min():.5f} '
          f'(C{int(np.argmin(per_element))})' + (f', {undecided} undecided' if undecided else ''))
  print(f'{time.time() - start:.0f} s')
  if args.out:
    with open(args.out, 'w') as f:
      json.dump({'workdir': args.workdir, 'messages': args.messages,
                 'exact_check': 'exhaustive' if exhaustive else 'branch_and_bound',
                 'perfect_bits': need, 'seeds': rows},
                f, indent=1)


if __name__ == '__main__':
  main()
