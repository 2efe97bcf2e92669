"""configs/perfect16.py's recipes at N = 64, judged as configs/perfect32.py's."""

from configs import perfect16

N = 64


def get_config(recipe=perfect16.BEST_AT_N):
  """Returns perfect16's recipe `recipe` at N = 64 (default: BEST_AT_N, as at N = 32)."""
  return perfect16.at_bits(N, recipe)
