"""SIGINT and SIGTERM for training and the evaluation: never between a chunk and
its checkpoint, and in a run of several processes, all processes together."""

import contextlib
import os
import signal
import sys
import threading

from adversarial_crypto.training import distributed


class Interrupts:
  """Turns SIGINT and SIGTERM into KeyboardInterrupt, except while deferred.

  A chunk's computation may be interrupted at once (it will simply run again),
  but a signal that comes while deferred (the bookkeeping after a chunk) is
  raised when the deferred block ends, so a chunk, its metrics and its
  checkpoint are never torn apart. In a thread other than the main one,
  signals cannot be handled and nothing changes.

  With `collective` (a run of several processes) a signal never interrupts:
  the processes agree after each chunk (`stop_agreed`) to stop together,
  since one that stopped alone would leave the others waiting for it.
  """

  def __init__(self, collective=False):
    self.requested = None
    self.deferring = False
    self.collective = collective
    self.previous = {}

  def _handle(self, signum, frame):
    del frame
    if self.deferring or self.collective:
      self.requested = signum
    else:
      raise KeyboardInterrupt(f'signal {signum}')

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():
      for sig in (signal.SIGINT, signal.SIGTERM):
        self.previous[sig] = signal.signal(sig, self._handle)
    return self

  def __exit__(self, *exc):
    for sig, handler in self.previous.items():
      signal.signal(sig, handler)
    self.previous = {}

  @contextlib.contextmanager
  def deferred(self):
    """Signals that come inside the block are raised at its end."""
    if self.deferring:  # nested: the outer block raises
      yield
      return
    self.deferring = True
    try:
      yield
    finally:
      self.deferring = False
    if self.requested is not None and not self.collective:
      signum, self.requested = self.requested, None
      raise KeyboardInterrupt(f'signal {signum} (deferred)')

  def stop_agreed(self):
    """Collective: whether any process was signalled (every process asks at once)."""
    return self.collective and distributed.any_process(self.requested is not None)


def exit_interrupted(code=130):
  """Ends the process once an interrupt has been saved, without waiting for XLA.

  A plain exit waits at teardown for the computation dispatched before the
  signal came (up to a whole chunk: minutes on a CPU). Everything kept is
  written by now (files are replaced whole, and the kernel drops the
  workdir's flock), so the process ends at once. In a run of several
  processes nothing is in flight (they stop together after a chunk), and the
  plain exit lets jax.distributed shut down in step.
  """
  if distributed.process_count() > 1:
    sys.exit(code)
  sys.stdout.flush()
  sys.stderr.flush()
  os._exit(code)  # pylint: disable=protected-access
