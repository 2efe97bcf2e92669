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
  # The Eves trained beside Alice and Bob: the defaults are the paper's single
  # Eve (count 1, no reset or warm-up, weight 1, the paper's term and game).
  # configs/secure16.py explains each field and uses them.
  config.train_eves = ml_collections.ConfigDict(config_lib.TRAIN_EVES_DEFAULTS)
  config.freeze_alice_at = 0       # from this step only Bob and Eve learn; 0: never
  # A penalty on the share of the ciphertext the plaintext explains through its
  # moments (losses.moment_leak), weighted in Alice and Bob's loss; 0: off, as in the paper.
  config.leak_penalty = ml_collections.ConfigDict({'weight': 0.0, 'keys': 8, 'order': 1})
  config.ciphertext = 'tanh'       # what Alice sends: her tanh outputs, or their 'sign'

  config.num_seeds = 20            # independent runs, vmapped
  config.seed = 0                  # root of every seed's key
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
  config.eval = eval_config()
  return config


def eval_config():
  """The robustness evaluation (Section 2.5): fresh Eves against frozen Alices.

  The paper resets Eve 5 times for up to 250,000 steps each; it states neither
  the retraining minibatch nor how often Eve is measured, so the training
  minibatch and the public TensorFlow code's 10,000 are used.
  """
  ev = ml_collections.ConfigDict()
  ev.num_eves = 5                # fresh Eves per attacker and pair
  ev.steps = 250_000             # training steps of each fresh Eve
  ev.every = 10_000              # measure on a fresh held-out batch this often
  ev.batch_size = 4096           # Eve's training minibatch
  ev.eval_batch_size = 4096      # the held-out batch
  ev.learning_rate = 0.0008      # Adam, fresh state per Eve
  # Attacker family, comma-separated: 'paper' (the training config's Eve, L1
  # loss; decides the paper's robustness) and 'mlp' (ReLU MLP, mlp_loss).
  ev.attackers = 'paper,mlp'
  ev.mlp_hidden = (256, 256)
  ev.deep_mlp_hidden = (512, 512, 512)  # attacker 'deep_mlp' (configs/secure16.py)
  ev.mlp_loss = 'logistic'       # 'logistic' (per-bit cross-entropy) or 'l1'
  ev.seed = 0                    # fresh Eves' keys; independent of training's
  return ev
