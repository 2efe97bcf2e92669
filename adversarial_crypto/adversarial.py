"""Adversarial training (Section 2.5), written for ONE seed.

Alice and Bob's side is a scheme: the symmetric one of Section 2
(symmetric.py) or Appendix A's public-key one (asymmetric.py), which the
paper trains "with the same approach". One training step is one Alice/Bob
minibatch, then `eve_steps_per_ab_step` Eve minibatches, each on fresh
random plaintexts and keys. Every random draw comes from
`fold_in(seed_key, step)`, so a seed's run does not depend on chunk sizes or
on which other seeds train beside it. `runner.py` owns the loop over seeds.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from adversarial_crypto import asymmetric
from adversarial_crypto import bits
from adversarial_crypto import config_checks
from adversarial_crypto import losses
from adversarial_crypto import networks
from adversarial_crypto import symmetric

# Streams folded into a seed's key, so training and measurement never share draws.
TRAIN_STREAM, EVAL_STREAM, INIT_STREAM = 0, 1, 2
# config.experiment -> the module whose make_scheme builds Alice and Bob's side.
SCHEMES = {'symmetric': symmetric, 'asymmetric': asymmetric}


class TrainState(NamedTuple):
  """One seed's networks and optimizer states."""
  alice_bob: Any      # {network name: params} of the scheme: one optimizer for all
  alice_bob_opt: Any
  eve: Any
  eve_opt: Any


class Measure(NamedTuple):
  """Mean bits wrong of Bob and Eve on one batch."""
  bob_bits: jax.Array
  eve_bits: jax.Array


class Experiment(NamedTuple):
  """Pure functions of one config, for one seed."""
  scheme: symmetric.Scheme
  eve: networks.Network  # the Eve trained beside Alice and Bob
  init: Any        # seed_key -> TrainState
  # (alice_bob, eve_params, plaintext, key) -> (loss, Measure on that batch)
  alice_bob_objective: Any
  train_step: Any  # (state, step_key) -> (state, Measure on the Alice/Bob batch)
  train_chunk: Any  # (state, seed_key, first_step, num_steps) -> (state, per-step Measure)
  measure: Any     # (state, seed_key, step) -> Measure on a fresh evaluation batch
  goals_met: Any   # Measure -> whether the seed is trained and stops (config.success)


def make_scheme(config):
  """Alice and Bob's side of config.experiment (default 'symmetric')."""
  name = config_checks.experiment_name(config)
  if name not in SCHEMES:
    raise ValueError(f'experiment {name!r} has no Alice/Bob scheme here (the schemes are '
                     f'{tuple(SCHEMES)}); build it with experiments.make_experiment')
  return SCHEMES[name].make_scheme(config)


def make_eve(config, in_bits):
  """The training Eve of a config: eve_arch ('same' is arch) from in_bits to msg_bits."""
  arch = config.arch if config.eve_arch == 'same' else config.eve_arch
  return networks.make_network(arch, in_bits, config.msg_bits, config.eve_hidden)


def make_eve_loss(name, eve):
  """Eve's training loss as a function of (eve_params, eve_view, plaintext)."""
  if name == 'l1':
    return lambda p, c, x: losses.eve_loss(x, eve.apply(p, c))
  if name == 'logistic':
    return lambda p, c, x: losses.logistic_eve_loss(x, eve.logits(p, c))
  raise ValueError(f"unknown eve_loss {name!r}; choose 'l1' or 'logistic'")


def eval_key(seed_key, step):
  """The key of the fresh evaluation batch a seed is measured on at `step`."""
  return jax.random.fold_in(jax.random.fold_in(seed_key, EVAL_STREAM), step)


def make_init(nets, eve, optimizer):
  """seed_key -> TrainState: Alice and Bob's networks (in `nets` order) and Eve,
  each from its own split of the seed's init stream, with fresh Adam states."""
  def init(seed_key):
    keys = jax.random.split(jax.random.fold_in(seed_key, INIT_STREAM), len(nets) + 1)
    alice_bob = {name: net.init(key) for (name, net), key in zip(nets.items(), keys)}
    eve_params = eve.init(keys[-1])
    return TrainState(alice_bob, optimizer.init(alice_bob),
                      eve_params, optimizer.init(eve_params))

  return init


def make_train_step(optimizer, draw, batch_size, eve_steps, alice_bob_objective,
                    eve_objective):
  """One step: an Alice/Bob minibatch, then `eve_steps` Eve minibatches, all fresh.

  Args:
    optimizer: the optax optimizer of both sides.
    draw: (key, size) -> a batch, a tuple of arrays.
    batch_size: the minibatch.
    eve_steps: Eve minibatches per Alice/Bob minibatch.
    alice_bob_objective: (alice_bob, eve_params, *batch) -> (loss, measure).
    eve_objective: (eve_params, alice_bob, *batch) -> Eve's loss.

  Returns:
    train_step(state, step_key) -> (state, measure on the Alice/Bob batch).
  """
  def train_step(state, step_key):
    keys = jax.random.split(step_key, 1 + eve_steps)
    grads, measure = jax.grad(alice_bob_objective, has_aux=True)(
        state.alice_bob, state.eve, *draw(keys[0], batch_size))
    updates, alice_bob_opt = optimizer.update(grads, state.alice_bob_opt, state.alice_bob)
    alice_bob = optax.apply_updates(state.alice_bob, updates)
    eve_params, eve_opt = state.eve, state.eve_opt
    for eve_key in keys[1:]:
      grads = jax.grad(eve_objective)(eve_params, alice_bob, *draw(eve_key, batch_size))
      updates, eve_opt = optimizer.update(grads, eve_opt, eve_params)
      eve_params = optax.apply_updates(eve_params, updates)
    return TrainState(alice_bob, alice_bob_opt, eve_params, eve_opt), measure

  return train_step


def make_train_chunk(train_step):
  """train_chunk(state, seed_key, first_step, num_steps): a lax.scan of steps, step
  s drawing from fold_in(the seed's training stream, s)."""
  def train_chunk(state, seed_key, first_step, num_steps):
    train_key = jax.random.fold_in(seed_key, TRAIN_STREAM)

    def body(state, step):
      return train_step(state, jax.random.fold_in(train_key, step))

    return jax.lax.scan(body, state, first_step + jnp.arange(num_steps))

  return train_chunk


def make_experiment(config):
  """Builds the single-seed functions of a config.

  Args:
    config: a config with experiment, msg_bits, key_bits, arch, eve_arch,
      eve_hidden, eve_loss, batch_size, eval_batch_size, learning_rate and
      eve_steps_per_ab_step (and public_key_bits when asymmetric).

  Returns:
    An Experiment.
  """
  scheme = make_scheme(config)
  eve = make_eve(config, scheme.eve_in_bits)
  n, k = config.msg_bits, config.key_bits
  batch, eval_batch = config.batch_size, config.eval_batch_size
  optimizer = optax.adam(config.learning_rate)
  eve_loss_fn = make_eve_loss(config.eve_loss, eve)

  def draw(key, size):
    return bits.random_messages(key, size, n, k)

  def alice_bob_objective(alice_bob, eve_params, plaintext, key):
    ciphertext, view = scheme.encrypt(alice_bob, plaintext, key)
    bob_guess = scheme.decrypt(alice_bob, ciphertext, key)
    loss, (bob_bits, eve_bits) = losses.alice_bob_loss(
        plaintext, bob_guess, eve.apply(eve_params, view))
    return loss, Measure(bob_bits, eve_bits)

  def eve_objective(eve_params, alice_bob, plaintext, key):
    return eve_loss_fn(eve_params, scheme.eve_view(alice_bob, plaintext, key), plaintext)

  init = make_init(scheme.networks, eve, optimizer)
  train_step = make_train_step(optimizer, draw, batch, config.eve_steps_per_ab_step,
                               alice_bob_objective, eve_objective)
  train_chunk = make_train_chunk(train_step)

  def measure(state, seed_key, step):
    plaintext, key = draw(eval_key(seed_key, step), eval_batch)
    ciphertext, view = scheme.encrypt(state.alice_bob, plaintext, key)
    bob_guess = scheme.decrypt(state.alice_bob, ciphertext, key)
    eve_guess = eve.apply(state.eve, view)
    return Measure(jnp.mean(losses.bits_wrong(plaintext, bob_guess)),
                   jnp.mean(losses.bits_wrong(plaintext, eve_guess)))

  def goals_met(m):
    return (m.bob_bits <= config.success.bob_bits) & (m.eve_bits >= config.success.eve_bits)

  return Experiment(scheme, eve, init, alice_bob_objective, train_step, train_chunk, measure,
                    goals_met)
