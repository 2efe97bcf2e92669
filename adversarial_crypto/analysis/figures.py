"""The paper's Figures 2, 3 and 4 for a run, as PNG files in its workdir.

  figure2_training.png    Bob's and Eve's bits wrong against step (metrics.csv).
  figure3_robustness.png  per seed, Bob's final bits wrong against the best
                          retrained Eve's, with the success region marked.
  figure_eve_steps.png    beyond the paper: per attacker and seed, the best fresh
                          Eve's bits wrong so far against her training steps
                          (eval_metrics.csv), with the verdicts' bounds: would
                          more steps change a verdict?
  figure4_selective.png   selective protection: D-public's, Bob's, Eve's and
                          Blind Eve's errors, and Eve's advantage, against step.
"""

import os

import matplotlib
matplotlib.use('Agg')  # files only; no display on these machines
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np

from adversarial_crypto.training import distributed

FIGURE2_FILE = 'figure2_training.png'
FIGURE3_FILE = 'figure3_robustness.png'
FIGURE4_FILE = 'figure4_selective.png'
EVE_STEPS_FILE = 'figure_eve_steps.png'


def plot_training(metrics, msg_bits, path, title=''):
  """Figure 2: Bob's and Eve's bits wrong on a fresh batch against training step.

  Every seed is a thin line; the first seed that met the training goals (else
  seed 0) is drawn bold, as the paper shows one run.

  Args:
    metrics: rows of metrics.csv (workdir.read_metrics).
    msg_bits: N, the top of the y axis.
    path: the PNG to write.
    title: the figure's title.
  """
  seeds = sorted({r['seed'] for r in metrics})
  by_seed = {s: [r for r in metrics if r['seed'] == s] for s in seeds}
  trained = [s for s in seeds if by_seed[s][-1]['stopped']]
  shown = trained[0] if trained else seeds[0]
  fig, ax = plt.subplots(figsize=(7, 4.5))
  for s in seeds:
    rows = by_seed[s]
    step = [r['step'] for r in rows]
    bold = s == shown
    kwargs = {'lw': 1.8 if bold else 0.6, 'alpha': 1.0 if bold else 0.3}
    ax.plot(step, [r['bob_bits'] for r in rows], color='tab:blue',
            label=f'Bob (seed {s})' if bold else None, **kwargs)
    ax.plot(step, [r['eve_bits'] for r in rows], color='tab:red',
            label=f'Eve (seed {s})' if bold else None, **kwargs)
  ax.set_xlabel('training step')
  ax.set_ylabel(f'bits wrong (of {msg_bits})')
  ax.set_ylim(0, msg_bits)
  ax.set_title(title or 'Figure 2: reconstruction error during training')
  ax.legend(loc='upper right')
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def plot_robustness(summary, msg_bits, bob_bound, path, title=''):
  """Figure 3: per seed, Bob's final bits wrong against the best retrained Eve's.

  The success region (Bob <= bob_bound, paper Eve >= retrained_eve_bits) is
  shaded; hollow markers are seeds that failed training. Other attackers are
  drawn in their hard-decision measure, the one that decides 'secure'.

  Args:
    summary: an evaluated summary (verdicts.summarize).
    msg_bits: N.
    bob_bound: success.bob_bits.
    path: the PNG to write.
    title: the figure's title.
  """
  bound = summary['evaluation']['retrained_eve_bits']
  seeds = summary['seeds']
  bob = np.array([s['bob_bits'] for s in seeds])
  trained = np.array([s['trained'] for s in seeds])
  fig, ax = plt.subplots(figsize=(7, 4.5))
  ax.fill_between([0, bob_bound], bound, msg_bits, color='tab:green', alpha=0.15,
                  label=f'success: Bob <= {bob_bound:g}, Eve >= {bound:g}')
  styles = {'paper': ('o', 'tab:red'), 'mlp': ('s', 'tab:purple')}
  for name in summary['evaluation']['attackers']:
    measure = 'best_bits' if name == 'paper' else 'best_hard_bits'
    eve = np.array([s['retrained_eves'][name][measure] for s in seeds])
    marker, color = styles.get(name, ('^', 'tab:gray'))
    label = f'{name} Eve ({"L1/2" if name == "paper" else "hard decisions"})'
    ax.scatter(bob[trained], eve[trained], marker=marker, color=color, label=label)
    ax.scatter(bob[~trained], eve[~trained], marker=marker, facecolors='none',
               edgecolors=color, label=f'{label}, training failed' if (~trained).any() else None)
  ax.axhline(bound, color='tab:green', lw=0.8, ls='--')
  ax.axvline(bob_bound, color='tab:green', lw=0.8, ls='--')
  ax.set_xscale('symlog', linthresh=0.01)
  ax.set_xlim(0, msg_bits)
  ax.set_ylim(0, msg_bits)
  ax.set_xlabel("Bob's final bits wrong")
  ax.set_ylabel("best retrained Eve's bits wrong")
  ax.set_title(title or 'Figure 3: Bob against the best retrained Eve, per seed')
  ax.legend(loc='lower right', fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def best_so_far(step, eve, value):
  """One seed's curve: at each measured step, the lowest over its Eves of each
  Eve's best value so far. A stopped Eve's NaN keeps her earlier best.

  Args:
    step, eve, value: [R] arrays, one row per (measurement, Eve).

  Returns:
    (steps [T] sorted, curve [T]).
  """
  steps, at = np.unique(step, return_inverse=True)
  grid = np.full((len(steps), int(eve.max()) + 1), np.nan)
  grid[at, eve] = value
  return steps, np.fmin.reduce(np.fmin.accumulate(grid, axis=0), axis=1)


def plot_eve_steps(eval_rows, summary, msg_bits, path, title=''):
  """Per attacker, per seed: the best fresh Eve's bits wrong so far against steps.

  One panel per attacker; one line per seed, the lowest over its Eves of each
  Eve's best so far (an Eve stopped by patience keeps her best); dotted for
  seeds that failed training. The paper attacker is drawn in L1/2 with the
  robust bound, the others in hard decisions with the secure bound: a line
  still falling at the right edge is a verdict more steps could change.

  Args:
    eval_rows: rows of eval_metrics.csv (step, seed, attacker, eve, bits, hard_bits).
    summary: the evaluated summary (its seeds' 'trained', its bounds).
    msg_bits: N.
    path: the PNG to write.
    title: the figure's title.
  """
  evaluation = summary['evaluation']
  names = list(evaluation['attackers'])
  trained = {s['seed']: s['trained'] for s in summary['seeds']}
  cols = min(len(names), 4)
  rows = -(-len(names) // cols)
  fig, axes = plt.subplots(rows, cols, figsize=(max(3.2 * cols, 6.4), 2.8 * rows + 0.4),
                           squeeze=False)
  for ax, name in zip(axes.flat, names):
    measure = 'bits' if name == 'paper' else 'hard_bits'
    bound = (evaluation['retrained_eve_bits'] if name == 'paper'
             else evaluation.get('secure_bits', evaluation['retrained_eve_bits']))
    mine = [r for r in eval_rows if r['attacker'] == name]
    step, seed_of, eve = (np.array([int(r[k]) for r in mine], np.int64)
                          for k in ('step', 'seed', 'eve'))
    value = np.array([float(r[measure]) for r in mine])
    for seed in np.unique(seed_of):
      here = seed_of == seed
      steps, curve = best_so_far(step[here], eve[here], value[here])
      ax.plot(steps, curve, lw=0.8, ls='-' if trained.get(int(seed)) else ':',
              color='tab:blue' if trained.get(int(seed)) else 'tab:gray')
    ax.axhline(bound, color='tab:green', lw=0.8, ls='--')
    ax.axhline(msg_bits / 2, color='black', lw=0.5, ls=':')
    ax.set_ylim(0, msg_bits / 2 + 0.5)
    ax.set_title(f"{name} ({'L1/2' if name == 'paper' else 'hard'}; bound {bound:g})",
                 fontsize=9)
    ax.set_xlabel('fresh Eve steps', fontsize=8)
    ax.tick_params(labelsize=7)
  for ax in list(axes.flat)[len(names):]:
    ax.axis('off')
  axes[0, 0].set_ylabel('best bits wrong so far', fontsize=8)
  fig.suptitle(title or 'Best fresh Eve against her steps, per seed (solid: trained pairs)',
               fontsize=10)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)


def write_figures(workdir, config, summary, metrics, eval_rows=None):
  """Writes Figures 2 and 3 of a run into its workdir, and the fresh Eves' curves.

  Args:
    workdir: the run's directory.
    config: the run's config.
    summary: an evaluated summary, or None to draw Figure 2 only.
    metrics: rows of metrics.csv.
    eval_rows: rows of eval_metrics.csv; with a summary, figure_eve_steps.png
      is drawn from them.

  Returns:
    The paths written (in a run of several processes, by process 0 alone:
    the others draw nothing).
  """
  paths = [os.path.join(workdir, FIGURE2_FILE)]
  if summary is not None:
    paths.append(os.path.join(workdir, FIGURE3_FILE))
    if eval_rows:
      paths.append(os.path.join(workdir, EVE_STEPS_FILE))
  if not distributed.is_writer():
    return paths
  plot_training(metrics, config.msg_bits, paths[0])
  if summary is not None:
    plot_robustness(summary, config.msg_bits, config.success.bob_bits, paths[1])
    if eval_rows:
      plot_eve_steps(eval_rows, summary, config.msg_bits, paths[2])
  return paths


def plot_selective(metrics, yardsticks, path, title=''):
  """Figure 4: selective protection's errors and Eve's advantage against step.

  Top: medians over seeds of the mean squared errors of D-public and Bob
  (against D) and of Eve and Blind Eve (against C), the range over seeds
  shaded, and the analytic optima dashed. Bottom: each seed's Eve advantage
  over Blind Eve as dots, as the paper draws it.

  Args:
    metrics: rows of metrics.csv of a selective run.
    yardsticks: selective.yardsticks of its correlation matrix.
    path: the PNG to write.
    title: the figure's title.
  """
  steps = sorted({r['step'] for r in metrics})
  fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True,
                                    gridspec_kw={'height_ratios': (2, 1)})
  for name, color, label in (('public_mse', 'tab:red', 'D-public error'),
                             ('bob_mse', 'tab:green', 'Bob error'),
                             ('eve_mse', 'tab:blue', 'Eve error (on C)'),
                             ('blind_eve_mse', 'tab:gray', 'Blind Eve error (on C)')):
    by_step = [[r[name] for r in metrics if r['step'] == s] for s in steps]
    top.plot(steps, [np.median(v) for v in by_step], color=color, label=label)
    top.fill_between(steps, [min(v) for v in by_step], [max(v) for v in by_step],
                     color=color, alpha=0.15, lw=0)
  top.axhline(yardsticks['bob_best_mse'], color='tab:green', ls='--', lw=0.8,
              label='best estimate of D given A, B, C')
  top.axhline(yardsticks['public_best_mse'], color='tab:red', ls='--', lw=0.8,
              label='best linear estimate of D hiding C')
  top.set_ylabel('mean squared error')
  highest = max(r[n] for r in metrics for n in ('public_mse', 'bob_mse', 'eve_mse'))
  top.set_ylim(0, min(max(1.6, highest), 3.0))  # early errors can exceed 1
  top.legend(loc='upper right', fontsize=8)
  top.set_title(title or 'Figure 4: training to estimate D while hiding C')
  bottom.scatter([r['step'] for r in metrics], [r['eve_advantage'] for r in metrics], s=4,
                 color='tab:blue', alpha=0.5)
  bottom.axhline(0.0, color='k', lw=0.8)
  bottom.set_ylabel("Eve's advantage\nover Blind Eve")
  bottom.set_xlabel('training step')
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)
