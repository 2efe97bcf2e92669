"""Restarts: each run draws fresh networks until its own training Eves read nothing.

  python -m adversarial_crypto.restarts --workdirs=W0,W1,W2,W3 [--eve_bits=7.99]
      [--bob_bits=0.05] [--judge_at=STEP] [--out=restarts.json]

The workdirs hold one recipe trained from different roots (`--config.seed`), so seed
i of each is an independent draw of Alice, Bob and the Eves. Run i takes the first of
its attempts (seed i of W0, then of W1, ...) whose last measurement passes the
acceptance rule: Bob at most `bob_bits` wrong and the strongest training Eve at least
`eve_bits` wrong (the figures of `trained`, with a stricter Eve bound; a diverged seed
never passes); when none passes it keeps its last attempt. That is what a loop restarting each rejected seed
from fresh weights would return. The rule reads only training measurements, never the
key search or the fresh Eves; the verdicts reported are the returned attempt's own.
With --judge_at the rule reads each attempt's measurement at that step of
metrics.csv instead: a loop that judges there stops a rejected attempt at that step
(its cost) and lets an accepted one train on to its end (its verdicts).
"""

import json
import math
import sys

from absl import app
from absl import flags

from adversarial_crypto import config as config_lib
from adversarial_crypto.evaluation import stats
from adversarial_crypto.training import workdir as workdir_lib

VERDICTS = ('trained', 'robust', 'secure', 'perfect')
# The rule's Eve bound is chance (N / 2) less a margin, fixed at 0.01 (7.99) on the
# runs at N = 16 of docs/one_time_pad.md.
MARGIN_AT_16 = 0.01


def default_eve_bits(msg_bits):
  """N / 2 less the margin scaled by 15 / (N - 1). A parity Eve's measure is her error
  rate x N over her N(N-1)/2 pairwise parities (eve_games.bits_of), so one parity she
  reads moves it by 2 / (N - 1) of her gain on it: this keeps the same leak rejected at
  every N (scaling the bound by N / 16 instead accepted leaking seeds at N = 32)."""
  return msg_bits / 2 - MARGIN_AT_16 * 15 / max(msg_bits - 1, 1)


class RestartsError(ValueError):
  """The workdirs cannot be read as attempts of one recipe; one line, with the fix."""


def accepted(seed, bob_bits, eve_bits):
  """The acceptance rule on one seed's summary: its last training measurement."""
  return (not seed.get('diverged') and seed['bob_bits'] <= bob_bits and
          seed['eve_bits'] >= eve_bits)


def choose(attempts, bob_bits, eve_bits):
  """Runs restarted by the acceptance rule.

  Args:
    attempts: one list of per-seed summaries (summary.json's `seeds`) per attempt,
      all of the same length, in the order the attempts are made.
    bob_bits, eve_bits: the rule's bounds.

  Returns:
    One dict per run: `attempt` (index of the attempt returned), `accepted`,
    `attempts_trained` (how many the loop trains), `steps_trained` (their steps,
    summed) and the returned attempt's verdicts.
  """
  runs = []
  for i in range(len(attempts[0])):
    steps = 0
    for a, attempt in enumerate(attempts):
      seed = attempt[i]
      ok = accepted(seed, bob_bits, eve_bits)
      # An accepted attempt trains to its end, and so does the last one, whose
      # verdicts the run returns; a rejected one stops where it is judged.
      if ok or a == len(attempts) - 1:
        steps += seed['steps_trained']
      else:
        steps += min(seed['steps_trained'], seed.get('judged_at', seed['steps_trained']))
      if ok:
        break
    runs.append(dict({'run': i, 'attempt': a, 'seed': seed['seed'], 'accepted': ok,
                      'attempts_trained': a + 1, 'steps_trained': steps},
                     **{v: bool(seed.get(v)) for v in VERDICTS}))
  return runs


def report(attempts, bob_bits, eve_bits):
  """The runs, their rates, the loop's cost and how the rule agrees with `perfect`
  over every attempt read (also those a loop would not have trained)."""
  runs = choose(attempts, bob_bits, eve_bits)
  n = len(runs)
  every = [seed for attempt in attempts for seed in attempt]
  agree = {'accepted_perfect': 0, 'accepted_not_perfect': 0,
           'rejected_perfect': 0, 'rejected_not_perfect': 0}
  for seed in every:
    key = (('accepted' if accepted(seed, bob_bits, eve_bits) else 'rejected') +
           ('_perfect' if seed.get('perfect') else '_not_perfect'))
    agree[key] += 1
  return {
      'rule': {'bob_bits_at_most': bob_bits, 'eve_bits_at_least': eve_bits},
      'attempts_available': len(attempts),
      'runs': runs,
      'rates': {v: stats.rate(sum(r[v] for r in runs), n) for v in VERDICTS},
      'per_attempt_perfect': stats.rate(sum(bool(s.get('perfect')) for s in every),
                                        len(every)),
      'attempts_trained': sum(r['attempts_trained'] for r in runs),
      'steps_trained': sum(r['steps_trained'] for r in runs),
      'rule_against_perfect': agree,
  }


def judged_at(workdir, seeds, step):
  """Each seed's summary with the rule's figures (bob_bits, eve_bits, diverged)
  replaced by its last training measurement at or before `step` (metrics.csv: a
  seed that stopped or diverged earlier has no later row), and 'judged_at'."""
  rows = workdir_lib.read_metrics(workdir)
  at = {}
  for r in rows:
    if r['step'] <= step and r['step'] >= at.get(r['seed'], {}).get('step', -1):
      at[r['seed']] = r
  missing = [s['seed'] for s in seeds if s['seed'] not in at]
  if missing:
    raise RestartsError(f'{workdir}/metrics.csv has no measurement at or before step {step} '
                        f'for seeds {missing}; choose a later --judge_at')

  def diverged(r):     # older metrics.csv files have no `diverged` column
    return bool(r.get('diverged')) or not all(math.isfinite(r[k]) for k in ('bob_bits', 'eve_bits'))
  return [dict(s, bob_bits=at[s['seed']]['bob_bits'], eve_bits=at[s['seed']]['eve_bits'],
               diverged=diverged(at[s['seed']]), judged_at=step) for s in seeds]


def load_attempts(workdirs, judge_at=None):
  """(per-seed summaries of each workdir, N) for evaluated runs of one recipe from
  distinct roots: their configs, defaults filled in, differ only in `seed`. With
  judge_at, the rule's figures are the measurements at that step (judged_at)."""
  if not workdirs:
    raise RestartsError('--workdirs is required: evaluated runs of one recipe from '
                        'different roots, comma-separated')
  attempts, first, roots = [], None, []
  for w in workdirs:
    try:
      config = config_lib.complete(workdir_lib.load_config_dict(w)).to_dict()
      summary = workdir_lib.read_summary(w)
    except workdir_lib.WorkdirError as e:
      raise RestartsError(str(e)) from e
    roots.append(config.pop('seed', None))
    differ = ([] if first is None else
              config_lib.differences(first, config, f'in {workdirs[0]}', 'here'))
    if differ:
      raise RestartsError(f'{w} is another recipe than {workdirs[0]} ({"; ".join(differ)}); '
                          'attempts must differ only in config.seed')
    first = config
    seeds = summary.get('seeds', [])
    if not summary.get('finished') or any(s.get('perfect') is None for s in seeds):
      raise RestartsError(f'{w} is not a finished, evaluated run with the key search '
                          '(perfect); train and evaluate it first')
    if [s.get('seed') for s in seeds] != list(range(config['num_seeds'])):
      raise RestartsError(f'{w}/summary.json does not list seeds 0-{config["num_seeds"] - 1} '
                          'of its config in order; evaluate the run again')
    attempts.append(seeds if judge_at is None else judged_at(w, seeds, judge_at))
  if len(set(roots)) != len(roots):
    raise RestartsError(f'two workdirs share a root (config.seed {roots}): their seeds '
                        'are the same draws, not restarts')
  return attempts, first['msg_bits']


def _print(result):
  print(f"acceptance rule: Bob <= {result['rule']['bob_bits_at_most']} bits wrong and the "
        f"strongest training Eve >= {result['rule']['eve_bits_at_least']}, judged at "
        + (f"step {result['judge_at']}" if result.get('judge_at') else 'the last measurement'))
  print('run  attempt  accepted  ' + '  '.join(VERDICTS))
  for r in result['runs']:
    print(f"{r['run']:3d}  {r['attempt']:7d}  {'yes' if r['accepted'] else 'no':8s}  " +
          '  '.join(f"{'yes' if r[v] else 'no':{len(v)}s}" for v in VERDICTS))
  for v in VERDICTS:
    print(f'{v:8s} {stats.format_rate(result["rates"][v])} of runs')
  print(f"per attempt: perfect {stats.format_rate(result['per_attempt_perfect'])}; "
        f"the loop trains {result['attempts_trained']} attempts "
        f"({result['steps_trained']} seed-steps) for {len(result['runs'])} runs")
  print('the rule against perfect, over every attempt read: ' +
        ', '.join(f'{k} {v}' for k, v in result['rule_against_perfect'].items()))


def _define_flags():
  """The command line's flags, defined only when it runs: importing this module (the
  tests do, beside benchmarks with flags of the same names) defines none."""
  flags.DEFINE_list('workdirs', None, 'Evaluated runs of one recipe from '
                    'different roots, in the order the attempts are made.')
  flags.DEFINE_float('eve_bits', None, 'Accept an attempt whose strongest '
                     'training Eve is at least this many bits wrong; default '
                     'N / 2 - 0.01 x 15 / (N - 1): 7.99 at N = 16, 15.9952 at 32.')
  flags.DEFINE_float('bob_bits', 0.05, 'Accept an attempt whose Bob is at most '
                     'this many bits wrong.')
  flags.DEFINE_integer('judge_at', None, 'Judge each attempt by its training measurement '
                       'at this step (metrics.csv), not its last; a rejected attempt then '
                       'costs only this many steps.')
  flags.DEFINE_string('out', None, 'Write the result as JSON here.')


def main(argv):
  del argv
  f = flags.FLAGS
  try:
    attempts, msg_bits = load_attempts(f.workdirs, f.judge_at)
  except RestartsError as e:
    sys.exit(f'error: {e}')
  eve_bits = f.eve_bits if f.eve_bits is not None else default_eve_bits(msg_bits)
  result = report(attempts, f.bob_bits, eve_bits)
  result['workdirs'] = list(f.workdirs)
  result['judge_at'] = f.judge_at
  _print(result)
  if f.out:
    with open(f.out, 'w') as out:
      json.dump(result, out, indent=1)


if __name__ == '__main__':
  _define_flags()
  app.run(main)
