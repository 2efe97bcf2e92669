"""Adversarial training against stronger Eves (beyond the paper), for ONE seed.

The paper's recipe is core/recipe.py. This module composes the research
options of configs/secure16.py (docs/configs.md) with its building blocks:

  config.train_eves   Eve ensembles (count, combine), resets, a warm-up of the
                      paper's recipe, the Eves' game (eve_games.py), their term
                      in Alice and Bob's loss, their minibatches per step, min_steps;
  config.leak_penalty an Eve-free term in Alice and Bob's loss (leak_penalty.py);
  config.freeze_alice_at  from this step only Bob and the Eves learn;
  config.train_eves.later_from, later_eve_weight, later_lr_factor, later_eve_term
                      the Eve term's weight, a factor on Alice and Bob's Adam steps
                      and the term itself, from a step on;
  config.ciphertext   'sign' (core/symmetric.py sends the hard decisions);
  config.bob_loss     'logistic': Bob's cross-entropy in place of his bits wrong;
  config.refactor_every  every this many steps Alice's and Bob's keyed_orthogonal
                      free matrices are re-factored (networks.refactor).

A training step is the recipe's: one Alice/Bob minibatch against the main
Eves, then their own minibatches; training/experiments.py picks this module
when a config sets any of these options.
"""

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from adversarial_crypto.core import bits
from adversarial_crypto.core import losses
from adversarial_crypto.core import networks
from adversarial_crypto.core import recipe
from adversarial_crypto.extensions import eve_games
from adversarial_crypto.extensions import leak_penalty

# Streams folded into a seed's key (after recipe's): re-initialised Eves, the warm-up Eve.
RESET_STREAM, WARMUP_STREAM = 3, 4


class TrainingEves(NamedTuple):
  """The Eves trained beside Alice and Bob (config.train_eves).

  With count K > 1 every leaf of the main Eves' params carries a leading axis
  of K Eves, each with her own initialisation and Adam state, all trained on
  the same minibatches (vmapped). With a warm-up, params are {'warmup': the
  paper's Eve, 'main': the Eves above}.
  """
  network: networks.Network   # one Eve of the main set
  game: eve_games.Game
  count: int
  combine: str                # 'mean' or 'max' over the main Eves' terms
  reset_every: int            # 0: never
  eve_weight: float           # multiplies the Eve term of Alice/Bob's loss (paper: 1)
  warmup: Any                 # the warm-up Eve's network, or None
  warmup_steps: int
  steps: int                  # the main Eves' minibatches per Alice/Bob minibatch
  min_steps: int              # no seed is trained (and stops) before this step
  later_from: int             # from this step (0: never) the Eve term weighs later_weight
  later_weight: float
  later_lr_factor: float      # from later_from, Alice and Bob's Adam steps x this
  later_game: Any             # from later_from, the game whose term Alice and Bob pay

  @property
  def stacked(self):
    return self.count > 1


def make_main_eve(config, view_bits):
  """The network of a main training Eve, for config.train_eves.game: from what
  she sees to her guesses, the plaintext's bits first when she has them."""
  game = eve_games.make_game(config.train_eves.game, config.train_eves.eve_term,
                             config.msg_bits, view_bits)
  return recipe.make_eve(config, game.in_bits, game.out_bits)


def make_training_eves(config, view_bits, layout=bits.ROWS):
  """The TrainingEves of a complete config, their game on batches in `layout`."""
  options = config.train_eves
  warmup = None
  if options.warmup_steps:
    warmup = networks.make_network(networks.keyless(config.arch), view_bits, config.msg_bits,
                                    tuple(config.hidden))
  game = eve_games.make_game(options.game, options.eve_term, config.msg_bits, view_bits, layout)
  later_game = game
  if options.later_eve_term != 'same':
    later_game = eve_games.make_game(options.game, options.later_eve_term, config.msg_bits,
                                     view_bits, layout)
  return TrainingEves(make_main_eve(config, view_bits), game, options.count, options.combine,
                      options.reset_every, float(options.eve_weight), warmup,
                      options.warmup_steps,
                      options.steps_per_ab_step or config.eve_steps_per_ab_step,
                      options.min_steps, options.later_from,
                      float(options.later_eve_weight), float(options.later_lr_factor),
                      later_game)


def main_eves(eves, params):
  """The main Eves' params (leading axis of count when count > 1)."""
  return params['main'] if eves.warmup is not None else params


def with_main(eves, whole, main):
  """The Eves' params (or optimizer states) `whole`, with the main Eves' replaced."""
  return dict(whole, main=main) if eves.warmup is not None else main


def eve_logits(eves, params, view, layout=bits.ROWS):
  """[K, ..., out] (COLUMNS: [K, out, B]): each main Eve's pre-tanh output."""
  logits = functools.partial(layout.logits, eves.network)
  if eves.stacked:
    return jax.vmap(logits, (0, None))(params, view)
  return logits(params, view)[None]


def make_main_objective(scheme, eves, layout, weight=None, bob_loss='l1', game=None):
  """Alice and Bob's loss against the main Eves (params as main_eves returns
  them): Bob's bits wrong (bob_loss 'l1') or cross-entropy ('logistic',
  losses.bob_cross_entropy) + weight (default eve_weight) x the mean or max of
  the Eves' terms, those of `game`'s eve_term (default eves.game)."""
  weight = eves.eve_weight if weight is None else weight
  game = eves.game if game is None else game
  if (not eves.stacked and weight == 1.0 and eves.game.name == 'reconstruct' and
      game.eve_term == 'paper' and bob_loss == 'l1'):
    # one Eve, weight 1, the paper's game and term: the paper's loss, computed as always
    return recipe.make_alice_bob_objective(scheme, eves.network, layout)
  axis = layout.bit_axis

  def objective(alice_bob, eve_params, plaintext, key):
    ciphertext, view = scheme.encrypt(alice_bob, plaintext, key)
    bob_guess = scheme.decrypt(alice_bob, ciphertext, key)
    bob_bits = jnp.mean(losses.bits_wrong(plaintext, bob_guess, axis))
    bob_term = bob_bits
    if bob_loss == 'logistic':
      bob_term = jnp.mean(losses.bob_cross_entropy(
          plaintext, scheme.decrypt_logits(alice_bob, ciphertext, key), axis))
    eve_input, target = eves.game.task(plaintext, view)
    logits = eve_logits(eves, eve_params, eve_input, layout)  # [K, targets, B]
    terms = game.term(target, logits)
    eve_term = jnp.max(terms) if eves.combine == 'max' else jnp.mean(terms)
    return (bob_term + weight * eve_term,
            recipe.Measure(bob_bits, jnp.min(eves.game.bits_of(target, logits))))

  return objective


def make_init_eves(eves, optimizer):
  """(init_main(key), init_eves(eve_key, seed_key)): fresh main Eves, and all the
  Eves of a seed (with the warm-up Eve from its own stream), with Adam states."""
  init_one_eve = recipe.init_one(eves.network, optimizer)

  def init_main(key):
    if eves.stacked:
      return jax.vmap(init_one_eve)(jax.random.split(key, eves.count))
    return init_one_eve(key)

  def init_eves(eve_key, seed_key):
    params, opt = init_main(eve_key)
    if eves.warmup is not None:
      warm, warm_opt = recipe.init_one(eves.warmup, optimizer)(
          jax.random.fold_in(seed_key, WARMUP_STREAM))
      params, opt = {'warmup': warm, 'main': params}, {'warmup': warm_opt, 'main': opt}
    return params, opt

  return init_main, init_eves


def make_main_step(optimizer, eves, step_objective, eve_objective, draw, batch_size,
                   lr_factor=1.0):
  """main_step(state, step_key, alice_frozen=False): the Alice/Bob step against the
  main Eves, then their own steps. With alice_frozen only Bob learns (the Eve
  term does not depend on him). Alice and Bob's Adam steps are scaled by
  lr_factor (Adam's step is linear in its learning rate: this is Adam at
  learning_rate x lr_factor, with the same moments)."""
  def eve_update(params, opt, grads):
    updates, opt = optimizer.update(grads, opt, params)
    return optax.apply_updates(params, updates), opt

  if eves.stacked:
    eve_grads = jax.vmap(jax.grad(eve_objective), (0, None, None, None))
    main_update = jax.vmap(eve_update)
  else:
    eve_grads, main_update = jax.grad(eve_objective), eve_update

  def main_step(state, step_key, alice_frozen=False):
    keys = jax.random.split(step_key, 1 + eves.steps)
    main = main_eves(eves, state.eve)
    main_opt = main_eves(eves, state.eve_opt)
    grads, measure = jax.grad(step_objective, has_aux=True)(state.alice_bob, main, keys[0])
    updates, alice_bob_opt = optimizer.update(grads, state.alice_bob_opt, state.alice_bob)
    if lr_factor != 1.0:
      updates = jax.tree_util.tree_map(lambda u: u * lr_factor, updates)
    if alice_frozen:  # zero updates: Adam's momentum would move Alice on zero gradients
      updates = {name: (u if name == 'bob' else jax.tree_util.tree_map(jnp.zeros_like, u))
                 for name, u in updates.items()}
    alice_bob = optax.apply_updates(state.alice_bob, updates)
    for eve_key in keys[1:]:
      grads = eve_grads(main, alice_bob, *draw(eve_key, batch_size))
      main, main_opt = main_update(main, main_opt, grads)
    return recipe.TrainState(alice_bob, alice_bob_opt, with_main(eves, state.eve, main),
                             with_main(eves, state.eve_opt, main_opt)), measure

  return main_step


def make_warmup_step(paper_step):
  """The paper's step (recipe.make_train_step) against the warm-up Eve; the main Eves wait."""
  def warmup_step(state, step_key):
    inner = recipe.TrainState(state.alice_bob, state.alice_bob_opt,
                              state.eve['warmup'], state.eve_opt['warmup'])
    inner, measure = paper_step(inner, step_key)
    return recipe.TrainState(inner.alice_bob, inner.alice_bob_opt,
                             dict(state.eve, warmup=inner.eve),
                             dict(state.eve_opt, warmup=inner.eve_opt)), measure

  return warmup_step


def make_reset(eves, init_main):
  """maybe_reset(state, seed_key, steps_done), or None without resets: every
  reset_every steps the next main Eve (in turn) restarts from fresh parameters
  and a fresh Adam state."""
  if not eves.reset_every:
    return None

  def reset(state, seed_key, step):
    fresh_params, fresh_opt = init_main(jax.random.fold_in(
        jax.random.fold_in(seed_key, RESET_STREAM), step))
    main = main_eves(eves, state.eve)
    main_opt = main_eves(eves, state.eve_opt)
    if eves.stacked:
      which = (step // eves.reset_every - 1) % eves.count
      pick = lambda old, new: old.at[which].set(new[which])
      main = jax.tree_util.tree_map(pick, main, fresh_params)
      main_opt = jax.tree_util.tree_map(pick, main_opt, fresh_opt)
    else:
      main, main_opt = fresh_params, fresh_opt
    return state._replace(eve=with_main(eves, state.eve, main),
                          eve_opt=with_main(eves, state.eve_opt, main_opt))

  def maybe_reset(state, seed_key, steps_done):
    due = steps_done % eves.reset_every == 0
    return jax.lax.cond(due, lambda s: reset(s, seed_key, steps_done), lambda s: s, state)

  return maybe_reset


def make_refactor(every):
  """maybe_refactor(state, seed_key, steps_done), or None when every is 0: every
  `every` steps Alice's and Bob's free matrices become networks.refactor's (the
  same networks; their Adam moments are kept)."""
  if not every:
    return None

  def refactor(state):
    return state._replace(alice_bob={name: networks.refactor(params)
                                     for name, params in state.alice_bob.items()})

  def maybe_refactor(state, seed_key, steps_done):
    del seed_key
    return jax.lax.cond(steps_done % every == 0, refactor, lambda s: s, state)

  return maybe_refactor


def chain(*hooks):
  """One after_step hook running `hooks` (None entries skipped) in turn, or None."""
  hooks = [hook for hook in hooks if hook is not None]
  if len(hooks) < 2:
    return hooks[0] if hooks else None

  def after(state, seed_key, steps_done):
    for hook in hooks:
      state = hook(state, seed_key, steps_done)
    return state

  return after


def make_phased_chunk(main_step, after_main, warmup_step, warmup_steps, freeze_at,
                      later_step=None, later_from=0):
  """train_chunk of up to four phases: the warm-up (if any), the main Eves, the
  main Eves with their later weight (if later_from), then Alice frozen (if
  freeze_at) while Bob and the Eves train on. A chunk lies wholly in one phase
  (config.validate makes the phase boundaries multiples of chunk_steps)."""
  def train_chunk(state, seed_key, first_step, num_steps):
    phases = [recipe.make_train_chunk(main_step, after_main)]
    index = 0
    if warmup_step is not None:
      phases.insert(0, recipe.make_train_chunk(warmup_step))
      index = (first_step >= warmup_steps).astype(jnp.int32)
    last_step = main_step
    if later_from:
      phases.append(recipe.make_train_chunk(later_step, after_main))
      index = index + (first_step >= later_from).astype(jnp.int32)
      last_step = later_step
    if freeze_at:
      phases.append(recipe.make_train_chunk(functools.partial(last_step, alice_frozen=True),
                                            after_main))
      index = index + (first_step >= freeze_at).astype(jnp.int32)
    phases = [functools.partial(chunk, seed_key=seed_key, first_step=first_step,
                                num_steps=num_steps) for chunk in phases]
    if len(phases) == 1:
      return phases[0](state)
    return jax.lax.switch(index, phases, state)

  return train_chunk


def make_experiment(config):
  """The single-seed functions of a complete config with research options.

  Returns:
    A recipe.Experiment.
  """
  layout = bits.COLUMNS  # training works on batches as columns
  scheme = recipe.make_scheme(config, layout)
  eves = make_training_eves(config, scheme.eve_in_bits, layout)
  optimizer = optax.adam(config.learning_rate)
  batch = config.batch_size

  def draw(key, size):
    return bits.random_messages(key, size, config.msg_bits, config.key_bits, layout)

  main_objective = make_main_objective(scheme, eves, layout, bob_loss=config.bob_loss)
  step_objective = leak_penalty.with_leak_penalty(main_objective, scheme, draw, batch,
                                                  config.msg_bits, config.leak_penalty)
  eve_loss = recipe.make_eve_loss(config.eve_loss, eves.network, layout)

  def eve_objective(eve_params, alice_bob, plaintext, key):
    return eve_loss(eve_params, *eves.game.task(plaintext,
                                                scheme.eve_view(alice_bob, plaintext, key)))

  init_main, init_eves = make_init_eves(eves, optimizer)
  main_step = make_main_step(optimizer, eves, step_objective, eve_objective, draw, batch)
  warmup_step = None
  if eves.warmup is not None:
    warmup_step = make_warmup_step(recipe.make_train_step(
        optimizer, draw, batch, config.eve_steps_per_ab_step,
        recipe.make_alice_bob_objective(scheme, eves.warmup, layout),
        recipe.make_eve_objective(scheme, recipe.make_eve_loss('l1', eves.warmup, layout))))
  later_step = None
  if eves.later_from:
    later_step = make_main_step(optimizer, eves, leak_penalty.with_leak_penalty(
        make_main_objective(scheme, eves, layout, eves.later_weight, config.bob_loss,
                            eves.later_game),
        scheme, draw, batch,
        config.msg_bits, config.leak_penalty), eve_objective, draw, batch,
        eves.later_lr_factor)
  after_main = chain(make_reset(eves, init_main), make_refactor(config.refactor_every))
  train_chunk = make_phased_chunk(main_step, after_main, warmup_step,
                                  eves.warmup_steps, config.freeze_alice_at, later_step,
                                  eves.later_from)

  def eve_bits_of(eve_state, plaintext, view, step):
    """The strongest main Eve (during a warm-up: the warm-up Eve)."""
    eve_input, target = eves.game.task(plaintext, view)
    eve_bits = jnp.min(eves.game.bits_of(
        target, eve_logits(eves, main_eves(eves, eve_state), eve_input, layout)))
    if eves.warmup is not None:
      warm_bits = jnp.mean(losses.bits_wrong(
          plaintext, layout.apply(eves.warmup, eve_state['warmup'], view), layout.bit_axis))
      eve_bits = jnp.where(step <= eves.warmup_steps, warm_bits, eve_bits)
    return eve_bits

  def goals_met(m, step):
    """Trained: Bob and Eve meet config.success, after any warm-up and from
    config.train_eves.min_steps on."""
    return ((m.bob_bits <= config.success.bob_bits) &
            (m.eve_bits >= config.success.eve_bits) & (step > eves.warmup_steps) &
            (step >= eves.min_steps))

  def objective_on_rows(alice_bob, eve_params, plaintext, key):
    return main_objective(alice_bob, eve_params, plaintext.T, key.T)

  return recipe.Experiment(
      recipe.make_scheme(config), eves.network, recipe.make_init(
          scheme.networks, optimizer, init_eves), objective_on_rows, main_step, train_chunk,
      recipe.make_measure(scheme, eve_bits_of, draw, config.eval_batch_size, layout),
      goals_met, functools.partial(main_eves, eves))
