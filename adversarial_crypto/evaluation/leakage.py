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

Keys of more than 20 bits are too many to try. For Alice and Bob of keyed
product units sending signs (arch 'keyed_bilinear' or 'keyed_orthogonal',
ciphertext 'sign') the weights themselves then decide
(analysis/pad_structure.py): a seed whose weights prove Alice a one-time pad
has H(P | C) = N for every ciphertext, exactly; otherwise pad_structure.entropy_bound
gives a lower bound of H(P | C) over every input (from a bound of the share of
inputs on which she departs from the pad her leading terms describe; 0 when those
use some key bit twice), and `perfect` rests on that bound, or on
analysis/key_schedule.py's proof that Alice is the pad under a bijection of the
keys, C = P[pi] * f(K) (H(P | C) = N as well). Ciphers perfect in any other way
are not recognised. Such runs of at most 20 key bits get all of them: the search
decides, the proofs and the bound are recorded beside it.

In a run of several processes (multi-host JAX) process p searches seeds p,
p + P, p + 2P, ... on its own devices and every process receives every
seed's result (an all-gather), so every process summarizes the same.
"""

import concurrent.futures
import multiprocessing
import os
import time

import jax
import ml_collections
import numpy as np
from jax.experimental import multihost_utils

from adversarial_crypto.analysis import cipher
from adversarial_crypto.analysis import key_schedule
from adversarial_crypto.analysis import key_search
from adversarial_crypto.analysis import pad_structure
from adversarial_crypto.core import bits
from adversarial_crypto.core import networks
from adversarial_crypto.evaluation import evaluator
from adversarial_crypto.training import distributed
from adversarial_crypto.training import runner

# Folded into eval_root_key; above any seed number (< 2^30), which the fresh Eves
# fold into the same root, so no Eve's key is ever a key of these messages.
LEAKAGE_STREAM = 0x4B657973


# What `perfect` rests on under method 'weights' (summary.json's key_search.rule): an
# evaluation recorded under another rule is redone (robustness.recorded_summary).
WEIGHTS_RULE = 'entropy_bound_or_key_bijection'


def proof_applies(config):
  """Whether pad_structure can prove a complete config's Alices one-time pads."""
  return (config.experiment == 'symmetric' and config.arch in networks.KEYED_ARCHS
          and config.get('ciphertext', 'tanh') == 'sign')


def method(config):
  """How `perfect` is decided: 'search' (every key tried) or 'weights' (too many
  keys; pad_structure's proof), for a config skip_reason lets through."""
  return 'search' if config.key_bits <= key_search.MAX_KEY_BITS else 'weights'


def skip_reason(config):
  """Why exact leakage is not measured for a complete config, or None when it is."""
  if not config.eval.key_search_messages:
    return 'key search off: config.eval.key_search_messages is 0'
  if config.experiment != 'symmetric':
    return (f'no key search: it needs Bob to decode under a shared key, and this run is '
            f'{config.experiment}')
  if config.key_bits > key_search.MAX_KEY_BITS and not proof_applies(config):
    return (f'no key search: 2^{config.key_bits} keys are too many to try (at most '
            f'2^{key_search.MAX_KEY_BITS}), and only keyed product-unit Alices sending signs '
            'have a proof from their weights')
  return None


def _per_seed(alice_bob_params):
  """Each seed's {'alice', 'bob'} as numpy trees, from a leading seed axis."""
  host = jax.device_get(alice_bob_params)
  num_seeds = int(jax.tree_util.tree_leaves(host['alice'])[0].shape[0])
  pick = lambda tree, s: jax.tree_util.tree_map(lambda x: np.asarray(x[s]), tree)
  return [(pick(host['alice'], s), pick(host['bob'], s)) for s in range(num_seeds)]


def perfect_bits(config):
  """The mean H(P | C) in bits that `perfect` needs: N - success.perfect_margin_bits."""
  return config.msg_bits - config.success.perfect_margin_bits


def judge_weights(config, alice_bob_params):
  """Per seed ({'alice', 'bob'} with a leading seed axis): pad_structure.prove_pad
  with key_schedule.prove_weights of Alice as its 'key_bijection', and
  pad_structure.entropy_bound of Alice, stopped once it cannot reach perfect_bits.
  A seed whose weights hold a NaN or an infinity (it diverged) is not judged: no
  proof, a bound of 0. Returns (proofs, bounds)."""
  seeds = _per_seed(alice_bob_params)
  judged = [s for s, pair in enumerate(seeds) if bool(runner.finite(pair))]
  alices, bobs = [seeds[s][0] for s in judged], [seeds[s][1] for s in judged]
  arch, need = [config.arch] * len(judged), [perfect_bits(config)] * len(judged)
  with _seed_pool(len(judged), config.msg_bits) as pool:
    proofs = dict(zip(judged, pool.map(pad_structure.prove_pad, alices, bobs, arch)))
    for s, schedule in zip(judged, pool.map(key_schedule.prove_weights, alices, arch)):
      proofs[s]['key_bijection'] = schedule
    bounds = dict(zip(judged, pool.map(pad_structure.entropy_bound, alices, arch, need)))
  reason = 'the weights are not finite (a diverged seed): not judged'
  return ([proofs.get(s, {'alice_pad': False, 'bob_exact': None, 'key_bijection': None,
                          'reason': reason})
           for s in range(len(seeds))],
          [bounds.get(s, {'bits': 0.0, 'flips': 1.0, 'elements': [None] * config.msg_bits,
                          'reason': reason})
           for s in range(len(seeds))])


class _Serial:
  """The pool's map in this process (one seed, or too few CPUs to gain)."""

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    return False

  map = staticmethod(map)


# Up to this N a seed's proof and bound take well under a second: fewer than the
# seconds a spawned pool takes to start.
SERIAL_UP_TO_BITS = 16


def _seed_pool(num_seeds, msg_bits):
  """Processes for the per-seed numpy work of judge_weights (seconds per seed at
  N = 32 and more), one per CPU up to the seeds; spawned, not forked, as JAX's
  threads may be running, and kept off the accelerator (fifteen processes would each
  claim its memory). The figures are the same as in one process on a CPU."""
  workers = min(num_seeds, (os.cpu_count() or 1) - 1)
  if workers < 2 or msg_bits <= SERIAL_UP_TO_BITS:
    return _Serial()
  return concurrent.futures.ProcessPoolExecutor(
      workers, mp_context=multiprocessing.get_context('spawn'), initializer=_on_cpu)


def _on_cpu():
  jax.config.update('jax_platforms', 'cpu')


def proved_seed(config, proof, bound):
  """A seed's figures from its weights alone (method 'weights'), in summarize_seed's
  keys: 'entropy_bits_mean' is a lower bound of H(P | C) over every input (N when
  Alice is proved the pad, or the pad under a key bijection, else entropy_bound's);
  'entropy_bits_min' and the medians are known only for those (None otherwise)."""
  n = float(config.msg_bits)
  pad = proof['alice_pad'] or _key_bijection(proof)
  return {'entropy_bits_mean': n if pad else bound['bits'],
          'entropy_bits_min': n if pad else None,
          'consistent_keys_median': float(2 ** config.key_bits) if pad else None,
          'distinct_plaintexts_median': float(2 ** config.msg_bits) if pad else None,
          'found': None, 'proof': proof, 'bound': bound}


def _key_bijection(proof):
  """Whether key_schedule proved the Alice of `proof` perfect (None when not judged)."""
  return (proof.get('key_bijection') or {}).get('perfect') is True


def _more_bijections(proofs):
  more = sum(not p['alice_pad'] and _key_bijection(p) for p in proofs)
  return f', {more} more the pad under a key bijection' if more else ''


def messages(config, seed):
  """The fresh plaintexts [M, N] and keys [M, K] of the key search of the run's seed
  `seed` (seed config.first_seed + seed of its root)."""
  root = jax.random.fold_in(evaluator.eval_root_key(config), LEAKAGE_STREAM)
  number = np.uint32(config.first_seed + seed)  # validated below 2^30
  return bits.random_messages(jax.random.fold_in(root, number),
                              config.eval.key_search_messages, config.msg_bits, config.key_bits)


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
    None when skip_reason(config) says why not; otherwise a dict: 'method'
    ('search' or 'weights'; with 'weights', 'rule': WEIGHTS_RULE), 'messages'
    and 'tolerance' (the search's; None for 'weights'), 'wall_s', and 'seeds',
    one summarize_seed dict per seed (proved_seed's for 'weights'), in order;
    where proof_applies, each seed's dict also holds its 'proof'
    (pad_structure.prove_pad) and 'bound' (pad_structure.entropy_bound).
  """
  if skip_reason(config):
    return None
  start = time.time()
  proofs, bounds = (judge_weights(config, alice_bob_params) if proof_applies(config)
                    else (None, None))
  if method(config) == 'weights':
    seeds = [proved_seed(config, proof, bound) for proof, bound in zip(proofs, bounds)]
    need = perfect_bits(config)
    log(f"exact leakage from the weights (2^{config.key_bits} keys are too many to try): "
        f"{sum(p['alice_pad'] for p in proofs)}/{len(proofs)} Alices proved one-time pads"
        f"{_more_bijections(proofs)}; "
        f"{sum(s['entropy_bits_mean'] >= need for s in seeds)}/{len(seeds)} with "
        f"H(P|C) >= {need:g} bits by the bound over every input")
    return {'method': 'weights', 'rule': WEIGHTS_RULE, 'messages': None, 'tolerance': None,
            'wall_s': time.time() - start, 'seeds': seeds}
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
  seeds = [summarize_seed(f) for f in found]
  if proofs is not None:
    for seed, proof, bound in zip(seeds, proofs, bounds):
      seed['proof'], seed['bound'] = proof, bound
  return {'method': 'search', 'messages': config.eval.key_search_messages,
          'tolerance': tolerance, 'wall_s': time.time() - start, 'seeds': seeds}


def _every_seed(found_here, processes):
  """Every seed's Leakage, in seed order, from each process's (seeds p, p + P, ...)."""
  if processes == 1:
    return found_here
  stacked = jax.tree_util.tree_map(lambda *x: np.stack(x), *found_here)
  every = multihost_utils.process_allgather(stacked)  # [P, seeds per process, M]
  return [jax.tree_util.tree_map(lambda x, s=s: x[s % processes, s // processes], every)
          for s in range(processes * len(found_here))]
