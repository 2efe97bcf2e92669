"""configs/perfect16.py's recipes at N = 32 (32-bit plaintexts and keys).

2^32 keys are too many to try, so `perfect` rests on the weights
(analysis/pad_structure.py): a lower bound of H(P | C) over every plaintext and
key, within the same 0.1 bit of N as the key search at N = 16 (N exactly when
every ciphertext element is proved +-P_j K_k on every input). The bound credits
only ciphers close to the pad of Alice's leading terms; another perfect cipher
would get none.
"""

from configs import perfect16

N = 32


def get_config(recipe=perfect16.BEST_AT_N):
  """Returns perfect16's recipe `recipe` at N = 32 (default: BEST_AT_N,
  logistic_bob_refactor with the Eve term scaled by the parity Eves' targets)."""
  return perfect16.at_bits(N, recipe)
