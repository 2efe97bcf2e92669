"""Exact leakage of each trained Alice: H(P | C) by trying every key.

Beyond the paper. For each seed of a symmetric run, draws
config.eval.key_search_messages fresh plaintexts and keys, encrypts them with
that seed's Alice, and gives every ciphertext to the exhaustive key search
(analysis/key_search.leakage): all 2^K keys, Bob's decoding under each,
Alice's re-encryption of it within config.eval.key_search_tolerance. The
entropy of the plaintext given the ciphertext is N bits for a perfect cipher
and less for every bit it leaks; the verdict `perfect` (verdicts.py) rests on
its mean. It is the entropy for an eavesdropper who knows Alice and Bob and
tries Bob's decoding under each key; key_search's docstring says when it is
the true H(P | C = c).

The messages and keys come from a stream of their own, folded into
evaluator.eval_root_key(config), so the fresh Eves' keys are as before.

In a run of several processes (multi-host JAX) process p searches seeds p,
p + P, p + 2P, ... on its own devices and every process receives every
seed's result (an all-gather), so every process summarizes the same.
"""

import time

import jax
import ml_collections
import numpy as np
from jax.experimental import multihost_utils

from adversarial_crypto.analysis import cipher
from adversarial_crypto.analysis import key_search
from adversarial_crypto.core import bits
from adversarial_crypto.evaluation import evaluator
from adversarial_crypto.training import distributed

# Folded into eval_root_key; far above any seed index, which the fresh Eves fold
# into the same root, so no Eve's key is ever a key of these messages.
LEAKAGE_STREAM = 0x4B657973


def skip_reason(config):
  """Why the key search does not run for a complete config, or None when it does."""
  if not config.eval.key_search_messages:
    return 'key search off: config.eval.key_search_messages is 0'
  if config.experiment != 'symmetric':
    return (f'no key search: it needs Bob to decode under a shared key, and this run is '
            f'{config.experiment}')
  if config.key_bits > key_search.MAX_KEY_BITS:
    return (f'no key search: 2^{config.key_bits} keys are too many to try (at most '
            f'2^{key_search.MAX_KEY_BITS})')
  return None


def messages(config, seed):
  """The fresh plaintexts [M, N] and keys [M, K] of seed `seed`'s key search."""
  root = jax.random.fold_in(evaluator.eval_root_key(config), LEAKAGE_STREAM)
  return bits.random_messages(jax.random.fold_in(root, seed), config.eval.key_search_messages,
                              config.msg_bits, config.key_bits)


def summarize_seed(found):
  """One seed's figures from key_search.leakage's Leakage over its M ciphertexts.

  Returns:
    A dict: 'entropy_bits_mean' and 'entropy_bits_min' (H(P | C = c) over the
    ciphertexts some key explains; None when none is), 'consistent_keys_median'
    and 'distinct_plaintexts_median' (over all M, 0 where no key explains one)
    and 'found' (the fraction some key explains).
  """
  h = np.asarray(found.entropy, np.float64)
  explained = np.isfinite(h)
  return {'entropy_bits_mean': float(np.mean(h[explained])) if explained.any() else None,
          'entropy_bits_min': float(np.min(h[explained])) if explained.any() else None,
          'consistent_keys_median': float(np.median(np.asarray(found.consistent))),
          'distinct_plaintexts_median': float(np.median(np.asarray(found.distinct))),
          'found': float(np.mean(explained))}


def measure_alices(config, alice_bob_params, log=print):
  """The exact leakage of every seed's Alice.

  Args:
    config: a complete symmetric config (config.eval.key_search_messages,
      key_search_tolerance).
    alice_bob_params: {'alice', 'bob'} parameters with a leading seed axis [S, ...].
    log: where progress lines go.

  Returns:
    None when skip_reason(config) says why not; otherwise a dict: 'messages'
    and 'tolerance' (the search's), 'wall_s', and 'seeds', one summarize_seed
    dict per seed, in order.
  """
  if skip_reason(config):
    return None
  frozen = ml_collections.FrozenConfigDict(config)
  alices, bobs = alice_bob_params['alice'], alice_bob_params['bob']
  num_seeds = int(jax.tree_util.tree_leaves(alices)[0].shape[0])
  tolerance = float(config.eval.key_search_tolerance)
  tries = config.eval.key_search_messages * 2 ** config.key_bits
  # This process's seeds: all of them with one process (or seeds that several
  # do not divide evenly: then every process searches every seed).
  processes = distributed.process_count()
  if num_seeds % processes:
    processes = 1
  mine = list(range(distributed.process_index() % processes, num_seeds, processes))
  found_here, start = [], time.time()
  for n, s in enumerate(mine):
    pick = lambda tree, s=s: jax.tree_util.tree_map(lambda x: x[s], tree)
    alice, bob = pick(alices), pick(bobs)
    plaintext, key = messages(config, s)
    found = key_search.leakage(alice, bob, cipher.encrypt(alice, plaintext, key, frozen),
                               frozen, tolerance)
    found_here.append(jax.device_get(found))
    elapsed = time.time() - start
    mean = summarize_seed(found_here[-1])['entropy_bits_mean']
    log(f'key search seed {s + 1}/{num_seeds} | {(n + 1) * tries / elapsed:9.0f} keys/s | '
        f'{elapsed / (n + 1) * (len(mine) - n - 1):5.0f} s left | H(P|C) mean '
        + ('-' if mean is None else f'{mean:.3f}') + f' of {config.msg_bits} bits')
  found = _every_seed(found_here, processes)
  return {'messages': config.eval.key_search_messages, 'tolerance': tolerance,
          'wall_s': time.time() - start, 'seeds': [summarize_seed(f) for f in found]}


def _every_seed(found_here, processes):
  """Every seed's Leakage, in seed order, from each process's (seeds p, p + P, ...)."""
  if processes == 1:
    return found_here
  stacked = jax.tree_util.tree_map(lambda *x: np.stack(x), *found_here)
  every = multihost_utils.process_allgather(stacked)  # [P, seeds per process, M]
  return [jax.tree_util.tree_map(lambda x, s=s: x[s % processes, s // processes], every)
          for s in range(processes * len(found_here))]
