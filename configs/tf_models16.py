"""N = 16 with the public TensorFlow code's networks (networks.py, 'tf_models').

Only the architecture changes; the schedule, losses and thresholds stay the
paper's, so the two architectures can be compared.
"""

from configs import sym16


def get_config():
  config = sym16.get_config()
  config.arch = 'tf_models'
  return config
