"""Evaluates a run's trained pairs and records the verdicts in its workdir.

Writes summary.json (training outcome, each retrained Eve's best bits wrong,
each seed's exact leakage by key search, verdicts and rates), eval_metrics.csv
(every Eve at every measurement) and the Figures 2 and 3 (figures.py). Used
after training by main.py and alone, on a finished workdir, by evaluate.py.
The fresh Eves' progress is kept in eval_checkpoint.msgpack (eval_checkpoint.py),
so that an interrupted evaluation resumes where it stopped; an evaluation
that summary.json already records for the same config.eval is not redone.
"""

import csv
import os


from adversarial_crypto import config as config_lib
from adversarial_crypto.evaluation import eval_checkpoint
from adversarial_crypto.evaluation import evaluator
from adversarial_crypto.evaluation import leakage
from adversarial_crypto.analysis import figures
from adversarial_crypto.training import distributed
from adversarial_crypto.training import runner as runner_lib
from adversarial_crypto.training import sharding
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
  """Every Eve's bits wrong at every measurement, one row each, to eval_metrics.csv
  (by process 0 alone, in a run of several processes)."""
  if not distributed.is_writer():
    return
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


def read_eval_metrics(workdir):
  """The rows of a workdir's eval_metrics.csv as dicts ([] when it has none)."""
  path = os.path.join(workdir, EVAL_METRICS_FILE)
  if not os.path.exists(path):
    return []
  with open(path, newline='') as f:
    return list(csv.DictReader(f))


def recorded_summary(config, workdir, train_summary):
  """summary.json, if it already holds the evaluation that evaluate_run would make.

  That is: it was made with this config.eval and these success thresholds
  (and, beyond 20 key bits, leakage.WEIGHTS_RULE), of this training outcome
  (train_summary's fields and each seed's), and eval_metrics.csv is there.
  Training any further rewrites summary.json without its evaluation (train.train).

  Args:
    config: a complete config with an eval section.
    workdir: the run's directory.
    train_summary: train.summarize's dict (or one that summary.json completed).

  Returns:
    The recorded summary, or None.
  """
  if not os.path.exists(os.path.join(workdir, EVAL_METRICS_FILE)):
    return None
  try:
    saved = workdir_lib.read_summary(workdir)
  except (workdir_lib.WorkdirError, OSError, ValueError):
    return None
  evaluation = saved.get('evaluation') if isinstance(saved, dict) else None
  if not isinstance(evaluation, dict):
    return None
  wanted = {'config': config_lib.as_json(config.eval.to_dict()),
            'retrained_eve_bits': config.success.retrained_eve_bits,
            'secure_bits': verdicts.secure_bits(config)}
  if any(evaluation.get(k) != v for k, v in wanted.items()):
    return None
  key_search = evaluation.get('key_search') or {}
  if key_search.get('perfect_bits') != verdicts.perfect_bits(config):
    return None
  if (not leakage.skip_reason(config) and leakage.method(config) == 'weights'
      and key_search.get('rule') != leakage.WEIGHTS_RULE):
    return None               # judged by an older rule from the weights
  trained = config_lib.as_json({k: v for k, v in train_summary.items() if k != 'wall_s'})
  if any(k not in saved or saved[k] != v for k, v in trained.items() if k != 'seeds'):
    return None
  seeds = saved.get('seeds') or []
  if len(seeds) != len(trained['seeds']) or any(
      s.get(k) != v for s, t in zip(seeds, trained['seeds']) for k, v in t.items()):
    return None
  return saved


def evaluate_run(config, workdir, run, train_summary, log=print):
  """Retrains fresh Eves against every seed's Alice, searches every key
  (symmetric runs), judges, and records it all.

  Pairs that failed training are evaluated too; they are failures whatever
  their Eves find.

  Resumable: the Eves' progress is saved in the workdir after every chunk
  (eval_checkpoint.FILE) and an interrupted evaluation resumes from it, with
  the same numbers as if it had not stopped; SIGINT or SIGTERM stops it at
  the end of a chunk with EvaluationInterrupted. An evaluation that
  summary.json already records for this config.eval (recorded_summary) is
  not redone: its summary is returned as it is.

  Args:
    config: the run's config, with an eval section.
    workdir: the run's directory.
    run: the trained RunState (train.train's result, or load_run's).
    train_summary: train.summarize's dict for `run`.
    log: where progress lines and the table go.

  Returns:
    The summary written to summary.json (verdicts.summarize).

  Raises:
    eval_checkpoint.EvaluationInterrupted: SIGINT or SIGTERM; its message (also
      logged) says how to resume.
  """
  config_lib.validate_eval(config)
  # Completed before anything reads it: --config.eval.attackers=paper,mlp names
  # its attackers in one string until then.
  config = config_lib.complete(config)
  recorded = recorded_summary(config, workdir, train_summary)
  if recorded is not None:
    log(f'{workdir_lib.SUMMARY_FILE} already holds this evaluation (config.eval unchanged); '
        'not redone')
    log(verdicts.table(recorded))
    wanted = [figures.FIGURE2_FILE, figures.FIGURE3_FILE]
    if os.path.exists(os.path.join(workdir, EVAL_METRICS_FILE)):
      wanted.append(figures.EVE_STEPS_FILE)
    if not all(os.path.exists(os.path.join(workdir, f)) for f in wanted):
      paths = figures.write_figures(workdir, config, recorded, workdir_lib.read_metrics(workdir),
                                    read_eval_metrics(workdir))
      log('figures: ' + ', '.join(paths))
    return recorded
  checkpoint = os.path.join(workdir, eval_checkpoint.FILE)
  log(f"retraining {config.eval.num_eves} fresh Eves per attacker "
      f"({config.eval.attackers}) against each of {len(train_summary['seeds'])} Alices, "
      f'{config.eval.steps} steps each')
  result = None
  # Read whole in every process (gathered when the seeds span several); the
  # evaluator splits them over the devices again.
  alice_bob = sharding.to_host(run.train.alice_bob)
  # Several processes: a signal stops them together at the end of a chunk of the
  # Eves (evaluator); after the Eves the evaluation runs to its end.
  with eval_checkpoint.Interrupts(collective=distributed.process_count() > 1) as interrupts:
    try:
      result = evaluator.evaluate_alices(config, alice_bob, log, checkpoint=checkpoint)
      reason = leakage.skip_reason(config)
      if reason:
        log(reason)
        leak = None
      else:
        if leakage.method(config) == 'search':
          log(f'exact leakage: all 2^{config.key_bits} keys on '
              f'{config.eval.key_search_messages} fresh ciphertexts per seed, tolerance '
              f'{config.eval.key_search_tolerance:g}')
        leak = leakage.measure_alices(config, alice_bob, log)
      summary = verdicts.summarize(config, train_summary, result, leak, reason)
      with interrupts.deferred():
        # eval_metrics.csv first: summary.json's evaluation is what says it is done.
        write_eval_metrics(workdir, result)
        workdir_lib.write_summary(workdir, summary)
    except eval_checkpoint.EvaluationInterrupted:
      raise
    except KeyboardInterrupt:
      message = (f'interrupted: {checkpoint} keeps the fresh Eves as last saved; '
                 'run the same command to resume' if result is None else
                 f'interrupted after the fresh Eves, which are saved in {checkpoint}; '
                 'run the same command to finish the evaluation')
      log(message)
      raise eval_checkpoint.EvaluationInterrupted(message) from None
  log(verdicts.table(summary))
  paths = figures.write_figures(workdir, config, summary, workdir_lib.read_metrics(workdir),
                                read_eval_metrics(workdir))
  log('figures: ' + ', '.join(paths))
  return summary
