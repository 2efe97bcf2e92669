"""The research API on a small trained run, byte blocks, and the cipher analysis."""

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

import adversarial_crypto as ac
from adversarial_crypto.core import bits
from adversarial_crypto.analysis import cipher_analysis
from adversarial_crypto.analysis import key_search
from adversarial_crypto.core import losses
from adversarial_crypto.training import train
from adversarial_crypto.training import workdir as workdir_lib
from configs import tiny

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='module')
def trained_workdir(tmp_path_factory):
  """N = 16, 2 seeds, minibatch 256, 2,500 steps: Bob learns (see test_training)."""
  config = tiny.get_config()
  config.msg_bits = config.key_bits = 16
  config.batch_size, config.eval_batch_size = 256, 2048
  config.max_steps = config.chunk_steps = 2500
  config.success.eve_bits = 16.0   # never met: both seeds train the full budget
  workdir = str(tmp_path_factory.mktemp('run'))
  train.train(config, workdir, log=lambda _: None)
  return workdir


@pytest.mark.slow
def test_load_run_gives_config_summary_and_every_seeds_parameters(trained_workdir):
  run = ac.load_run(trained_workdir)
  assert run.config.msg_bits == 16 and run.num_seeds == 2
  assert run.alice['fc']['w'].shape == (2, 32, 32)
  assert run.eve['fc']['w'].shape == (2, 16, 32)
  np.testing.assert_array_equal(run.steps, [2500, 2500])
  assert [s['steps_trained'] for s in run.summary['seeds']] == [2500, 2500]
  alice, bob, eve = run.seed_params(1)
  np.testing.assert_array_equal(alice['fc']['w'], run.alice['fc']['w'][1])
  with pytest.raises(IndexError, match='seeds 0..1'):
    run.seed_params(2)


@pytest.mark.slow
def test_a_run_that_kept_only_its_weights_loads_without_its_eve(trained_workdir, tmp_path):
  run = ac.load_run(trained_workdir)
  copy = tmp_path / 'weights_only'
  copy.mkdir()
  for name in ('config.json', 'checkpoint.msgpack'):
    (copy / name).write_bytes(open(os.path.join(trained_workdir, name), 'rb').read())
  assert workdir_lib.export_weights(str(copy)).endswith(workdir_lib.WEIGHTS_FILE)
  os.remove(copy / 'checkpoint.msgpack')
  with pytest.raises(workdir_lib.WorkdirError, match='no summary.json'):
    ac.load_run(str(copy))
  (copy / 'summary.json').write_bytes(open(os.path.join(trained_workdir, 'summary.json'),
                                           'rb').read())
  kept = ac.load_run(str(copy))
  assert kept.eve is None and kept.num_seeds == 2
  for ours, theirs in ((kept.alice, run.alice), (kept.bob, run.bob)):
    jax.tree_util.tree_map(np.testing.assert_array_equal, ours, theirs)
  np.testing.assert_array_equal(kept.steps, run.steps)
  np.testing.assert_array_equal(kept.trained, [s['trained'] for s in run.summary['seeds']])


@pytest.mark.slow
def test_encrypt_then_decrypt_matches_bobs_measured_accuracy(trained_workdir):
  run = ac.load_run(trained_workdir)
  k_p, k_k = jax.random.split(jax.random.PRNGKey(7))
  plaintext = bits.random_bits(k_p, (8192, 16))
  key = bits.random_bits(k_k, (8192, 16))
  for seed in range(2):
    alice, bob, _ = run.seed_params(seed)
    guess = ac.decrypt(bob, ac.encrypt(alice, plaintext, key, run.config), key, run.config)
    measured = run.summary['seeds'][seed]['bob_bits']   # on training's own 2048 examples
    assert measured < 2.0                                # Bob did learn
    # Two independent estimates of one mean; their standard errors are about 0.02.
    assert float(jnp.mean(losses.bits_wrong(plaintext, guess))) == pytest.approx(measured, abs=0.1)


@pytest.mark.slow
def test_the_functions_jit_and_vmap_over_seeds(trained_workdir):
  run = ac.load_run(trained_workdir)
  plaintext = bits.random_bits(jax.random.PRNGKey(1), (5, 16))
  key = bits.random_bits(jax.random.PRNGKey(2), (5, 16))
  per_seed = jax.vmap(ac.encrypt, in_axes=(0, None, None, None))(run.alice, plaintext, key,
                                                                  run.config)
  jitted = jax.jit(ac.encrypt, static_argnums=3)
  for seed in range(2):
    alice, _, eve = run.seed_params(seed)
    np.testing.assert_allclose(per_seed[seed], jitted(alice, plaintext, key, run.config),
                               rtol=1e-5, atol=1e-6)
    assert ac.eavesdrop(eve, per_seed[seed], run.config).shape == (5, 16)
  with pytest.raises(ValueError, match='key has 8 bits'):
    ac.encrypt(alice, plaintext, key[:, :8], run.config)


@pytest.mark.parametrize('block_bits', [8, 16, 64])
@pytest.mark.parametrize('data', [b'', b'A', b'attack at dawn', bytes(range(256))])
def test_bytes_round_trip_exactly(data, block_bits):
  blocks = ac.bytes_to_blocks(data, block_bits)
  assert blocks.shape == (-(-8 * len(data) // block_bits), block_bits)
  assert set(np.unique(blocks)) <= {-1.0, 1.0}
  assert ac.blocks_to_bytes(blocks, len(data)) == data


def test_bytes_to_blocks_takes_the_high_bit_first():
  np.testing.assert_array_equal(ac.bytes_to_blocks(b'\x81', 8)[0], [1, -1, -1, -1, -1, -1, -1, 1])
  np.testing.assert_array_equal(ac.bytes_to_blocks(b'\xff', 16)[0, 8:], -np.ones(8))  # padding


def xor_cipher(plaintext, key):
  return plaintext * key        # XOR in -1/+1 form: the one-time pad


def test_xor_changes_exactly_one_element_per_flipped_bit():
  result = cipher_analysis.analyse_cipher(xor_cipher, 16, 16, jax.random.PRNGKey(0), 2048)
  for part in ('key_bit', 'plaintext_bit'):
    assert result['diffusion'][part]['mean_changed'] == 1.0
    assert result['diffusion'][part]['distribution'][1] == 1.0
  # Flipping plaintext bit i or key bit i moves ciphertext element i by exactly 2.
  np.testing.assert_allclose(result['influence'], 2 * np.vstack([np.eye(16), np.eye(16)]))
  # A product of independent bits has no affine part: R^2 is only the fit's
  # chance level, about 33 regressors / 2048 samples.
  assert result['affine_r2']['max'] < 0.05


def test_an_affine_cipher_is_fully_linear_and_ignores_its_key():
  scramble = lambda p, k: 0.5 * p[:, ::-1] + 0.1
  result = cipher_analysis.analyse_cipher(scramble, 8, 8, jax.random.PRNGKey(0), 512,
                                          threshold=0.5)
  assert result['affine_r2']['min'] == pytest.approx(1.0)
  assert result['diffusion']['key_bit']['mean_changed'] == 0.0
  assert result['diffusion']['plaintext_bit']['mean_changed'] == 1.0   # each moves by 1.0
  assert result['diffusion_by_threshold']['0.05']['plaintext_bit']['mean_changed'] == 1.0


def test_all_keys_by_hand():
  np.testing.assert_array_equal(key_search.all_keys(2), [[-1, -1], [-1, 1], [1, -1], [1, 1]])
  with pytest.raises(ValueError, match='key_bits = 21 is outside 1..20'):
    key_search.all_keys(21)


def _keyed_pair(key_weights, tiny_config):
  """N = K = 4 keyed_bilinear Alice and Bob, u_i = x_i (k B)_i, sharing `key_weights` B."""
  tiny_config.msg_bits = tiny_config.key_bits = 4
  tiny_config.arch, tiny_config.hidden = 'keyed_bilinear', (4,)
  eye = jnp.eye(4)
  pair = {'text': eye, 'key': jnp.asarray(key_weights, jnp.float32), 'out': eye}
  return pair, pair, ml_collections.FrozenConfigDict(tiny_config)


def test_key_search_finds_that_every_key_explains_a_one_time_pad(tiny_config):
  alice, bob, config = _keyed_pair(np.eye(4), tiny_config)   # C_i = tanh(P_i K_i)
  plaintext = bits.random_bits(jax.random.PRNGKey(3), (6, 4))
  key = bits.random_bits(jax.random.PRNGKey(4), (6, 4))
  found = key_search.search(alice, bob, ac.encrypt(alice, plaintext, key, config), config)
  # Under any key K', Bob reads sign(C) K' and Alice re-encrypts it to C: 16
  # keys, 16 different plaintexts.
  np.testing.assert_array_equal(found.consistent, 16)
  np.testing.assert_array_equal(found.agreeing, 1)
  # The same counts when the keys are tried 4 at a time.
  in_blocks = key_search.search(alice, bob, ac.encrypt(alice, plaintext, key, config), config,
                                block=4)
  np.testing.assert_array_equal(in_blocks.consistent, 16)
  np.testing.assert_array_equal(in_blocks.agreeing, 1)
  with pytest.raises(ValueError, match='block = 3 must be a positive power of 2'):
    key_search.search(alice, bob, plaintext, config, block=3)


def test_key_search_reads_a_cipher_that_reuses_one_key_bit_up_to_sign(tiny_config):
  reuse = np.zeros((4, 4))
  reuse[0] = 1.0                                                # C_i = tanh(P_i K_0)
  alice, bob, config = _keyed_pair(reuse, tiny_config)
  plaintext = bits.random_bits(jax.random.PRNGKey(3), (6, 4))
  key = bits.random_bits(jax.random.PRNGKey(4), (6, 4))
  result = key_search.attack(alice, bob, plaintext, key, config)
  # Every key explains C, but only with P (K'_0 = K_0) or -P (K'_0 = -K_0).
  assert result['consistent'] == 16 and result['other_plaintexts'] == 8
  assert result['found'] == 1.0 and result['up_to_sign'] == 1.0
  assert result['parity_bits_wrong'] == 0.0
  assert result['bob_exact'] == 1.0 and result['missed'] == 0.0


@pytest.mark.slow
def test_key_search_reads_every_message_a_trained_bob_reads(trained_workdir):
  run = ac.load_run(trained_workdir)
  alice, bob, _ = run.seed_params(0)
  k_p, k_k = jax.random.split(jax.random.PRNGKey(11))
  plaintext = bits.random_bits(k_p, (512, 16))
  key = bits.random_bits(k_k, (512, 16))
  ciphertext = ac.encrypt(alice, plaintext, key, run.config)
  read = np.flatnonzero(np.all((ac.decrypt(bob, ciphertext, key, run.config) >= 0) ==
                               (plaintext > 0), axis=-1))[:4]
  assert len(read) == 4   # Bob learned: he reads some messages exactly
  found = key_search.search(alice, bob, ciphertext[read], run.config)
  # Without the key, trying all 65,536 keys gives the plaintext back.
  np.testing.assert_array_less(found.residual, 1e-4)
  np.testing.assert_array_equal(found.plaintext, plaintext[read])


@pytest.mark.slow
def test_analyse_run_covers_every_seed(trained_workdir):
  analysis = cipher_analysis.analyse_run(ac.load_run(trained_workdir), num_samples=256)
  assert [s['seed'] for s in analysis['seeds']] == [0, 1]
  for s in analysis['seeds']:
    assert np.asarray(s['influence']).shape == (32, 16)
    assert 0 <= s['diffusion']['key_bit']['mean_changed'] <= 16
    assert len(s['affine_r2']['per_element']) == 16


@pytest.mark.slow
def test_loading_bad_workdirs_gives_clear_errors(trained_workdir, tmp_path):
  with pytest.raises(workdir_lib.WorkdirError, match='does not exist'):
    ac.load_run(str(tmp_path / 'nowhere'))
  with pytest.raises(workdir_lib.WorkdirError, match='holds no run'):
    ac.load_run(str(tmp_path))
  copy = tmp_path / 'copy'
  copy.mkdir()
  config = json.loads(open(os.path.join(trained_workdir, 'config.json')).read())
  config['batch_size'] = 512
  (copy / 'config.json').write_text(json.dumps(config))
  with open(os.path.join(trained_workdir, 'checkpoint.msgpack'), 'rb') as f:
    checkpoint = f.read()
  (copy / 'checkpoint.msgpack').write_bytes(checkpoint)
  with pytest.raises(workdir_lib.WorkdirError, match='another config'):
    ac.load_run(str(copy))
  (copy / 'config.json').write_text(json.dumps(dict(config, batch_size=256)))
  (copy / 'checkpoint.msgpack').write_bytes(checkpoint[:len(checkpoint) // 2])
  with pytest.raises(workdir_lib.WorkdirError, match='corrupt'):
    ac.load_run(str(copy))


def _run_module(module, *args):
  return subprocess.run([sys.executable, '-m', module, *args], cwd=REPO,
                        capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_demo_and_analyse_command_lines(trained_workdir, tmp_path):
  done = _run_module('adversarial_crypto.demo', f'--workdir={trained_workdir}', '--seed=0',
                     'attack at dawn')
  assert done.returncode == 0, done.stderr[-2000:]
  assert 'not security' in done.stdout
  assert 'Bob decrypts:' in done.stdout and '/112 bits wrong' in done.stdout
  done = _run_module('adversarial_crypto.analyse', f'--workdir={trained_workdir}',
                     '--num_samples=256', f'--out={tmp_path}')
  assert done.returncode == 0, done.stderr[-2000:]
  analysis = json.loads((tmp_path / 'analysis.json').read_text())
  assert len(analysis['seeds']) == 2 and (tmp_path / 'influence.png').stat().st_size > 0
  missing = _run_module('adversarial_crypto.demo', f'--workdir={tmp_path}/none', 'hi')
  assert missing.returncode != 0 and 'does not exist' in missing.stderr
  assert 'Traceback' not in missing.stderr
