"""The seed axis (and the evaluator's cipher axis) split over devices gives the
single-device results.

The device count is fixed when JAX starts, so the two-device run happens in
a subprocess with XLA_FLAGS=--xla_force_host_platform_device_count=2.
"""

import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from adversarial_crypto.training import sharding

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Trains configs/tiny.py (2 seeds) for two chunks on both devices and on the
# first alone, then retrains fresh Eves against both Alices the same two ways,
# and prints every leaf of both final states and the Eves' results as JSON.
SCRIPT = textwrap.dedent('''
    import json
    import jax
    import numpy as np
    from adversarial_crypto.evaluation import evaluator
    from adversarial_crypto.training import runner as runner_lib
    from configs import tiny

    config = tiny.get_config()
    config.eval.steps = 10
    config.eval.every = 10
    config.eval.attackers = ('paper',)
    out = {'devices': len(jax.devices())}
    for name, devices in (('two', jax.devices()), ('one', jax.devices()[:1])):
      r = runner_lib.make_runner(config, devices=devices)
      run = r.run_chunk(r.run_chunk(r.init(), 20), 20)
      out[name + '_placed_on'] = len(run.train.alice_bob['alice']['fc']['w'].sharding.device_set)
      out[name] = [np.asarray(x).tolist() for x in jax.tree_util.tree_leaves(run)]
      result = evaluator.evaluate_alices(config, run.train.alice_bob, log=lambda _: None,
                                         devices=devices)
      out[name + '_eves'] = [result.best_bits[a.name].tolist() for a in result.attackers] + [
          result.best_hard_bits[a.name].tolist() for a in result.attackers]
    print(json.dumps(out))
''')


@pytest.mark.slow
def test_two_devices_equal_one():
  env = dict(os.environ)
  env['XLA_FLAGS'] = (env.get('XLA_FLAGS', '') +
                      ' --xla_force_host_platform_device_count=2')
  env['JAX_PLATFORMS'] = 'cpu'
  env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
  result = subprocess.run([sys.executable, '-c', SCRIPT], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  out = json.loads(result.stdout.strip().splitlines()[-1])
  assert out['devices'] == 2
  assert out['two_placed_on'] == 2 and out['one_placed_on'] == 1
  assert len(out['two']) == len(out['one']) > 20
  # Each device runs the same one-seed program on its own seeds; only the
  # two compilations differ, so float32 leaves agree to a few ulps after 40
  # Adam steps (keys, step counts and flags exactly).
  for two, one in zip(out['two'], out['one']):
    np.testing.assert_allclose(np.asarray(two, np.float64), np.asarray(one, np.float64),
                               rtol=1e-5, atol=1e-6)
  steps = out['two'][-5]  # RunState.steps, [2]
  assert steps == [40, 40]
  # The fresh Eves too: 2 pairs x 2 Eves, one pair per device.
  assert np.shape(out['two_eves']) == (2, 2, 2)
  np.testing.assert_allclose(out['two_eves'], out['one_eves'], rtol=1e-5, atol=1e-5)


def test_usable_device_count_divides_the_items():
  devices = [object()] * 8
  assert sharding.usable_device_count(20, devices) == 5
  assert sharding.usable_device_count(16, devices) == 8
  assert sharding.usable_device_count(3, devices[:2]) == 1
  assert sharding.usable_device_count(1, devices) == 1


def test_shard_leading_on_one_device_is_the_function():
  mesh = sharding.make_mesh(6)
  x = np.arange(12.0, dtype=np.float32).reshape(6, 2)
  f = jax.jit(sharding.shard_leading(lambda a: a * 2 + 1, mesh))
  np.testing.assert_array_equal(f(sharding.put_leading(x, mesh)), x * 2 + 1)


def _devices_after_split(xla_flags):
  env = {k: v for k, v in os.environ.items() if k != 'XLA_FLAGS'}
  if xla_flags:
    env['XLA_FLAGS'] = xla_flags
  env['JAX_PLATFORMS'] = 'cpu'
  env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
  script = ('import os, jax\nfrom adversarial_crypto.training import sharding\n'
            'asked = sharding.one_device_per_core()\n'
            'print(asked, len(jax.devices()), len(os.sched_getaffinity(0)))\n')
  result = subprocess.run([sys.executable, '-c', script], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  return result.stdout.split()


def test_one_device_per_core():
  asked, devices, cores = _devices_after_split(None)
  if int(cores) >= 2:
    assert asked == cores and devices == cores
  else:
    assert asked == 'None' and devices == '1'
  # A device count the user chose is kept.
  assert _devices_after_split('--xla_force_host_platform_device_count=3')[:2] == ['None', '3']
  # Once JAX has computed, its devices are fixed: nothing changes.
  jax.numpy.zeros(1).block_until_ready()
  before = len(jax.devices())
  assert sharding.one_device_per_core() is None
  assert len(jax.devices()) == before
