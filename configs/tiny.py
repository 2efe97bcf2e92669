"""A tiny config for tests: seconds on a CPU, not a meaningful experiment.

`--config=configs/tiny.py` is symmetric; `configs/tiny.py:asymmetric` is the
same size with Appendix A's public-key generator; `configs/tiny.py:selective`
is Section 3's experiment at the same budget.
"""

from adversarial_crypto import config as config_lib
from configs import asym16
from configs import selective
from configs import sym16


def get_config(experiment='symmetric'):
  """Returns the tiny config of `experiment`: 'symmetric', 'asymmetric' or 'selective'."""
  bases = {'symmetric': sym16, 'asymmetric': asym16, 'selective': selective}
  if experiment not in bases:
    raise ValueError(f'configs/tiny.py:{experiment}: choose one of {tuple(bases)}')
  config = bases[experiment].get_config()
  if experiment != 'selective':
    config.msg_bits = 8
    config.key_bits = 8
    config.success.eve_bits = config_lib.scaled_bits(7.3, 8)
    config.success.retrained_eve_bits = config_lib.scaled_bits(6.0, 8)
    config.success.secure_margin_bits = config_lib.scaled_bits(config_lib.SECURE_MARGIN_BITS, 8)
  if experiment == 'asymmetric':
    config.public_key_bits = 8
  config.num_seeds = 2
  config.batch_size = 64
  config.eval_batch_size = 128
  config.max_steps = 40
  config.chunk_steps = 20
  config.eval.num_eves = 2
  config.eval.steps = 40
  config.eval.every = 20
  config.eval.batch_size = 64
  config.eval.eval_batch_size = 128
  config.eval.mlp_hidden = (32, 32)
  return config
