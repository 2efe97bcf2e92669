"""Compile time of a run's programs: the init with each network's weights drawn in
one generator call (networks._uniforms) against one call per weight (the baseline,
in the same run), alternating, and a training chunk for scale.

  python benchmarks/compile_time.py --config=configs/tiny.py --repeats=5 --out=compile.json

Compiling, not running, is most of the test suite's time on a CPU; both inits
give the same parameters bit for bit (checked here too).
"""

import json
import os
import statistics
import sys
import time
from unittest import mock

from absl import app
from absl import flags
import jax
import numpy as np
from ml_collections import config_flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # configs/
from adversarial_crypto.core import networks
from adversarial_crypto.training import runner as runner_lib

_CONFIG = config_flags.DEFINE_config_file('config', 'configs/tiny.py', 'the config to compile')
_REPEATS = flags.DEFINE_integer('repeats', 5, 'compilations of each kind (alternating)')
_OUT = flags.DEFINE_string('out', None, 'write the figures as JSON here')


def _one_call_per_weight(draws):
  return [networks._uniform(*draw) for draw in draws]  # pylint: disable=protected-access


def _compile_init():
  runner = runner_lib.make_runner(_CONFIG.value)  # new functions: nothing cached in-process
  start = time.perf_counter()
  compiled = runner.init.lower().compile()
  return time.perf_counter() - start, runner, compiled()


def main(argv):
  del argv
  times = {'one_call': [], 'one_call_per_weight': [], 'chunk': []}
  for _ in range(_REPEATS.value):
    seconds, runner, run = _compile_init()
    times['one_call'].append(seconds)
    with mock.patch.object(networks, '_uniforms', _one_call_per_weight):
      seconds, _, baseline = _compile_init()
    times['one_call_per_weight'].append(seconds)
    same = all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(jax.device_get(run)),
                                                   jax.tree.leaves(jax.device_get(baseline))))
    if not same:
      raise SystemExit('error: the two inits differ; networks._uniforms no longer draws '
                       'what jax.random.uniform draws')
    start = time.perf_counter()
    runner.run_chunk.lower(run, _CONFIG.value.chunk_steps).compile()
    times['chunk'].append(time.perf_counter() - start)
  medians = {k: statistics.median(v) for k, v in times.items()}
  ratio = medians['one_call_per_weight'] / medians['one_call']
  print(f'init, weights in one call:      median {medians["one_call"]:.2f} s')
  print(f'init, one call per weight:      median {medians["one_call_per_weight"]:.2f} s '
        f'(x {ratio:.2f})')
  print(f'training chunk of {_CONFIG.value.chunk_steps} steps: median {medians["chunk"]:.2f} s')
  print(f'({_REPEATS.value} compilations of each, alternating; the same parameters bit for bit)')
  if _OUT.value:
    with open(_OUT.value, 'w') as f:
      json.dump({'times_s': times, 'median_s': medians, 'baseline_over_one_call': ratio,
                 'device': str(jax.devices()[0]), 'jax': jax.__version__}, f, indent=1)


if __name__ == '__main__':
  app.run(main)
