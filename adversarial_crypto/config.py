"""Config handling in one place: defaults, completing old configs, overrides, checks.

A config is an ml_collections.ConfigDict (configs/*.py; docs/configs.md
describes every field). `complete` fills every default once, when a config
file or a run's config.json is loaded, so model code reads fields directly;
`validate` checks a complete config with messages that say how to fix it.
"""

import copy
import math
import numbers

import ml_collections

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
                       'game': 'reconstruct', 'min_steps': 0}
TRAIN_EVES_FIELDS = tuple(TRAIN_EVES_DEFAULTS)
EVE_TERMS = ('paper', 'information')
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
                     'leak_penalty': LEAK_PENALTY_DEFAULTS, 'ciphertext': 'tanh'}


def scaled_bits(bits_of_16, msg_bits):
  """A threshold the paper states in bits of N = 16, as bits of `msg_bits`."""
  return bits_of_16 / PAPER_MSG_BITS * msg_bits


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


def _is_number(value):
  """A finite real number (not a bool)."""
  if isinstance(value, bool) or not isinstance(value, numbers.Real):
    return False
  return isinstance(value, numbers.Integral) or math.isfinite(value)


def _filled(config):
  """A config as a dict of plain values with every default filled in.

  A field holding a value of the wrong kind (an edited config.json, a section
  that is not one) is left as it is, for `validate` to report; filling never fails.
  """
  fields = _tuples(copy.deepcopy(config if isinstance(config, dict) else config.to_dict()))
  fields.setdefault('experiment', 'symmetric')  # runs made before Appendix A
  evaluation = fields.get('eval')
  if isinstance(evaluation, dict) and isinstance(evaluation.get('attackers'), (str, tuple)):
    evaluation['attackers'] = attacker_names(evaluation['attackers'])
  if fields['experiment'] == 'selective':  # made with its evaluation and no research fields
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
    if _is_number(fields.get('msg_bits')):  # else validate reports msg_bits
      defaults = {'retrained_eve_bits': scaled_bits(6.0, fields['msg_bits']),
                  'secure_margin_bits': scaled_bits(SECURE_MARGIN_BITS, fields['msg_bits']),
                  **defaults}
    fields['success'] = {**defaults, **fields['success']}
  return fields


def complete(config):
  """A config (ConfigDict, or a dict as a run's config.json holds it) with every
  default filled in, as an unlocked ConfigDict. Idempotent."""
  return ml_collections.ConfigDict(_filled(config))


def is_paper_recipe(config):
  """Whether a complete symmetric or asymmetric config sets none of the research
  options of extensions/: then core/recipe.py trains it."""
  return (config.train_eves.to_dict() == TRAIN_EVES_DEFAULTS and not config.freeze_alice_at and
          not config.leak_penalty.weight and config.ciphertext == 'tanh')


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
  """A config field holds a value the experiment cannot use."""


def _require(ok, message):
  if not ok:
    raise ConfigError(message)


def _require_layer_sizes(field, hidden):
  _require(hidden is not None and len(hidden) > 0 and
           all(isinstance(h, int) and h > 0 for h in hidden),
           f'config.{field} must be one or more positive layer sizes, got {hidden!r}')


def _positive_int(config, name):
  value = config[name]
  _require(isinstance(value, int) and value > 0,
           f'config.{name} must be a positive integer, got {value!r}; '
           f'set it with --config.{name}=...')


def validate(config):
  """Raises ConfigError if a config (symmetric, asymmetric or selective) cannot be run."""
  config = complete(config)
  experiment = config.experiment
  _require(experiment in EXPERIMENTS,
           f'config.experiment must be one of {EXPERIMENTS}, got {experiment!r}')
  if experiment == 'selective':
    validate_selective(config)
    return
  if experiment == 'asymmetric':
    _require('public_key_bits' in config,
             'config.public_key_bits is missing: the asymmetric experiment needs the '
             'public key\'s length (see configs/asym16.py)')
    _positive_int(config, 'public_key_bits')
  for name in ('msg_bits', 'key_bits', 'num_seeds', 'batch_size', 'eval_batch_size',
               'eve_steps_per_ab_step', 'max_steps', 'chunk_steps'):
    _positive_int(config, name)
  _require(config.msg_bits % 2 == 0,
           f'config.msg_bits must be even, got {config.msg_bits}: Eve\'s target is '
           'N/2 bits wrong, which must be a whole number of bits. The paper uses '
           '16, 32 or 64.')
  _require(config.arch in networks.ARCHS,
           f"config.arch must be one of {', '.join(map(repr, networks.ARCHS))}, "
           f'got {config.arch!r}')
  _require_layer_sizes('hidden', config.hidden)
  if config.arch in networks.KEYED_ARCHS:
    _require(experiment == 'symmetric',
             f"config.arch {config.arch!r} takes a key in every network; the {experiment} "
             "experiment has a network without one. Use 'bilinear'")
    hidden = tuple(config.hidden)
    _require(len(hidden) == 1,
             f"config.arch {config.arch!r} takes one hidden layer; set config.hidden to one "
             f"size, for example (128,), not {hidden}")
  eve_archs = tuple(a for a in networks.ARCHS if a not in networks.KEYED_ARCHS)
  _require(config.eve_arch in ('same',) + eve_archs,
           f"config.eve_arch must be one of 'same', {', '.join(map(repr, eve_archs))} "
           f'(Eve has no key); got {config.eve_arch!r}')
  _require(config.eve_loss in ('l1', 'logistic'),
           f"config.eve_loss must be 'l1' or 'logistic', got {config.eve_loss!r}")
  _require(all(isinstance(h, int) and h > 0 for h in config.eve_hidden),
           f'config.eve_hidden must be positive layer sizes, got {config.eve_hidden!r}')
  _require(config.learning_rate > 0,
           f'config.learning_rate must be positive, got {config.learning_rate}')
  _require(0 <= config.success.eve_bits <= config.msg_bits,
           f'config.success.eve_bits must lie in [0, msg_bits={config.msg_bits}], '
           f'got {config.success.eve_bits}')
  _require(config.success.bob_bits >= 0,
           f'config.success.bob_bits must be >= 0, got {config.success.bob_bits}')
  validate_train_eves(config)
  validate_leak_penalty(config)
  kind = config.ciphertext
  _require(kind in CIPHERTEXTS,
           f'config.ciphertext must be one of {CIPHERTEXTS}, got {kind!r}')
  _require(kind == 'tanh' or experiment == 'symmetric',
           f"config.ciphertext '{kind}' is for the symmetric experiment; "
           f'{experiment} sends tanh outputs')
  freeze = config.freeze_alice_at
  _require(isinstance(freeze, int) and freeze >= 0 and freeze % config.chunk_steps == 0,
           f'config.freeze_alice_at must be 0 (never) or a multiple of config.chunk_steps '
           f'({config.chunk_steps}), got {freeze!r}')
  warmup = config.train_eves.warmup_steps
  _require(not freeze or freeze > warmup,
           f'config.freeze_alice_at ({freeze}) must come after the warm-up ({warmup} steps)')
  validate_eval(config)


def validate_leak_penalty(config):
  """Raises ConfigError if config.leak_penalty (losses.moment_leak in Alice and Bob's loss) is bad."""
  unknown = sorted(set(config.leak_penalty) - set(LEAK_PENALTY_DEFAULTS))
  _require(not unknown, f'config.leak_penalty has unknown fields {unknown}; '
           f'it takes {tuple(LEAK_PENALTY_DEFAULTS)} (see docs/configs.md)')
  options = config.leak_penalty.to_dict()
  weight, keys, order = options['weight'], options['keys'], options['order']
  _require(isinstance(weight, (int, float)) and weight >= 0,
           f'config.leak_penalty.weight must be a number >= 0 (0: off), got {weight!r}')
  _require(isinstance(keys, int) and keys >= 2 and config.batch_size % keys == 0,
           f'config.leak_penalty.keys must be an integer >= 2 that divides config.batch_size '
           f'({config.batch_size}): the leak batch is batch_size / keys plaintexts, each '
           f'under `keys` keys; got {keys!r}')
  _require(order in (1, 2), f'config.leak_penalty.order must be 1 (the ciphertext) or 2 (and '
           f'its pairwise products), got {order!r}')
  _require(config.batch_size // keys >= 2,
           f'config.leak_penalty.keys ({keys}) leaves fewer than 2 plaintexts in a batch of '
           f'{config.batch_size}; lower it')


def validate_train_eves(config):
  """Raises ConfigError if config.train_eves (the Eves trained beside Alice and Bob) is bad."""
  unknown = sorted(set(config.train_eves) - set(TRAIN_EVES_FIELDS))
  _require(not unknown, f'config.train_eves has unknown fields {unknown}; '
           f'it takes {TRAIN_EVES_FIELDS} (see docs/configs.md)')
  options = config.train_eves.to_dict()
  for name in ('count', 'reset_every', 'warmup_steps', 'steps_per_ab_step', 'min_steps'):
    value = options[name]
    _require(isinstance(value, int) and value >= (1 if name == 'count' else 0),
             f'config.train_eves.{name} must be an integer >= {1 if name == "count" else 0}, '
             f'got {value!r}')
  _require(options['eve_term'] in EVE_TERMS,
           f"config.train_eves.eve_term must be one of {EVE_TERMS}, got {options['eve_term']!r}")
  _require(options['game'] in GAMES,
           f"config.train_eves.game must be one of {GAMES}, got {options['game']!r}")
  _require(options['combine'] in ('mean', 'max'),
           f"config.train_eves.combine must be 'mean' or 'max', got {options['combine']!r}")
  _require(isinstance(options['eve_weight'], (int, float)) and options['eve_weight'] > 0,
           f'config.train_eves.eve_weight must be a positive number, got '
           f"{options['eve_weight']!r}")
  warmup = options['warmup_steps']
  _require(warmup % config.chunk_steps == 0,
           f'config.train_eves.warmup_steps ({warmup}) must be a multiple of '
           f'config.chunk_steps ({config.chunk_steps}): a chunk runs in one phase')


def validate_selective(config):
  """Raises ConfigError if a selective-protection config cannot be run."""
  for section in ('loss', 'eval'):
    _require(section in config, f'config.{section} is missing (see configs/selective.py)')
  for name in ('key_bits', 'cipher_len', 'num_seeds', 'batch_size', 'eval_batch_size',
               'eve_steps_per_ab_step', 'max_steps', 'chunk_steps'):
    _positive_int(config, name)
  _require(config.arch in ('paper', 'tf_models'),
           f"config.arch must be 'paper' or 'tf_models', got {config.arch!r}")
  try:
    selective.cholesky_factor(config.correlation)
  except ValueError as e:
    raise ConfigError(f'config.correlation: {e}') from e
  weights = config.loss
  _require(min(weights.public_weight, weights.bob_weight, weights.covariance_weight) >= 0,
           f'config.loss weights must be >= 0, got {weights.to_dict()}')
  _require(config.learning_rate > 0,
           f'config.learning_rate must be positive, got {config.learning_rate}')
  _validate_fresh_eves(config)
  # Section 3's Eves estimate C, a real value: the bit attackers have no meaning there.
  _require(set(config.eval.attackers) <= {'paper', 'mlp'},
           "config.eval.attackers of a selective-protection run must be from 'paper', "
           f"'mlp', got {config.eval.attackers!r}")


def _validate_fresh_eves(config):
  """The checks of config.eval that every experiment's fresh Eves share."""
  for name in ('num_eves', 'steps', 'every', 'batch_size', 'eval_batch_size'):
    value = config.eval[name]
    _require(isinstance(value, int) and value > 0,
             f'config.eval.{name} must be a positive integer, got {value!r}; '
             f'set it with --config.eval.{name}=...')
  _require(config.eval.learning_rate > 0,
           f'config.eval.learning_rate must be positive, got {config.eval.learning_rate}')
  names = tuple(config.eval.attackers)
  unknown = [a for a in names if a not in ATTACKERS]
  _require(names and not unknown and len(set(names)) == len(names),
           f'config.eval.attackers must be distinct names from {ATTACKERS}, '
           f'got {config.eval.attackers!r}')
  # mlp_hidden is always checked, as before deep_mlp existed; deep_mlp_hidden when used.
  for mlp in ('mlp', 'deep_mlp') if 'deep_mlp' in names else ('mlp',):
    _require_layer_sizes(f'eval.{mlp}_hidden', config.eval.get(f'{mlp}_hidden'))
  _require(isinstance(config.eval.seed, int),
           f'config.eval.seed must be an integer, got {config.eval.seed!r}')


def validate_eval(config):
  """Raises ConfigError if the robustness evaluation of a config cannot be run."""
  config = complete(config)
  _require(config.experiment != 'selective',
           'a selective-protection run has no robustness evaluation: its fresh Eves are '
           'adversarial_crypto.evaluation.selective_eves (python -m adversarial_crypto.main runs them)')
  _validate_fresh_eves(config)
  names = tuple(config.eval.attackers)
  _require('paper' in names,
           f"config.eval.attackers must include 'paper': the paper's robustness verdict "
           f'is decided by its own Eve; got {config.eval.attackers!r}')
  _require(config.eval.mlp_loss in ('l1', 'logistic'),
           f"config.eval.mlp_loss must be 'l1' or 'logistic', got {config.eval.mlp_loss!r}")
  _require(0 <= config.success.retrained_eve_bits <= config.msg_bits,
           f'config.success.retrained_eve_bits must lie in [0, msg_bits={config.msg_bits}], '
           f'got {config.success.retrained_eve_bits}; the paper uses 6 of 16 bits')
  _require(isinstance(config.eval.patience, int) and config.eval.patience >= 0,
           f'config.eval.patience must be an integer >= 0 (0: the fixed budget eval.steps), '
           f'got {config.eval.patience!r}')
  _require(config.eval.lr_schedule in LR_SCHEDULES,
           f'config.eval.lr_schedule must be one of {LR_SCHEDULES}, got '
           f'{config.eval.lr_schedule!r}')
  _require(isinstance(config.eval.key_search_messages, int) and
           config.eval.key_search_messages >= 0,
           f'config.eval.key_search_messages must be an integer >= 0 (0: no key search), got '
           f'{config.eval.key_search_messages!r}')
  _require(config.eval.key_search_tolerance > 0,
           f'config.eval.key_search_tolerance must be > 0, got '
           f'{config.eval.key_search_tolerance!r}')
  for name in ('secure_margin_bits', 'perfect_margin_bits'):
    _require(0 <= config.success[name] <= config.msg_bits / 2,
             f'config.success.{name} must lie in [0, msg_bits / 2 = {config.msg_bits / 2}], '
             f'got {config.success[name]!r}')


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
