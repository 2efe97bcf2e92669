"""Calibration of the fresh-Eve verdicts on control ciphers with planted leaks.

For each control cipher of evaluation/controls.py at a few strengths, and for
each attacker, it trains fresh Eves (adversarial_crypto.evaluation.evaluator)
with the project's 'cpu' budget (configs/sym16.py's eval section with
minibatch 512, 2,000 steps measured every 250 on 4,096 held-out examples) and
prints, per attacker, the best hard bits wrong over her Eves on each cipher,
marked '*' (detected) when below N/2 - margin (config.SECURE_MARGIN_BITS
scaled to N), next to what a Bayes-optimal Eve of her task would score
(controls.ideal_bits). Then:

  pad noise  the 'pad' control (no leak) is evaluated several times (its
             replicas differ only in their Eves' keys): per attacker, each
             replica's best-of-Eves hard bits, the spread of every single
             held-out measurement against the standard error it should have
             (N / (2 sqrt(T M)) for T targets measured on M examples; for an
             attacker scored by her best-read target, the lowest of T target
             figures of N / (2 sqrt M) each), and the lowest best-of-Eves a
             verdict would see by chance. That is the false-alarm floor the
             margin has to clear.
  smallest   per attacker and control, the weakest planted leak she detects.

An attacker is trained only on the ciphers whose leak she could resolve at
all: those where a Bayes-optimal Eve of her task would sit at least
--min_gap_se standard errors of one measurement below chance (others, which
include every leak she is blind to by construction, would score as the pad
does, and are marked '.'; --min_gap_se=0 trains her on every leak she can
see at all). The 'quad_sampled' set differs from 'quad' only for parity4; the
others skip it.

Every figure goes to the JSON of --out.

  python benchmarks/calibration.py --out=/work/calibration/calibration.json
  python benchmarks/calibration.py --attackers=mlp --controls=pad,bit --steps=500 --num_eves=1
"""

import json
import math
import os
import sys
import time
from typing import NamedTuple

from absl import app
from absl import flags

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# pylint: disable=g-import-not-at-top,wrong-import-position
from adversarial_crypto.training import sharding

sharding.one_device_per_core()

import jax
import jax.numpy as jnp
import numpy as np

from adversarial_crypto import config as config_lib
from adversarial_crypto.core import bits
from adversarial_crypto.evaluation import attackers as attackers_lib
from adversarial_crypto.evaluation import controls
from adversarial_crypto.evaluation import evaluator
from configs import sym16

# Gated leak probabilities, and the magnitude control's step sizes.
GATED_STRENGTHS = (1.0, 1 / 4, 1 / 16, 1 / 64)
# Where a leak cannot be resolved by a best attacker at the 'cpu' budget
# (ideal within 1.5 SE of chance for every attacker), fewer strengths.
STRENGTHS = {'pair': GATED_STRENGTHS[:3], 'quad': GATED_STRENGTHS[:2],
             'quad_sampled': GATED_STRENGTHS[:3]}
MAGNITUDE_STRENGTHS = (0.1, 0.01, 0.001)
# The cipher sets --controls chooses from. 'quad_sampled' plants the 4-bit
# leak on the first group of parity4's sample (attackers.quads), where she
# looks; 'quad' on bits 0-3, which her sample lacks at N = 16.
CIPHER_SETS = ('pad', 'bit', 'pair', 'quad', 'quad_sampled', 'magnitude')

_STEPS = flags.DEFINE_integer('steps', 2_000, 'Training steps of each fresh Eve.')
_EVERY = flags.DEFINE_integer('every', 250, 'Measure each Eve every this many steps.')
_NUM_EVES = flags.DEFINE_integer('num_eves', 2, 'Fresh Eves per attacker and cipher.')
_BATCH_SIZE = flags.DEFINE_integer('batch_size', 512, "Eves' training minibatch.")
_EVAL_BATCH_SIZE = flags.DEFINE_integer(
    'eval_batch_size', 4096, 'Held-out examples per measurement (x N for the distinguisher).')
_ATTACKERS = flags.DEFINE_list('attackers', list(config_lib.ALL_ATTACKERS), 'Attackers.')
_CONTROLS = flags.DEFINE_list('controls', list(CIPHER_SETS), f'Cipher sets of {CIPHER_SETS}.')
_STRENGTHS = flags.DEFINE_list(
    'strengths', None, 'Leak probabilities q of the gated controls (multiples of 1/256); '
    f'default {GATED_STRENGTHS}, fewer for {sorted(STRENGTHS)} ({STRENGTHS}).')
_MAGNITUDES = flags.DEFINE_list('magnitudes', [str(q) for q in MAGNITUDE_STRENGTHS],
                                "Step sizes of the 'magnitude' control.")
_PAD_REPLICAS = flags.DEFINE_integer('pad_replicas', 4, "Evaluations of the 'pad' (no leak).")
_MSG_BITS = flags.DEFINE_integer('msg_bits', 16, 'N.')
_MIN_GAP_SE = flags.DEFINE_float(
    'min_gap_se', 1.5, "Train an attacker on a cipher only if a Bayes-optimal Eve of her "
    "task would score this many SE of one measurement below chance (pads always).")
_OUT = flags.DEFINE_string('out', None, 'JSON results.')


class Cipher(NamedTuple):
  label: str      # the cipher set it belongs to
  control: str    # a controls.CONTROLS name
  quad: tuple     # the group of a 4-bit leak
  q: float


def ciphers(sets, strengths, magnitudes, pad_replicas, msg_bits):
  """The control ciphers to evaluate, in table order, the pad's replicas first."""
  out = [Cipher('pad', 'pad', controls.QUAD, 0.0)] * (pad_replicas if 'pad' in sets else 0)
  for name in sets:
    if name == 'pad':
      continue
    if name == 'magnitude':
      out += [Cipher(name, name, controls.QUAD, q) for q in magnitudes]
    elif name == 'quad_sampled':
      group = tuple(int(i) for i in attackers_lib.quads(msg_bits)[0])
      out += [Cipher(name, 'quad', group, q) for q in strengths or STRENGTHS[name]]
    elif name in controls.CONTROLS:
      out += [Cipher(name, name, controls.QUAD, q)
              for q in strengths or STRENGTHS.get(name, GATED_STRENGTHS)]
    else:
      raise app.UsageError(f'unknown control set {name!r}; choose from {CIPHER_SETS}')
  return out


def chosen(name, attacker, config, cipher_list, min_gap_se):
  """The indices of the ciphers attacker `name` is trained on (module docstring):
  the pads, and the leaks she could resolve; an even count, so that two devices
  split them evenly (the first pad once more if needed, as a further replica)."""
  n, se = config.msg_bits, held_out_se(attacker, config)
  gap = lambda c: n / 2 - controls.ideal_bits(c.control, c.q, name, n, c.quad)
  pick = [p for p, c in enumerate(cipher_list)
          if c.control == 'pad' or (gap(c) >= max(min_gap_se * se, 1e-9) and
                                    (c.label != 'quad_sampled' or name == 'parity4'))]
  if len(pick) % 2 and cipher_list[0].control == 'pad':
    pick.insert(0, 0)
  return pick


def make_config(attackers, msg_bits=16):
  """configs/sym16.py's eval section with the flags' budget: the 'cpu' protocol."""
  config = config_lib.complete(sym16.get_config())
  config.msg_bits = msg_bits
  config.eval.num_eves = _NUM_EVES.value
  config.eval.steps = _STEPS.value
  config.eval.every = _EVERY.value
  config.eval.batch_size = _BATCH_SIZE.value
  config.eval.eval_batch_size = _EVAL_BATCH_SIZE.value
  config.eval.attackers = tuple(attackers)
  return config


def held_out_se(attacker, config):
  """The standard error, in bits, of one held-out measure of an Eve at chance:
  of her mean over her targets, or for an attacker scored by her best-read
  target (Attacker.score 'best'), of one target's.

  Per example her bits wrong are N / T x the sum of T error indicators, each
  1/2 on average and, on the pad, pairwise independent (products of distinct
  groups of uniform bits are): SD N / (2 sqrt T); the mean over M examples
  divides it by sqrt M. One target's error rate, x N, on M examples: N / (2 sqrt M).
  The evaluator measures an Eve on M = eval_batch_size x N / T examples when
  T < N (the distinguisher), and x N when she is scored by her best target.
  """
  n, targets = config.msg_bits, attacker.network.out_bits
  if attacker.score == 'best':
    return n / (2.0 * math.sqrt(config.eval.eval_batch_size * n))
  examples = config.eval.eval_batch_size * max(1, n // targets)
  return n / (2.0 * math.sqrt(targets * examples))


def draws_per_measure(attacker):
  """How many roughly independent normal figures one measure is the lowest of:
  her T targets' when she is scored by her best-read target, else 1."""
  return attacker.network.out_bits if attacker.score == 'best' else 1


def expected_max_normal(k):
  """E[max of k independent standard normals], by numerical integration."""
  x = np.linspace(-10, 10, 20_001)
  phi = np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
  cdf = 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
  return float(np.trapezoid(x * k * phi * cdf ** (k - 1), x))


def false_alarm(margin, se, draws):
  """P(the lowest of `draws` measurements at chance falls below N/2 - margin)."""
  one = 0.5 * math.erfc(margin / se / math.sqrt(2))
  return 1.0 - (1.0 - one) ** draws


def evaluate_attacker(attacker, config, cipher_list, key_bits, log):
  """Fresh Eves of one attacker against the ciphers of cipher_list; an EvalResult.

  Eve e against the cipher at position p draws her keys from p (evaluator.py):
  the pad replicas, first, get the same Eves' keys for every choice of ciphers."""
  sets = sorted({(c.control, c.quad) for c in cipher_list})
  encrypt = controls.make_encrypt_any([s[0] for s in sets], bits.COLUMNS,
                                      [s[1] for s in sets])
  params = {'control': jnp.array([sets.index((c.control, c.quad)) for c in cipher_list],
                                 jnp.int32),
            'q': jnp.array([c.q for c in cipher_list], jnp.float32)}
  root = jax.random.fold_in(evaluator.eval_root_key(config), 0xCA11B)
  return evaluator.evaluate_cipher(
      encrypt, params, config.msg_bits, key_bits, config.eval, root, [attacker], log,
      layout=bits.COLUMNS)


def attacker_record(name, attacker, config, result, cipher_list, pick, margin):
  """Everything measured for one attacker, as plain JSON values; `pick`: the
  indices into cipher_list of the ciphers she was trained on, in result order."""
  n = config.msg_bits
  hard, soft = result.best_hard_bits[name], result.best_bits[name]
  improving = evaluator.still_improving(result)[name]
  rows = []
  for i, p in enumerate(pick):
    c = cipher_list[p]
    best = float(np.min(hard[i]))
    rows.append({'cipher': p, 'label': c.label, 'control': c.control, 'quad': list(c.quad),
                 'q': c.q, 'ideal_bits': controls.ideal_bits(c.control, c.q, name, n, c.quad),
                 'eve_hard_bits': hard[i].tolist(), 'eve_bits': soft[i].tolist(),
                 'best_hard_bits': best, 'best_bits': float(np.min(soft[i])),
                 'detected': best < n / 2 - margin,
                 'still_improving': int(np.sum(improving[i]))})
  pads = [i for i, p in enumerate(pick) if cipher_list[p].control == 'pad']
  pad = {}
  if pads:
    measures = np.array([h[name]['hard_bits'][pads] for h in result.history])  # [S, R, E]
    se, per_measure = held_out_se(attacker, config), draws_per_measure(attacker)
    draws = measures.shape[0] * config.eval.num_eves
    pad = {'best_of_eves': [float(np.min(hard[i])) for i in pads],
           'eve_best': hard[pads].ravel().tolist(),
           'measure_mean': float(np.mean(measures)),
           'measure_sd': float(np.std(measures, ddof=1)),
           'measure_min': float(np.min(measures)), 'measures': int(measures.size),
           'predicted_se': se, 'score': attacker.score, 'draws_per_measure': per_measure,
           'draws_per_verdict': draws,
           'predicted_measure_mean': n / 2 - se * expected_max_normal(per_measure),
           'predicted_best_of_eves': n / 2 - se * expected_max_normal(per_measure * draws),
           'false_alarm_at_margin': false_alarm(margin, se, per_measure * draws)}
  return {'description': attacker.description, 'targets': attacker.network.out_bits,
          'wall_s': result.wall_s, 'eve_steps_per_s': len(pick) * config.eval.num_eves *
          result.steps / result.wall_s, 'ciphers': rows, 'pad': pad,
          'history': [{'step': h['step'], 'hard_bits': h[name]['hard_bits'].tolist()}
                      for h in result.history]}


def smallest_detected(record):
  """control set -> the weakest strength detected (None: none), of one attacker."""
  out = {}
  for row in record['ciphers']:
    if row['control'] == 'pad':
      continue
    label = row['label']
    out.setdefault(label, None)
    if row['detected'] and (out[label] is None or row['q'] < out[label]):
      out[label] = row['q']
  return out


def format_table(records, cipher_list, n, margin, budget):
  """Rows: the pad (its lowest best-of-Eves over the replicas) and each leak;
  columns: attackers' best hard bits ('*' detected, '.' not trained) (ideal)."""
  names = list(records)
  lines = [f'best hard bits wrong over the fresh Eves, {budget}; chance {n / 2:g}, '
           f'detected (*) below {n / 2 - margin:g}; (ideal: a Bayes-optimal Eve of her task); '
           f'. : not trained (ideal within the resolution)',
           f"{'cipher':<22}" + ''.join(f'{name:>17}' for name in names)]
  leaks = [p for p, c in enumerate(cipher_list) if c.control != 'pad']
  pads = [p for p, c in enumerate(cipher_list) if c.control == 'pad']
  for p in ([pads[0]] if pads else []) + leaks:
    c = cipher_list[p]
    label = f'{c.label} q={c.q:g}' if c.control != 'pad' else 'pad (lowest)'
    ideal = lambda name, c=c: controls.ideal_bits(c.control, c.q, name, n, c.quad)
    cells = []
    for name in names:
      rows = [r for r in records[name]['ciphers']
              if r['cipher'] == p or (c.control == 'pad' and r['control'] == 'pad')]
      if not rows:
        cells.append(f'. ({ideal(name):6.3f})')
        continue
      best = min(r['best_hard_bits'] for r in rows)
      mark = '*' if best < n / 2 - margin else ' '
      cells.append(f"{best:6.3f}{mark} ({rows[0]['ideal_bits']:6.3f})")
    lines.append(f'{label:<22}' + ''.join(f'{cell:>17}' for cell in cells))
  lines.append('')
  lines.append('pad noise: best-of-Eves per replica; held-out measures: mean (predicted), '
               'SD (SE of one measure, or of one target when scored by the best), lowest; '
               'predicted best-of-Eves; P(false alarm)')
  for name in names:
    pad = records[name]['pad']
    if not pad:
      continue
    lines.append(f"{name:<12} best {', '.join(f'{x:.3f}' for x in pad['best_of_eves'])} | "
                 f"measures {pad['measure_mean']:.3f} ({pad['predicted_measure_mean']:.3f}) "
                 f"sd {pad['measure_sd']:.4f} "
                 f"({pad['predicted_se']:.4f}) min {pad['measure_min']:.3f} | "
                 f"predicted {pad['predicted_best_of_eves']:.3f} | "
                 f"P(false alarm) {pad['false_alarm_at_margin']:.1e}")
  lines.append('')
  lines.append('smallest leak detected (q; magnitude: step size; - none):')
  for name in names:
    smallest = smallest_detected(records[name])
    lines.append(f'{name:<12} ' + ', '.join(
        f"{label} {'-' if q is None else f'{q:g}'}" for label, q in smallest.items()))
  return '\n'.join(lines)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  n = _MSG_BITS.value
  unknown = [a for a in _ATTACKERS.value if a not in config_lib.ATTACKERS]
  if unknown:
    raise app.UsageError(f'unknown attackers {unknown}; choose from {config_lib.ATTACKERS}')
  config = make_config(_ATTACKERS.value, n)
  margin = config_lib.scaled_bits(config_lib.SECURE_MARGIN_BITS, n)
  cipher_list = ciphers(_CONTROLS.value, [float(q) for q in _STRENGTHS.value or ()],
                        [float(q) for q in _MAGNITUDES.value], _PAD_REPLICAS.value, n)
  budget = (f'{_NUM_EVES.value} fresh Eves x {_STEPS.value} steps of minibatch '
            f'{_BATCH_SIZE.value}, measured every {_EVERY.value} on {_EVAL_BATCH_SIZE.value} '
            'held-out examples')
  log = lambda line: print(line, flush=True)
  log(f'{len(cipher_list)} control ciphers x {len(_ATTACKERS.value)} attackers; {budget}; '
      f'{len(jax.devices())} devices; load average {os.getloadavg()[0]:.2f}')
  records, start, cpu_start = {}, time.time(), sum(os.times()[:2])
  out = _OUT.value
  for name in _ATTACKERS.value:
    attacker = attackers_lib.make_attacker(name, config)
    pick = chosen(name, attacker, config, cipher_list, _MIN_GAP_SE.value)
    log(f'=== {name}: {len(pick)} ciphers ({attacker.description})')
    result = evaluate_attacker(attacker, config, [cipher_list[p] for p in pick],
                               controls.key_bits(n), log)
    records[name] = attacker_record(name, attacker, config, result, cipher_list, pick, margin)
    log(f"{name}: {result.wall_s:.0f} s, {records[name]['eve_steps_per_s']:.0f} Eve-steps/s")
    table = format_table(records, cipher_list, n, margin, budget)
    if out:  # after every attacker, so that a stopped run keeps what it measured
      os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
      with open(out, 'w') as f:
        json.dump({'argv': sys.argv, 'msg_bits': n, 'margin_bits': margin, 'budget': budget,
                   'config_eval': config.eval.to_dict(),
                   'ciphers': [c._asdict() for c in cipher_list], 'attackers': records,
                   'smallest_detected': {a: smallest_detected(r) for a, r in records.items()},
                   'wall_s': time.time() - start,
                   'cpu_s': sum(os.times()[:2]) - cpu_start,
                   'load_average_end': os.getloadavg()[0], 'table': table}, f, indent=1)
  print(table)
  wall = time.time() - start
  print(f'wall {wall:.0f} s, CPU {sum(os.times()[:2]) - cpu_start:.0f} s '
        f'({(sum(os.times()[:2]) - cpu_start) / wall:.2f} cores)')
  if out:
    print(f'wrote {out}')


if __name__ == '__main__':
  app.run(main)
