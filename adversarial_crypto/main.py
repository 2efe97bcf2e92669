"""Trains the seeds of a config, evaluates them with fresh Eves, and saves the outcome.

  python -m adversarial_crypto.main --config=configs/sym16.py [--workdir=DIR]
  python -m adversarial_crypto.main --config=configs/sym16.py --config.max_steps=2000
  python -m adversarial_crypto.main --config=configs/sym16.py --evaluate=false
  python -m adversarial_crypto.main --config=configs/asym16.py     # Appendix A
  python -m adversarial_crypto.main --config=configs/selective.py  # Section 3

To evaluate a finished workdir again without training: adversarial_crypto.evaluate.

On several hosts (or one process per GPU), every process runs the same command
with --distributed (the cluster detected by JAX) or --coordinator_address,
--num_processes and --process_id; the workdir must be shared. docs/runs.md.
"""

import ast
import os
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
from adversarial_crypto.training import train
from adversarial_crypto.training import workdir as workdir_lib

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Config file.', lock_config=True)
_WORKDIR = flags.DEFINE_string(
    'workdir', None, 'Where the run is kept; default runs/<config file name>. '
    'Running again on the same workdir resumes.')
_EVALUATE = flags.DEFINE_bool(
    'evaluate', True, 'After training, retrain fresh Eves against every Alice '
    '(config.eval) and judge each seed robust or not.')
distributed.define_flags()


def default_workdir(config_path):
  return os.path.join('runs', os.path.splitext(os.path.basename(config_path))[0])


def parse_flags(argv):
  """absl's flag parsing, with bad --config overrides reported in one line.

  config_flags raises plain AttributeError/KeyError/TypeError/ValueError for a
  misspelt field or a value of the wrong type; its message already holds the
  "did you mean" hint, so the traceback around it only hides it.
  """
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    sys.exit(f'error: {" ".join(str(e).split())} (see --helpfull for the flags)')
  except (AttributeError, KeyError, TypeError, ValueError) as e:
    message = str(e)
    while message[:1] in '\'"':  # KeyError and AttributeError quote their message
      try:
        message = ast.literal_eval(message)
      except (ValueError, SyntaxError):
        break
    message = ' '.join(str(message).split())
    # config_flags names only the last part of a misspelt field; name the flag.
    culprits = [a.split('=', 1)[0] for a in argv[1:] if a.startswith('--config.') and
                message.split(' ', 1)[0].strip('\'".,:;') == a.split('=', 1)[0].split('.')[-1]]
    where = f' (in {culprits[0]})' if len(culprits) == 1 else ''
    sys.exit(f'error: bad --config override, no such field or wrong value: '
             f'{message}{where}; the fields are those of the config file')


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  distributed.initialize_from_flags()  # before anything touches JAX
  sharding.one_device_per_core()
  config = config_lib.complete(_CONFIG.value)
  workdir = _WORKDIR.value or default_workdir(flags.FLAGS['config'].config_filename)
  # Process 0 alone speaks for a run of several processes: the others would repeat it.
  log = distributed.writer_log(lambda line: print(line, flush=True))
  log(f'workdir: {workdir}\nconfig:\n{config}')
  try:
    selective = config.experiment == 'selective'
    if _EVALUATE.value and not selective:
      config_lib.validate_eval(config)  # fail now, not after hours of training
    # One lock over training and evaluation: no other process may use the workdir
    # until both are done.
    with workdir_lib.locked(workdir, workdir_lib.command_line('adversarial_crypto.main')), \
         workdir_lib.storage_errors():
      result = train.train(config, workdir, log=log)
      if result.interrupted:
        interrupts.exit_interrupted()
      # The evaluation reads summary.json, which process 0 has just written.
      distributed.barrier('adversarial_crypto.main: trained')
      if _EVALUATE.value:
        evaluate = selective_eves.evaluate_run if selective else robustness.evaluate_run
        evaluate(config, workdir, result.run, result.summary, log=log)
      elif selective:  # Figure 4 needs only training's metrics
        selective_eves.write_figure(workdir, result.summary, log)
  except eval_checkpoint.EvaluationInterrupted:
    # evaluate_run has said where the Eves are saved and how to resume.
    interrupts.exit_interrupted()
  except (config_lib.ConfigError, workdir_lib.WorkdirError) as e:
    sys.exit(f'error: {e}')


if __name__ == '__main__':
  flags.mark_flags_as_required(['config'])
  app.run(main, flags_parser=parse_flags)
