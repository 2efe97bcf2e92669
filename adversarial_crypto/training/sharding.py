"""Spreads a leading axis (seeds; or pairs x fresh Eves) over all local devices.

Every item of the leading axis is independent, so each device simply runs
its own block of items: `shard_leading` wraps a function written for a block
in `shard_map`, and `put_leading` places arrays so that no data moves when
it runs. A machine with 8 accelerators thus trains 8 times the seeds at the
same speed per seed. On a CPU, `XLA_FLAGS=--xla_force_host_platform_device_count=K`
(set before JAX starts) makes K devices of the host's cores; the command-line
entry points call `one_device_per_core` to do so.
"""

import os
from typing import Any, Callable, Optional, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

AXIS = 'items'


def one_device_per_core():
  """Splits a CPU host into one XLA device per core, if JAX has not started yet.

  XLA's CPU backend keeps only about 1.3 cores busy with one program made of
  this project's small ops; a device per core runs that many blocks of seeds
  (or of evaluated pairs) side by side (docs/performance.md). It changes no
  result: every seed and pair is computed on its own. Left as is when the
  device count is already chosen (XLA_FLAGS or jax_num_cpu_devices), when
  JAX has already computed something, or on a single core. On an
  accelerator machine the extra CPU devices are unused.

  Returns:
    The number of CPU devices asked for, or None if nothing changed.
  """
  if 'xla_force_host_platform_device_count' in os.environ.get('XLA_FLAGS', ''):
    return None
  if jax.config.jax_num_cpu_devices != -1:
    return None
  cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
  if not cores or cores < 2:
    return None
  try:
    jax.config.update('jax_num_cpu_devices', cores)
  except RuntimeError:  # JAX has started: its devices are fixed
    return None
  return cores


# How a device runs the independent items of its block: one after another
# ('map', which keeps one item's activations in cache: best on CPU) or all at
# once ('vmap', which an accelerator needs to be kept busy).
LOOPS = ('map', 'vmap')


def default_loop():
  """'map' on CPU, 'vmap' on accelerators."""
  return 'map' if jax.default_backend() == 'cpu' else 'vmap'


def over_items(fn, loop):
  """`fn` of one item, applied to every item of a block (every argument's leading axis)."""
  if loop == 'vmap':
    return jax.vmap(fn)
  if loop == 'map':
    return lambda *args: jax.lax.map(lambda a: fn(*a), args)
  raise ValueError(f'unknown loop {loop!r}; choose one of {LOOPS}')


def usable_device_count(num_items, devices: Optional[Sequence[Any]] = None):
  """The most local devices that split `num_items` into equal blocks."""
  count = len(devices if devices is not None else jax.local_devices())
  return max(d for d in range(1, count + 1) if num_items % d == 0)


def make_mesh(num_items, devices: Optional[Sequence[Any]] = None):
  """A 1-D mesh over as many local devices as split `num_items` evenly.

  Args:
    num_items: length of the leading axis to be sharded.
    devices: devices to use (default: all local devices).

  Returns:
    A Mesh with the single axis `AXIS`.
  """
  devices = list(devices if devices is not None else jax.local_devices())
  count = usable_device_count(num_items, devices)
  return Mesh(np.array(devices[:count]), (AXIS,))


def leading_sharding(mesh):
  """The sharding of arrays whose leading axis is split over the mesh."""
  return NamedSharding(mesh, PartitionSpec(AXIS))


def replicated(mesh):
  """The sharding of arrays held whole on every device of the mesh."""
  return NamedSharding(mesh, PartitionSpec())


def put_leading(tree, mesh):
  """Places every leaf of `tree` with its leading axis split over the mesh."""
  return jax.device_put(tree, leading_sharding(mesh))


def shard_leading(fn: Callable, mesh):
  """Runs `fn` on each device's block of the leading axis of every argument.

  `fn` must treat the items of the leading axis independently (a vmap or
  lax.map over them); it sees only its device's block, and its outputs'
  blocks are joined along the leading axis again. Use inside jax.jit.

  Args:
    fn: block function; every argument and output leaf has a leading item axis.
    mesh: from `make_mesh`.
  """
  spec = PartitionSpec(AXIS)
  # Blocks never communicate, so the varying-axis checks have nothing to
  # find; they also reject closed-over constants inside lax.cond under vmap.
  return jax.shard_map(fn, mesh=mesh, in_specs=spec, out_specs=spec, check_vma=False)
