"""Many independent seeds trained at once, each stopping when it meets the goals.

This module owns the vmap over seeds. Seed i's key is fold_in(PRNGKey(seed), i),
so seed i trains identically whether 1 or 20 seeds run beside it.
"""

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from adversarial_crypto import symmetric


class RunState(NamedTuple):
  """All seeds of a run; every leaf has a leading seed axis except `step`."""
  train: symmetric.TrainState
  seed_keys: jax.Array   # [S, 2] uint32
  steps: jax.Array       # [S] training steps each seed has taken
  stopped: jax.Array     # [S] met the training goals and stopped changing
  bob_bits: jax.Array    # [S] at the last chunk boundary, fresh evaluation batch
  eve_bits: jax.Array    # [S]
  step: jax.Array        # scalar: steps taken by the seeds still training


class Runner(NamedTuple):
  experiment: symmetric.Experiment
  init: Any       # () -> RunState
  run_chunk: Any  # (RunState, num_steps) -> RunState, jitted; num_steps static


def seed_keys(seed, num_seeds):
  """The key of each of `num_seeds` seeds of a run with root seed `seed`."""
  root = jax.random.PRNGKey(seed)
  return jax.vmap(lambda i: jax.random.fold_in(root, i))(jnp.arange(num_seeds))


def _keep(stopped, old, new):
  mask = stopped.reshape(stopped.shape + (1,) * (new.ndim - 1))
  return jnp.where(mask, old, new)


def make_runner(config):
  """The vmapped, jitted functions of a symmetric config.

  Args:
    config: a symmetric config (see configs/sym16.py).
  """
  experiment = symmetric.make_experiment(config)
  bob_goal, eve_goal = config.success.bob_bits, config.success.eve_bits

  def init():
    keys = seed_keys(config.seed, config.num_seeds)
    train = jax.vmap(experiment.init)(keys)
    measure = jax.vmap(experiment.measure, in_axes=(0, 0, None))(train, keys, 0)
    zeros = jnp.zeros(config.num_seeds, jnp.int32)
    return RunState(train, keys, zeros, jnp.zeros(config.num_seeds, bool),
                    measure.bob_bits, measure.eve_bits, jnp.zeros((), jnp.int32))

  # No buffer donation: on Ctrl-C the last completed state must still be readable.
  @functools.partial(jax.jit, static_argnums=1)
  def run_chunk(run, num_steps):
    train, _ = jax.vmap(experiment.train_chunk, in_axes=(0, 0, 0, None))(
        run.train, run.seed_keys, run.steps, num_steps)
    # A stopped seed keeps its state; only chunk boundaries can stop a seed, so
    # discarding its chunk is the same as never having stepped it.
    train = jax.tree_util.tree_map(functools.partial(_keep, run.stopped), run.train, train)
    steps = jnp.where(run.stopped, run.steps, run.steps + num_steps)
    measure = jax.vmap(experiment.measure)(train, run.seed_keys, steps)
    bob = jnp.where(run.stopped, run.bob_bits, measure.bob_bits)
    eve = jnp.where(run.stopped, run.eve_bits, measure.eve_bits)
    stopped = run.stopped | ((bob <= bob_goal) & (eve >= eve_goal))
    return RunState(train, run.seed_keys, steps, stopped, bob, eve, run.step + num_steps)

  return Runner(experiment, jax.jit(init), run_chunk)
