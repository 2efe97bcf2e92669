"""Every config field tried with bad values: a one-line ConfigError that names it.

The bad values come from this file's own table of what each field is (docs/configs.md),
not from the validator's, and every field of every shipped config must have a row:
a field added to a config without one fails test_every_field_of_every_shipped_config_is_tried.
Bad configs are built from plain dicts, as an edited config.json arrives (a ConfigDict
would refuse most wrong types on assignment), and go through config.complete first,
which must never fail: main.py and evaluate.py call it outside their error handling.
"""

import copy
import json
import os
import subprocess
import sys

import ml_collections
import pytest

from adversarial_crypto import config as config_lib
from configs import asym16
from configs import perfect16
from configs import perfect32
from configs import perfect64
from configs import quick
from configs import secure16
from configs import selective
from configs import sym16
from configs import sym32
from configs import sym64
from configs import tf_models16
from configs import tiny

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPERIMENTS = ('symmetric', 'asymmetric', 'selective')


def shipped_configs():
  """(name, config) of every config file under configs/, every recipe and experiment."""
  configs = [(m.__name__, m.get_config()) for m in (sym16, sym32, sym64, asym16, quick,
                                                     tf_models16, selective, perfect32,
                                                     perfect64)]
  configs += [(f'tiny:{e}', tiny.get_config(e)) for e in EXPERIMENTS]
  configs += [(f'secure16:{r}', secure16.get_config(r)) for r in secure16.RECIPES]
  configs += [(f'perfect16:{r}', perfect16.get_config(r)) for r in perfect16.RECIPES]
  configs.append(('perfect32:logistic_bob_per_target',
                  perfect32.get_config('logistic_bob' + perfect16.PER_TARGET)))
  return configs


def test_the_per_target_recipes_scale_the_eve_term_by_the_parity_targets():
  assert [perfect16.parity_targets(n) for n in (2, 16, 32)] == [3, 136, 528]
  base = perfect32.get_config('logistic_bob')
  scaled = perfect32.get_config('logistic_bob' + perfect16.PER_TARGET)
  assert scaled.train_eves.eve_weight == 48.0 * 528 / 136      # 186.35...
  assert scaled.train_eves.later_eve_weight == 0.1 * 528 / 136
  assert flat(scaled.to_dict()) == dict(flat(base.to_dict()), **{
      'train_eves.eve_weight': scaled.train_eves.eve_weight,
      'train_eves.later_eve_weight': scaled.train_eves.later_eve_weight})
  # At N = 16 the scaling is 1: the recipe itself.
  assert perfect16.at_bits(16, 'logistic_bob_per_target') == perfect16.at_bits(16, 'logistic_bob')
  with pytest.raises(ValueError, match='perfect32.py:nope_per_target: choose one of .* suffix'):
    perfect32.get_config('nope' + perfect16.PER_TARGET)
  # The default at N = 32 and 64: logistic_bob_refactor, scaled per target.
  default = perfect32.get_config()
  assert default == perfect32.get_config('logistic_bob_refactor_per_target')
  assert default.refactor_every == 1 and default.train_eves.eve_weight == 48.0 * 528 / 136
  assert perfect64.get_config().train_eves.eve_weight == 48.0 * 2080 / 136


def flat(fields, prefix=''):
  """{dotted name: value} of a nested dict."""
  out = {}
  for name, value in fields.items():
    if isinstance(value, dict):
      out.update(flat(value, f'{prefix}{name}.'))
    else:
      out[f'{prefix}{name}'] = value
  return out


# What each field is, by kind; the bad values of each kind are below. N = msg_bits.
POSITIVE_INT = ('msg_bits', 'key_bits', 'public_key_bits', 'cipher_len', 'num_seeds',
                'batch_size', 'eval_batch_size', 'eve_steps_per_ab_step', 'max_steps',
                'chunk_steps', 'train_eves.count', 'eval.num_eves', 'eval.steps', 'eval.every',
                'eval.batch_size', 'eval.eval_batch_size')
NON_NEGATIVE_INT = ('train_eves.reset_every', 'train_eves.warmup_steps',
                    'train_eves.steps_per_ab_step', 'train_eves.min_steps', 'freeze_alice_at',
                    'train_eves.later_from', 'refactor_every',
                    'eval.patience', 'eval.key_search_messages')
SEED = ('seed', 'eval.seed')
POSITIVE_NUMBER = ('learning_rate', 'eval.learning_rate', 'train_eves.eve_weight',
                   'train_eves.later_eve_weight', 'train_eves.later_lr_factor')
NON_NEGATIVE_NUMBER = ('leak_penalty.weight', 'loss.public_weight', 'loss.bob_weight',
                       'loss.covariance_weight')
BITS_OF_N = ('success.bob_bits', 'success.eve_bits', 'success.retrained_eve_bits')
MARGIN_OF_N = ('success.secure_margin_bits', 'success.perfect_margin_bits')
CHOICE = ('experiment', 'arch', 'eve_arch', 'eve_loss', 'train_eves.combine',
          'train_eves.eve_term', 'train_eves.game', 'train_eves.later_eve_term', 'ciphertext',
          'bob_loss', 'eval.mlp_loss',
          'eval.lr_schedule')
LAYER_SIZES = ('hidden', 'eval.mlp_hidden', 'eval.deep_mlp_hidden')
OTHER = ('eve_hidden', 'leak_penalty.keys', 'leak_penalty.order', 'eval.attackers',
         'eval.key_search_tolerance', 'correlation')
# Fields that accept any value: none. (A free-form field would be listed here, with why.)
EXEMPT = {}

NAN, INF = float('nan'), float('inf')
NOT_A_NUMBER = ('abc', True, None, (1,))
BAD_LAYER_SIZES = ('abc', 5, (0,), (8, 'a'), (1.5,), (True,), (2**31,))


def bad_values(field, good, msg_bits):
  """Values `field` (whose good value is `good`) must refuse."""
  if field in POSITIVE_INT:
    return NOT_A_NUMBER + (float(good), 0, -1, 2**31, 10**400)  # 10**400: no float holds it
  if field in NON_NEGATIVE_INT:
    return NOT_A_NUMBER + (1.5, -1, 2**31)
  if field in SEED:
    return NOT_A_NUMBER + (1.5, -1, 2**32)
  if field == 'first_seed':  # seed numbers stay below the evaluation's streams
    return NOT_A_NUMBER + (1.5, -1, 2**30)
  if field in POSITIVE_NUMBER:
    return NOT_A_NUMBER + (0, -1e-3, NAN, INF)
  if field in NON_NEGATIVE_NUMBER:
    return NOT_A_NUMBER + (-1e-3, NAN, INF)
  if field in BITS_OF_N:
    return NOT_A_NUMBER + (-0.5, msg_bits + 0.5, NAN)
  if field in MARGIN_OF_N:
    return NOT_A_NUMBER + (-0.01, msg_bits / 2 + 0.5, NAN)
  if field in CHOICE:
    return ('bogus', good.upper(), 3, None, (good,))
  if field in LAYER_SIZES:
    return BAD_LAYER_SIZES + ((),)
  if field == 'eve_hidden':  # () is allowed: a linear Eve
    return BAD_LAYER_SIZES
  if field == 'leak_penalty.keys':  # the tiny configs' batch_size is 64
    return NOT_A_NUMBER + (1.5, 1, 0, 5, 48, 64)
  if field == 'leak_penalty.order':
    return NOT_A_NUMBER + (1.5, 0, 3)
  if field == 'eval.attackers':
    return ('cnn', (), ('paper', 'cnn'), ('paper', 'paper'), ('paper', 3), 5, None)
  if field == 'eval.key_search_tolerance':
    return NOT_A_NUMBER + (0, -1e-4, 2.0, NAN, INF)
  if field == 'correlation':
    identity = tuple(tuple(float(i == j) for j in range(4)) for i in range(4))
    return ('abc', 5, 10**400, None, identity[:3], tuple(r[:3] for r in identity[:3]),
            tuple(tuple(2 * x for x in r) for r in identity),           # diagonal not 1
            tuple(tuple(1.0 if i == j else -0.9 for j in range(4)) for i in range(4)),
            ((1.0, 0.5, 0, 0), (0.0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1)),  # not symmetric
            ((NAN,) * 4,) * 4, ((1, 'a', 0, 0),) * 4)
  raise KeyError(f'{field} has no row in this file: say what kind of field it is')


def tiny_dict(experiment):
  """configs/tiny.py's config of `experiment`, complete, as config.json holds it."""
  return json.loads(json.dumps(config_lib.complete(tiny.get_config(experiment)).to_dict()))


def with_value(fields, field, value):
  fields = copy.deepcopy(fields)
  *sections, name = field.split('.')
  target = fields
  for section in sections:
    target = target[section]
  target[name] = value
  return fields


def refused(fields, *checks):
  """The ConfigError each check (config_lib.validate by default) raises on `fields`,
  built as config.json arrives; complete must not fail on it first."""
  config_lib.complete(fields)
  config = ml_collections.ConfigDict(fields)
  messages = []
  for check in checks or (config_lib.validate,):
    with pytest.raises(config_lib.ConfigError) as e:
      check(config)
    messages.append(str(e.value))
  return messages


def assert_names(message, field, value=None):
  assert f'config.{field}' in message, (field, value, message)
  assert '\n' not in message and message.strip() == message, message


def _fields_to_sweep():
  """(experiment, field): every field of the symmetric and selective experiments, and
  those of the asymmetric one that the symmetric one lacks (the rest are the same)."""
  symmetric = set(flat(tiny_dict('symmetric')))
  for experiment in EXPERIMENTS:
    for field in flat(tiny_dict(experiment)):
      if field not in EXEMPT and (experiment != 'asymmetric' or field not in symmetric):
        yield experiment, field


def test_every_field_of_every_shipped_config_is_tried():
  # The sweep below runs on the tiny configs: they must have every field that any
  # shipped config of their experiment has, and every field must have bad values.
  tiny_fields = {e: set(flat(tiny_dict(e))) for e in EXPERIMENTS}
  covered = set()
  for name, config in shipped_configs():
    complete = config_lib.complete(config)
    fields = set(flat(complete.to_dict()))
    assert fields == tiny_fields[complete.experiment], name
    covered |= fields
  for experiment in EXPERIMENTS:
    for field, good in flat(tiny_dict(experiment)).items():
      assert field in EXEMPT or bad_values(field, good, 8), field
  # Every field of the validator's is one a shipped config has, and the reverse.
  assert covered == {f for e in EXPERIMENTS for f in config_lib.fields_of(e)}
  assert len(covered) == 63  # 57 symmetric, public_key_bits, 5 of selective alone


@pytest.mark.parametrize('experiment, field', list(_fields_to_sweep()))
def test_a_bad_value_is_refused_in_one_line_naming_its_field(experiment, field):
  base = tiny_dict(experiment)
  # validate_eval (main.py's check before training) checks the whole config as well.
  checks = (config_lib.validate,) + ((config_lib.validate_eval,) if field.startswith('eval.')
                                     and experiment != 'selective' else ())
  for bad in bad_values(field, flat(base)[field], base.get('msg_bits')):
    for message in refused(with_value(base, field, bad), *checks):
      assert_names(message, field, bad)


@pytest.mark.parametrize('config', [c for _, c in shipped_configs()],
                         ids=[name for name, _ in shipped_configs()])
def test_every_shipped_config_is_valid_as_written_and_as_config_json(config):
  again = json.loads(json.dumps(config_lib.complete(config).to_dict()))
  for c in (config, config_lib.complete(config), again, ml_collections.ConfigDict(again)):
    config_lib.validate(c)
    if config.experiment != 'selective':
      config_lib.validate_eval(c)
  assert config_lib.complete(again).to_dict() == config_lib.complete(config).to_dict()


def test_a_field_without_a_default_may_not_be_missing():
  # Deleting a field either leaves a config that complete fills in (the research
  # fields, eval, success's bounds: configs made before them lack them) or is refused.
  defaulted = set()
  for experiment in EXPERIMENTS:
    base = tiny_dict(experiment)
    for field in flat(base):
      *sections, name = field.split('.')
      fields = copy.deepcopy(base)
      target = fields
      for section in sections:
        target = target[section]
      del target[name]
      try:
        config_lib.validate(fields)
      except config_lib.ConfigError as e:
        assert_names(str(e), field)
        # Without config.experiment an asymmetric config is symmetric, with a field too many.
        assert 'is missing' in str(e) or field == 'experiment', str(e)
      else:
        defaulted.add(field)
  assert defaulted == ({'experiment', 'first_seed', 'hidden', 'freeze_alice_at', 'ciphertext',
                        'bob_loss', 'refactor_every',
                        'success.retrained_eve_bits', 'success.secure_margin_bits',
                        'success.perfect_margin_bits'} |
                       {f'train_eves.{f}' for f in config_lib.TRAIN_EVES_DEFAULTS} |
                       {f'leak_penalty.{f}' for f in config_lib.LEAK_PENALTY_DEFAULTS} |
                       {f'eval.{f}' for f in config_lib.eval_defaults()})
  for section in ('loss', 'eval'):  # a selective config's sections have no defaults
    fields = tiny_dict('selective')
    del fields[section]
    assert_names(refused(fields)[0], section)


@pytest.mark.parametrize('experiment, section', [
    ('symmetric', None), ('symmetric', 'eval'), ('symmetric', 'success'),
    ('symmetric', 'train_eves'), ('symmetric', 'leak_penalty'), ('asymmetric', None),
    ('asymmetric', 'eval'), ('selective', None), ('selective', 'loss'), ('selective', 'eval'),
])
def test_an_unknown_field_is_refused_by_name(experiment, section):
  base = tiny_dict(experiment)
  for name in ('bogus', 'colour'):
    field = f'{section}.{name}' if section else name
    message, = refused(with_value(base, field, 1))
    assert_names(message, field)
    assert 'unknown fields' in message
  # A near miss gets a "did you mean".
  near = {None: ('max_step', 'max_steps'), 'eval': ('stesp', 'steps'),
          'success': ('eve_bit', 'eve_bits'), 'train_eves': ('counts', 'count'),
          'leak_penalty': ('wieght', 'weight'), 'loss': ('bob_weights', 'bob_weight')}[section]
  prefix = f'{section}.' if section else ''
  message, = refused(with_value(base, prefix + near[0], 1))
  assert f'did you mean config.{prefix}{near[1]}?' in message, message
  if section:  # a section that is not one
    message, = refused(with_value(base, section, 5))
    assert_names(message, section)
    assert 'must be a section' in message


@pytest.mark.parametrize('experiment, field, other', [
    ('symmetric', 'public_key_bits', 'asymmetric'),
    ('symmetric', 'cipher_len', 'selective'),
    ('symmetric', 'loss', 'selective'),
    ('selective', 'msg_bits', 'symmetric and asymmetric'),
    ('selective', 'train_eves', 'symmetric and asymmetric'),
    ('selective', 'eval.patience', 'symmetric and asymmetric'),
])
def test_a_field_of_another_experiment_is_refused_as_such(experiment, field, other):
  message, = refused(with_value(tiny_dict(experiment), field, 8))
  assert_names(message, field)
  assert f'a field of the {other} experiment' in message


def _changed(experiment, changes):
  fields = tiny_dict(experiment)
  for field, value in changes.items():
    fields = with_value(fields, field.replace('__', '.'), value)
  return fields


# Fields each good alone, bad together: (experiment, changes, the field named, words).
INCONSISTENT = [
    ('symmetric', {'msg_bits': 7}, 'msg_bits', 'must be even'),
    ('asymmetric', {'arch': 'keyed_bilinear', 'hidden': (8,)}, 'arch', "Use 'bilinear'"),
    ('symmetric', {'arch': 'keyed_bilinear', 'hidden': (8, 8)}, 'hidden', 'one hidden layer'),
    ('symmetric', {'eve_arch': 'keyed_bilinear'}, 'eve_arch', 'Eve has no key'),
    ('symmetric', {'arch': 'keyed_orthogonal', 'hidden': (16,)}, 'arch', 'msg_bits units'),
    ('symmetric', {'train_eves__later_from': 30}, 'train_eves.later_from', 'multiple of'),
    ('symmetric', {'train_eves__warmup_steps': 20, 'train_eves__later_from': 20},
     'train_eves.later_from', 'after the warm-up'),
    ('symmetric', {'train_eves__later_from': 40, 'freeze_alice_at': 20},
     'train_eves.later_from', 'before config.freeze_alice_at'),
    ('asymmetric', {'ciphertext': 'sign'}, 'ciphertext', 'for the symmetric experiment'),
    ('symmetric', {'freeze_alice_at': 30}, 'freeze_alice_at', 'multiple of config.chunk_steps'),
    ('symmetric', {'train_eves__warmup_steps': 30}, 'train_eves.warmup_steps', 'multiple of'),
    ('symmetric', {'train_eves__warmup_steps': 20, 'freeze_alice_at': 20}, 'freeze_alice_at',
     'after the warm-up'),
    ('symmetric', {'leak_penalty__keys': 5}, 'leak_penalty.keys', 'divides config.batch_size'),
    ('symmetric', {'batch_size': 100}, 'leak_penalty.keys', 'divides config.batch_size'),
    ('symmetric', {'leak_penalty__keys': 64}, 'leak_penalty.keys', 'fewer than 2 plaintexts'),
    ('symmetric', {'success__eve_bits': 9.0}, 'success.eve_bits', '[0, msg_bits = 8]'),
    # N = 2 without rescaling the thresholds: tiny's Eve goal, 3.65 bits of 8, exceeds N.
    ('symmetric', {'msg_bits': 2}, 'success.eve_bits', '[0, msg_bits = 2]'),
    ('symmetric', {'success__retrained_eve_bits': 8.5}, 'success.retrained_eve_bits', '6 of 16'),
    ('symmetric', {'success__secure_margin_bits': 4.5}, 'success.secure_margin_bits',
     'msg_bits / 2 = 4]'),
    ('symmetric', {'eval__attackers': ('mlp',)}, 'eval.attackers', "must include 'paper'"),
    ('symmetric', {'msg_bits': 2, 'success__eve_bits': 1.0, 'success__retrained_eve_bits': 0.5,
                   'success__secure_margin_bits': 0.1, 'eval__attackers': ('paper', 'parity4')},
     'eval.attackers', "'parity4'"),
    ('selective', {'eval__attackers': ('paper', 'parity')}, 'eval.attackers',
     "must be from 'paper', 'mlp'"),
    ('selective', {'arch': 'mlp'}, 'arch', "'paper' or 'tf_models'"),
    ('symmetric', {'first_seed': 2**30 - 1}, 'first_seed', 'below 2^30'),
    ('selective', {'first_seed': 2**30 - 1}, 'first_seed', 'below 2^30'),
    ('symmetric', {'experiment': 'selective'}, 'experiment', "config.experiment is 'selective'"),
]


@pytest.mark.parametrize('experiment, changes, field, words', INCONSISTENT,
                         ids=[f'{e}-{f}-{i}' for i, (e, _, f, _) in enumerate(INCONSISTENT)])
def test_fields_that_contradict_each_other_are_refused(experiment, changes, field, words):
  message, = refused(_changed(experiment, changes))
  assert_names(message, field)
  assert words in message, message


@pytest.mark.parametrize('check, experiment, field, value', [
    (config_lib.validate_train_eves, 'symmetric', 'train_eves.count', 0),
    (config_lib.validate_train_eves, 'symmetric', 'train_eves.bogus', 1),
    (config_lib.validate_leak_penalty, 'symmetric', 'leak_penalty.keys', 5),
    (config_lib.validate_leak_penalty, 'asymmetric', 'leak_penalty.order', True),
    (config_lib.validate_selective, 'selective', 'loss.bob_weight', -1.0),
    (config_lib.validate_selective, 'selective', 'eval.seed', -1),
    (config_lib.validate_eval, 'asymmetric', 'eval.patience', -1),
    (config_lib.validate_eval, 'symmetric', 'max_steps', 0),  # the whole config
    (config_lib.validate_eval, 'selective', 'experiment', 'selective'),  # no such evaluation
])
def test_each_public_check_names_the_field(check, experiment, field, value):
  message, = refused(with_value(tiny_dict(experiment), field, value), check)
  assert_names(message, field)


def test_every_message_is_one_line_even_when_it_quotes_a_multi_line_value():
  class Shown(float):  # a value whose repr spans lines
    def __repr__(self):
      return 'first\nsecond'
  message, = refused(with_value(tiny_dict('symmetric'), 'learning_rate', Shown('nan')))
  assert message.endswith('got first second'), message


def test_validation_changes_no_field():
  # validate reads the config it is given: it neither completes nor converts it.
  for config in (sym16.get_config(), sym16.get_config().to_dict()):
    fields = config if isinstance(config, dict) else config.to_dict()
    del fields['train_eves']
    fields['eval']['attackers'] = 'paper,mlp'
    config = fields if isinstance(config, dict) else ml_collections.ConfigDict(fields)
    snapshot = copy.deepcopy(fields)
    config_lib.validate(config)
    config_lib.validate_eval(config)
    assert (config if isinstance(config, dict) else config.to_dict()) == snapshot


def run_main(*args):
  return subprocess.run([sys.executable, '-m', 'adversarial_crypto.main', *args],
                        cwd=REPO, capture_output=True, text=True, timeout=600)


def error_line(done):
  """The `error:` line of a refused command, checked to be its one message."""
  assert done.returncode not in (0, None), done.stdout[-2000:]
  assert 'Traceback' not in done.stderr, done.stderr[-3000:]
  lines = done.stderr.strip().splitlines()
  errors = [line for line in lines if line.startswith('error:')]
  assert len(errors) == 1, done.stderr[-3000:]
  # main.py's flag parser adds one hint after a flag it could not parse.
  assert lines[-1] == errors[0] or lines[-1] == 'See --helpfull for the flags.', lines[-3:]
  return errors[0]


@pytest.mark.slow
@pytest.mark.parametrize('override, field', [
    ('--config.eval.steps=-5', 'config.eval.steps'),          # main.py: validate_eval
    ('--config.seed=-1', 'config.seed'),                      # a field checked only now
    ('--config.train_eves.warmup_steps=30', 'config.train_eves.warmup_steps'),  # consistency
    ('--config.msg_bits=abc', 'config.msg_bits'),             # the flag parser: wrong type
])
def test_the_command_line_reports_a_bad_field_in_one_line(tmp_path, override, field):
  line = error_line(run_main('--config=configs/tiny.py', override, f'--workdir={tmp_path}'))
  assert field in line, line
  assert not os.path.exists(tmp_path / 'checkpoint.msgpack')  # refused before training


def test_differences_name_each_changed_field_by_hand():
  old = {'lr': 0.1, 'eval': {'steps': 2000, 'attackers': ('paper',)}, 'gone': 1}
  new = {'lr': 0.1, 'eval': {'steps': 4000, 'attackers': ['paper']}, 'added': 2}
  assert config_lib.differences(old, new, 'then', 'now') == [
      'added: None then, 2 now', 'eval.steps: 2000 then, 4000 now', 'gone: 1 then, None now']
  assert config_lib.differences(old, old, 'then', 'now') == []
