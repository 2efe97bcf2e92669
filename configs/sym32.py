"""The symmetric experiment at N = 32.

Thresholds in the spirit of N = 16: Bob's bound stays 0.05 bits per message;
Eve must be wrong on the same fraction of bits, 7.3 / 16 of N = 14.6.
A retrained Eve likewise: 6 / 16 of N = 12.
"""

from adversarial_crypto import config as config_lib
from configs import sym16


def get_config():
  config = sym16.get_config()
  config.msg_bits = 32
  config.key_bits = 32
  config.success.eve_bits = config_lib.scaled_bits(7.3, 32)
  config.success.retrained_eve_bits = config_lib.scaled_bits(6.0, 32)
  config.success.secure_margin_bits = config_lib.scaled_bits(config_lib.SECURE_MARGIN_BITS, 32)
  return config
