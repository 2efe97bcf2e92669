"""The paper's symmetric experiment (Section 2.5) at N = 16: its recipe as published."""

import ml_collections

from adversarial_crypto import config as config_lib


def get_config():
  """Returns the paper's defaults for N = 16."""
  config = ml_collections.ConfigDict()
  config.experiment = 'symmetric'  # 'symmetric' (Section 2); configs/asym16.py: Appendix A
  config.msg_bits = 16             # N: plaintext and ciphertext length
  config.key_bits = 16             # may differ from msg_bits
  config.arch = 'paper'            # Alice and Bob: one of networks.ARCHS
  config.hidden = (256, 256)       # Alice and Bob's hidden sizes, for 'mlp' and the bilinear archs
  config.eve_arch = 'same'         # 'same' (as arch), or a keyless one of networks.ARCHS
  config.eve_hidden = (256, 256)   # hidden sizes when eve_arch = 'mlp' or 'bilinear'
  config.eve_loss = 'l1'           # Eve's training loss: 'l1' (paper) or 'logistic'
  # Research options of extensions/ (docs/configs.md), off: the paper's recipe.
  for name, default in config_lib.RESEARCH_DEFAULTS.items():
    config[name] = ml_collections.ConfigDict(default) if isinstance(default, dict) else default

  config.num_seeds = 20            # independent runs, vmapped
  config.seed = 0                  # root of every seed's key
  config.first_seed = 0            # trains seeds first_seed.. of the root (a root split over runs)
  config.batch_size = 4096
  config.eval_batch_size = 4096    # fresh batch measured at each chunk boundary
  config.learning_rate = 0.0008    # Adam, no decay
  config.eve_steps_per_ab_step = 2
  config.max_steps = 150_000
  config.chunk_steps = 250         # steps per jitted scan; seeds stop only between chunks
  config.success = ml_collections.ConfigDict()
  config.success.bob_bits = 0.05   # trained: Bob at most this many bits wrong ...
  config.success.eve_bits = 7.3    # ... and Eve at least this many
  # Robust: trained, and the best retrained paper-style Eve still at least this many.
  config.success.retrained_eve_bits = 6.0
  # Beyond the paper. Secure: robust, and every fresh Eve of every attacker within this
  # margin of chance (N/2 = 8) by hard decisions. Perfect: trained, and the plaintext's
  # entropy given the ciphertext (exhaustive key search) within this margin of N.
  config.success.secure_margin_bits = config_lib.SECURE_MARGIN_BITS
  config.success.perfect_margin_bits = config_lib.PERFECT_MARGIN_BITS
  config.eval = config_lib.eval_defaults()  # 5 fresh Eves x 250,000 steps per pair
  return config

