"""The experiment a config names, built for one seed: the one place that picks it.

  'symmetric'   Section 2: Alice and Bob share a key (core/recipe.py, core/symmetric.py).
  'asymmetric'  Appendix A: a public-key generator (core/recipe.py, core/asymmetric.py).
  'selective'   Section 3: publish an estimate of D, hide C (core/selective.py).

A symmetric or asymmetric config that sets a research option (docs/configs.md)
is trained by extensions/training_eves.py instead of the paper's recipe. Each
returns an object with init, train_chunk, measure and goals_met, written for
one seed; runner.py runs them over many seeds.
"""

from adversarial_crypto import config as config_lib
from adversarial_crypto.core import recipe
from adversarial_crypto.core import selective
from adversarial_crypto.extensions import training_eves


def make_experiment(config):
  """The single-seed functions of a config (completed here if it is not yet)."""
  config = config_lib.complete(config)
  if config.experiment == 'selective':
    return selective.make_experiment(config)
  if config_lib.is_paper_recipe(config):
    return recipe.make_experiment(config)
  return training_eves.make_experiment(config)
