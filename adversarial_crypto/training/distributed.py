"""One run over several processes (multi-host JAX): one process per host, or per GPU.

The command-line tools (main.py, evaluate.py) take

  --distributed                jax.distributed.initialize() with its own
                               detection of the cluster (SLURM, Open MPI, a
                               Cloud TPU pod or GKE, Kubernetes, mpi4py) and the
                               JAX_COORDINATOR_ADDRESS environment variable
  --coordinator_address=HOST:PORT --num_processes=N --process_id=I
                               the same, told explicitly (each implies
                               --distributed; what is not given is detected)

and call `initialize_from_flags` before anything touches JAX. Every process
then runs the same program: the seeds (and the evaluator's pairs) are split
over every process's devices (sharding.make_mesh over jax.devices()), each
process computes the blocks of its own devices, and the arrays the host must
read (metrics, checkpoint, summary, the Eves' results) are gathered into every
process (sharding.to_host), so that every process takes the same decisions.

Only process 0 writes the workdir (`is_writer`: config.json, the checkpoint,
metrics.csv, summary.json, eval_metrics.csv, the figures) and only it holds
the workdir's lock (workdir.locked, through `in_process_0`); the workdir must be one directory that every
process reads (a shared file system), since on resume every process reads
the checkpoint and builds its own blocks of the run from it.

On CPU, the processes' collectives (the gathers) need a CPU collectives
implementation: jax 0.10 uses gloo by default (jax_cpu_collectives_implementation,
also 'mpi'); nothing needs setting. docs/runs.md says how to launch.

With one process (no flag) every function here does what the single-process
code did before: nothing is gathered, process 0 writes, and no barrier waits.
"""

import contextlib
import sys

import jax
import numpy as np
from absl import flags
from jax.experimental import multihost_utils

FLAG_NAMES = ('distributed', 'coordinator_address', 'num_processes', 'process_id')


def define_flags(flag_values=flags.FLAGS):
  """Defines --distributed, --coordinator_address, --num_processes, --process_id."""
  flags.DEFINE_bool(
      'distributed', False,
      'Run as one of several processes (multi-host JAX): jax.distributed.initialize() '
      'detects the cluster (SLURM, Open MPI, Cloud TPU, Kubernetes) or reads '
      'JAX_COORDINATOR_ADDRESS; every process runs the same command, and only process 0 '
      'writes the workdir, which every process must be able to read.',
      flag_values=flag_values)
  flags.DEFINE_string(
      'coordinator_address', None,
      'host:port of process 0\'s coordinator, for a launch by hand (implies --distributed).',
      flag_values=flag_values)
  flags.DEFINE_integer(
      'num_processes', None, 'How many processes the run has (implies --distributed).',
      lower_bound=1, flag_values=flag_values)
  flags.DEFINE_integer(
      'process_id', None, 'This process\'s number, 0 to num_processes - 1 (implies '
      '--distributed).', lower_bound=0, flag_values=flag_values)


def initialize(distributed=False, coordinator_address=None, num_processes=None,
               process_id=None):
  """Starts multi-host JAX if asked; must come before anything touches JAX.

  Args:
    distributed: start it, detecting what is not given.
    coordinator_address, num_processes, process_id: jax.distributed.initialize's;
      any of them implies `distributed`.

  Returns:
    Whether it was started.

  Raises:
    ValueError: JAX could not start it (nothing to detect, bad values); the
      message says which.
  """
  if not (distributed or coordinator_address or num_processes is not None
          or process_id is not None):
    return False
  try:
    jax.distributed.initialize(coordinator_address=coordinator_address,
                               num_processes=num_processes, process_id=process_id)
  except (ValueError, TypeError, RuntimeError) as e:
    detail = ' '.join(str(e).split())
    raise ValueError(
        f'cannot start multi-host JAX ({detail}); outside a cluster JAX detects (SLURM, '
        'Open MPI, Cloud TPU, Kubernetes), give --coordinator_address=HOST:PORT, '
        '--num_processes and --process_id') from e
  return True


def initialize_from_flags(flag_values=flags.FLAGS, log=print):
  """`initialize` from the flags of define_flags; exits with a one-line error."""
  try:
    started = initialize(flag_values.distributed, flag_values.coordinator_address,
                         flag_values.num_processes, flag_values.process_id)
  except ValueError as e:
    sys.exit(f'error: {e}')
  if started:
    log(f'multi-host JAX: process {jax.process_index()} of {jax.process_count()}, '
        f'{jax.local_device_count()} of the {jax.device_count()} devices here '
        f'({jax.default_backend()})')
  return started


def _started():
  """Whether asking JAX for the process index is harmless now (it starts the backend)."""
  if jax.distributed.is_initialized():
    return True
  try:
    from jax._src import xla_bridge  # pylint: disable=g-import-not-at-top
    return xla_bridge.backends_are_initialized()
  except (ImportError, AttributeError):
    return True


def process_index():
  """This process's number; 0 when JAX has not started (without starting it)."""
  return jax.process_index() if _started() else 0


def process_count():
  """How many processes the run has; 1 when JAX has not started (without starting it)."""
  return jax.process_count() if _started() else 1


def is_writer():
  """Whether this process writes the workdir: process 0 alone."""
  return process_index() == 0


def any_process(flag):
  """Whether `flag` is true in any process (every process must call it at the same point)."""
  if process_count() == 1:
    return bool(flag)
  return bool(np.any(multihost_utils.process_allgather(np.asarray(bool(flag)))))


def barrier(name):
  """Waits until every process has reached the barrier `name`; nothing with one process.

  A process that reads a file another process has just written must pass a
  barrier that the writer passes after writing it.
  """
  if process_count() > 1:
    multihost_utils.sync_global_devices(name)


def _from_process_0(ok):
  """Process 0's `ok` (a bool), in every process."""
  return bool(multihost_utils.broadcast_one_to_all(np.int32(bool(ok))))


@contextlib.contextmanager
def in_process_0(context, refusal):
  """Enters `context` (a context manager: a lock) in process 0 alone.

  The other processes wait to learn whether process 0 entered it, and raise
  refusal() when it did not (process 0 raises its own error). With one
  process: `context` itself.
  """
  if process_count() == 1:
    with context:
      yield
    return
  if not is_writer():
    if not _from_process_0(False):
      raise refusal()
    yield
    return
  with contextlib.ExitStack() as stack:
    try:
      stack.enter_context(context)
    except BaseException:
      _from_process_0(False)
      raise
    _from_process_0(True)
    yield


def writer_log(log):
  """`log` in process 0; in the others, nothing (their lines would repeat its)."""
  return log if is_writer() else (lambda line: None)
