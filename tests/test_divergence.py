"""A seed that diverges (a NaN or infinity in its state or measures) is isolated:
detected at the chunk boundary, stopped without being trained, recorded in
metrics.csv, summary.json and the progress line, and no other seed's numbers
change."""

import csv
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import serialization

from adversarial_crypto.evaluation import robustness
from adversarial_crypto.evaluation import stats
from adversarial_crypto.training import runner as runner_lib
from adversarial_crypto.training import sharding
from adversarial_crypto.training import train
from adversarial_crypto.training import workdir as workdir_lib

BAD = 1  # the seed that diverges, of 3


@pytest.fixture
def config(tiny_config):
  tiny_config.num_seeds = 3
  return tiny_config


def _quiet(_):
  pass


def _poison(tree, seed=BAD):
  """`tree` (leading seed axis) with every float of one seed set to NaN."""
  def poison(x):
    return x.at[seed].set(jnp.nan) if jnp.issubdtype(x.dtype, jnp.inexact) else x
  return jax.tree_util.tree_map(poison, tree)


def _seed_leaves(run, seeds):
  """Every per-seed leaf of a RunState, restricted to `seeds`."""
  run = jax.device_get(run)
  per_seed = (run.train, run.seed_keys, run.steps, run.stopped, run.measure)
  return [np.asarray(x)[list(seeds)] for x in jax.tree_util.tree_leaves(per_seed)]


def _assert_same_seeds(a, b, seeds=(0, 2)):
  for x, y in zip(_seed_leaves(a, seeds), _seed_leaves(b, seeds), strict=True):
    np.testing.assert_array_equal(x, y)


def _diverging_chunks(monkeypatch, seed=BAD):
  """Makes the runners built from now on turn seed `seed`'s state to NaN at the
  end of every chunk it trains: it is finite at the start of its first chunk
  and diverges inside it, as a real divergence would."""
  make_experiment = runner_lib.experiments.make_experiment

  def diverging(config):
    experiment = make_experiment(config)
    bad_key = runner_lib.seed_keys(config.seed, config.num_seeds)[seed]

    def train_chunk(train, key, first_step, num_steps):
      train, per_step = experiment.train_chunk(train, key, first_step, num_steps)
      bad = jnp.all(key == bad_key)
      poison = lambda x: jnp.where(bad, jnp.nan, x) if jnp.issubdtype(
          x.dtype, jnp.inexact) else x
      return jax.tree_util.tree_map(poison, train), per_step

    return experiment._replace(train_chunk=train_chunk)

  monkeypatch.setattr(runner_lib.experiments, 'make_experiment', diverging)


@pytest.mark.slow
@pytest.mark.parametrize('seed_loop', ['map', 'vmap'])
def test_a_nan_seed_is_stopped_and_changes_no_other_seed(config, seed_loop):
  r = runner_lib.make_runner(config, seed_loop=seed_loop)
  start = r.init()
  planted = start._replace(train=_poison(start.train))
  np.testing.assert_array_equal(runner_lib.diverged(start), [False, False, False])
  np.testing.assert_array_equal(runner_lib.diverged(planted), [False, True, False])

  clean, bad = r.run_chunk(start, 20), r.run_chunk(planted, 20)
  np.testing.assert_array_equal(runner_lib.diverged(bad), [False, True, False])
  np.testing.assert_array_equal(bad.steps, [20, 0, 20])  # it skipped its chunk
  assert not bool(bad.stopped[BAD])
  _assert_same_seeds(clean, bad)
  # It stays diverged and stopped; the others go on exactly as without it.
  clean, bad = r.run_chunk(clean, 20), r.run_chunk(bad, 20)
  np.testing.assert_array_equal(bad.steps, [40, 0, 40])
  np.testing.assert_array_equal(runner_lib.diverged(bad), [False, True, False])
  _assert_same_seeds(clean, bad)


def test_a_nan_in_the_optimizer_state_or_measures_alone_is_a_divergence(config):
  r = runner_lib.make_runner(config)
  start = r.init()
  opt = start._replace(train=start.train._replace(eve_opt=_poison(start.train.eve_opt)))
  measure = start._replace(measure=_poison(start.measure, seed=2))
  np.testing.assert_array_equal(runner_lib.diverged(opt), [False, True, False])
  np.testing.assert_array_equal(runner_lib.diverged(measure), [False, False, True])
  inf = start._replace(train=jax.tree_util.tree_map(
      lambda x: x.at[0].set(jnp.inf) if x.dtype == jnp.float32 else x, start.train))
  np.testing.assert_array_equal(runner_lib.diverged(inf), [True, False, False])


def _metrics_rows(workdir):
  return workdir_lib.read_metrics(str(workdir))


@pytest.mark.slow  # end to end through train.train: about 15 s
def test_training_records_a_diverged_seed(config, tmp_path, monkeypatch):
  # Goals every seed meets at the first boundary: the diverged one must not stop as trained.
  config.success.bob_bits, config.success.eve_bits = 8.0, 0.0
  clean = train.train(config, str(tmp_path / 'clean'), log=_quiet)
  assert clean.summary['diverged'] == 0
  assert not any(s['diverged'] for s in clean.summary['seeds'])
  assert all(r['diverged'] == 0.0 for r in _metrics_rows(tmp_path / 'clean'))

  _diverging_chunks(monkeypatch)  # seed 1 is finite until its first chunk ends
  lines = []
  result = train.train(config, str(tmp_path / 'bad'), log=lines.append)
  run = result.run
  np.testing.assert_array_equal(runner_lib.diverged(run), [False, True, False])
  np.testing.assert_array_equal(run.stopped, [True, False, True])
  np.testing.assert_array_equal(run.steps, [20, 20, 20])
  _assert_same_seeds(clean.run, run)

  summary = json.loads((tmp_path / 'bad' / 'summary.json').read_text())
  assert json.dumps(summary) == json.dumps(result.summary)  # NaN != NaN
  assert summary['diverged'] == 1 and summary['trained']['count'] == 2
  assert summary['steps'] == 20 and summary['finished']  # two trained, one diverged
  assert [s['trained'] for s in summary['seeds']] == [True, False, True]
  assert [s['diverged'] for s in summary['seeds']] == [False, True, False]
  assert np.isnan(summary['seeds'][BAD]['bob_bits'])
  for i in (0, 2):
    assert summary['seeds'][i] == clean.summary['seeds'][i]

  rows = _metrics_rows(tmp_path / 'bad')
  header = (tmp_path / 'bad' / 'metrics.csv').read_text().splitlines()[0]
  assert header == 'chunk,step,seed,bob_bits,eve_bits,diverged,stopped'
  assert [(r['step'], r['seed'], r['diverged'], r['stopped']) for r in rows] == [
      (0, 0, 0.0, False), (0, 1, 0.0, False), (0, 2, 0.0, False),
      (20, 0, 0.0, True), (20, 1, 1.0, False), (20, 2, 0.0, True)]
  assert [r for r in rows if r['seed'] != BAD] == [
      r for r in _metrics_rows(tmp_path / 'clean') if r['seed'] != BAD]

  # The run as it was before the chunk that diverged is kept, and replays it.
  assert not list((tmp_path / 'clean').glob('before_divergence*'))
  kept = workdir_lib.BEFORE_DIVERGENCE_FILE.format(step=0)
  assert any(line.startswith('seed 1 diverged between steps 0 and 20') and kept in line
             for line in lines)
  r = runner_lib.make_runner(config)
  before, before_chunk = runner_lib.load_state(str(tmp_path / 'bad'), config, r, kept)
  assert before_chunk == 0 and not runner_lib.diverged(before).any()
  _assert_same_seeds(before, r.init(), seeds=(0, 1, 2))
  replayed = r.run_chunk(sharding.put_like(before, jax.eval_shape(r.init)), 20)
  np.testing.assert_array_equal(runner_lib.diverged(replayed), [False, True, False])
  _assert_same_seeds(replayed, run, seeds=(0, 1, 2))  # NaN where the run has NaN

  progress = [line for line in lines if line.startswith('step')]
  assert len(progress) == 1
  assert 'trained 2/3 | diverged 1/3 | median over the 2 other seeds' in progress[0]
  assert 'nan' not in progress[0]  # the medians leave the diverged seed out
  table = lines[-1].splitlines()
  assert table[0].endswith('trained  diverged') and table[2].endswith('no       yes')
  assert table[-1].startswith('diverged 1/3')


def test_medians_say_nan_when_every_seed_diverged(config):
  r = runner_lib.make_runner(config)
  run = r.init()
  run = run._replace(measure=jax.tree_util.tree_map(lambda x: x * jnp.nan, run.measure))
  line = train._progress_line(config, run, 1.0, runner_lib.diverged(run))
  assert 'diverged 3/3' in line and 'bob_bits nan eve_bits nan' in line


@pytest.mark.slow
def test_a_checkpoint_and_metrics_from_before_divergence_checks_resume(config, tmp_path):
  # The checkpoint format did not change (divergence is read off the state), so
  # older checkpoints load as they are; one holding a NaN seed reads as diverged.
  # Older metrics.csv files gain the diverged column when their run resumes.
  config.max_steps = 20
  first = train.train(config, str(tmp_path), log=_quiet)
  path = tmp_path / 'checkpoint.msgpack'
  payload = serialization.msgpack_restore(path.read_bytes())
  assert set(payload['run']) == {'train', 'seed_keys', 'steps', 'stopped', 'measure', 'step'}
  payload['run']['train'] = _poison(jax.tree_util.tree_map(jnp.asarray, payload['run']['train']))
  payload['run'] = jax.device_get(payload['run'])
  path.write_bytes(serialization.msgpack_serialize(payload))
  metrics = tmp_path / 'metrics.csv'
  with open(metrics, newline='') as f:
    old = [{k: v for k, v in r.items() if k != 'diverged'} for r in csv.DictReader(f)]
  old[-1]['bob_bits'] = 'nan'  # a seed whose measures were already NaN
  with open(metrics, 'w', newline='') as f:  # as written before the column existed
    writer = csv.DictWriter(f, ('chunk', 'step', 'seed', 'bob_bits', 'eve_bits', 'stopped'))
    writer.writeheader()
    writer.writerows(old)
    f.write('2,40,0,4.0')  # a row cut short by a crash: dropped

  loaded, chunk = runner_lib.load_state(str(tmp_path), config)
  assert chunk == 1
  np.testing.assert_array_equal(runner_lib.diverged(loaded), [False, True, False])

  config.max_steps = 40
  resumed = train.train(config, str(tmp_path), log=_quiet)
  np.testing.assert_array_equal(resumed.run.steps, [40, 20, 40])
  assert [s['diverged'] for s in resumed.summary['seeds']] == [False, True, False]
  rows = _metrics_rows(tmp_path)
  assert [(r['chunk'], r['seed'], r['diverged']) for r in rows] == [
      (0, 0, 0.0), (0, 1, 0.0), (0, 2, 0.0),
      (1, 0, 0.0), (1, 1, 0.0), (1, 2, 1.0),  # from its NaN measure
      (2, 0, 0.0), (2, 1, 1.0), (2, 2, 0.0)]
  assert first.summary['diverged'] == 0


@pytest.mark.slow
def test_the_evaluation_fails_a_diverged_seed_and_no_other(config, tmp_path, monkeypatch):
  # The evaluator trains fresh Eves against every Alice, a diverged one too (its
  # Eves see NaN ciphertexts and record NaN); its verdicts are false because it
  # is not trained, and every other seed's evaluation is the same as without it.
  config.eval.steps, config.eval.every = 20, 10
  quiet = dict(log=_quiet)
  clean = train.train(config, str(tmp_path / 'clean'), **quiet)
  clean_eval = robustness.evaluate_run(config, str(tmp_path / 'clean'), clean.run,
                                       clean.summary, **quiet)
  _diverging_chunks(monkeypatch)
  bad = train.train(config, str(tmp_path / 'bad'), **quiet)
  lines = []
  bad_eval = robustness.evaluate_run(config, str(tmp_path / 'bad'), bad.run, bad.summary,
                                     log=lines.append)
  # The progress lines give the other seeds' lowest bits wrong, not NaN.
  progress = [line for line in lines if line.startswith('fresh Eves step')]
  assert progress and not any('nan' in line for line in progress), progress
  for i in (0, 2):
    assert json.dumps(bad_eval['seeds'][i]) == json.dumps(clean_eval['seeds'][i])
  seed = bad_eval['seeds'][BAD]
  assert seed['diverged'] and not seed['trained']
  assert not seed['robust'] and not seed['secure'] and not seed['perfect']
  assert np.isnan(seed['retrained_eves']['paper']['best_bits'])
  assert bad_eval['diverged'] == 1
  for verdict in ('trained', 'robust', 'secure'):
    assert bad_eval[verdict]['n'] == 3
  saved = json.loads((tmp_path / 'bad' / 'summary.json').read_text())
  assert saved['diverged'] == 1 and saved['seeds'][BAD]['diverged']


def test_the_benchmark_table_counts_diverged_seeds(config, success_rate_benchmark):
  bench = success_rate_benchmark
  rate = stats.rate(1, 3)
  summary = {'trained': rate, 'robust': rate, 'secure': rate, 'perfect': None,
             'evaluation': {'key_search': None, 'attackers': {}, 'protocol_differences': []}}
  quiet = bench.format_table('tiny', [bench.row('tiny', config, summary, 1.0, 2.0)])
  assert 'diverged' not in quiet  # the table of a run where none diverged is as before
  summary['diverged'] = 1
  row = bench.row('tiny', config, summary, 1.0, 2.0)
  assert row['diverged'] == 1
  assert 'diverged 1/3 (NaN or infinity' in bench.format_table('tiny', [row])
