"""A finished run as a cipher: load it, then encrypt, decrypt and eavesdrop.

    run = load_run('runs/sym16')
    alice, bob, eve = run.seed_params(3)
    ciphertext = encrypt(alice, plaintext, key, run.config)
    plaintext_bob = decrypt(bob, ciphertext, key, run.config)
    plaintext_eve = eavesdrop(eve, ciphertext, run.config)

Arrays are -1/+1 floats of shape [..., N] (keys [..., K]); outputs lie in
(-1, 1), and their signs are the decoded bits. The functions are pure: jit
them with the config static (`run.config` is a hashable FrozenConfigDict) or
vmap them over seeds.
"""

import json
import os
from typing import Any, NamedTuple, Optional

import jax
import ml_collections
import numpy as np

from adversarial_crypto import config as config_lib
from adversarial_crypto.core import recipe
from adversarial_crypto.extensions import training_eves
from adversarial_crypto.training import runner as runner_lib
from adversarial_crypto.training import workdir as workdir_lib


class Run(NamedTuple):
  """A run loaded from its workdir; parameters carry a leading seed axis."""
  config: ml_collections.FrozenConfigDict
  summary: Optional[dict]   # None while the run has not written one
  alice: Any
  bob: Any
  eve: Any                  # the Eve trained beside Alice and Bob; with
                            # config.train_eves.count K > 1, the K main Eves
                            # ([S, K, ...]; pick one for eavesdrop)
  steps: Any                # [S] training steps of each seed
  trained: Any              # [S] whether each seed met the training goals

  @property
  def num_seeds(self):
    return int(self.steps.shape[0])

  def seed_params(self, seed):
    """(alice, bob, eve) parameters of one seed."""
    if not 0 <= seed < self.num_seeds:
      raise IndexError(f'seed {seed} is not in this run: it has seeds 0..{self.num_seeds - 1}')
    pick = lambda tree: jax.tree_util.tree_map(lambda x: x[seed], tree)
    return pick(self.alice), pick(self.bob), pick(self.eve)


def load_run(workdir):
  """Loads a run's config, summary and every seed's trained parameters.

  Args:
    workdir: the directory a training run wrote (config.json, checkpoint.msgpack);
      or one that kept only its summary.json and workdir_lib.WEIGHTS_FILE (then
      `eve` is None).

  Returns:
    A Run.

  Raises:
    WorkdirError: the workdir is missing, holds no run, or its checkpoint is
      missing, corrupt or of another config.
  """
  if not os.path.isdir(workdir):
    raise workdir_lib.WorkdirError(f'{workdir} does not exist')
  try:
    config_dict = workdir_lib.load_config_dict(workdir)
  except ValueError as e:
    raise workdir_lib.WorkdirError(f'the config.json in {workdir} is corrupt ({e})') from e
  config = config_lib.complete(config_dict)
  if config.experiment != 'symmetric':
    raise workdir_lib.WorkdirError(
        f'{workdir} holds a {config.experiment} run; load_run, encrypt, decrypt and '
        'eavesdrop cover symmetric runs. Build its functions with '
        'adversarial_crypto.training.experiments.make_experiment(config) instead.')
  try:
    summary = workdir_lib.read_summary(workdir)
  except (workdir_lib.WorkdirError, json.JSONDecodeError):
    summary = None
  if (not workdir_lib.has_checkpoint(workdir) and
      os.path.exists(os.path.join(workdir, workdir_lib.WEIGHTS_FILE))):
    return _weights_only_run(workdir, config, summary)
  runner = runner_lib.make_runner(config)
  state, _ = runner_lib.load_state(workdir, config, runner)
  return Run(ml_collections.FrozenConfigDict(config), summary,
             state.train.alice_bob['alice'], state.train.alice_bob['bob'],
             runner.experiment.eve_params(state.train.eve),
             state.steps, state.stopped)


def _weights_only_run(workdir, config, summary):
  """A run that kept only workdir_lib.WEIGHTS_FILE: no Eve; steps and trained from
  its summary.json."""
  if not summary or not summary.get('seeds'):
    raise workdir_lib.WorkdirError(
        f'{workdir} holds {workdir_lib.WEIGHTS_FILE} but no summary.json of its seeds; '
        'copy the summary.json of the run that wrote it beside it')
  weights = workdir_lib.load_weights(workdir)
  seeds = summary['seeds']
  return Run(ml_collections.FrozenConfigDict(config), summary, weights['alice'],
             weights['bob'], None, np.array([s['steps_trained'] for s in seeds]),
             np.array([bool(s['trained']) for s in seeds]))


def _check_symmetric(config):
  if config.experiment != 'symmetric':
    raise ValueError(f'encrypt, decrypt and eavesdrop take symmetric configs; this one is '
                     f'{config.experiment!r} (use '
                     'adversarial_crypto.training.experiments.make_experiment)')


def _check_bits(name, x, bits):
  if x.shape[-1] != bits:
    raise ValueError(f'{name} has {x.shape[-1]} bits in its last axis, the config wants {bits}')


def encrypt(alice_params, plaintext, key, config):
  """Alice: the ciphertext [..., N] of plaintext [..., N] under key [..., K]
  (her hard -1/+1 decisions when config.ciphertext is 'sign')."""
  _check_symmetric(config)
  _check_bits('plaintext', plaintext, config.msg_bits)
  _check_bits('key', key, config.key_bits)
  return recipe.make_scheme(config).encrypt({'alice': alice_params}, plaintext, key)[0]


def decrypt(bob_params, ciphertext, key, config):
  """Bob: his guess [..., N] of the plaintext, from the ciphertext and the key."""
  _check_symmetric(config)
  _check_bits('ciphertext', ciphertext, config.msg_bits)
  _check_bits('key', key, config.key_bits)
  return recipe.make_scheme(config).decrypt({'bob': bob_params}, ciphertext, key)


def eavesdrop(eve_params, ciphertext, config):
  """Eve: her guess [..., N] of the plaintext, from the ciphertext alone."""
  _check_symmetric(config)
  if config.train_eves.game == 'distinguish':
    raise ValueError("this config's training Eves tell which of two plaintexts a ciphertext "
                     "encrypts (config.train_eves.game); they do not guess the plaintext. "
                     'Train a fresh Eve on the frozen Alice instead (adversarial_crypto.evaluate)')
  _check_bits('ciphertext', ciphertext, config.msg_bits)
  # A parity Eve guesses the bits first, then their pairwise parities.
  guess = training_eves.make_main_eve(config, config.msg_bits).apply(eve_params, ciphertext)
  return guess[..., :config.msg_bits]
