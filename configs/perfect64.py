"""configs/perfect16.py's recipes at N = 64 (64-bit plaintexts and keys).

2^64 keys are too many to try, so `perfect` is the exact proof from the weights
(analysis/pad_structure.py): every ciphertext element provably +-P_j K_k on every
input, the j and the k each a permutation, and Bob provably decoding it; each
element is decided exactly (proved, or a counterexample) by branch and bound. A
seed that fails it is not the pad, which does not say it leaks: another perfect
cipher would fail it too.
The networks keep one product unit per bit (hidden N); the Eves' thresholds
scale with N as in configs/sym64.py.
"""

from adversarial_crypto import config as config_lib
from configs import perfect16

N = 64


def get_config(recipe=perfect16.BEST):
  """Returns perfect16's recipe `recipe` at N = 64."""
  config = config_lib.scale_to(perfect16.get_config(recipe), N)
  config.hidden = (N,)
  return config
