"""Asymmetric (public-key) encryption, the paper's Appendix A, at N = 16.

The paper trains it "with the same network structure and the same approach
to training" as Section 2.5, so every field but the experiment and the
public key's length is configs/sym16.py's. The paper does not state the
public key's length; it is as long as the secret key here.
"""

from configs import sym16


def get_config():
  """Returns sym16's recipe with a public-key generator."""
  config = sym16.get_config()
  config.experiment = 'asymmetric'
  config.public_key_bits = 16   # generator output; Alice's and Eve's key input
  return config
