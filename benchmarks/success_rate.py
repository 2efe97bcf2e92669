"""Seed-sweep benchmark: trained, robust, secure and perfect rates of one or more configs.

For each config it trains S seeds (resuming, or reusing a finished workdir:
training a finished run returns at once), retrains fresh Eves against every
Alice and, for symmetric runs of at most 20 key bits, measures each Alice's
exact leakage by key search (adversarial_crypto.evaluation.robustness), and
prints one row per config: N, architecture, minibatch, seeds, trained /
robust / secure / perfect k/S with 95% Clopper-Pearson intervals ('perfect'
'-' where the key search did not run), the mean and range of the best
retrained Eve's bits wrong per attacker, and wall time. Every table states how its protocol differs
from the paper's. Results go to a JSON file.

  python benchmarks/success_rate.py --preset=cpu --workdir=/work/runs/sym16_b512_20k
  python benchmarks/success_rate.py --preset=paper --configs=sym16,tf_models16
  python benchmarks/success_rate.py --preset=tiny --workdir_root=/tmp/bench

Presets:
  paper  the paper's full protocol (Section 2.5): minibatch 4096, up to 150,000
         steps, 5 fresh Eves x 250,000 steps per attacker. Meant for a GPU.
  cpu    a reduction for the 2-core CPU, about an hour for 20 seeds at N = 16:
         minibatch 512 and up to 20,000 training steps (about 35 minutes on
         an idle CPU), then 5 fresh Eves per attacker x 2,000 steps of
         minibatch 512: 20 pairs x 10 Eves x 2,000 = 400,000 Eve-steps.
         Measured: 187 Eve-steps/s for those 200 Eves while other jobs shared
         the CPU (this one got 0.64 of its 2 cores), 3.4 ms of CPU time per
         Eve-step; about 400 Eve-steps/s expected on an idle CPU, so about 17
         minutes (36 as shared), plus about 40 s of compilation. Eves this
         short are weaker than the paper's (250,000 steps of 4096), so
         'robust' here is optimistic next to the paper's.
  ablation  benchmarks/ablation_secure.py's smaller protocol: 4 seeds, 15,000
         steps, 3 fresh Eves per attacker (paper, mlp) x 2,000 steps.
  tiny   seconds; checks that the benchmark runs, measures nothing.
"""

import ast
import importlib
import json
import os
import sys
import time
from typing import NamedTuple

from absl import app
from absl import flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
from adversarial_crypto import config as config_lib
from adversarial_crypto.evaluation import robustness
from adversarial_crypto.training import interrupts
from adversarial_crypto.training import sharding
from adversarial_crypto.training import train
from adversarial_crypto.training import workdir as workdir_lib


class Preset(NamedTuple):
  description: str
  configs: tuple     # config modules under configs/
  overrides: dict    # dotted config field -> value


PRESETS = {
    'paper': Preset(
        'the paper\'s protocol (Section 2.5); meant for a GPU', ('sym16',), {}),
    'cpu': Preset(
        'a reduction for the 2-core CPU (about an hour): minibatch 512, up to 20,000 '
        'training steps; 5 fresh Eves per attacker x 2,000 steps of minibatch 512',
        ('sym16',),
        {'batch_size': 512, 'max_steps': 20_000, 'chunk_steps': 500,
         'eval.num_eves': 5, 'eval.steps': 2_000, 'eval.every': 250,
         'eval.batch_size': 512, 'eval.eval_batch_size': 4096}),
    'ablation': Preset(
        'the secure-training ablation (benchmarks/ablation_secure.py): 4 seeds, minibatch '
        '512, up to 15,000 training steps; 3 fresh Eves per attacker (paper, mlp, parity) x '
        '2,000 steps of minibatch 512', ('sym16',),
        {'num_seeds': 4, 'batch_size': 512, 'max_steps': 15_000, 'chunk_steps': 500,
         'eval.num_eves': 3, 'eval.steps': 2_000, 'eval.every': 250, 'eval.batch_size': 512,
         'eval.eval_batch_size': 4096, 'eval.attackers': ('paper', 'mlp', 'parity')}),
    'tiny': Preset(
        'seconds, to check that the benchmark runs; measures nothing', ('tiny',),
        {'eval.steps': 20, 'eval.every': 10}),
}

_PRESET = flags.DEFINE_enum('preset', 'cpu', list(PRESETS), 'Protocol preset.')
_CONFIGS = flags.DEFINE_list('configs', None, 'Config modules under configs/ '
                             '(default: the preset\'s), e.g. sym16,tf_models16.')
_NUM_SEEDS = flags.DEFINE_integer('num_seeds', None, 'Seeds per config (default: the config\'s).')
_SET = flags.DEFINE_multi_string('set', [], 'Extra override FIELD=VALUE, e.g. eval.steps=5000; '
                                 'applied after the preset\'s.')
_WORKDIR_ROOT = flags.DEFINE_string('workdir_root', 'runs/success_rate',
                                    'Workdirs default to <root>/<config>_<preset>.')
_WORKDIR = flags.DEFINE_list('workdir', None, 'One workdir per config, in order; a finished '
                             'run there is reused, an unfinished one resumed.')
_OUT = flags.DEFINE_string('out', None, 'JSON results (default <workdir_root>/'
                           'success_rate_<preset>.json).')


def _parse_value(text):
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError):
    return text


def make_config(name, preset, num_seeds=None, extra=()):
  """The config of module configs/<name>.py under a preset and extra overrides.

  Args:
    name: a module under configs/, e.g. 'sym16', or 'module:arg' for
      get_config(arg), e.g. 'secure16:curriculum'.
    preset: a Preset.
    num_seeds: seeds, or None for the config's own.
    extra: 'field=value' strings applied after the preset's overrides.
  """
  module, _, arg = name.partition(':')
  get_config = importlib.import_module(f'configs.{module}').get_config
  config = get_config(arg) if arg else get_config()
  overrides = dict(preset.overrides)
  for item in extra:
    field, _, value = item.partition('=')
    overrides[field.strip()] = _parse_value(value.strip())
  if num_seeds is not None:
    overrides['num_seeds'] = num_seeds
  if isinstance(overrides.get('eval.attackers'), str):  # eval.attackers=paper,mlp
    overrides['eval.attackers'] = config_lib.attacker_names(overrides['eval.attackers'])
  try:
    return config_lib.override(config, overrides)
  except (AttributeError, KeyError) as e:
    raise ValueError(f'unknown config field: {e}') from e


def _spread(spread):
  if spread is None:
    return '   -                 '
  return f"{spread['mean']:5.2f} [{spread['min']:5.2f}, {spread['max']:5.2f}]"


def row(name, config, summary, train_s, eval_s, workdir=None):
  """One config's results as a dict (one JSON row)."""
  return {'config': name, 'workdir': workdir, 'msg_bits': config.msg_bits, 'arch': config.arch,
          'batch_size': config.batch_size, 'seeds': config.num_seeds,
          'trained': summary['trained'], 'robust': summary['robust'],
          'diverged': summary.get('diverged', 0),
          'secure': summary['secure'], 'perfect': summary.get('perfect'),
          'key_search': summary['evaluation'].get('key_search'),
          'attackers': summary['evaluation']['attackers'],
          'protocol_differences': summary['evaluation']['protocol_differences'],
          'train_s': train_s, 'eval_s': eval_s}


def format_table(preset_name, rows):
  """The benchmark's table, with each config's protocol against the paper's."""
  def rate(r):
    if r is None:  # 'perfect' where the key search did not run
      return '-'
    return f"{r['count']:>2d}/{r['n']:<2d} {r['rate']:.2f} [{r['ci_low']:.2f},{r['ci_high']:.2f}]"
  lines = [f'success_rate, preset {preset_name!r}: {PRESETS[preset_name].description}',
           f"{'config':12s} {'N':>3s} {'arch':9s} {'minibatch':>9s} {'seeds':>5s}  "
           f"{'trained':22s}  {'robust':22s}  {'secure':22s}  {'perfect':22s}  "
           f"{'train s':>8s} {'eval s':>8s}"]
  for r in rows:
    lines.append(f"{r['config']:12s} {r['msg_bits']:>3d} {r['arch']:9s} {r['batch_size']:>9d} "
                 f"{r['seeds']:>5d}  {rate(r['trained']):22s}  {rate(r['robust']):22s}  "
                 f"{rate(r['secure']):22s}  {rate(r.get('perfect')):22s}  "
                 f"{r['train_s']:8.0f} {r['eval_s']:8.0f}")
    if r.get('diverged'):
      lines.append(f"{'':12s} diverged {r['diverged']}/{r['seeds']} (NaN or infinity; "
                   'stopped there, counted as not trained)')
    search = r.get('key_search') or {}
    if search and not search.get('ran'):
      lines.append(f"{'':12s} perfect not judged: {search.get('reason')}")
    for attacker, a in r['attackers'].items():
      lines.append(f"{'':12s} best retrained {attacker} Eve over trained pairs, mean [range]: "
                   f"bits {_spread(a['trained_pairs_best_bits'])}, hard "
                   f"{_spread(a['trained_pairs_best_hard_bits'])}  ({a['description']})")
  lines.append('95% Clopper-Pearson intervals; bits wrong as L1/2 and as hard decisions. '
               'Wall times are this invocation\'s: a reused finished run trains in ~0 s.')
  lines.append('Protocol, as it differs from the paper\'s:')
  for r in rows:
    lines.append(f"  {r['config']}:")
    lines += [f'    - {d}' for d in r['protocol_differences']]
  return '\n'.join(lines)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  sharding.one_device_per_core()
  preset = PRESETS[_PRESET.value]
  names = _CONFIGS.value or list(preset.configs)
  workdirs = _WORKDIR.value or [
      os.path.join(_WORKDIR_ROOT.value, f"{n.replace(':', '_')}_{_PRESET.value}") for n in names]
  if len(workdirs) != len(names):
    raise app.UsageError(f'{len(workdirs)} workdirs for {len(names)} configs')
  out = _OUT.value or os.path.join(_WORKDIR_ROOT.value, f'success_rate_{_PRESET.value}.json')
  log = lambda line: print(line, flush=True)
  rows = []
  for name, workdir in zip(names, workdirs):
    config = make_config(name, preset, _NUM_SEEDS.value, _SET.value)
    try:  # fail now, not after hours of training
      config_lib.validate(config)
      config_lib.validate_eval(config)
    except config_lib.ConfigError as e:
      sys.exit(f'error: {name}: {e}')
    log(f'=== {name} in {workdir}')
    start = time.time()
    try:
      with workdir_lib.locked(workdir), workdir_lib.storage_errors():
        result = train.train(config, workdir, log=log)
        if result.interrupted:
          interrupts.exit_interrupted()
        train_s = time.time() - start
        summary = robustness.evaluate_run(config, workdir, result.run, result.summary, log=log)
    except workdir_lib.WorkdirError as e:
      sys.exit(f'error: {name}: {e}')
    rows.append(row(name, config, summary, train_s, time.time() - start - train_s,
                    os.path.abspath(workdir)))
  table = format_table(_PRESET.value, rows)
  print(table)
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  with open(out, 'w') as f:
    json.dump({'preset': _PRESET.value, 'description': preset.description,
               'argv': sys.argv, 'rows': rows, 'table': table}, f, indent=2)
  print(f'wrote {out}')


if __name__ == '__main__':
  app.run(main)
