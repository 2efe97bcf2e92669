"""Judges each trained pair from its retrained Eves (the paper's Section 2.5) and key search.

Per seed:
  trained  Bob <= success.bob_bits and Eve >= success.eve_bits within max_steps
           (decided by training);
  robust   trained, and the best retrained 'paper' Eve still gets at least
           success.retrained_eve_bits bits wrong (L1 / 2; the paper's verdict);
  secure   beyond the paper: robust, and the best fresh Eve of every attacker
           gets at least N/2 - success.secure_margin_bits hard-decision bits
           wrong, within that margin of chance (for an attacker of other
           targets than the bits, N x her error rate; attackers.py);
  perfect  beyond the paper: trained, and the plaintext's entropy given the
           ciphertext, H(P | C), by exhaustive key search (leakage.py), is at
           least N - success.perfect_margin_bits on average over the sampled
           ciphertexts; beyond 20 key bits, for Alices of keyed product units
           sending signs, the lower bound of H(P | C) over every input that her
           weights give (analysis/pad_structure.entropy_bound; N when she is proved
           a one-time pad) is at least that; None where neither ran.

A fresh Eve's best bits wrong can only fall with a longer budget, so a verdict
that holds might not with one, and one that fails would still fail: each seed
records how many steps each Eve trained and whether any was still improving
when she reached the cap (evaluator.still_improving), and 'could_fall' names
the verdicts that such an Eve might overturn.
"""

import numpy as np

from adversarial_crypto.core import recipe
from adversarial_crypto import config as config_lib
from adversarial_crypto.evaluation import evaluator
from adversarial_crypto.evaluation import leakage as leakage_lib
from adversarial_crypto.evaluation import stats
from adversarial_crypto.training import train

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
    config: a complete config (config.complete) with an eval section.

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
               + (f", their term x {eves['later_eve_weight']:g} from step {eves['later_from']}"
                  if eves.get('later_from') else '')
               + (f", their {eves['later_eve_term']} from then on"
                  if eves.get('later_from') and eves.get('later_eve_term', 'same') != 'same'
                  else '')
               + (f", Alice and Bob's Adam steps x {eves['later_lr_factor']:g} from then on"
                  if eves.get('later_from') and eves.get('later_lr_factor', 1.0) != 1.0
                  else '')
               + (f", no seed trained before step {eves['min_steps']}"
                  if eves['min_steps'] else ''))
  freeze = config.freeze_alice_at
  if freeze:
    out.append(f'Alice frozen from step {freeze}; Bob and the Eves train on (beyond the paper)')
  leak = config.leak_penalty.to_dict()
  if leak['weight']:
    out.append(f"leak penalty (beyond the paper): x {leak['weight']:g}, moments up to order "
               f"{leak['order']}, {leak['keys']} keys per plaintext")
  if config.get('bob_loss', 'l1') != 'l1':
    out.append("Bob's term: his per-bit cross-entropy (paper: his bits wrong)")
  if config.get('refactor_every', 0):
    out.append(f"Alice's and Bob's free matrices re-factored every {config.refactor_every} "
               'steps (beyond the paper)')
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
  if config.eval.patience:
    out.append(f'fresh Eves stop after {config.eval.patience} steps without improvement, '
               f'{config.eval.steps} at most (beyond the paper: a fixed budget)')
  if config.eval.lr_schedule != 'constant':
    out.append(f"fresh Eves' learning rate: {config.eval.lr_schedule} decay over "
               f'{config.eval.steps} steps (paper: constant)')
  if config.eval.batch_size != 4096:
    out.append(f"retrained Eve's minibatch: {config.eval.batch_size} (not stated in the "
               'paper; its training minibatch is 4096)')
  out.append(f'retrained Eves measured every {config.eval.every} steps on '
             f'{config.eval.eval_batch_size} fresh examples, best measurement kept '
             '(the paper does not say; its public code measures every 10,000)')
  extra = [a for a in config.eval.attackers if a != 'paper']
  skip = leakage_lib.skip_reason(config)
  if skip:
    search = f'no verdict "perfect" ({skip})'
  elif leakage_lib.method(config) == 'weights':
    search = (f'"perfect" (trained, and H(P|C) >= {perfect_bits(config):g} bits, N - '
              f'{perfect_margin(config):g}, by a bound from her weights over every input: '
              'analysis/pad_structure.entropy_bound, N when she is proved a one-time pad '
              'or the pad under a key bijection (analysis/key_schedule.py); '
              f'2^{config.key_bits} keys are too many to try)')
  else:
    search = (f'"perfect" (trained, and H(P|C) >= {perfect_bits(config):g} bits, N - '
              f'{perfect_margin(config):g}, exact by trying all 2^{config.key_bits} keys on '
              f'{config.eval.key_search_messages} fresh ciphertexts per seed, tolerance '
              f'{config.eval.key_search_tolerance:g})')
  out.append('beyond the paper: hard-decision bits wrong, the attackers '
             f'{", ".join(extra) or "(none)"}, the stricter verdict "secure" (robust, and '
             f"every attacker's best fresh Eve >= {secure_bits(config):g} hard bits wrong: "
             f'within {secure_margin(config):g} of chance, N/2) and {search}')
  return out


def secure_margin(config):
  """success.secure_margin_bits of a complete config."""
  return config.success.secure_margin_bits


def secure_bits(config):
  """The hard bits wrong every fresh Eve must reach for `secure`: N/2 - the margin."""
  return config.msg_bits / 2 - secure_margin(config)


def perfect_margin(config):
  """success.perfect_margin_bits of a complete config."""
  return config.success.perfect_margin_bits


# The mean H(P | C) in bits that `perfect` needs: N - the margin (leakage.py stops its
# bounds from the weights there).
perfect_bits = leakage_lib.perfect_bits


def _spread(values):
  values = [v for v in values if np.isfinite(v)]
  if not values:
    return None
  return {'mean': float(np.mean(values)), 'min': float(np.min(values)),
          'max': float(np.max(values)), 'n': len(values)}


def _eve_budget(result):
  """(name -> [P, E] steps trained, name -> [P, E] still improving at the cap), or
  (None, None) for an EvalResult that does not record them."""
  if getattr(result, 'eve_steps', None) is None or getattr(result, 'last_improved', None) is None:
    return None, None
  return result.eve_steps, evaluator.still_improving(result)


def judge_seeds(config, train_seeds, result, leak=None):
  """Each seed's training outcome with its retrained Eves and verdicts.

  Args:
    config: the run's config (success.retrained_eve_bits, secure_margin_bits,
      perfect_margin_bits).
    train_seeds: train.summarize(...)['seeds']: one dict per seed with 'trained'.
    result: an evaluator.EvalResult over the same seeds, in order.
    leak: leakage.measure_alices' dict over the same seeds, or None where the
      key search did not run.

  Returns:
    A list of per-seed dicts: the training fields, plus 'retrained_eves'
    ({attacker: {'bits', 'hard_bits' (each Eve's best), 'best_bits',
    'best_hard_bits', 'eve_steps' (each Eve's steps trained) and
    'still_improving' (any of them at the cap; both None when the result does
    not record them)}}), 'best_retrained_eve_bits' (the paper's Eve),
    'leakage' (leakage.summarize_seed's dict, or None), 'robust', 'secure',
    'perfect' (None without the key search) and 'could_fall' (the verdicts
    that hold while an Eve they rest on was still improving).
  """
  bound, secure_bound = config.success.retrained_eve_bits, secure_bits(config)
  num_evaluated = len(next(iter(result.best_bits.values())))
  if len(train_seeds) != num_evaluated:
    raise ValueError(f'{len(train_seeds)} trained seeds but the evaluation covers '
                     f'{num_evaluated}')
  if leak is not None and len(leak['seeds']) != len(train_seeds):
    raise ValueError(f"{len(train_seeds)} trained seeds but the key search covers "
                     f"{len(leak['seeds'])}; pass leakage.measure_alices of the same run")
  eve_steps, improving = _eve_budget(result)
  seeds = []
  for i, seed in enumerate(train_seeds):
    eves = {}
    for attacker in result.attackers:
      name = attacker.name
      bits = [float(b) for b in result.best_bits[name][i]]
      hard = [float(b) for b in result.best_hard_bits[name][i]]
      eves[name] = {'bits': bits, 'hard_bits': hard,
                    'best_bits': min(bits), 'best_hard_bits': min(hard),
                    'eve_steps': None if eve_steps is None else
                                 [int(s) for s in eve_steps[name][i]],
                    'still_improving': None if improving is None else
                                       bool(np.any(improving[name][i]))}
    robust = bool(seed['trained']) and eves['paper']['best_bits'] >= bound
    secure = robust and all(e['best_hard_bits'] >= secure_bound for e in eves.values())
    figures = None if leak is None else leak['seeds'][i]
    perfect = None
    if figures is not None:
      mean = figures['entropy_bits_mean']
      perfect = bool(seed['trained']) and mean is not None and mean >= perfect_bits(config)
    could_fall = []
    if improving is not None:
      if robust and eves['paper']['still_improving']:
        could_fall.append('robust')
      if secure and any(e['still_improving'] for e in eves.values()):
        could_fall.append('secure')
    seeds.append({**seed, 'retrained_eves': eves,
                  'best_retrained_eve_bits': eves['paper']['best_bits'],
                  'leakage': figures, 'robust': robust, 'secure': secure,
                  'perfect': perfect, 'could_fall': could_fall})
  return seeds


def summarize(config, train_summary, result, leak=None, leak_reason=None):
  """The training summary with the evaluation, verdicts and rates added.

  Args:
    config: the run's config.
    train_summary: what train.summarize returned (or summary.json held).
    result: an evaluator.EvalResult over the run's seeds.
    leak: leakage.measure_alices' dict over the same seeds, or None.
    leak_reason: why there is no `leak` (leakage.skip_reason), for the summary.

  Returns:
    A new summary dict: 'seeds' gain their verdicts; 'robust', 'secure' and
    'perfect' are rates with 95% Clopper-Pearson intervals, like 'trained'
    ('perfect' None without the key search); 'evaluation' describes the
    protocol, each attacker's spread of best bits wrong over the trained
    pairs and how many of them had an Eve still improving at the cap, the key
    search ('key_search': what ran, or why not), the verdicts a longer budget
    could overturn, and how the protocol differs from the paper's.
  """
  seeds = judge_seeds(config, train_summary['seeds'], result, leak)
  n = len(seeds)
  trained = [s for s in seeds if s['trained']]
  bound, secure_bound = config.success.retrained_eve_bits, secure_bits(config)
  attackers = {}
  for a in result.attackers:
    best = [s['retrained_eves'][a.name]['best_bits'] for s in trained]
    hard = [s['retrained_eves'][a.name]['best_hard_bits'] for s in trained]
    improving = [s['retrained_eves'][a.name]['still_improving'] for s in trained]
    attackers[a.name] = {
        'description': a.description, 'loss': a.loss_name,
        'trained_pairs_best_bits': _spread(best),
        'trained_pairs_best_hard_bits': _spread(hard),
        'trained_pairs_below_bound_bits': sum(b < bound for b in best),
        'trained_pairs_below_bound_hard_bits': sum(b < bound for b in hard),
        'trained_pairs_below_secure_hard_bits': sum(b < secure_bound for b in hard),
        'trained_pairs_still_improving': (None if None in improving else sum(improving))}
  if leak is None:
    key_search = {'ran': False, 'reason': leak_reason or 'the key search was not run'}
  else:
    key_search = {'ran': True, 'method': leak.get('method', 'search'),
                  'messages': leak['messages'], 'tolerance': leak['tolerance'],
                  'wall_s': leak['wall_s']}
    if leak.get('rule'):
      key_search['rule'] = leak['rule']
  key_search['perfect_bits'] = perfect_bits(config)
  evaluation = {'config': config.eval.to_dict(), 'retrained_eve_bits': bound,
                'secure_bits': secure_bound, 'steps': result.steps,
                'window': getattr(result, 'window', 0), 'wall_s': result.wall_s,
                'attackers': attackers, 'key_search': key_search,
                'could_fall': {v: [s['seed'] for s in seeds if v in s['could_fall']]
                               for v in ('robust', 'secure')},
                'protocol_differences': protocol_differences(config)}
  evaluation['config']['mlp_hidden'] = list(config.eval.mlp_hidden)
  return {**train_summary, 'seeds': seeds,
          'trained': stats.rate(len(trained), n),
          'robust': stats.rate(sum(s['robust'] for s in seeds), n),
          'secure': stats.rate(sum(s['secure'] for s in seeds), n),
          'perfect': None if leak is None else stats.rate(sum(s['perfect'] for s in seeds), n),
          'evaluation': evaluation}


def _fmt_spread(spread):
  if spread is None:
    return 'no trained pair'
  return f"mean {spread['mean']:.2f}, range [{spread['min']:.2f}, {spread['max']:.2f}]"


def _yes_no(verdict):
  return '-' if verdict is None else ('yes' if verdict else 'no')


def _entropy(seed):
  figures = seed.get('leakage')
  if not figures or figures['entropy_bits_mean'] is None:
    return '-'
  return f"{figures['entropy_bits_mean']:.3f}"


def table(summary):
  """The per-seed table of an evaluated run, its rates and its protocol."""
  evaluation = summary['evaluation']
  names = list(evaluation['attackers'])
  bound = evaluation['retrained_eve_bits']
  secure_bound = evaluation.get('secure_bits', bound)
  key_search = evaluation.get('key_search', {'ran': False, 'reason': 'not recorded'})
  head = 'seed  trained  Bob bits  ' + '  '.join(f'{n + " bits/hard":>18s}' for n in names)
  lines = [f'Best retrained Eve per seed, bits wrong (L1/2 / hard decisions; * an Eve still '
           f'improving at the cap); robust needs the paper Eve >= {bound:g}, secure every '
           f'hard >= {secure_bound:g}, perfect H(P|C) >= '
           f"{key_search.get('perfect_bits', float('nan')):g} bits",
           head + '    H(P|C)  robust  secure  perfect']
  for s in summary['seeds']:
    cells = '  '.join(f"{s['retrained_eves'][n]['best_bits']:8.2f}/"
                      f"{s['retrained_eves'][n]['best_hard_bits']:<8.2f}"
                      f"{'*' if s['retrained_eves'][n].get('still_improving') else ' '}"
                      for n in names)
    lines.append(f"{train.root_seed(summary, s):>4d}  {'yes' if s['trained'] else 'no':7s}  "
                 f"{s['bob_bits']:8.3f}  {cells}  {_entropy(s):>8s}  "
                 f"{_yes_no(s['robust']):6s}  {_yes_no(s['secure']):6s}  "
                 f"{_yes_no(s.get('perfect'))}")
  for verdict in ('trained', 'robust', 'secure'):
    lines.append(f'{verdict:7s} {stats.format_rate(summary[verdict])} (95% Clopper-Pearson)')
  if summary.get('perfect') is not None and key_search.get('method') == 'weights':
    lines.append(f"perfect {stats.format_rate(summary['perfect'])} (95% Clopper-Pearson; "
                 f"H(P|C) >= {key_search.get('perfect_bits', float('nan')):g} bits by a bound "
                 'from her weights over every input, or a proof of the pad under a key '
                 'bijection)')
  elif summary.get('perfect') is not None:
    lines.append(f"perfect {stats.format_rate(summary['perfect'])} (95% Clopper-Pearson; "
                 f"{key_search['messages']} ciphertexts per seed, tolerance "
                 f"{key_search['tolerance']:g})")
  else:
    lines.append(f"perfect not judged: {key_search.get('reason')}")
  for name, a in evaluation['attackers'].items():
    improving = a.get('trained_pairs_still_improving')
    lines.append(f"{name} ({a['description']}) over trained pairs: bits "
                 f"{_fmt_spread(a['trained_pairs_best_bits'])}; hard "
                 f"{_fmt_spread(a['trained_pairs_best_hard_bits'])}"
                 + ('' if improving is None else
                    f'; an Eve still improving at the cap on {improving} of them'))
  could_fall = evaluation.get('could_fall', {})
  if any(could_fall.values()):
    first = summary.get('first_seed', 0)  # numbered as the table's rows
    lines.append('a longer budget could overturn: ' + '; '.join(
        f'{v} of seeds {[first + s for s in seeds]}' for v, seeds in could_fall.items()
        if seeds))
  lines.append('Protocol, as it differs from the paper\'s:')
  lines += [f'  - {d}' for d in evaluation['protocol_differences']]
  return '\n'.join(lines)
