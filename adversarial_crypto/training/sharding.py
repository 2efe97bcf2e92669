"""Spreads a leading axis (seeds; or pairs x fresh Eves) over every device.

Every item of the leading axis is independent, so each device simply runs
its own block of items: `shard_leading` wraps a function written for a block
in `shard_map`, and `put_leading` places arrays so that no data moves when
it runs. A machine with 8 accelerators thus trains 8 times the seeds at the
same speed per seed. On a CPU, `XLA_FLAGS=--xla_force_host_platform_device_count=K`
(set before JAX starts) makes K devices of the host's cores; the command-line
entry points call `one_device_per_core` to do so.

The mesh spans every process's devices (jax.devices()): in a run of several
processes (multi-host JAX, distributed.py) each process computes the blocks
of its own devices. Arrays spread so cannot be read on one host: `to_host`
gathers them (an all-gather over the processes); `put_global` and
`put_leading` build them from a host copy that every process holds.
With one process all of this is what it was: jax.devices() are the local
devices, `to_host` is jax.device_get and `put_global` jax.device_put.
"""

import os
from typing import Any, Callable, Optional, Sequence

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from adversarial_crypto import config as config_lib

AXIS = 'items'


def one_device_per_core():
  """Splits a CPU host into one XLA device per core, if JAX has not started yet.

  XLA's CPU backend keeps only about 1.3 cores busy with one program made of
  this project's small ops; a device per core runs that many blocks of seeds
  (or of evaluated pairs) side by side (docs/performance.md). Every seed and pair
  is still computed on its own, but another device count is another compilation,
  equal to a few ulps per step, which training can grow: per-seed numbers reproduce
  bit for bit on the same device count. Left as is when the
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


def _by_process(devices):
  """The devices grouped by their process, in process order, each group in its order."""
  groups = {}
  for d in devices:
    groups.setdefault(getattr(d, 'process_index', 0), []).append(d)
  return [groups[p] for p in sorted(groups)]


def usable_device_count(num_items, devices: Optional[Sequence[Any]] = None):
  """The most devices that split `num_items` into equal blocks.

  Devices of several processes are used in equal numbers from each process
  (every process takes part in every computation), so the count is then a
  multiple of the number of processes.

  Raises:
    config_lib.ConfigError (a ValueError): the devices span several processes
      and `num_items` is not a multiple of their number.
  """
  groups = _by_process(list(devices if devices is not None else jax.devices()))
  if len(groups) == 1:
    return max(d for d in range(1, len(groups[0]) + 1) if num_items % d == 0)
  processes, per_process = len(groups), min(len(g) for g in groups)
  counts = [processes * d for d in range(1, per_process + 1)
            if num_items % (processes * d) == 0]
  if not counts:
    raise config_lib.ConfigError(
        f'{num_items} seeds (or evaluated pairs) cannot be split evenly over the '
        f'{processes} processes of this run: use a multiple of {processes} '
        f'(config.num_seeds), or fewer processes')
  return max(counts)


def make_mesh(num_items, devices: Optional[Sequence[Any]] = None):
  """A 1-D mesh over as many devices as split `num_items` evenly.

  With one process: its first devices, as many as split `num_items` evenly.
  With several: that many from each process, process 0's first, so that
  process p holds the p-th part of the items.

  Args:
    num_items: length of the leading axis to be sharded.
    devices: devices to use (default: every device of every process,
      jax.devices(); with one process, its local devices).

  Returns:
    A Mesh with the single axis `AXIS`.
  """
  devices = list(devices if devices is not None else jax.devices())
  count = usable_device_count(num_items, devices)
  groups = _by_process(devices)
  if len(groups) == 1:
    return Mesh(np.array(devices[:count]), (AXIS,))
  per_process = count // len(groups)
  return Mesh(np.array([d for g in groups for d in g[:per_process]]), (AXIS,))


def leading_sharding(mesh):
  """The sharding of arrays whose leading axis is split over the mesh."""
  return NamedSharding(mesh, PartitionSpec(AXIS))


def replicated(mesh):
  """The sharding of arrays held whole on every device of the mesh."""
  return NamedSharding(mesh, PartitionSpec())


def put_global(tree, shardings):
  """Places every leaf of `tree` as `shardings` says (a sharding, or a tree of them).

  A leaf that is a host array (or an array of one process) must hold the
  same value in every process: with a sharding over several processes' devices,
  each process builds the blocks of its own devices from it
  (jax.make_array_from_callback). Arrays already spread over several
  processes are moved by jax.device_put. With one process: jax.device_put.
  """
  if not isinstance(shardings, jax.sharding.Sharding):
    return jax.tree_util.tree_map(_put_one, tree, shardings)
  return jax.tree_util.tree_map(lambda x: _put_one(x, shardings), tree)


def _put_one(x, sharding):
  if getattr(sharding, 'is_fully_addressable', True) or (
      isinstance(x, jax.Array) and not x.is_fully_addressable):
    return jax.device_put(x, sharding)
  host = np.asarray(jax.device_get(x))
  return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def put_like(tree, template):
  """Places `tree` as `template`'s leaves are (arrays, or ShapeDtypeStructs with
  a sharding, such as jax.eval_shape of a function with out_shardings)."""
  return put_global(tree, jax.tree_util.tree_map(lambda t: t.sharding, template))


def put_leading(tree, mesh):
  """Places every leaf of `tree` with its leading axis split over the mesh."""
  return put_global(tree, leading_sharding(mesh))


def _pack(blocks):
  """One [n, total] array of arrays [n, ...] of one dtype, each flattened after n."""
  return jax.numpy.concatenate([x.reshape(x.shape[0], -1) for x in blocks], axis=1)


def _split_leading(x):
  """Whether `x` is split along its leading axis only (as put_leading places it)."""
  spec = tuple(x.sharding.spec)
  return (x.ndim >= 1 and len(spec) >= 1 and spec[0] is not None
          and all(p is None for p in spec[1:]))


def to_host(tree):
  """A numpy copy of every leaf of `tree`, whole, in every process.

  Arrays spread over several processes' devices are gathered first: every
  process must call this at the same point, with arrays of the same shapes.
  Arrays split along their leading axis (the seeds, the evaluated pairs) are
  gathered together, packed into one array per mesh and dtype, so that a run's
  hundred leaves cost a few all-gathers, not a hundred (about 4 ms each on
  the CPU here); replicated arrays are read where they are. The rest is read
  as jax.device_get reads it. With one process: jax.device_get(tree).
  """
  leaves, treedef = jax.tree_util.tree_flatten(tree)
  spread = [i for i, x in enumerate(leaves)
            if isinstance(x, jax.Array) and not x.is_fully_addressable]
  if not spread:
    return jax.device_get(tree)
  groups = {}
  for i in spread:
    x = leaves[i]
    if x.is_fully_replicated:
      leaves[i] = np.asarray(x.addressable_data(0))
    elif isinstance(x.sharding, NamedSharding) and _split_leading(x):
      key = (x.sharding.mesh, x.sharding.spec[0], x.shape[0], x.dtype)
      groups.setdefault(key, []).append(i)
    else:
      leaves[i] = multihost_utils.process_allgather(x, tiled=True)
  for (mesh, _, _, _), members in groups.items():
    whole = NamedSharding(mesh, PartitionSpec())
    packed = jax.jit(_pack, out_shardings=whole)(tuple(leaves[i] for i in members))
    packed = np.asarray(packed.addressable_data(0))
    start = 0
    for i in members:
      shape = leaves[i].shape
      width = int(np.prod(shape[1:], dtype=np.int64))
      leaves[i] = packed[:, start:start + width].reshape(shape)
      start += width
  spread = set(spread)
  rest = iter(jax.device_get([x for i, x in enumerate(leaves) if i not in spread]))
  return jax.tree_util.tree_unflatten(
      treedef, [x if i in spread else next(rest) for i, x in enumerate(leaves)])


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
