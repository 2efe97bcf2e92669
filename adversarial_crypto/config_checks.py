"""Checks a config before anything is built, with messages that say how to fix it."""

from adversarial_crypto import networks

# Fields that may change when a run resumes: they do not change what was trained.
RESUMABLE_FIELDS = ('max_steps', 'eval')


class ConfigError(ValueError):
  """A config field holds a value the experiment cannot use."""


def _require(ok, message):
  if not ok:
    raise ConfigError(message)


def _positive_int(config, name):
  value = config[name]
  _require(isinstance(value, int) and value > 0,
           f'config.{name} must be a positive integer, got {value!r}; '
           f'set it with --config.{name}=...')


def validate(config):
  """Raises ConfigError if a symmetric config cannot be run."""
  for name in ('msg_bits', 'key_bits', 'num_seeds', 'batch_size', 'eval_batch_size',
               'eve_steps_per_ab_step', 'max_steps', 'chunk_steps'):
    _positive_int(config, name)
  _require(config.msg_bits % 2 == 0,
           f'config.msg_bits must be even, got {config.msg_bits}: Eve\'s target is '
           'N/2 bits wrong, which must be a whole number of bits. The paper uses '
           '16, 32 or 64.')
  _require(config.arch in ('paper', 'tf_models'),
           f"config.arch must be 'paper' or 'tf_models', got {config.arch!r}")
  _require(config.eve_arch in ('same',) + networks.ARCHS,
           f"config.eve_arch must be one of 'same', {', '.join(map(repr, networks.ARCHS))}; "
           f'got {config.eve_arch!r}')
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


def identity(config):
  """The fields that define what a run trains, as a plain dict.

  Args:
    config: a ConfigDict, or a config already turned into a dict.
  """
  fields = dict(config) if isinstance(config, dict) else config.to_dict()
  for name in RESUMABLE_FIELDS:
    fields.pop(name, None)
  return fields
