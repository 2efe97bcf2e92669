"""Shared fixtures: tiny configs that run in seconds on a CPU."""

import atexit
import importlib.util
import os
import shutil
import sys
import tempfile

import jax
import pytest

from configs import tiny

# Many tests build the same tiny programs afresh (a new runner each time), and
# compiling dominates their time; a compilation cache shared by the session
# compiles each program once. Results do not change: the cache keys on the program.
# The process that makes the cache (pytest itself, or its xdist controller, which
# ends last) removes it; xdist workers and the command-line tests' subprocesses
# inherit it through the environment, so no worker compiles what another has.
_CACHE = os.environ.get('JAX_COMPILATION_CACHE_DIR')
if not _CACHE:
  _CACHE = tempfile.mkdtemp(prefix='adversarial_crypto_jax_cache_')
  atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
os.environ['JAX_COMPILATION_CACHE_DIR'] = _CACHE
os.environ['JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS'] = '0'
os.environ['JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES'] = '0'
jax.config.update('jax_compilation_cache_dir', _CACHE)
jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.0)
jax.config.update('jax_persistent_cache_min_entry_size_bytes', 0)


@pytest.fixture
def tiny_config():
  """configs/tiny.py: N = 8, 2 seeds, minibatch 64, 40 steps in chunks of 20."""
  return tiny.get_config()


def load_benchmark(name):
  """benchmarks/NAME.py as a module, loaded once per process: some define absl
  flags, which a second load in the same process would define again."""
  if name not in sys.modules:
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        'benchmarks', name + '.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
  return sys.modules[name]


@pytest.fixture(scope='session')
def success_rate_benchmark():
  return load_benchmark('success_rate')


@pytest.fixture(scope='session')
def benchmark_module():
  """load_benchmark, for tests: benchmark_module('patience') is benchmarks/patience.py."""
  return load_benchmark
