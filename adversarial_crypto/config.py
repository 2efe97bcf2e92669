"""Config handling in one place: defaults, completing old configs, overrides, checks.

A config is an ml_collections.ConfigDict (configs/*.py; docs/configs.md
describes every field). `complete` fills every default once, when a config
file or a run's config.json is loaded, so model code reads fields directly;
`validate` checks a complete config with messages that say how to fix it.
"""

import copy
import difflib
import json
import math
import numbers

import ml_collections
import numpy as np

from adversarial_crypto.core import networks
from adversarial_crypto.core import selective

# Fields that may change when a run resumes: they do not change what was trained.
RESUMABLE_FIELDS = ('max_steps', 'eval')
# Fields of config.success that only judge the evaluation, not training.
RESUMABLE_SUCCESS_FIELDS = ('retrained_eve_bits', 'secure_margin_bits', 'perfect_margin_bits')
# Attackers the evaluator knows (evaluation/attackers.py); 'paper' decides robustness.
ATTACKERS = ('paper', 'mlp', 'deep_mlp', 'parity', 'products', 'parity4', 'distinguish')
# Every attacker: the family that `secure` is judged against in configs/secure16.py.
ALL_ATTACKERS = ATTACKERS
LR_SCHEDULES = ('constant', 'cosine')
# Section 2, Appendix A (core/recipe.py) and Section 3 (core/selective.py).
EXPERIMENTS = ('symmetric', 'asymmetric', 'selective')
# The paper states its thresholds for N = 16; other N scale them (scaled_bits).
PAPER_MSG_BITS = 16
# secure: every fresh Eve's best hard bits wrong within this margin of chance, N/2
# (bits of N = 16, scaled; docs/calibration.md says why this margin).
SECURE_MARGIN_BITS = 0.25
# perfect: H(P | C) by exhaustive key search within this many bits of N.
PERFECT_MARGIN_BITS = 0.1

# config.train_eves (extensions/training_eves.py): the paper's single Eve unless set.
TRAIN_EVES_DEFAULTS = {'count': 1, 'combine': 'mean', 'reset_every': 0, 'warmup_steps': 0,
                       'eve_weight': 1.0, 'eve_term': 'paper', 'steps_per_ab_step': 0,
                       'game': 'reconstruct', 'min_steps': 0,
                       # From step later_from (0: never) the Eve term weighs later_eve_weight.
                       'later_from': 0, 'later_eve_weight': 1.0,
                       # ... and Alice and Bob's Adam steps are x later_lr_factor, and
                       # the Eves' term is later_eve_term ('same': eve_term).
                       'later_lr_factor': 1.0, 'later_eve_term': 'same'}
TRAIN_EVES_FIELDS = tuple(TRAIN_EVES_DEFAULTS)
EVE_TERMS = ('paper', 'information', 'target_information', 'worst_information',
             'excess_information')
# What the main training Eves do: guess the plaintext (the paper), tell which of
# two plaintexts a ciphertext encrypts, or guess the bits and every pairwise parity.
GAMES = ('reconstruct', 'distinguish', 'parity')
# config.leak_penalty (extensions/leak_penalty.py): off unless weight > 0.
LEAK_PENALTY_DEFAULTS = {'weight': 0.0, 'keys': 8, 'order': 1}
# config.ciphertext: 'tanh', Alice's output as the paper sends it, or its 'sign'.
CIPHERTEXTS = ('tanh', 'sign')
# The research fields of the symmetric and asymmetric experiments, at the values
# that leave the paper's recipe as it is (configs made before them lack them).
RESEARCH_DEFAULTS = {'train_eves': TRAIN_EVES_DEFAULTS, 'freeze_alice_at': 0,
                     'leak_penalty': LEAK_PENALTY_DEFAULTS, 'ciphertext': 'tanh',
                     # Bob's term in Alice and Bob's loss: his bits wrong (the paper)
                     # or his per-bit cross-entropy on the same scale.
                     'bob_loss': 'l1',
                     # Every this many steps (0: never) Alice's and Bob's free matrices
                     # of arch 'keyed_orthogonal' are re-factored (networks.refactor).
                     'refactor_every': 0}


def scaled_bits(bits_of_16, msg_bits):
  """A threshold the paper states in bits of N = 16, as bits of `msg_bits`."""
  return bits_of_16 / PAPER_MSG_BITS * msg_bits


def scale_to(config, msg_bits):
  """Sets N = msg_bits plaintext and key bits, with the paper's N = 16 thresholds
  scaled by N/16 (Eve's 7.3 bits, a retrained Eve's 6, the secure margin); Bob's
  0.05 bits per message stays. Returns the config."""
  config.msg_bits = config.key_bits = msg_bits
  config.success.eve_bits = scaled_bits(7.3, msg_bits)
  config.success.retrained_eve_bits = scaled_bits(6.0, msg_bits)
  config.success.secure_margin_bits = scaled_bits(SECURE_MARGIN_BITS, msg_bits)
  return config


def eval_defaults():
  """The robustness evaluation (Section 2.5): fresh Eves against frozen Alices.

  The paper resets Eve 5 times for up to 250,000 steps each; it states neither
  the retraining minibatch nor how often Eve is measured, so the training
  minibatch and the public TensorFlow code's 10,000 are used.
  """
  return ml_collections.ConfigDict({
      'num_eves': 5, 'steps': 250_000, 'every': 10_000, 'batch_size': 4096,
      'eval_batch_size': 4096, 'learning_rate': 0.0008, 'attackers': ('paper', 'mlp'),
      'mlp_hidden': (256, 256), 'deep_mlp_hidden': (512, 512, 512),
      'mlp_loss': 'logistic', 'seed': 0,
      # Beyond the paper: a fresh Eve stops once her held-out error has not improved
      # for `patience` steps (0: the paper's fixed budget, eval.steps, which stays the
      # cap); her Adam learning rate follows `lr_schedule` over eval.steps.
      'patience': 0, 'lr_schedule': 'constant',
      # Exact leakage (evaluation/leakage.py): all 2^K keys tried on this many fresh
      # ciphertexts per seed (0: off; only for key_bits <= 20, symmetric runs); a key
      # explains a ciphertext when re-encrypting its decoding moves no element by
      # more than the tolerance.
      'key_search_messages': 64, 'key_search_tolerance': 1e-4})


def attacker_names(attackers):
  """config.eval.attackers as a tuple of names, from a tuple or from the
  comma-separated string of older configs and of --config.eval.attackers=a,b."""
  if isinstance(attackers, str):
    attackers = (attackers,)
  return tuple(name.strip() for item in attackers for name in str(item).split(',')
               if name.strip())


def _tuples(value):
  """JSON turns a config's tuples into lists; ConfigDict keeps a field's type,
  and FrozenConfigDict must hash, so they turn back into tuples."""
  if isinstance(value, dict):
    return {k: _tuples(v) for k, v in value.items()}
  if isinstance(value, list):
    return tuple(_tuples(v) for v in value)
  return value


def _is_int(value):
  return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value):
  """A finite real number (not a bool)."""
  if isinstance(value, bool) or not isinstance(value, numbers.Real):
    return False
  return _is_int(value) or math.isfinite(value)


def _is_selective(experiment):
  return isinstance(experiment, str) and experiment == 'selective'


def _filled(config):
  """A config as a dict of plain values with every default filled in.

  A field holding a value of the wrong kind (an edited config.json, a section
  that is not one) is left as it is, for `validate` to report; filling never fails.
  """
  fields = _tuples(copy.deepcopy(config if isinstance(config, dict) else config.to_dict()))
  fields.setdefault('experiment', 'symmetric')  # runs made before Appendix A
  fields.setdefault('first_seed', 0)  # runs made before a run could start past seed 0
  evaluation = fields.get('eval')
  if isinstance(evaluation, dict) and isinstance(evaluation.get('attackers'), (str, tuple)):
    evaluation['attackers'] = attacker_names(evaluation['attackers'])
  if _is_selective(fields['experiment']):  # made with its evaluation and no research fields
    return fields
  for name, default in RESEARCH_DEFAULTS.items():
    if isinstance(default, dict):
      if isinstance(fields.setdefault(name, {}), dict):
        fields[name] = {**default, **fields[name]}
    else:
      fields.setdefault(name, default)
  fields.setdefault('hidden', networks.DEFAULT_HIDDEN)  # Alice and Bob's, when arch is 'mlp'
  # Runs made before the evaluator existed: its defaults, the paper's bound scaled to N.
  if isinstance(fields.setdefault('eval', {}), dict):
    fields['eval'] = {**eval_defaults().to_dict(), **fields['eval']}
  if isinstance(fields.setdefault('success', {}), dict):
    defaults = {'perfect_margin_bits': PERFECT_MARGIN_BITS}
    msg_bits = fields.get('msg_bits')
    if _is_int(msg_bits) and abs(msg_bits) <= MAX_INT:  # else validate reports msg_bits
      defaults = {'retrained_eve_bits': scaled_bits(6.0, fields['msg_bits']),
                  'secure_margin_bits': scaled_bits(SECURE_MARGIN_BITS, fields['msg_bits']),
                  **defaults}
    fields['success'] = {**defaults, **fields['success']}
  return fields


def complete(config):
  """A config (ConfigDict, or a dict as a run's config.json holds it) with every
  default filled in, as an unlocked ConfigDict. Idempotent."""
  return ml_collections.ConfigDict(_filled(config))


def as_json(value):
  """A nested value as JSON reads it back (tuples become lists), to compare a config
  with one saved in a file."""
  return json.loads(json.dumps(value))


def differences(old, new, old_label, new_label, prefix=''):
  """One line per field whose value differs between two nested dicts, by dotted
  name: 'eval.steps: 2000 OLD_LABEL, 4000 NEW_LABEL' (tuples equal lists)."""
  out = []
  for name in sorted(set(old) | set(new)):
    a, b = old.get(name), new.get(name)
    if isinstance(a, dict) and isinstance(b, dict):
      out += differences(a, b, old_label, new_label, f'{prefix}{name}.')
    elif _as_lists(a) != _as_lists(b):
      out.append(f'{prefix}{name}: {a!r} {old_label}, {b!r} {new_label}')
  return out


def _as_lists(value):
  if isinstance(value, (list, tuple)):
    return [_as_lists(v) for v in value]
  if isinstance(value, dict):
    return {k: _as_lists(v) for k, v in value.items()}
  return value


def is_paper_recipe(config):
  """Whether a complete symmetric or asymmetric config sets none of the research
  options of extensions/: then core/recipe.py trains it."""
  return (config.train_eves.to_dict() == TRAIN_EVES_DEFAULTS and not config.freeze_alice_at and
          not config.leak_penalty.weight and config.ciphertext == 'tanh' and
          config.bob_loss == 'l1' and not config.refactor_every)


def override(config, overrides):
  """Sets dotted fields, {'train_eves.count': 4, ...}, through ml_collections;
  a field the config lacks raises its "did you mean" error. Returns the config."""
  config.lock()
  try:
    config.update_from_flattened_dict(dict(overrides))
  finally:
    config.unlock()
  return config


class ConfigError(ValueError):
  """A config field holds a value the experiment cannot use. Its message is one
  line that names the field (config.X) and says what it must be."""


def _error(message):
  """A ConfigError whose message is one line, whatever the values it quotes."""
  return ConfigError(' '.join(str(message).split()))


def _require(ok, message):
  if not ok:
    raise _error(message)


# Steps and sizes become int32 in JAX (step counters, array shapes): larger ones overflow.
MAX_INT = 2**31 - 1
# jax.random.PRNGKey and fold_in read a seed's low 32 bits: larger seeds repeat smaller ones.
SEED_LIMIT = 2**32
# A key-search tolerance of 2 or more (ciphertexts lie in [-1, 1]) lets every key explain
# every ciphertext, which would make any cipher `perfect`.
MAX_KEY_SEARCH_TOLERANCE = 2.0


def _bound(bound, config):
  return bound(config) if callable(bound) else bound


def _int(low=1, high=MAX_INT, what=None):
  """A check of an integer field in [low, high]."""
  def check(config, path, value):
    text = what or ('a positive integer' if low == 1 else f'an integer >= {low}')
    if _is_int(value) and value > high and high == MAX_INT:
      text += f' no larger than {MAX_INT:,} (JAX counts steps and sizes in int32)'
    _require(_is_int(value) and low <= value <= high,
             f'config.{path} must be {text}, got {value!r}; set it with --config.{path}=...')
  return check


def _seed():
  return _int(0, SEED_LIMIT - 1, what='an integer in [0, 2^32) (jax.random reads 32 bits)')


def _number(low=0, high=None, low_open=False, high_open=False, what=None, hint=''):
  """A check of a finite real field between low and high (bounds may be functions of
  the config: the success thresholds are bits of config.msg_bits)."""
  def check(config, path, value):
    lo, hi = _bound(low, config), _bound(high, config)
    ok = _is_number(value)
    if ok and lo is not None:
      ok = value > lo if low_open else value >= lo
    if ok and hi is not None:
      ok = value < hi if high_open else value <= hi
    if what:
      text = what(config) if callable(what) else what
    elif hi is None:
      text = f'a number {">" if low_open else ">="} {lo:g}'
    else:
      text = f'a number in {"(" if low_open else "["}{lo:g}, {hi:g}{")" if high_open else "]"}'
    _require(ok, f'config.{path} must be {text}, got {value!r}{hint}')
  return check


def _choice(choices, what=None):
  def check(config, path, value):
    _require(isinstance(value, str) and value in choices,
             f'config.{path} must be {what or f"one of {choices}"}, got {value!r}')
  return check


def _layer_sizes(allow_empty=False):
  def check(config, path, value):
    _require(isinstance(value, tuple) and (allow_empty or len(value) > 0) and
             all(_is_int(h) and 0 < h <= MAX_INT for h in value),
             f'config.{path} must be {"zero or more" if allow_empty else "one or more"} '
             f"positive layer sizes, a tuple such as (128, 128), got {value!r}; set it with "
             f"--config.{path}='(128, 128)'")
  return check


def _attackers(allowed, what=None):
  def check(config, path, value):
    names = value if isinstance(value, tuple) else ()
    _require(names and all(isinstance(a, str) and a in allowed for a in names) and
             len(set(names)) == len(names),
             f'config.{path} must be {what or f"distinct names from {allowed}"}, got {value!r}')
  return check


def _correlation():
  def check(config, path, value):
    try:
      matrix = np.asarray(value, np.float64)
    except (ValueError, TypeError, OverflowError):
      matrix = None
    if matrix is None or matrix.shape != (4, 4):
      raise _error(f'config.{path} must be a 4x4 matrix of numbers, the correlations of A, '
                   f'B, C and D (configs/selective.py), got {value!r}')
    try:
      selective.cholesky_factor(value)
    except ValueError as e:
      raise _error(f'config.{path}: {e}') from e
  return check


# Seed i of a run is seed first_seed + i of its root config.seed, so a root's seeds
# may be trained in several runs (one per machine or session) as in one. Seed numbers
# stay below 2^30, under the streams the evaluation folds into the same root
# (evaluator.EVAL_ROOT_STREAM, leakage.LEAKAGE_STREAM), so no key is drawn twice.
SEED_NUMBER_LIMIT = 2**30
_FIRST_SEED = _int(0, SEED_NUMBER_LIMIT - 1, what='an integer in [0, 2^30): the run trains '
                   'seeds first_seed, ..., first_seed + num_seeds - 1 of its root config.seed')
_EVE_ARCHS = tuple(a for a in networks.ARCHS if a not in networks.KEYED_ARCHS)
_MISSING = ('add it to the config; configs/sym16.py (configs/asym16.py, configs/selective.py) '
            'sets every field and docs/configs.md describes them')

_OF_N = lambda c: f'a number of bits in [0, msg_bits = {c.msg_bits}]'
_OF_HALF_N = lambda c: f'a number of bits in [0, msg_bits / 2 = {c.msg_bits / 2:g}]'

# Every field of a symmetric or asymmetric config, in the order they are checked: its
# check of type and range. Consistency between fields is checked after them all.
_TRAINING_FIELDS = {
    'msg_bits': _int(),
    'key_bits': _int(),
    'public_key_bits': _int(),  # asymmetric only
    'arch': _choice(networks.ARCHS, 'one of ' + ', '.join(map(repr, networks.ARCHS))),
    'hidden': _layer_sizes(),
    'eve_arch': _choice(('same',) + _EVE_ARCHS, "one of 'same', " + ', '.join(
        map(repr, _EVE_ARCHS)) + ' (Eve has no key)'),
    'eve_hidden': _layer_sizes(allow_empty=True),
    'eve_loss': _choice(('l1', 'logistic'), "'l1' or 'logistic'"),
    'train_eves.count': _int(what='an integer >= 1'),
    'train_eves.combine': _choice(('mean', 'max'), "'mean' or 'max'"),
    'train_eves.reset_every': _int(0),
    'train_eves.warmup_steps': _int(0),
    'train_eves.eve_weight': _number(0, low_open=True, what='a positive number'),
    'train_eves.eve_term': _choice(EVE_TERMS),
    'train_eves.steps_per_ab_step': _int(0),
    'train_eves.game': _choice(GAMES),
    'train_eves.min_steps': _int(0),
    'train_eves.later_from': _int(0, what='0 (never) or a positive integer'),
    'train_eves.later_eve_weight': _number(0, low_open=True, what='a positive number'),
    'train_eves.later_lr_factor': _number(0, low_open=True, what='a positive number'),
    'train_eves.later_eve_term': _choice(('same',) + EVE_TERMS),
    'freeze_alice_at': _int(0, what='0 (never) or a positive integer'),
    'leak_penalty.weight': _number(0, what='a number >= 0 (0: off)'),
    'leak_penalty.keys': _int(2, what='an integer >= 2 that divides config.batch_size'),
    'leak_penalty.order': _int(1, 2, what='1 (the ciphertext) or 2 (and its pairwise '
                               'products)'),
    'ciphertext': _choice(CIPHERTEXTS),
    'bob_loss': _choice(('l1', 'logistic'), "'l1' or 'logistic'"),
    'refactor_every': _int(0, what='0 (never) or a positive integer'),
    'num_seeds': _int(),
    'seed': _seed(),
    'first_seed': _FIRST_SEED,
    'batch_size': _int(),
    'eval_batch_size': _int(),
    'learning_rate': _number(0, low_open=True, what='positive (a number > 0)'),
    'eve_steps_per_ab_step': _int(),
    'max_steps': _int(),
    'chunk_steps': _int(),
    'success.bob_bits': _number(0, lambda c: c.msg_bits, what=_OF_N),
    'success.eve_bits': _number(0, lambda c: c.msg_bits, what=_OF_N),
    'success.retrained_eve_bits': _number(0, lambda c: c.msg_bits, what=_OF_N,
                                          hint='; the paper uses 6 of 16 bits'),
    'success.secure_margin_bits': _number(0, lambda c: c.msg_bits / 2, what=_OF_HALF_N),
    'success.perfect_margin_bits': _number(0, lambda c: c.msg_bits / 2, what=_OF_HALF_N),
    'eval.num_eves': _int(),
    'eval.steps': _int(),
    'eval.every': _int(),
    'eval.batch_size': _int(),
    'eval.eval_batch_size': _int(),
    'eval.learning_rate': _number(0, low_open=True, what='positive (a number > 0)'),
    'eval.attackers': _attackers(ATTACKERS),
    'eval.mlp_hidden': _layer_sizes(),
    'eval.deep_mlp_hidden': _layer_sizes(),
    'eval.mlp_loss': _choice(('l1', 'logistic'), "'l1' or 'logistic'"),
    'eval.seed': _seed(),
    'eval.patience': _int(0, what='an integer >= 0 (0: the fixed budget eval.steps)'),
    'eval.lr_schedule': _choice(LR_SCHEDULES),
    'eval.key_search_messages': _int(0, what='an integer >= 0 (0: no key search)'),
    'eval.key_search_tolerance': _number(
        0, MAX_KEY_SEARCH_TOLERANCE, low_open=True, high_open=True,
        what='a number in (0, 2): at 2 or more every key explains every ciphertext'),
}
# Every field of a selective-protection config (configs/selective.py).
_SELECTIVE_FIELDS = {
    'correlation': _correlation(),
    'key_bits': _int(),
    'cipher_len': _int(),
    'arch': _choice(('paper', 'tf_models'), "'paper' or 'tf_models'"),
    'loss.public_weight': _number(0),
    'loss.bob_weight': _number(0),
    'loss.covariance_weight': _number(0),
    'num_seeds': _int(),
    'seed': _seed(),
    'first_seed': _FIRST_SEED,
    'batch_size': _int(),
    'eval_batch_size': _int(),
    'learning_rate': _number(0, low_open=True, what='positive (a number > 0)'),
    'eve_steps_per_ab_step': _int(),
    'max_steps': _int(),
    'chunk_steps': _int(),
    'eval.num_eves': _int(),
    'eval.steps': _int(),
    'eval.every': _int(),
    'eval.batch_size': _int(),
    'eval.eval_batch_size': _int(),
    'eval.learning_rate': _number(0, low_open=True, what='positive (a number > 0)'),
    # Section 3's Eves estimate C, a real value: the bit attackers have no meaning there.
    'eval.attackers': _attackers(('paper', 'mlp'), "from 'paper', 'mlp' (distinct names; "
                                 "Section 3's Eves estimate a real value)"),
    'eval.mlp_hidden': _layer_sizes(),
    'eval.seed': _seed(),
}


def fields_of(experiment):
  """The dotted names of every field a complete config of `experiment` has."""
  if experiment == 'selective':
    return ('experiment',) + tuple(_SELECTIVE_FIELDS)
  return ('experiment',) + tuple(name for name in _TRAINING_FIELDS
                                 if name != 'public_key_bits' or experiment == 'asymmetric')


def _check_names(config, experiment, only=None):
  """Refuses a section that is not one, and a field that the experiment does not
  have, with a "did you mean"; in section `only` alone, if given."""
  known = fields_of(experiment)
  top = tuple(dict.fromkeys(name.split('.')[0] for name in known))
  sections = tuple(dict.fromkeys(name.split('.')[0] for name in known if '.' in name))
  for section in (only,) if only else sections:
    if section in config and not isinstance(config[section], (dict, ml_collections.ConfigDict)):
      raise _error(f'config.{section} must be a section of fields (a ConfigDict; see '
                   f'docs/configs.md), got {config[section]!r}')
  for section in (only,) if only else ('',) + sections:
    if section and section not in config:
      continue  # reported as missing by _check_fields
    where, prefix = (f'config.{section}', f'{section}.') if section else ('config', '')
    takes = tuple(n[len(prefix):] for n in known if n.startswith(prefix)) if section else top
    unknown = sorted(str(n) for n in (config[section] if section else config) if n not in takes)
    if not unknown:
      continue
    field = prefix + unknown[0]
    others = [e for e in EXPERIMENTS if any(f == field or f.startswith(field + '.')
                                            for f in fields_of(e))]
    if others:
      hint = (f'config.{field} is a field of the {" and ".join(others)} experiment'
              f'{"s" if len(others) > 1 else ""}, and config.experiment is {experiment!r}')
    else:
      close = difflib.get_close_matches(unknown[0], takes, n=1)
      hint = ((f'did you mean config.{prefix}{close[0]}? ' if close else '') +
              f'{where} takes {takes}')
    raise _error(f'{where} has unknown fields: ' +
                 ', '.join(f'config.{prefix}{n}' for n in unknown) + f'; {hint}')


def _check_fields(config, schema, which=None, missing=None):
  """Each field of `schema` (or of `which`, its names) is present and of its type and range."""
  for path in which or schema:
    section, _, name = path.rpartition('.')
    if section and section not in config:
      raise _error(f'config.{section} is missing: {(missing or {}).get(section, _MISSING)}')
    fields = config[section] if section else config
    if name not in fields:
      raise _error(f'config.{path} is missing: {(missing or {}).get(path, _MISSING)}')
    schema[path](config, path, fields[name])


def validate(config):
  """Raises ConfigError if a config (symmetric, asymmetric or selective) cannot be run.

  Every field is checked for its type and range, fields the experiment does not
  have are refused, then the fields are checked against each other; the message
  names the field, in one line.
  """
  config = complete(config)
  experiment = config.experiment
  _require(isinstance(experiment, str) and experiment in EXPERIMENTS,
           f'config.experiment must be one of {EXPERIMENTS}, got {experiment!r}')
  _check_names(config, experiment)
  if experiment == 'selective':
    _validate_selective(config)
    return
  _check_fields(config, _TRAINING_FIELDS, fields_of(experiment)[1:], missing={
      'public_key_bits': 'the asymmetric experiment needs the public key\'s length '
                         '(see configs/asym16.py)'})
  _validate_seeds(config)
  _require(config.msg_bits % 2 == 0,
           f'config.msg_bits must be even, got {config.msg_bits}: Eve\'s target is '
           'N/2 bits wrong, which must be a whole number of bits. The paper uses '
           '16, 32 or 64.')
  if config.arch in networks.KEYED_ARCHS:
    _require(experiment == 'symmetric',
             f"config.arch {config.arch!r} takes a key in every network; the {experiment} "
             "experiment has a network without one. Use 'bilinear'")
    hidden = tuple(config.hidden)
    _require(len(hidden) == 1,
             f"config.arch {config.arch!r} takes one hidden layer; set config.hidden to one "
             f"size, for example (128,), not {hidden}")
    if config.arch == 'keyed_orthogonal':
      _require(hidden == (config.msg_bits,) and config.key_bits == config.msg_bits,
               f"config.arch 'keyed_orthogonal' has msg_bits units on msg_bits key bits; set "
               f'config.hidden to ({config.msg_bits},) and config.key_bits to '
               f'{config.msg_bits}, not {hidden} and {config.key_bits}')
  _require(not config.refactor_every or config.arch == 'keyed_orthogonal',
           f'config.refactor_every ({config.refactor_every}) re-factors the free matrices of '
           f"arch 'keyed_orthogonal'; config.arch is {config.arch!r}: set it to 0")
  _validate_train_eves(config)
  _validate_leak_penalty(config)
  kind = config.ciphertext
  _require(kind == 'tanh' or experiment == 'symmetric',
           f"config.ciphertext '{kind}' is for the symmetric experiment; "
           f'{experiment} sends tanh outputs')
  freeze = config.freeze_alice_at
  _require(freeze % config.chunk_steps == 0,
           f'config.freeze_alice_at must be 0 (never) or a multiple of config.chunk_steps '
           f'({config.chunk_steps}), got {freeze!r}')
  warmup = config.train_eves.warmup_steps
  _require(not freeze or freeze > warmup,
           f'config.freeze_alice_at ({freeze}) must come after the warm-up '
           f'(config.train_eves.warmup_steps, {warmup} steps)')
  later = config.train_eves.later_from
  _require(not (freeze and later) or later < freeze,
           f'config.train_eves.later_from ({later}) must come before config.freeze_alice_at '
           f'({freeze}): the later weight is of a phase where Alice still learns')
  _validate_eval_fields(config)


def validate_leak_penalty(config):
  """Raises ConfigError if config.leak_penalty (losses.moment_leak in Alice and Bob's loss) is bad."""
  _validate_leak_penalty(complete(config))


def _validate_leak_penalty(config):
  _check_names(config, config.experiment, only='leak_penalty')
  _check_fields(config, _TRAINING_FIELDS,
                ['batch_size'] + [n for n in _TRAINING_FIELDS if n.startswith('leak_penalty.')])
  keys, batch_size = config.leak_penalty['keys'], config.batch_size  # .keys: the method
  _require(batch_size % keys == 0,
           f'config.leak_penalty.keys must be an integer >= 2 that divides config.batch_size '
           f'({batch_size}): the leak batch is batch_size / keys plaintexts, each '
           f'under `keys` keys; got {keys!r}')
  _require(batch_size // keys >= 2,
           f'config.leak_penalty.keys ({keys}) leaves fewer than 2 plaintexts in a batch of '
           f'{batch_size}; lower it')


def validate_train_eves(config):
  """Raises ConfigError if config.train_eves (the Eves trained beside Alice and Bob) is bad."""
  _validate_train_eves(complete(config))


def _validate_train_eves(config):
  _check_names(config, config.experiment, only='train_eves')
  _check_fields(config, _TRAINING_FIELDS,
                ['chunk_steps'] + [n for n in _TRAINING_FIELDS if n.startswith('train_eves.')])
  warmup = config.train_eves.warmup_steps
  _require(warmup % config.chunk_steps == 0,
           f'config.train_eves.warmup_steps ({warmup}) must be a multiple of '
           f'config.chunk_steps ({config.chunk_steps}): a chunk runs in one phase')
  later = config.train_eves.later_from
  _require(later % config.chunk_steps == 0,
           f'config.train_eves.later_from ({later}) must be 0 (never) or a multiple of '
           f'config.chunk_steps ({config.chunk_steps}): a chunk runs in one phase')
  _require(not later or later > warmup,
           f'config.train_eves.later_from ({later}) must come after the warm-up '
           f'(config.train_eves.warmup_steps, {warmup} steps)')


def validate_selective(config):
  """Raises ConfigError if a selective-protection config cannot be run."""
  config = complete(config)
  _check_names(config, 'selective')
  _validate_selective(config)


def _validate_selective(config):
  _check_fields(config, _SELECTIVE_FIELDS, missing={
      'loss': 'see configs/selective.py', 'eval': 'see configs/selective.py'})
  _validate_seeds(config)


def _validate_seeds(config):
  last = config.first_seed + config.num_seeds - 1
  _require(last < SEED_NUMBER_LIMIT,
           f'config.first_seed ({config.first_seed}) + config.num_seeds ({config.num_seeds}) '
           f'- 1 = {last} must be below 2^30 (larger numbers reach the evaluation\'s key '
           'streams); lower either')


def _validate_eval_fields(config):
  """The checks of config.eval beyond each field's own (symmetric and asymmetric)."""
  names = tuple(config.eval.attackers)
  _require('paper' in names,
           f"config.eval.attackers must include 'paper': the paper's robustness verdict "
           f'is decided by its own Eve; got {config.eval.attackers!r}')
  _require('parity4' not in names or config.msg_bits >= 4,
           f"config.eval.attackers: 'parity4' guesses products of 4 plaintext bits, and "
           f'config.msg_bits={config.msg_bits} has fewer; drop it')


def validate_eval(config):
  """Raises ConfigError if the robustness evaluation of a config cannot be run: the
  whole config is checked (validate), its evaluation included."""
  config = complete(config)
  _require(not _is_selective(config.experiment),
           "config.experiment is 'selective': a selective-protection run has no robustness "
           'evaluation; its fresh Eves are '
           'adversarial_crypto.evaluation.selective_eves (python -m adversarial_crypto.main runs them)')
  validate(config)


def identity(config):
  """The fields that define what a run trains, as a plain dict, defaults filled in.

  Args:
    config: a ConfigDict, or a config already turned into a dict.
  """
  fields = _filled(config)
  for name in RESUMABLE_FIELDS:
    fields.pop(name, None)
  for name in RESUMABLE_SUCCESS_FIELDS:
    fields.get('success', {}).pop(name, None)
  return fields
