"""Judges each trained pair from its retrained Eves, as in the paper's Section 2.5, and reports.

Per seed:
  trained  Bob <= success.bob_bits and Eve >= success.eve_bits within max_steps
           (decided by training);
  robust   trained, and the best retrained 'paper' Eve still gets at least
           success.retrained_eve_bits bits wrong (the paper's verdict);
  secure   robust, and no Eve of any attacker gets below the same bound in
           hard-decision bits (stricter than the paper; docs/reproduction.md);
           for the 'parity' attacker, N x her error rate over the parities.
"""

import numpy as np

from adversarial_crypto.core import recipe
from adversarial_crypto import config as config_lib
from adversarial_crypto.evaluation import stats

# The paper's protocol (Section 2.5), to state how a run differs.
PAPER_MSG_BITS = 16
PAPER_PROTOCOL = (
    # (field, paper's value, what it is)
    ('arch', 'paper', 'architecture'),
    ('eve_loss', 'l1', "training Eve's loss"),
    ('batch_size', 4096, 'minibatch'),
    ('learning_rate', 0.0008, 'Adam learning rate'),
    ('eve_steps_per_ab_step', 2, 'Eve minibatches per Alice/Bob minibatch'),
    ('max_steps', 150_000, 'training steps at most'),
    ('num_seeds', 20, 'seeds'),
    ('eval.num_eves', 5, 'retrained Eves per pair'),
    ('eval.steps', 250_000, 'steps per retrained Eve'),
    ('eval.learning_rate', 0.0008, "retrained Eve's learning rate"),
)


def _get(config, dotted):
  for name in dotted.split('.'):
    config = config[name]
  return config


def protocol_differences(config):
  """How a run's protocol differs from the paper's, one line per difference.

  Args:
    config: a config with an eval section.

  Returns:
    A list of strings; the last ones name what goes beyond the paper.
  """
  out = []
  n = config.msg_bits
  if config.experiment == 'asymmetric':
    out.append(f'Appendix A, public-key encryption: a {config.public_key_bits}-value public '
               'key (its length is not in the paper); the paper reports no success rates')
  if n != PAPER_MSG_BITS or config.key_bits != n:
    out.append(f'N = {n} plaintext bits, {config.key_bits} key bits (the paper\'s '
               f'numbers are for N = {PAPER_MSG_BITS}); thresholds scaled by N/16')
  if config.eve_arch not in ('same', config.arch):
    out.append(f"training Eve's architecture {recipe.describe_eve_arch(config)} "
               "(paper: as Alice's)")
  eves = config.train_eves.to_dict()
  if eves != config_lib.TRAIN_EVES_DEFAULTS:
    term = '' if eves['eve_term'] == 'paper' else f" (on the Eves' {eves['eve_term']})"
    out.append(f"training Eves (beyond the paper): {eves['count']} at once, Alice/Bob's Eve "
               f"term{term} their {eves['combine']} x {eves['eve_weight']:g}, one re-initialised "
               f"every {eves['reset_every'] or 'no'} steps, "
               + (f"after {eves['warmup_steps']} warm-up steps of the paper's recipe"
                  if eves['warmup_steps'] else 'from the first step')
               + (f", {eves['steps_per_ab_step']} minibatches each per Alice/Bob minibatch"
                  if eves['steps_per_ab_step'] else '')
               + (', each telling which of two plaintexts a ciphertext encrypts'
                  if eves['game'] == 'distinguish' else '')
               + (', each guessing the bits and their pairwise parities'
                  if eves['game'] == 'parity' else '')
               + (f", no seed trained before step {eves['min_steps']}"
                  if eves['min_steps'] else ''))
  freeze = config.freeze_alice_at
  if freeze:
    out.append(f'Alice frozen from step {freeze}; Bob and the Eves train on (beyond the paper)')
  leak = config.leak_penalty.to_dict()
  if leak['weight']:
    out.append(f"leak penalty (beyond the paper): x {leak['weight']:g}, moments up to order "
               f"{leak['order']}, {leak['keys']} keys per plaintext")
  if config.ciphertext != 'tanh':
    out.append(f"ciphertext: {config.ciphertext} of Alice's outputs "
               '(paper: the tanh outputs)')
  for field, paper, what in PAPER_PROTOCOL:
    value = _get(config, field)
    if value != paper:
      out.append(f'{what}: {value} (paper {paper})')
  scale = n / PAPER_MSG_BITS
  for field, paper in (('bob_bits', 0.05), ('eve_bits', 7.3 * scale),
                       ('retrained_eve_bits', 6.0 * scale)):
    value = config.success[field]
    if abs(value - paper) > 1e-9:
      out.append(f'success.{field}: {value:g} (paper {paper:g})')
  if config.eval.batch_size != 4096:
    out.append(f"retrained Eve's minibatch: {config.eval.batch_size} (not stated in the "
               'paper; its training minibatch is 4096)')
  out.append(f'retrained Eves measured every {config.eval.every} steps on '
             f'{config.eval.eval_batch_size} fresh examples, best measurement kept '
             '(the paper does not say; its public code measures every 10,000)')
  extra = [a for a in config.eval.attackers if a != 'paper']
  out.append('beyond the paper: hard-decision bits wrong, the attackers '
             f'{", ".join(extra) or "(none)"} and the stricter verdict "secure"')
  return out


def _spread(values):
  values = [v for v in values if np.isfinite(v)]
  if not values:
    return None
  return {'mean': float(np.mean(values)), 'min': float(np.min(values)),
          'max': float(np.max(values)), 'n': len(values)}


def judge_seeds(config, train_seeds, result):
  """Each seed's training outcome with its retrained Eves and verdicts.

  Args:
    config: the run's config (success.retrained_eve_bits).
    train_seeds: train.summarize(...)['seeds']: one dict per seed with 'trained'.
    result: an evaluator.EvalResult over the same seeds, in order.

  Returns:
    A list of per-seed dicts: the training fields, plus 'retrained_eves'
    ({attacker: {'bits', 'hard_bits' (each Eve's best), 'best_bits',
    'best_hard_bits'}}), 'best_retrained_eve_bits' (the paper's Eve), 'robust'
    and 'secure'.
  """
  bound = config.success.retrained_eve_bits
  if len(train_seeds) != len(next(iter(result.best_bits.values()))):
    raise ValueError(f'{len(train_seeds)} trained seeds but the evaluation covers '
                     f'{len(next(iter(result.best_bits.values())))}')
  seeds = []
  for i, seed in enumerate(train_seeds):
    eves = {}
    for attacker in result.attackers:
      bits = [float(b) for b in result.best_bits[attacker.name][i]]
      hard = [float(b) for b in result.best_hard_bits[attacker.name][i]]
      eves[attacker.name] = {'bits': bits, 'hard_bits': hard,
                             'best_bits': min(bits), 'best_hard_bits': min(hard)}
    robust = bool(seed['trained']) and eves['paper']['best_bits'] >= bound
    secure = robust and all(e['best_hard_bits'] >= bound for e in eves.values())
    seeds.append({**seed, 'retrained_eves': eves,
                  'best_retrained_eve_bits': eves['paper']['best_bits'],
                  'robust': robust, 'secure': secure})
  return seeds


def summarize(config, train_summary, result):
  """The training summary with the evaluation, verdicts and rates added.

  Args:
    config: the run's config.
    train_summary: what train.summarize returned (or summary.json held).
    result: an evaluator.EvalResult over the run's seeds.

  Returns:
    A new summary dict: 'seeds' gain their verdicts; 'robust' and 'secure'
    are rates with 95% Clopper-Pearson intervals, like 'trained'; 'evaluation'
    describes the protocol, each attacker's spread of best bits wrong over the
    trained pairs, and how the protocol differs from the paper's.
  """
  seeds = judge_seeds(config, train_summary['seeds'], result)
  n = len(seeds)
  trained = [s for s in seeds if s['trained']]
  bound = config.success.retrained_eve_bits
  attackers = {}
  for a in result.attackers:
    best = [s['retrained_eves'][a.name]['best_bits'] for s in trained]
    hard = [s['retrained_eves'][a.name]['best_hard_bits'] for s in trained]
    attackers[a.name] = {
        'description': a.description, 'loss': a.loss_name,
        'trained_pairs_best_bits': _spread(best),
        'trained_pairs_best_hard_bits': _spread(hard),
        'trained_pairs_below_bound_bits': sum(b < bound for b in best),
        'trained_pairs_below_bound_hard_bits': sum(b < bound for b in hard)}
  evaluation = {'config': config.eval.to_dict(), 'retrained_eve_bits': bound,
                'steps': result.steps, 'wall_s': result.wall_s, 'attackers': attackers,
                'protocol_differences': protocol_differences(config)}
  evaluation['config']['mlp_hidden'] = list(config.eval.mlp_hidden)
  return {**train_summary, 'seeds': seeds,
          'trained': stats.rate(len(trained), n),
          'robust': stats.rate(sum(s['robust'] for s in seeds), n),
          'secure': stats.rate(sum(s['secure'] for s in seeds), n),
          'evaluation': evaluation}


def _fmt_spread(spread):
  if spread is None:
    return 'no trained pair'
  return f"mean {spread['mean']:.2f}, range [{spread['min']:.2f}, {spread['max']:.2f}]"


def table(summary):
  """The per-seed table of an evaluated run, its rates and its protocol."""
  names = list(summary['evaluation']['attackers'])
  bound = summary['evaluation']['retrained_eve_bits']
  head = 'seed  trained  Bob bits  ' + '  '.join(f'{n + " bits/hard":>17s}' for n in names)
  lines = [f'Best retrained Eve per seed, bits wrong (L1/2 / hard decisions); '
           f'robust needs the paper Eve >= {bound:g}, secure every hard >= {bound:g}',
           head + '  robust  secure']
  for s in summary['seeds']:
    cells = '  '.join(f"{s['retrained_eves'][n]['best_bits']:8.2f}/"
                      f"{s['retrained_eves'][n]['best_hard_bits']:<8.2f}" for n in names)
    lines.append(f"{s['seed']:>4d}  {'yes' if s['trained'] else 'no':7s}  "
                 f"{s['bob_bits']:8.3f}  {cells}  {'yes' if s['robust'] else 'no':6s}  "
                 f"{'yes' if s['secure'] else 'no'}")
  for verdict in ('trained', 'robust', 'secure'):
    lines.append(f'{verdict:7s} {stats.format_rate(summary[verdict])} (95% Clopper-Pearson)')
  for name, a in summary['evaluation']['attackers'].items():
    lines.append(f"{name} ({a['description']}) over trained pairs: bits "
                 f"{_fmt_spread(a['trained_pairs_best_bits'])}; hard "
                 f"{_fmt_spread(a['trained_pairs_best_hard_bits'])}")
  lines.append('Protocol, as it differs from the paper\'s:')
  lines += [f'  - {d}' for d in summary['evaluation']['protocol_differences']]
  return '\n'.join(lines)
