"""Figures 2 and 3 are drawn from a run's metrics and summary, as PNG files."""

import os

import matplotlib.image
import numpy as np

from adversarial_crypto.analysis import figures
from configs import tiny


def _metrics(num_seeds=3, chunks=4):
  rows = []
  for chunk in range(chunks + 1):
    for seed in range(num_seeds):
      rows.append({'chunk': chunk, 'step': 20 * chunk, 'seed': seed,
                   'bob_bits': 4.0 / (1 + chunk + seed), 'eve_bits': 3.0 + chunk / 4,
                   'stopped': seed == 1 and chunk == chunks})
  return rows


def _summary():
  def eves(paper, mlp):
    return {'paper': {'best_bits': paper, 'best_hard_bits': paper},
            'mlp': {'best_bits': mlp, 'best_hard_bits': mlp}}
  seeds = [{'seed': 0, 'trained': True, 'bob_bits': 0.0, 'retrained_eves': eves(3.5, 0.4)},
           {'seed': 1, 'trained': True, 'bob_bits': 0.03, 'retrained_eves': eves(2.0, 1.0)},
           {'seed': 2, 'trained': False, 'bob_bits': 2.5, 'retrained_eves': eves(3.9, 3.9)}]
  return {'seeds': seeds, 'evaluation': {'retrained_eve_bits': 3.0,
                                         'attackers': {'paper': {}, 'mlp': {}}}}


def _is_png(path):
  with open(path, 'rb') as f:
    return f.read(8) == b'\x89PNG\r\n\x1a\n'


def test_write_figures(tmp_path):
  config = tiny.get_config()
  paths = figures.write_figures(str(tmp_path), config, _summary(), _metrics())
  assert [os.path.basename(p) for p in paths] == [figures.FIGURE2_FILE, figures.FIGURE3_FILE]
  for path in paths:
    assert _is_png(path)
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (450, 700)  # 7 x 4.5 inches at 100 dpi
    # Something was drawn: not a blank canvas.
    assert np.std(image[..., :3]) > 0.05


def test_figure2_only_without_evaluation(tmp_path):
  paths = figures.write_figures(str(tmp_path), tiny.get_config(), None, _metrics(1, 2))
  assert len(paths) == 1 and _is_png(paths[0])
  assert not os.path.exists(tmp_path / figures.FIGURE3_FILE)


def _eval_rows():
  """eval_metrics.csv rows of 3 seeds x 2 Eves x 2 attackers at steps 10, 20, 30;
  Eve 1 of seed 0 stops (NaN) after step 10."""
  rows = []
  for step in (10, 20, 30):
    for seed in range(3):
      for attacker in ('paper', 'mlp'):
        for eve in range(2):
          bits = 'nan' if (seed, eve) == (0, 1) and step > 10 else str(8.0 - step / 10 - eve)
          rows.append({'step': str(step), 'seed': str(seed), 'attacker': attacker,
                       'eve': str(eve), 'bits': bits, 'hard_bits': bits})
  return rows


def test_the_fresh_eves_curves_are_drawn_with_the_evaluation(tmp_path):
  summary = _summary()
  summary['evaluation']['secure_bits'] = 3.75
  paths = figures.write_figures(str(tmp_path), tiny.get_config(), summary, _metrics(),
                                _eval_rows())
  assert [os.path.basename(p) for p in paths] == [
      figures.FIGURE2_FILE, figures.FIGURE3_FILE, figures.EVE_STEPS_FILE]
  image = matplotlib.image.imread(paths[2])
  assert image.shape[:2] == (320, 640)  # 2 panels of 3.2 x 2.8 inches and a title, 100 dpi
  assert np.std(image[..., :3]) > 0.05


def test_best_so_far_by_hand():
  # Eve 0: 7, 6, 5 at steps 10, 20, 30; Eve 1: 6 at step 10, then stopped (NaN), and a
  # rise to 7.5 that is not a best. Lowest best so far: 6, 6, 5.
  step = np.array([10, 10, 20, 20, 30, 30])
  eve = np.array([0, 1, 0, 1, 0, 1])
  value = np.array([7.0, 6.0, 6.0, np.nan, 5.0, np.nan])
  steps, curve = figures.best_so_far(step, eve, value)
  np.testing.assert_array_equal(steps, [10, 20, 30])
  np.testing.assert_array_equal(curve, [6.0, 6.0, 5.0])
  steps, curve = figures.best_so_far(np.array([30, 10, 20]), np.zeros(3, int),
                                     np.array([7.0, 6.0, 7.5]))
  np.testing.assert_array_equal(curve, [6.0, 6.0, 6.0])
