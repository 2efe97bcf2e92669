"""A tiny config for tests: seconds on a CPU, not a meaningful experiment."""

from configs import sym16


def get_config():
  config = sym16.get_config()
  config.msg_bits = 8
  config.key_bits = 8
  config.num_seeds = 2
  config.batch_size = 64
  config.eval_batch_size = 128
  config.max_steps = 40
  config.chunk_steps = 20
  config.success.eve_bits = 7.3 / 16 * 8
  return config
