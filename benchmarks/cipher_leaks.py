"""Where do trained ciphers leak? Moments, magnitudes and signs of Alice's output.

For every seed of finished symmetric runs, on fresh plaintexts each under
many fresh keys, it prints:

  linear   losses.moment_leak, order 1: the share of the ciphertext's
           (whitened) variance that the plaintext explains; 0 for the
           one-time pad, 1 for a cipher that ignores the key;
  order 2  the same with every product C_a C_b added;
  |C|      the mean magnitude of the ciphertext (tanh outputs lie in (-1, 1));
  Bob      Bob's bits wrong on the ciphertext, and his hard-decision bits
           wrong when he is given only its signs;
  sign Eve (with --sign_eves) the best hard-decision bits wrong of fresh
           'mlp' Eves (config.eval) trained on the ciphertext's signs alone;
  fresh Bob (with --fresh_bob_steps S) the bits wrong of a new Bob, of the
           run's architecture, trained S steps from scratch on the frozen
           Alice: what her cipher still carries, apart from the trained Bob.
  parities (with --parity_eve_steps S) a fresh Eve of the evaluator's 'parity'
           attacker (config.eval.mlp_hidden, config.eval.mlp_loss) trained S
           steps to guess, from the ciphertext alone, every product P_i P_k
           (i < k) of two plaintext bits (their XOR, in 0/1 form): her
           hard-decision error rate over the N(N-1)/2 parities and on the
           parity she reads best (chance: 0.5 on both). A key bit used twice
           leaks such parities while hiding every bit: a per-bit Eve cannot see them.

A fresh MLP Eve that reads a cipher whose linear and order-2 shares are
near 0 reads it through higher moments; one that cannot read its signs,
where Bob cannot either, reads the magnitudes.

  python benchmarks/cipher_leaks.py --runs=best=runs/best,best_leak=runs/best_leak --sign_eves
"""

import json
import os
import sys

from absl import app
from absl import flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
from adversarial_crypto.training import sharding

sharding.one_device_per_core()

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adversarial_crypto.core import recipe
from adversarial_crypto.evaluation import attackers
from adversarial_crypto.core import bits
from adversarial_crypto.analysis import cipher
from adversarial_crypto.evaluation import evaluator
from adversarial_crypto.core import losses

_RUNS = flags.DEFINE_list('runs', None, 'NAME=WORKDIR pairs of finished symmetric runs.')
_PLAINTEXTS = flags.DEFINE_integer('plaintexts', 1024, 'Fresh plaintexts per seed.')
_KEYS = flags.DEFINE_integer('keys', 16, 'Fresh keys per plaintext.')
_SIGN_EVES = flags.DEFINE_bool('sign_eves', False,
                               "Also train fresh 'mlp' Eves on the ciphertext's signs.")
_FRESH_BOB_STEPS = flags.DEFINE_integer('fresh_bob_steps', 0,
                                        'Train a fresh Bob this many steps per seed (0: none).')
_PARITY_EVE_STEPS = flags.DEFINE_integer(
    'parity_eve_steps', 0, 'Train a fresh Eve of the pairwise parities this many steps per '
    'seed (0: none).')
_OUT = flags.DEFINE_string('out', None, 'JSON results.')


def leaks(run, num_plaintexts, num_keys, rng):
  """Per seed: linear and order-2 moment leak, mean |C|, Bob's bits on C and on sign(C)."""
  config = run.config
  n = config.msg_bits
  k_p, k_k = jax.random.split(rng)
  plaintext = jnp.broadcast_to(bits.random_bits(k_p, (num_plaintexts, 1, n)),
                               (num_plaintexts, num_keys, n))
  key = bits.random_bits(k_k, (num_plaintexts, num_keys, config.key_bits))

  @jax.jit
  def one(alice, bob):
    c = cipher.encrypt(alice, plaintext, key, config)
    decrypt = lambda x: cipher.decrypt(bob, x, key, config)
    return {'linear': losses.moment_leak(c, 1), 'order2': losses.moment_leak(c, 2),
            'mean_abs_c': jnp.mean(jnp.abs(c)),
            'bob_bits': jnp.mean(losses.bits_wrong(plaintext, decrypt(c))),
            'bob_hard_bits_on_signs': jnp.mean(
                losses.hard_bits_wrong(plaintext, decrypt(jnp.sign(c))))}

  seeds = jax.tree_util.tree_leaves(run.alice)[0].shape[0]
  pick = lambda tree, s: jax.tree_util.tree_map(lambda x: x[s], tree)
  return [{name: float(v) for name, v in one(pick(run.alice, s), pick(run.bob, s)).items()}
          for s in range(seeds)]


def sign_eves(run):
  """Per seed, the best hard bits wrong of fresh 'mlp' Eves that see only sign(C)."""
  config = run.config.as_configdict()
  config.eval.attackers = ('mlp',)
  scheme = recipe.make_scheme(config, bits.COLUMNS)

  def signs(params, plaintext, key):
    return jnp.sign(scheme.encrypt(params, plaintext, key)[0])

  result = evaluator.evaluate_cipher(
      signs, {'alice': run.alice}, config.msg_bits, config.key_bits, config.eval,
      evaluator.eval_root_key(config), attackers.make_attackers(config), log=lambda _: None,
      layout=bits.COLUMNS)
  return [float(x) for x in np.min(result.best_hard_bits['mlp'], -1)]


def _train_fresh(run, net, learning_rate, task, loss, report, steps, rng):
  """Per seed, `net` trained from scratch for `steps` Adam steps of
  config.batch_size against the run's frozen Alice, then `report`ed on 4096
  fresh examples.

  task(alice, key, size) -> (input, target), batches as columns;
  loss(params, input, target) -> scalar; report(params, input, target) -> a
  tuple of scalars. Returns one tuple of floats per seed.
  """
  optimizer = optax.adam(learning_rate)

  def one(alice, seed_key):
    params = net.init(jax.random.fold_in(seed_key, 0))

    def step(carry, i):
      params, opt = carry
      x, target = task(alice, jax.random.fold_in(jax.random.fold_in(seed_key, 1), i),
                       run.config.batch_size)
      updates, opt = optimizer.update(jax.grad(loss)(params, x, target), opt, params)
      return (optax.apply_updates(params, updates), opt), None

    (params, _), _ = jax.lax.scan(step, (params, optimizer.init(params)), jnp.arange(steps))
    return report(params, *task(alice, jax.random.fold_in(seed_key, 2), 4096))

  seeds = jax.tree_util.tree_leaves(run.alice)[0].shape[0]
  out = jax.jit(lambda a, k: jax.lax.map(lambda x: one(*x), (a, k)))(
      run.alice, jax.random.split(rng, seeds))
  return [tuple(float(v) for v in row) for row in zip(*out)]


def fresh_bobs(run, steps, rng):
  """Per seed, the bits wrong (and hard bits wrong) of a Bob trained from scratch,
  `steps` Adam steps of config.batch_size, against the run's frozen Alice."""
  config = run.config
  scheme = recipe.make_scheme(config, bits.COLUMNS)
  axis = scheme.layout.bit_axis

  def task(alice, key, size):
    plaintext, msg_key = bits.random_messages(key, size, config.msg_bits, config.key_bits,
                                              scheme.layout)
    return (scheme.encrypt({'alice': alice}, plaintext, msg_key)[0], msg_key), plaintext

  def guess(params, seen):
    return scheme.decrypt({'bob': params}, *seen)

  def loss(params, seen, plaintext):
    return jnp.mean(losses.bits_wrong(plaintext, guess(params, seen), axis))

  def report(params, seen, plaintext):
    out = guess(params, seen)
    return (jnp.mean(losses.bits_wrong(plaintext, out, axis)),
            jnp.mean(losses.hard_bits_wrong(plaintext, out, axis)))

  return _train_fresh(run, scheme.networks['bob'], config.learning_rate, task, loss, report,
                      steps, rng)


def parity_eves(run, steps, rng):
  """Per seed, (mean, lowest) hard-decision error rate of a fresh Eve of the
  evaluator's 'parity' attacker, trained `steps` Adam steps of config.batch_size
  to guess every P_i P_k, i < k, from C: the lowest is over the parities, which
  the attacker's own measure averages."""
  config = run.config
  scheme = recipe.make_scheme(config, bits.COLUMNS)
  attacker = attackers.make_attacker('parity', config)
  eve = attacker.network

  def task(alice, key, size):
    plaintext, msg_key = bits.random_messages(key, size, config.msg_bits, config.key_bits,
                                              scheme.layout)
    ciphertext = scheme.encrypt({'alice': alice}, plaintext, msg_key)[0]  # [N, B]
    return attacker.task(plaintext, ciphertext, scheme.layout)  # C, parities [N(N-1)/2, B]

  def report(params, ciphertext, parity):
    wrong = jnp.mean(jnp.sign(eve.logits_columns(params, ciphertext)) != parity, axis=1)
    return jnp.mean(wrong), jnp.min(wrong)

  loss = recipe.make_eve_loss(attacker.loss_name, eve, scheme.layout)
  return _train_fresh(run, eve, config.eval.learning_rate, task, loss, report, steps, rng)


def main(argv):
  del argv
  if not _RUNS.value:
    raise app.UsageError('--runs=NAME=WORKDIR,... is required')
  out = {}
  for item in _RUNS.value:
    name, _, workdir = item.partition('=')
    run = cipher.load_run(workdir)
    rows = leaks(run, _PLAINTEXTS.value, _KEYS.value, jax.random.PRNGKey(0))
    if _SIGN_EVES.value:
      for row, bits_wrong in zip(rows, sign_eves(run)):
        row['sign_eve_hard_bits'] = bits_wrong
    if _FRESH_BOB_STEPS.value:
      for row, (soft, hard) in zip(rows, fresh_bobs(run, _FRESH_BOB_STEPS.value,
                                                    jax.random.PRNGKey(1))):
        row['fresh_bob_bits'], row['fresh_bob_hard_bits'] = soft, hard
    if _PARITY_EVE_STEPS.value:
      for row, (mean, lowest) in zip(rows, parity_eves(run, _PARITY_EVE_STEPS.value,
                                                       jax.random.PRNGKey(2))):
        row['parity_eve_error'], row['parity_eve_lowest_error'] = mean, lowest
    out[name] = {'workdir': workdir, 'seeds': rows}
    print(f'{name} ({workdir})')
    for s, row in enumerate(rows):
      sign = (f" | sign Eve {row['sign_eve_hard_bits']:.2f}" if 'sign_eve_hard_bits' in row
              else '')
      if 'fresh_bob_bits' in row:
        sign += (f" | fresh Bob {row['fresh_bob_bits']:.3f} (hard "
                 f"{row['fresh_bob_hard_bits']:.2f})")
      if 'parity_eve_error' in row:
        sign += (f" | parity Eve error {row['parity_eve_error']:.3f} (best parity "
                 f"{row['parity_eve_lowest_error']:.3f})")
      print(f"  seed {s}: linear {row['linear']:.3f} order 2 {row['order2']:.3f} | "
            f"|C| {row['mean_abs_c']:.2f} | Bob {row['bob_bits']:.3f}, on signs "
            f"{row['bob_hard_bits_on_signs']:.2f}{sign}")
  if _OUT.value:
    with open(_OUT.value, 'w') as f:
      json.dump(out, f, indent=2)
    print(f'wrote {_OUT.value}')


if __name__ == '__main__':
  app.run(main)
