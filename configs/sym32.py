"""The symmetric experiment at N = 32.

Thresholds in the spirit of N = 16: Bob's bound stays 0.05 bits per message;
Eve must be wrong on the same fraction of bits, 7.3 / 16 of N = 14.6.
A retrained Eve likewise: 6 / 16 of N = 12.
"""

from adversarial_crypto import config as config_lib
from configs import sym16


def get_config():
  return config_lib.scale_to(sym16.get_config(), 32)
