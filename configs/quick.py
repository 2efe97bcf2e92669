"""A first look in minutes on a CPU: Bob learns, then Alice and Bob push Eve back.

N = 16 with the paper's networks, losses and schedule, but 4 seeds, minibatch
256 and 10,000 steps. Measured on the 2-core CPU: Bob falls from 8 bits wrong
to about 1 or less by step 2,500 while Eve follows him down to 0.3-1.7 bits; by
step 6,500 Eve is back at about 6 bits. The paper's thresholds are kept, so a
seed rarely counts as trained within this budget.
"""

from configs import sym16


def get_config():
  config = sym16.get_config()
  config.num_seeds = 4
  config.batch_size = 256
  config.eval_batch_size = 1024
  config.max_steps = 10_000
  config.chunk_steps = 500
  config.eval.steps = 2_000
  config.eval.every = 250
  config.eval.batch_size = 512
  return config
