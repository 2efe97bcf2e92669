"""Selective protection (Section 3): reveal an estimate of D, hide C.

The paper gives the data, the networks' shape and the losses, but not the
correlation matrix, the ciphertext length, the loss weights, the minibatch,
the learning rate or the number of steps. Section 2.5's minibatch, Adam
learning rate and two Eve steps per Alice/Bob step are used; the rest are
stated below. adversarial_crypto/selective.py documents every choice.
"""

import ml_collections

from adversarial_crypto.core import selective


def get_config():
  """Returns the selective-protection experiment."""
  config = ml_collections.ConfigDict()
  config.experiment = 'selective'
  # Rows and columns A, B, C, D; see selective.DEFAULT_CORRELATION.
  config.correlation = selective.DEFAULT_CORRELATION
  config.key_bits = 8             # 8 key bits + A, B, C: Alice's 12 inputs
  config.cipher_len = 8           # Alice outputs D-public and this many ciphertext values
  config.arch = 'paper'           # the Section 2 network: 'paper' or 'tf_models'
  config.loss = ml_collections.ConfigDict()
  config.loss.public_weight = 1.0      # MSE of D-public against D
  config.loss.bob_weight = 1.0         # MSE of Bob's estimate against D
  config.loss.covariance_weight = 1.0  # |Cov(Eve's estimate of C, C)| over the batch
  config.num_seeds = 20
  config.seed = 0
  config.first_seed = 0
  config.batch_size = 4096
  config.eval_batch_size = 4096
  config.learning_rate = 0.0008
  config.eve_steps_per_ab_step = 2
  config.max_steps = 20_000
  config.chunk_steps = 500
  config.eval = eval_config()
  return config


def eval_config():
  """Fresh Eves retrained against each frozen Alice: is Eve's advantage still near 0?"""
  ev = ml_collections.ConfigDict()
  ev.num_eves = 5                # fresh Eves per attacker and seed
  ev.steps = 5_000
  ev.every = 500                 # measure on a fresh held-out batch this often
  ev.batch_size = 4096
  ev.eval_batch_size = 16384     # advantage's standard error about 0.01 at this size
  ev.learning_rate = 0.0008
  # 'paper': the training Eve's network; 'mlp': a ReLU MLP (mlp_hidden).
  ev.attackers = ('paper', 'mlp')
  ev.mlp_hidden = (128, 128)
  ev.seed = 0
  return ev
