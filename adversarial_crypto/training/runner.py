"""Many independent seeds trained at once, each stopping when it meets the goals.

This module owns the loop over seeds. Seed i's key is fold_in(PRNGKey(seed), i),
so seed i trains identically whether 1 or 20 seeds run beside it. The seed
axis is split over every device of every process (sharding.py); each device runs its
block of seeds one after another (`lax.map`), which keeps one seed's
activations in cache and lets a seed that has stopped skip its chunk.

A seed diverges when a NaN or an infinity appears in its networks, optimizer
states or measures. Nothing records it: it is read off the state (`diverged`),
checked at every chunk boundary. A diverged seed skips its chunks from then on,
like a stopped seed, and never stops as trained; its non-finite state is kept
as it was, so it stays diverged, in checkpoints too. Every seed's numbers are
its own (no computation mixes seeds), so it changes no other seed's.
"""

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from adversarial_crypto.training import experiments
from adversarial_crypto.training import sharding
from adversarial_crypto.training import workdir as workdir_lib

SEED_LOOPS = sharding.LOOPS


class RunState(NamedTuple):
  """All seeds of a run; every leaf has a leading seed axis except `step`."""
  train: Any             # the experiment's TrainState
  seed_keys: jax.Array   # [S, 2] uint32
  steps: jax.Array       # [S] training steps each seed has taken
  stopped: jax.Array     # [S] met the training goals and stopped changing (never
                         # set for a diverged seed: see `diverged`)
  measure: Any           # the experiment's Measure, [S] per field: at the last
                         # chunk boundary, on a fresh evaluation batch
  step: jax.Array        # scalar: steps taken by the seeds still training

  @property
  def bob_bits(self):
    """[S] Bob's bits wrong (symmetric and asymmetric experiments)."""
    return self.measure.bob_bits

  @property
  def eve_bits(self):
    """[S] Eve's bits wrong (symmetric and asymmetric experiments)."""
    return self.measure.eve_bits


class Runner(NamedTuple):
  experiment: Any  # adversarial.Experiment or selective.Experiment
  init: Any       # () -> RunState
  run_chunk: Any  # (RunState, num_steps) -> RunState, jitted; num_steps static
  mesh: Any       # the devices the seed axis is split over


def _is_float(x):
  return jnp.issubdtype(x.dtype, jnp.inexact)


def finite(tree):
  """Whether every floating-point value of one seed's `tree` is finite (a traced bool)."""
  checks = [jnp.isfinite(x).all() for x in jax.tree_util.tree_leaves(tree) if _is_float(x)]
  return jnp.stack(checks).all() if checks else jnp.bool_(True)


def diverged(run):
  """[S] numpy bool: whether each seed's training state or measures hold a NaN or
  an infinity. Such a seed has stopped training but is not trained (module
  docstring); the same test as `finite`'s, on the host.
  """
  train, measure, steps = jax.device_get((run.train, run.measure, run.steps))
  out = np.zeros(np.shape(steps)[0], bool)
  for x in jax.tree_util.tree_leaves((train, measure)):
    x = np.asarray(x)
    if _is_float(x):
      out |= ~np.isfinite(x.reshape(out.shape[0], -1)).all(axis=1)
  return out


def load_state(workdir, config, runner=None, filename=workdir_lib.CHECKPOINT_FILE):
  """The RunState a workdir's checkpoint holds, and the chunks it had completed.

  Args:
    workdir: a training run's directory.
    config: the config the run must have been made with.
    runner: make_runner(config), if the caller has one already.
    filename: the checkpoint's file (workdir_lib.BEFORE_DIVERGENCE_FILE's, to replay
      the chunk in which a seed diverged).

  Raises:
    WorkdirError: the checkpoint is missing, corrupt or of another config.
  """
  runner = runner or make_runner(config)
  return workdir_lib.load_checkpoint(workdir, jax.eval_shape(runner.init), config, filename)


def seed_keys(seed, num_seeds, first_seed=0):
  """The keys of seeds first_seed, ..., first_seed + num_seeds - 1 of root seed `seed`:
  seed i's is fold_in(PRNGKey(seed), i), whichever run trains it."""
  root = jax.random.PRNGKey(seed)
  return jax.vmap(lambda i: jax.random.fold_in(root, i))(
      np.uint32(first_seed) + jnp.arange(num_seeds, dtype=jnp.uint32))


def make_runner(config, devices=None, seed_loop=None):
  """The sharded, jitted functions of a config (any experiment of experiments.py).

  Args:
    config: a config (see configs/sym16.py, asym16.py, selective.py).
    devices: devices to split the seeds over (default: every process's devices;
      as many as divide config.num_seeds evenly are used).
    seed_loop: how each device runs its block of seeds: 'map' (one after
      another; on CPU it compiles faster and runs as fast) or 'vmap' (all at
      once, which an accelerator needs to be kept busy). Default: 'map' on
      CPU, 'vmap' elsewhere.
  """
  seed_loop = seed_loop or sharding.default_loop()
  if seed_loop not in SEED_LOOPS:
    raise ValueError(f'unknown seed_loop {seed_loop!r}; choose one of {SEED_LOOPS}')
  experiment = experiments.make_experiment(config)
  mesh = sharding.make_mesh(config.num_seeds, devices)
  over_seeds = functools.partial(sharding.over_items, loop=seed_loop)

  split, whole = sharding.leading_sharding(mesh), sharding.replicated(mesh)
  placement = RunState(split, split, split, split, split, whole)

  def init_block(keys):
    train = over_seeds(experiment.init)(keys)
    return train, over_seeds(lambda t, k: experiment.measure(t, k, 0))(train, keys)

  @functools.partial(jax.jit, out_shardings=placement)
  def init():
    keys = seed_keys(config.seed, config.num_seeds, config.first_seed)
    train, measure = sharding.shard_leading(init_block, mesh)(keys)
    zeros = jnp.zeros(config.num_seeds, jnp.int32)
    return RunState(train, keys, zeros, jnp.zeros(config.num_seeds, bool),
                    measure, jnp.zeros((), jnp.int32))

  def chunk_block(train, keys, steps, stopped, measure, num_steps):
    def one_seed(train, key, steps, stopped, measure):
      def advance():
        new_train, _ = experiment.train_chunk(train, key, steps, num_steps)
        return new_train, steps + num_steps, experiment.measure(
            new_train, key, steps + num_steps)

      # A stopped seed keeps its state; only chunk boundaries can stop a seed,
      # so skipping its chunk is the same as never having stepped it. A
      # diverged seed keeps its state too, so it stays diverged.
      train, steps, measure = jax.lax.cond(
          stopped | ~finite((train, measure)), lambda: (train, steps, measure), advance)
      trained = experiment.goals_met(measure, steps) & finite((train, measure))
      return train, steps, stopped | trained, measure

    return over_seeds(one_seed)(train, keys, steps, stopped, measure)

  # No buffer donation: on Ctrl-C the last completed state must still be readable.
  # Inputs placed elsewhere (a checkpoint put on one device) are moved by jit.
  @functools.partial(jax.jit, static_argnums=1, out_shardings=placement)
  def run_chunk(run, num_steps):
    block = functools.partial(chunk_block, num_steps=num_steps)
    train, steps, stopped, measure = sharding.shard_leading(block, mesh)(
        run.train, run.seed_keys, run.steps, run.stopped, run.measure)
    return RunState(train, run.seed_keys, steps, stopped, measure, run.step + num_steps)

  return Runner(experiment, init, run_chunk, mesh)
