"""Encrypts a text with one trained pair and shows what Bob and Eve make of it.

  python -m adversarial_crypto.demo --workdir=runs/sym16 --seed=3 "some text"

A learned toy cipher, not security: never use it to protect anything.
"""

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
from absl import app
from absl import flags

from adversarial_crypto.core import bits
from adversarial_crypto.analysis import blocks
from adversarial_crypto.analysis import cipher
from adversarial_crypto.core import losses
from adversarial_crypto.training import workdir as workdir_lib

_WORKDIR = flags.DEFINE_string('workdir', None, 'A finished training run.')
_SEED = flags.DEFINE_integer('seed', 0, 'Which trained pair of the run.')


def demo(run, seed, text, rng):
  """Encrypts `text` block by block under fresh random keys; returns a dict of results."""
  alice, bob, eve = run.seed_params(seed)
  data = text.encode()
  plaintext = jnp.asarray(blocks.bytes_to_blocks(data, run.config.msg_bits))
  key = bits.random_bits(rng, (plaintext.shape[0], run.config.key_bits))
  ciphertext = cipher.encrypt(alice, plaintext, key, run.config)
  bob_guess = cipher.decrypt(bob, ciphertext, key, run.config)
  eve_guess = cipher.eavesdrop(eve, ciphertext, run.config)
  return {'plaintext': plaintext, 'key': key, 'ciphertext': ciphertext,
          'bob_text': blocks.blocks_to_bytes(bob_guess, len(data)),
          'eve_text': blocks.blocks_to_bytes(eve_guess, len(data)),
          'bob_bits_wrong': int(losses.hard_bits_wrong(plaintext, bob_guess).sum()),
          'eve_bits_wrong': int(losses.hard_bits_wrong(plaintext, eve_guess).sum()),
          'total_bits': int(plaintext.size)}


def main(argv):
  if len(argv) != 2 or not _WORKDIR.value:
    sys.exit('usage: python -m adversarial_crypto.demo --workdir=DIR [--seed=I] "some text"')
  try:
    run = cipher.load_run(_WORKDIR.value)
    result = demo(run, _SEED.value, argv[1],
                  jax.random.PRNGKey(int.from_bytes(os.urandom(4), 'little')))
  except (workdir_lib.WorkdirError, IndexError) as e:
    sys.exit(f'error: {e}')
  print('A learned toy cipher, not security: never use it to protect anything.')
  print(f"seed {_SEED.value} ({'trained' if run.trained[_SEED.value] else 'NOT trained'}), "
        f"{result['plaintext'].shape[0]} blocks of {run.config.msg_bits} bits, fresh random keys")
  print('ciphertext, first block:', np.array2string(
      np.asarray(result['ciphertext'][0]), precision=2, suppress_small=True))
  print(f"Bob decrypts: {result['bob_text']!r}  "
        f"({result['bob_bits_wrong']}/{result['total_bits']} bits wrong)")
  print(f"Eve guesses:  {result['eve_text']!r}  "
        f"({result['eve_bits_wrong']}/{result['total_bits']} bits wrong)")


if __name__ == '__main__':
  app.run(main)
