"""Shared fixtures: tiny configs that run in seconds on a CPU."""

import pytest

from configs import tiny


@pytest.fixture
def tiny_config():
  """configs/tiny.py: N = 8, 2 seeds, minibatch 64, 40 steps in chunks of 20."""
  return tiny.get_config()
