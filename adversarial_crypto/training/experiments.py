"""The experiment a config names (config.experiment), built for one seed.

  'symmetric'   Section 2: Alice and Bob share a key (adversarial.py, symmetric.py).
  'asymmetric'  Appendix A: a public-key generator (adversarial.py, asymmetric.py).
  'selective'   Section 3: publish an estimate of D, hide C (selective.py).

Each returns an object with init, train_chunk, measure and goals_met, written
for one seed; runner.py runs them over many seeds.
"""

from adversarial_crypto.extensions import training_eves as adversarial
from adversarial_crypto import config as config_lib
from adversarial_crypto.core import selective


def make_experiment(config):
  """The single-seed functions of config.experiment."""
  if config_lib.experiment_name(config) == 'selective':
    return selective.make_experiment(config)
  return adversarial.make_experiment(config)
