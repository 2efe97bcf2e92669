"""Can Alice's network learn the one-time pad when it is taught it directly?

In -1/+1 form the one-time pad is C = P x K, bit by bit: perfectly secret,
and Bob decrypts with the same product. Any adversarial recipe that makes
Alice secure against every Eve must find something as good. This benchmark
takes the adversary out: it trains Alice's network of each architecture,
supervised, to output P x K from [P, K] (N = 16, Adam 0.0008, the
training minibatch, the L1 loss in bits wrong) and prints the bits wrong on
a fresh batch as it learns. An architecture that cannot learn the pad even
when shown it cannot be expected to find it through an adversary.

  python benchmarks/otp_learnability.py --steps=10000 --out=runs/otp_learnability.json
"""

import json
import os
import sys
import time

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import optax

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
from adversarial_crypto.core import bits
from adversarial_crypto.core import losses
from adversarial_crypto.core import networks

_ARCHS = flags.DEFINE_list('archs', ['paper', 'tf_models', 'mlp'], 'Alice architectures.')
_HIDDEN = flags.DEFINE_list('hidden', ['128', '128'], "Hidden sizes of 'mlp' and 'bilinear'.")
_BITS = flags.DEFINE_integer('bits', 16, 'N: plaintext and key bits.')
_BATCH = flags.DEFINE_integer('batch_size', 512, 'Minibatch.')
_STEPS = flags.DEFINE_integer('steps', 10_000, 'Training steps.')
_EVERY = flags.DEFINE_integer('every', 1_000, 'Measure this often.')
_SEEDS = flags.DEFINE_integer('seeds', 3, 'Initialisations per architecture (vmapped).')
_OUT = flags.DEFINE_string('out', None, 'JSON results.')


def learn_pad(arch, n, hidden, batch, steps, every, seeds, log=print):
  """Bits wrong of `seeds` Alices of `arch` trained to output P x K, every `every` steps.

  Returns:
    A list of (step, [bits wrong per seed]) on fresh batches of 4096.
  """
  net = networks.make_network(arch, 2 * n, n, hidden)
  opt = optax.adam(0.0008)

  def loss(params, plaintext, key):
    guess = net.apply(params, jnp.concatenate([plaintext, key], -1))
    return jnp.mean(losses.bits_wrong(plaintext * key, guess))

  def one_seed(seed_key, params, opt_state, first):
    def body(carry, step):
      params, opt_state = carry
      grads = jax.grad(loss)(params, *bits.random_messages(
          jax.random.fold_in(seed_key, step), batch, n, n))
      updates, opt_state = opt.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), None

    (params, opt_state), _ = jax.lax.scan(body, (params, opt_state), first + jnp.arange(every))
    # A step number training never reaches: a held-out batch.
    test = bits.random_messages(jax.random.fold_in(seed_key, 2 ** 31), 4096, n, n)
    return params, opt_state, loss(params, *test)

  keys = jax.random.split(jax.random.PRNGKey(0), seeds)
  params = jax.vmap(net.init)(keys)
  opt_state = jax.vmap(opt.init)(params)
  chunk = jax.jit(jax.vmap(one_seed, in_axes=(0, 0, 0, None)))
  history = []
  for first in range(0, steps, every):
    start = time.time()
    params, opt_state, wrong = chunk(keys, params, opt_state, first)
    wrong = [round(float(w), 4) for w in wrong]
    history.append((first + every, wrong))
    log(f'{arch:9s} step {first + every:>6d}: bits wrong of P x K per seed {wrong} '
        f'({time.time() - start:.1f} s)')
  return history


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  hidden = tuple(int(h) for h in _HIDDEN.value)
  results = {}
  for arch in _ARCHS.value:
    history = learn_pad(arch, _BITS.value, hidden, _BATCH.value, _STEPS.value, _EVERY.value,
                        _SEEDS.value)
    results[arch] = {'history': history, 'final_bits_wrong': history[-1][1]}
  print(f'one-time pad learnt by supervision, N = {_BITS.value}, minibatch {_BATCH.value}, '
        f'{_STEPS.value} steps, {_SEEDS.value} seeds; bits wrong of P x K at the end:')
  for arch, r in results.items():
    label = f'{arch} {"x".join(map(str, hidden))}' if arch in ('mlp', 'bilinear') else arch
    print(f'  {label:12s} {r["final_bits_wrong"]}')
  if _OUT.value:
    with open(_OUT.value, 'w') as f:
      json.dump({'argv': sys.argv, 'bits': _BITS.value, 'batch_size': _BATCH.value,
                 'steps': _STEPS.value, 'hidden': hidden, 'results': results}, f, indent=2)
    print(f'wrote {_OUT.value}')


if __name__ == '__main__':
  app.run(main)
