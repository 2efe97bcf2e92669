"""Evaluates a run's trained pairs and records the verdicts in its workdir.

Writes summary.json (training outcome, each retrained Eve's best bits wrong,
each seed's exact leakage by key search, verdicts and rates), eval_metrics.csv
(every Eve at every measurement) and the Figures 2 and 3 (figures.py). Used
after training by main.py and alone, on a finished workdir, by evaluate.py.
"""

import csv
import os


from adversarial_crypto import config as config_lib
from adversarial_crypto.evaluation import evaluator
from adversarial_crypto.evaluation import leakage
from adversarial_crypto.analysis import figures
from adversarial_crypto.training import runner as runner_lib
from adversarial_crypto.training import train
from adversarial_crypto.evaluation import verdicts
from adversarial_crypto.training import workdir as workdir_lib

EVAL_METRICS_FILE = 'eval_metrics.csv'


def load_run(workdir, config=None):
  """The config, trained state and training summary of a workdir's run.

  Args:
    workdir: a directory written by train.train.
    config: the config to evaluate with (its eval section may differ from the
      run's); by default the run's own, completed by config.complete.

  Returns:
    (config, run, train_summary), the summary recomputed from the checkpoint.

  Raises:
    workdir_lib.WorkdirError: no run, or a checkpoint of another config.
  """
  if config is None:
    config = config_lib.complete(workdir_lib.load_config_dict(workdir))
  run, _ = runner_lib.load_state(workdir, config)
  wall_s = 0.0
  try:
    wall_s = workdir_lib.read_summary(workdir).get('wall_s', 0.0)
  except workdir_lib.WorkdirError:
    pass
  return config, run, train.summarize(config, run, wall_s)


def write_eval_metrics(workdir, result):
  """Every Eve's bits wrong at every measurement, one row each, to eval_metrics.csv."""
  with open(os.path.join(workdir, EVAL_METRICS_FILE), 'w', newline='') as f:
    writer = csv.writer(f)
    writer.writerow(('step', 'seed', 'attacker', 'eve', 'bits', 'hard_bits'))
    for row in result.history:
      for a in result.attackers:
        bits, hard = row[a.name]['bits'], row[a.name]['hard_bits']
        for seed in range(bits.shape[0]):
          for eve in range(bits.shape[1]):
            writer.writerow((row['step'], seed, a.name, eve, f'{bits[seed, eve]:.4f}',
                             f'{hard[seed, eve]:.4f}'))


def evaluate_run(config, workdir, run, train_summary, log=print):
  """Retrains fresh Eves against every seed's Alice, searches every key
  (symmetric runs), judges, and records it all.

  Pairs that failed training are evaluated too; they are failures whatever
  their Eves find.

  Args:
    config: the run's config, with an eval section.
    workdir: the run's directory.
    run: the trained RunState (train.train's result, or load_run's).
    train_summary: train.summarize's dict for `run`.
    log: where progress lines and the table go.

  Returns:
    The summary written to summary.json (verdicts.summarize).
  """
  config_lib.validate_eval(config)
  log(f"retraining {config.eval.num_eves} fresh Eves per attacker "
      f"({config.eval.attackers}) against each of {len(train_summary['seeds'])} Alices, "
      f'{config.eval.steps} steps each')
  result = evaluator.evaluate_alices(config, run.train.alice_bob, log)
  config = config_lib.complete(config)
  reason = leakage.skip_reason(config)
  if reason:
    log(reason)
    leak = None
  else:
    log(f'exact leakage: all 2^{config.key_bits} keys on {config.eval.key_search_messages} '
        f"fresh ciphertexts per seed, tolerance {config.eval.key_search_tolerance:g}")
    leak = leakage.measure_alices(config, run.train.alice_bob, log)
  summary = verdicts.summarize(config, train_summary, result, leak, reason)
  workdir_lib.write_summary(workdir, summary)
  write_eval_metrics(workdir, result)
  log(verdicts.table(summary))
  paths = figures.write_figures(workdir, config, summary, workdir_lib.read_metrics(workdir))
  log('figures: ' + ', '.join(paths))
  return summary
