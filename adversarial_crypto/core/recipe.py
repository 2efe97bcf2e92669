"""The paper's adversarial training (Section 2.5), written for ONE seed.

Read `make_experiment` top to bottom: Alice and Bob's networks (a scheme:
symmetric.py, or Appendix A's asymmetric.py, which the paper trains "with the
same approach"), Eve's network, their losses, and one training step: one
Alice/Bob minibatch, then `eve_steps_per_ab_step` Eve minibatches, each of
fresh random plaintexts and keys, all with Adam. Every random draw comes from
`fold_in(seed_key, step)`, so a seed's run does not depend on chunk sizes or
on the seeds trained beside it; training/runner.py owns the loop over seeds.

The building blocks below (make_init, make_train_step, make_train_chunk) are
shared with the research options of extensions/ and with Section 3
(selective.py), which compose their own steps from them.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from adversarial_crypto.core import asymmetric
from adversarial_crypto.core import bits
from adversarial_crypto.core import losses
from adversarial_crypto.core import networks
from adversarial_crypto.core import symmetric

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
  eve: networks.Network  # the network of (each of) the training Eve(s)
  init: Any        # seed_key -> TrainState
  # (alice_bob, eve_params, plaintext, key) -> (loss, Measure on that batch), rows [B, bits]
  alice_bob_objective: Any
  train_step: Any  # (state, step_key) -> (state, Measure on the Alice/Bob batch)
  train_chunk: Any  # (state, seed_key, first_step, num_steps) -> (state, per-step Measure)
  measure: Any     # (state, seed_key, step) -> Measure on a fresh evaluation batch
  goals_met: Any   # (Measure, step) -> whether the seed is trained and stops (config.success)
  eve_params: Any  # TrainState.eve -> the params of the Eve(s) Alice and Bob train against


def make_scheme(config, layout=bits.ROWS):
  """Alice and Bob's side of config.experiment, on batches in `layout`."""
  if config.experiment not in SCHEMES:
    raise ValueError(f'experiment {config.experiment!r} has no Alice/Bob scheme here (the '
                     f'schemes are {tuple(SCHEMES)}); build it with '
                     'training.experiments.make_experiment')
  return SCHEMES[config.experiment].make_scheme(config, layout)


def eve_arch(config):
  """The training Eve's architecture: config.eve_arch, 'same' being config.arch
  ('bilinear' for 'keyed_bilinear': Eve has no key)."""
  return networks.keyless(config.arch) if config.eve_arch == 'same' else config.eve_arch


def describe_eve_arch(config):
  """eve_arch, with config.eve_hidden for the architectures that take hidden sizes."""
  arch = eve_arch(config)
  return f'{arch} {tuple(config.eve_hidden)}' if arch in ('mlp', 'bilinear') else arch


def make_eve(config, in_bits, out_bits=None):
  """The training Eve of a config: eve_arch from in_bits to out_bits (default msg_bits)."""
  return networks.make_network(eve_arch(config), in_bits, out_bits or config.msg_bits,
                               config.eve_hidden)


def make_eve_loss(name, eve, layout=bits.ROWS):
  """Eve's training loss as a function of (eve_params, eve_view, plaintext),
  on batches in `layout`: the paper's 'l1', or a per-bit 'logistic' loss."""
  axis = layout.bit_axis
  if name == 'l1':
    return lambda p, c, x: losses.eve_loss(x, layout.apply(eve, p, c), axis)
  if name == 'logistic':
    return lambda p, c, x: losses.logistic_eve_loss(x, layout.logits(eve, p, c), axis)
  raise ValueError(f"unknown eve_loss {name!r}; choose 'l1' or 'logistic'")


def eval_key(seed_key, step):
  """The key of the fresh evaluation batch a seed is measured on at `step`."""
  return jax.random.fold_in(jax.random.fold_in(seed_key, EVAL_STREAM), step)


def init_one(net, optimizer):
  """(key, _) -> fresh parameters of one network and a fresh optimizer state."""
  def init(key, _=None):
    params = net.init(key)
    return params, optimizer.init(params)

  return init


def make_init(nets, optimizer, init_eves):
  """seed_key -> TrainState: Alice and Bob's networks (in `nets` order) and the
  Eves, each from its own split of the seed's init stream, with fresh Adam states.

  Args:
    nets: {name: Network} of Alice and Bob's side.
    optimizer: the optax optimizer.
    init_eves: (eve_key, seed_key) -> (Eve params, their optimizer state); eve_key
      is the last split. For the paper's single Eve use `init_one(eve, optimizer)`.
  """
  def init(seed_key):
    keys = jax.random.split(jax.random.fold_in(seed_key, INIT_STREAM), len(nets) + 1)
    alice_bob = {name: net.init(key) for (name, net), key in zip(nets.items(), keys)}
    eve_params, eve_opt = init_eves(keys[-1], seed_key)
    return TrainState(alice_bob, optimizer.init(alice_bob), eve_params, eve_opt)

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


def make_train_chunk(train_step, after_step=None):
  """train_chunk(state, seed_key, first_step, num_steps): a lax.scan of steps, step
  s drawing from fold_in(the seed's training stream, s). `after_step(state,
  seed_key, steps_done)`, if given, may change the state after each step."""
  def train_chunk(state, seed_key, first_step, num_steps):
    train_key = jax.random.fold_in(seed_key, TRAIN_STREAM)

    def body(state, step):
      state, measure = train_step(state, jax.random.fold_in(train_key, step))
      if after_step is not None:
        state = after_step(state, seed_key, step + 1)
      return state, measure

    return jax.lax.scan(body, state, first_step + jnp.arange(num_steps))

  return train_chunk


def make_alice_bob_objective(scheme, eve, layout):
  """Alice and Bob's loss of Section 2.5 on batches in `layout`: Bob's bits wrong
  plus (N/2 - Eve's bits wrong)^2 / (N/2)^2, as
  (alice_bob, eve_params, plaintext, key) -> (loss, Measure on that batch)."""
  def alice_bob_objective(alice_bob, eve_params, plaintext, key):
    ciphertext, view = scheme.encrypt(alice_bob, plaintext, key)
    bob_guess = scheme.decrypt(alice_bob, ciphertext, key)
    loss, (bob_bits, eve_bits) = losses.alice_bob_loss(
        plaintext, bob_guess, layout.apply(eve, eve_params, view), layout.bit_axis)
    return loss, Measure(bob_bits, eve_bits)

  return alice_bob_objective


def make_eve_objective(scheme, eve_loss):
  """Eve's loss (make_eve_loss) on what she sees of Alice's ciphertexts, as
  (eve_params, alice_bob, plaintext, key) -> loss."""
  def eve_objective(eve_params, alice_bob, plaintext, key):
    return eve_loss(eve_params, scheme.eve_view(alice_bob, plaintext, key), plaintext)

  return eve_objective


def make_measure(scheme, eve_bits_of, draw, eval_batch, layout):
  """measure(state, seed_key, step): Bob's bits wrong, and `eve_bits_of(state.eve,
  plaintext, Eve's view)`, on the fresh evaluation batch of `step`."""
  def measure(state, seed_key, step):
    plaintext, key = draw(eval_key(seed_key, step), eval_batch)
    ciphertext, view = scheme.encrypt(state.alice_bob, plaintext, key)
    bob_guess = scheme.decrypt(state.alice_bob, ciphertext, key)
    bob_bits = jnp.mean(losses.bits_wrong(plaintext, bob_guess, layout.bit_axis))
    return Measure(bob_bits, eve_bits_of(state.eve, plaintext, view, step))

  return measure


def make_experiment(config):
  """The paper's recipe (Section 2.5) for one seed, as configs/sym16.py sets it.

  Args:
    config: a complete config (adversarial_crypto.config.complete) of the
      symmetric or asymmetric experiment, with none of the options of
      extensions/ set (config.is_paper_recipe).

  Returns:
    An Experiment.
  """
  # Training works on batches as columns, [bits, B] (bits.Layout); the public
  # scheme works on rows.
  layout = bits.COLUMNS
  scheme = make_scheme(config, layout)
  eve = make_eve(config, scheme.eve_in_bits)
  optimizer = optax.adam(config.learning_rate)  # Adam, no decay, for everyone

  def draw(key, size):
    return bits.random_messages(key, size, config.msg_bits, config.key_bits, layout)

  alice_bob_objective = make_alice_bob_objective(scheme, eve, layout)
  eve_objective = make_eve_objective(scheme, make_eve_loss(config.eve_loss, eve, layout))
  init = make_init(scheme.networks, optimizer, init_one(eve, optimizer))
  train_step = make_train_step(optimizer, draw, config.batch_size,
                               config.eve_steps_per_ab_step, alice_bob_objective,
                               eve_objective)

  def eve_bits_of(eve_params, plaintext, view, step):
    del step
    guess = layout.apply(eve, eve_params, view)
    return jnp.mean(losses.bits_wrong(plaintext, guess, layout.bit_axis))

  def goals_met(m, step):
    """Trained: Bob and Eve meet config.success."""
    del step
    return (m.bob_bits <= config.success.bob_bits) & (m.eve_bits >= config.success.eve_bits)

  def objective_on_rows(alice_bob, eve_params, plaintext, key):
    return alice_bob_objective(alice_bob, eve_params, plaintext.T, key.T)

  return Experiment(make_scheme(config), eve, init, objective_on_rows, train_step,
                    make_train_chunk(train_step),
                    make_measure(scheme, eve_bits_of, draw, config.eval_batch_size, layout),
                    goals_met, lambda eve_state: eve_state)
