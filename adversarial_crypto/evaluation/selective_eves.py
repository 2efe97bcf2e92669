"""Fresh Eves retrained against each frozen Alice of a selective-protection run.

Section 3's claim is that Eve, seeing D-public and the ciphertext, learns no
more about C than Blind Eve, who knows only C's distribution. Training Eve
beside Alice only shows that for the Eve that Alice was trained against; here
`num_eves` fresh Eves per attacker start from fresh parameters and Adam
state, train against the frozen Alice on fresh data, and are measured on a
fresh held-out batch every `eval.every` steps. An Eve's advantage is Blind
Eve's mean squared error on C minus hers, on the same held-out batch.

Attackers: 'paper' (the training Eve's network) and 'mlp' (a ReLU MLP of
eval.mlp_hidden), both with the squared-error loss and reading their
estimate of C from their first output.
"""

import functools
import os
import time
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adversarial_crypto import config as config_lib
from adversarial_crypto.evaluation import evaluator
from adversarial_crypto.analysis import figures
from adversarial_crypto.core import networks
from adversarial_crypto.core import selective
from adversarial_crypto.training import distributed
from adversarial_crypto.training import sharding
from adversarial_crypto.training import train
from adversarial_crypto.training import workdir as workdir_lib

class EveState(NamedTuple):
  params: Any
  opt_state: Any


class FreshEveResult(NamedTuple):
  """Arrays are numpy, [S seeds, E Eves] per attacker."""
  final_advantage: dict  # name -> advantage over Blind Eve at the last measurement
  best_advantage: dict   # name -> the largest advantage at any measurement
  final_mse: dict        # name -> the Eve's error on C at the last measurement
  history: list          # per measurement: {'step': s, name: [S, E] advantage}
  wall_s: float


def make_attacker(name, config):
  """The network of a fresh Eve: Alice's outputs -> estimate of C (first output)."""
  width = 1 + config.cipher_len
  if name == 'paper':
    return networks.make_network(config.arch, width, width)
  if name == 'mlp':
    return networks.make_network('mlp', width, 1, config.eval.mlp_hidden)
  raise ValueError(f"unknown attacker {name!r}; choose 'paper' or 'mlp'")


def make_eve_trainer(experiment, eve, eval_config):
  """init(eve_key) and run_chunk(state, alice_params, eve_key, first_step, num_steps)
  for ONE fresh Eve against ONE frozen Alice."""
  optimizer = optax.adam(eval_config.learning_rate)

  def eve_sees(alice_params, tuples, key):
    d_public, ciphertext = experiment.publish(alice_params, tuples[:, :selective.VALUES], key)
    return jax.lax.stop_gradient(jnp.concatenate([d_public[:, None], ciphertext], -1))

  def loss(params, seen, c):
    return jnp.mean((eve.logits(params, seen)[:, 0] - c) ** 2)

  def init(eve_key):
    params = eve.init(jax.random.fold_in(eve_key, evaluator.INIT_STREAM))
    return EveState(params, optimizer.init(params))

  def train_step(state, alice_params, step_key):
    tuples, key = experiment.draw(step_key, eval_config.batch_size)
    grads = jax.grad(loss)(state.params, eve_sees(alice_params, tuples, key), tuples[:, selective.C])
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    return EveState(optax.apply_updates(state.params, updates), opt_state)

  def run_chunk(state, alice_params, eve_key, first_step, num_steps):
    train_key = jax.random.fold_in(eve_key, evaluator.TRAIN_STREAM)

    def body(state, step):
      return train_step(state, alice_params, jax.random.fold_in(train_key, step)), None

    state, _ = jax.lax.scan(body, state, first_step + jnp.arange(num_steps))
    held_out = jax.random.fold_in(jax.random.fold_in(eve_key, evaluator.HELD_OUT_STREAM),
                                  first_step + num_steps)
    tuples, key = experiment.draw(held_out, eval_config.eval_batch_size)
    c = tuples[:, selective.C]
    mse = loss(state.params, eve_sees(alice_params, tuples, key), c)
    return state, (mse, jnp.mean(c ** 2) - mse)

  return init, run_chunk


def evaluate_alices(config, alice_params, log=print):
  """Retrains config.eval's fresh Eves against every seed's frozen Alice.

  Args:
    config: a selective config.
    alice_params: Alice's parameters with a leading seed axis [S, ...].
    log: where progress lines go.

  Returns:
    A FreshEveResult.
  """
  experiment = selective.make_experiment(config)
  ev = config.eval
  # One placement for every input: Alices sharded over a training mesh would
  # give the Eves' states a second layout after the first chunk, and a recompile.
  alice_params = jax.device_put(sharding.to_host(alice_params))
  names = tuple(config.eval.attackers)
  num_seeds = jax.tree_util.tree_leaves(alice_params)[0].shape[0]
  root = evaluator.eval_root_key(config)
  trainers, keys, states = {}, {}, {}
  loop = sharding.default_loop()  # as the evaluator's: one Eve after another on CPU
  for name in names:
    init, run_chunk = make_eve_trainer(experiment, make_attacker(name, config), ev)
    keys[name] = evaluator.fresh_eve_keys(root, num_seeds, name, ev.num_eves,
                                          config.first_seed)

    def all_eves(states, alices, keys, first_step, num_steps, run_chunk=run_chunk):
      one_eve = functools.partial(run_chunk, num_steps=num_steps)
      return evaluator.over_ciphers_and_eves(one_eve, loop)(
          states, alices, keys, jnp.full((num_seeds,), first_step, jnp.int32))

    trainers[name] = jax.jit(all_eves, static_argnums=4)
    states[name] = jax.jit(functools.partial(evaluator.init_each, init))(keys[name])
  final, best, final_mse = {}, {n: np.full((num_seeds, ev.num_eves), -np.inf) for n in names}, {}
  history, step, start = [], 0, time.time()
  while step < ev.steps:
    num_steps = min(ev.every, ev.steps - step)
    t = time.time()
    row = {'step': step + num_steps}
    for name in names:
      states[name], (mse, advantage) = trainers[name](
          states[name], alice_params, keys[name], jnp.int32(step), num_steps)
      final_mse[name], final[name] = np.asarray(mse), np.asarray(advantage)
      best[name] = np.maximum(best[name], final[name])
      row[name] = final[name]
    step += num_steps
    history.append(row)
    log(f'fresh Eves step {step:>6d}/{ev.steps} | {time.time() - t:5.1f}s | '
        'largest advantage over Blind Eve now: ' +
        ', '.join(f'{n} {np.max(final[n]):+.3f}' for n in names))
  return FreshEveResult(final, best, final_mse, history, time.time() - start)


def summarize(config, train_summary, result):
  """The training summary with the yardsticks, gaps and every fresh Eve's advantage."""
  sticks = selective.yardsticks(config.correlation)
  seeds = []
  for i, seed in enumerate(train_summary['seeds']):
    eves = {name: {'final_advantage': [float(a) for a in result.final_advantage[name][i]],
                   'best_advantage': [float(a) for a in result.best_advantage[name][i]],
                   'final_mse': [float(m) for m in result.final_mse[name][i]]}
            for name in result.final_advantage}
    seeds.append({**seed,
                  'bob_gap': seed['bob_mse'] - sticks['bob_best_mse'],
                  'public_gap': seed['public_mse'] - sticks['public_best_mse'],
                  'fresh_eves': eves,
                  'largest_fresh_advantage': max(max(e['final_advantage'])
                                                 for e in eves.values())})

  def spread(values):
    values = np.asarray(values)
    return {'median': float(np.median(values)), 'min': float(values.min()),
            'max': float(values.max())}

  return {**train_summary, 'seeds': seeds, 'yardsticks': sticks,
          'end_values': {name: spread([s[name] for s in seeds]) for name in
                         ('public_mse', 'bob_mse', 'eve_mse', 'blind_eve_mse',
                          'eve_advantage', 'bob_gap', 'public_gap',
                          'largest_fresh_advantage')},
          'fresh_eves': {'num_eves': config.eval.num_eves, 'steps': config.eval.steps,
                         'batch_size': config.eval.batch_size,
                         'held_out_batch': config.eval.eval_batch_size,
                         'attackers': list(result.final_advantage),
                         'wall_s': result.wall_s}}


def table(summary):
  """Per seed: end errors, gaps to the optima and the largest fresh-Eve advantage."""
  sticks = summary['yardsticks']
  lines = [f"yardsticks: Bob's best MSE {sticks['bob_best_mse']:.3f}, D-public's best "
           f"(hiding C) {sticks['public_best_mse']:.3f}, Blind Eve {sticks['blind_eve_mse']:.3f}",
           'seed  public_mse  bob_mse  eve_adv(train)  fresh Eve adv (largest)']
  for s in summary['seeds']:
    lines.append(f"{train.root_seed(summary, s):>4d}  {s['public_mse']:10.3f}  {s['bob_mse']:7.3f}  "
                 f"{s['eve_advantage']:+14.3f}  {s['largest_fresh_advantage']:+10.3f}")
  e = summary['end_values']
  lines.append('median over seeds: ' + ', '.join(
      f"{k} {e[k]['median']:+.3f} [{e[k]['min']:+.3f}, {e[k]['max']:+.3f}]"
      for k in ('public_gap', 'bob_gap', 'largest_fresh_advantage')))
  return '\n'.join(lines)


def evaluate_run(config, workdir, run, train_summary, log=print):
  """Retrains fresh Eves against every seed's Alice; writes summary.json and Figure 4.

  Args:
    config: the run's selective config.
    workdir: the run's directory.
    run: the trained RunState.
    train_summary: train.summarize's dict for `run`.
    log: where progress lines and the table go.

  Returns:
    The summary written to summary.json.
  """
  config_lib.validate(config)
  log(f'retraining {config.eval.num_eves} fresh Eves per attacker ({config.eval.attackers}) '
      f"against each of {len(train_summary['seeds'])} Alices, {config.eval.steps} steps each")
  result = evaluate_alices(config, run.train.alice_bob['alice'], log)
  summary = summarize(config, train_summary, result)
  workdir_lib.write_summary(workdir, summary)
  log(table(summary))
  write_figure(workdir, summary, log)
  return summary


def write_figure(workdir, summary, log=print):
  """Figure 4 from the workdir's metrics.csv and the summary's yardsticks
  (by process 0 alone, in a run of several processes)."""
  path = os.path.join(workdir, figures.FIGURE4_FILE)
  if not distributed.is_writer():
    return
  figures.plot_selective(workdir_lib.read_metrics(workdir), summary['yardsticks'], path)
  log(f'figure: {path}')
