"""Evaluates a finished run again with fresh Eves, without training.

  python -m adversarial_crypto.evaluate --workdir=DIR
  python -m adversarial_crypto.evaluate --workdir=DIR --config.eval.steps=20000 \
      --config.eval.attackers=paper,mlp --config.eval.mlp_hidden='(512, 512)'

--config starts from the run's own config.json (runs made before the
evaluator get the package's defaults, config.eval_defaults); only config.eval
and config.success.retrained_eve_bits may change, anything else is refused.
summary.json, eval_metrics.csv and the figures are rewritten (for a
selective-protection run: summary.json and Figure 4).

On several hosts, every process runs the same command with --distributed or
--coordinator_address, --num_processes and --process_id (main.py's flags).
"""

import sys

from absl import app
from absl import flags
from ml_collections import config_flags

from adversarial_crypto import config as config_lib
from adversarial_crypto.evaluation import eval_checkpoint
from adversarial_crypto.evaluation import robustness
from adversarial_crypto.evaluation import selective_eves
from adversarial_crypto.training import distributed
from adversarial_crypto.training import interrupts
from adversarial_crypto.training import sharding
from adversarial_crypto.training import workdir as workdir_lib


def _workdir_from_argv(argv):
  """--workdir's value, needed before the flags parse: it holds the config to override."""
  for i, arg in enumerate(argv):
    if arg.startswith('--workdir='):
      return arg.split('=', 1)[1]
    if arg == '--workdir' and i + 1 < len(argv):
      return argv[i + 1]
  return None


def main(argv, config):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  distributed.initialize_from_flags()  # before anything touches JAX
  sharding.one_device_per_core()
  workdir = flags.FLAGS.workdir
  log = distributed.writer_log(lambda line: print(line, flush=True))
  try:
    with workdir_lib.locked(workdir, workdir_lib.command_line('adversarial_crypto.evaluate')), \
         workdir_lib.storage_errors():
      config_lib.validate(config)  # an edited config.json: one line, not a traceback
      config, run, train_summary = robustness.load_run(workdir, config)
      if not train_summary['finished']:
        log(f'warning: the run in {workdir} has not finished training '
            f"(step {train_summary['steps']} of {config.max_steps}); evaluating it as it is")
      selective = config.experiment == 'selective'
      evaluate = selective_eves.evaluate_run if selective else robustness.evaluate_run
      evaluate(config, workdir, run, train_summary, log=log)
  except eval_checkpoint.EvaluationInterrupted:
    # evaluate_run has said where the Eves are saved and how to resume.
    interrupts.exit_interrupted()
  except (config_lib.ConfigError, workdir_lib.WorkdirError) as e:
    sys.exit(f'error: {e}')


def run_cli(argv=None):
  """Parses --workdir first, then its config's overrides, then evaluates."""
  argv = sys.argv if argv is None else argv
  workdir = _workdir_from_argv(argv)
  if workdir is None:
    sys.exit('usage: python -m adversarial_crypto.evaluate --workdir=DIR [--config.eval.X=...]')
  try:
    config = config_lib.complete(workdir_lib.load_config_dict(workdir))
  except workdir_lib.WorkdirError as e:
    sys.exit(f'error: {e}')
  flags.DEFINE_string('workdir', None, 'The finished run to evaluate.')
  distributed.define_flags()
  config_flags.DEFINE_config_dict('config', config, 'The run\'s config; override '
                                  'config.eval.* to change the evaluation.', lock_config=True)
  app.run(lambda args: main(args, flags.FLAGS.config), argv=argv)


if __name__ == '__main__':
  run_cli()
