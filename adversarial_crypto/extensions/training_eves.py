"""Adversarial training (Section 2.5), written for ONE seed.

Alice and Bob's side is a scheme: the symmetric one of Section 2
(symmetric.py) or Appendix A's public-key one (asymmetric.py), which the
paper trains "with the same approach". One training step is one Alice/Bob
minibatch, then `eve_steps_per_ab_step` Eve minibatches, each on fresh
random plaintexts and keys. Every random draw comes from
`fold_in(seed_key, step)`, so a seed's run does not depend on chunk sizes or
on which other seeds train beside it. `runner.py` owns the loop over seeds.
"""

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from adversarial_crypto.core import asymmetric
from adversarial_crypto.core import bits
from adversarial_crypto import config as config_lib
from adversarial_crypto.core import losses
from adversarial_crypto.core import networks
from adversarial_crypto.core import symmetric

# Streams folded into a seed's key, so training and measurement never share draws.
TRAIN_STREAM, EVAL_STREAM, INIT_STREAM = 0, 1, 2
# Streams of config.train_eves: re-initialised Eves, and the warm-up Eve.
RESET_STREAM, WARMUP_STREAM = 3, 4
# Folded into an Alice/Bob step's key: the batch of config.leak_penalty.
LEAK_STREAM = 5
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
  eves: Any        # TrainingEves: the Eves trained beside Alice and Bob
  init: Any        # seed_key -> TrainState
  # (alice_bob, eve_params, plaintext, key) -> (loss, Measure on that batch)
  alice_bob_objective: Any
  train_step: Any  # (state, step_key) -> (state, Measure on the Alice/Bob batch)
  train_chunk: Any  # (state, seed_key, first_step, num_steps) -> (state, per-step Measure)
  measure: Any     # (state, seed_key, step) -> Measure on a fresh evaluation batch
  goals_met: Any   # (Measure, step) -> whether the seed is trained and stops (config.success)

  @property
  def eve(self):
    """The network of (each of) the main training Eve(s)."""
    return self.eves.network


def make_scheme(config, layout=bits.ROWS):
  """Alice and Bob's side of config.experiment (default 'symmetric'), on
  batches in `layout`."""
  name = config_lib.experiment_name(config)
  if name not in SCHEMES:
    raise ValueError(f'experiment {name!r} has no Alice/Bob scheme here (the schemes are '
                     f'{tuple(SCHEMES)}); build it with experiments.make_experiment')
  return SCHEMES[name].make_scheme(config, layout)


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


def make_main_eve(config, in_bits):
  """The network of a main training Eve, for config.train_eves.game: from what
  she sees (eve_task) to her guesses, the plaintext's bits first when she has them."""
  n = config.msg_bits
  game = config_lib.train_eves_options(config)['game']
  if game == 'distinguish':
    return make_eve(config, 2 * n + in_bits, 1)
  if game == 'parity':
    return make_eve(config, in_bits, n + n * (n - 1) // 2)
  return make_eve(config, in_bits)


def make_eve_loss(name, eve, layout=bits.ROWS):
  """Eve's training loss as a function of (eve_params, eve_view, plaintext),
  on batches in `layout`."""
  axis = layout.bit_axis
  if name == 'l1':
    return lambda p, c, x: losses.eve_loss(x, layout.apply(eve, p, c), axis)
  if name == 'logistic':
    return lambda p, c, x: losses.logistic_eve_loss(x, layout.logits(eve, p, c), axis)
  raise ValueError(f"unknown eve_loss {name!r}; choose 'l1' or 'logistic'")


def eval_key(seed_key, step):
  """The key of the fresh evaluation batch a seed is measured on at `step`."""
  return jax.random.fold_in(jax.random.fold_in(seed_key, EVAL_STREAM), step)


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


def init_one(net, optimizer):
  """(key, _) -> fresh parameters of one network and a fresh optimizer state."""
  def init(key, _=None):
    params = net.init(key)
    return params, optimizer.init(params)

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


class TrainingEves(NamedTuple):
  """The Eves trained beside Alice and Bob (config.train_eves; README, Beyond the paper).

  With count 1, no resets and no warm-up this is the paper's single Eve, and
  her params are one network's. With count K > 1 every leaf carries a leading
  axis of K Eves, each with her own initialisation and Adam state, all
  trained on the same minibatches (vmapped). With a warm-up, params are
  {'warmup': the paper's Eve, 'main': the Eves above}.
  """
  network: networks.Network   # one Eve of the main set
  count: int
  combine: str                # 'mean' or 'max' over the main Eves' loss terms
  reset_every: int            # 0: never
  eve_weight: float           # multiplies the Eve term of Alice/Bob's loss (paper: 1)
  warmup: Any                 # the warm-up Eve's network, or None
  warmup_steps: int
  eve_term: str = 'paper'     # 'paper': (N/2 - E)^2 / (N/2)^2, or 'information'
  steps: int = 2              # the main Eves' minibatches per Alice/Bob minibatch
  game: str = 'reconstruct'   # or 'distinguish' (distinguishing_game), or 'parity'
  min_steps: int = 0          # no seed is trained (and stops) before this step


def make_training_eves(config, in_bits):
  """The TrainingEves of a config."""
  options = config_lib.train_eves_options(config)
  warmup = None
  if options['warmup_steps']:
    warmup = networks.make_network(networks.keyless(config.arch), in_bits, config.msg_bits,
                                    networks.alice_bob_hidden(config))
  return TrainingEves(make_main_eve(config, in_bits), options['count'], options['combine'],
                      options['reset_every'], float(options['eve_weight']), warmup,
                      options['warmup_steps'], options['eve_term'],
                      options['steps_per_ab_step'] or config.eve_steps_per_ab_step,
                      options['game'], options['min_steps'])


def distinguishing_game(plaintext, view, layout=bits.ROWS):
  """A main Eve's task when config.train_eves.game is 'distinguish'.

  Eve sees two plaintexts and what she sees of the ciphertext of one of them,
  and says which one it is: the indistinguishability game, in which a cipher
  that leaks anything about its plaintext loses, however little it leaks per bit.
  The other plaintext is the batch's previous example's (its roll by one), and
  which of the two comes first is bit 0 of the example two before (its roll by
  two): for a batch of independent examples both are uniform and independent of
  the example, and no more randomness has to be drawn.

  Args:
    plaintext: the batch's plaintexts, [B, N] (COLUMNS: [N, B]).
    view: what Eve sees of their ciphertexts, [B, V] (COLUMNS: [V, B]).
    layout: bits.ROWS or bits.COLUMNS.

  Returns:
    (eve_input, target): [first, second, view] along the bit axis, and +1 where
    the ciphertext is the second plaintext's, -1 where it is the first's, [B, 1]
    (COLUMNS: [1, B]).
  """
  axis = layout.bit_axis
  batch_axis = -3 - axis  # ROWS: -2; COLUMNS: -1
  decoy = jnp.roll(plaintext, 1, batch_axis)
  second = jnp.take(jnp.roll(plaintext, 2, batch_axis), jnp.array([0]), axis) > 0
  first_text = jnp.where(second, decoy, plaintext)
  second_text = jnp.where(second, plaintext, decoy)
  target = jnp.where(second, 1.0, -1.0).astype(plaintext.dtype)
  return layout.concat([first_text, second_text, view]), target


def _stacked(eves):
  return eves.count > 1


def main_eves(eves, params):
  """The main Eves' params (leading axis of count when count > 1)."""
  return params['main'] if eves.warmup is not None else params


def eve_logits(eves, params, view, layout=bits.ROWS):
  """[K, ..., N] (COLUMNS: [K, N, B]): each main Eve's pre-tanh output u from
  what she sees."""
  logits = functools.partial(layout.logits, eves.network)
  if _stacked(eves):
    return jax.vmap(logits, (0, None))(params, view)
  return logits(params, view)[None]


def make_experiment(config):
  """Builds the single-seed functions of a config.

  Args:
    config: a config with experiment, msg_bits, key_bits, arch, eve_arch,
      eve_hidden, eve_loss, batch_size, eval_batch_size, learning_rate and
      eve_steps_per_ab_step (and public_key_bits when asymmetric; optionally
      train_eves).

  Returns:
    An Experiment.
  """
  scheme = make_scheme(config)
  # Training works on batches as columns (bits.Layout); `scheme` is the public
  # face, on rows.
  layout = bits.COLUMNS
  axis = layout.bit_axis
  train_scheme = make_scheme(config, layout)
  eves = make_training_eves(config, scheme.eve_in_bits)
  eve = eves.network
  n, k = config.msg_bits, config.key_bits
  batch, eval_batch = config.batch_size, config.eval_batch_size
  optimizer = optax.adam(config.learning_rate)
  eve_loss_fn = make_eve_loss(config.eve_loss, eve, layout)
  stacked = _stacked(eves)

  def draw(key, size):
    return bits.random_messages(key, size, n, k, layout)

  def eve_task(plaintext, view):
    """(what a main Eve sees, what she guesses) for config.train_eves.game. Her
    bits wrong are of her own targets: 1 for a distinguishing Eve, N + N(N-1)/2
    for a parity Eve; Measure scales them to N."""
    if eves.game == 'distinguish':
      return distinguishing_game(plaintext, view, layout)
    if eves.game == 'parity':
      return view, layout.concat([plaintext, bits.pair_parities(plaintext, layout)])
    return view, plaintext

  def eve_groups(target, logits):
    """[(targets, logits [K, ., B])] of each group of a main Eve's targets that
    her Eve term scores apart: a parity Eve's N bits, then her N(N-1)/2
    parities, so that 120 parities do not drown a leak of 16 bits; otherwise
    all her targets at once."""
    if eves.game != 'parity':
      return [(target, logits)]
    return list(zip(jnp.split(target, [n], axis), jnp.split(logits, [n], axis)))

  def eve_bits_of(target, logits):
    """[K]: each main Eve's mean bits wrong on a batch, as bits of N: her error
    rate x N on each group of targets, the lowest over the groups."""
    return jnp.min(jnp.stack([
        jnp.mean(losses.bits_wrong(t, jnp.tanh(u), axis), axis=-1) * n / t.shape[axis]
        for t, u in eve_groups(target, logits)]), axis=0)

  def group_term(target, logits):
    """[K]: each main Eve's term in Alice and Bob's loss on one group of targets."""
    half = target.shape[axis] / 2.0
    if eves.eve_term == 'information':
      information = functools.partial(losses.eve_information, axis=axis)
      return jax.vmap(information, (None, 0))(target, logits)
    eve_wrong = losses.bits_wrong(target, jnp.tanh(logits), axis)  # [K, B]
    if eves.game == 'distinguish':
      # (1/2 - her error rate)^2 / (1/2)^2, her squared advantage. Squared per
      # example, as the paper's term is, it would count her confidence, not her
      # success: sure and right half the time scores as sure and always right.
      return (half - jnp.mean(eve_wrong, axis=-1)) ** 2 / half ** 2
    # the paper's Eve term, (N/2 - E)^2 / (N/2)^2 averaged over the batch, per Eve
    return jnp.mean((half - eve_wrong) ** 2, axis=-1) / half ** 2

  def paper_objective(eve_net):
    """Alice and Bob's loss of Section 2.5 against one Eve of network `eve_net`."""
    def objective(alice_bob, eve_params, plaintext, key):
      ciphertext, view = train_scheme.encrypt(alice_bob, plaintext, key)
      bob_guess = train_scheme.decrypt(alice_bob, ciphertext, key)
      loss, (bob_bits, eve_bits) = losses.alice_bob_loss(
          plaintext, bob_guess, layout.apply(eve_net, eve_params, view), axis)
      return loss, Measure(bob_bits, eve_bits)

    return objective

  def main_objective(alice_bob, eve_params, plaintext, key):
    """Against the main Eves: eve_params as main_eves() returns them; batches as columns."""
    if (not stacked and eves.eve_weight == 1.0 and eves.eve_term == 'paper' and
        eves.game == 'reconstruct'):
      # the paper's loss, computed as always
      return paper_objective(eve)(alice_bob, eve_params, plaintext, key)
    ciphertext, view = train_scheme.encrypt(alice_bob, plaintext, key)
    bob_guess = train_scheme.decrypt(alice_bob, ciphertext, key)
    bob_bits = jnp.mean(losses.bits_wrong(plaintext, bob_guess, axis))
    eve_input, target = eve_task(plaintext, view)
    logits = eve_logits(eves, eve_params, eve_input, layout)  # [K, targets, B]
    # Per Eve, the larger of her terms: the group she reads best.
    terms = jnp.max(jnp.stack([group_term(t, u) for t, u in eve_groups(target, logits)]), 0)
    eve_term = jnp.max(terms) if eves.combine == 'max' else jnp.mean(terms)
    return (bob_bits + eves.eve_weight * eve_term,
            Measure(bob_bits, jnp.min(eve_bits_of(target, logits))))

  def alice_bob_objective(alice_bob, eve_params, plaintext, key):
    """Alice and Bob's loss against the main Eves, on batches as rows, [B, bits]
    (without config.leak_penalty, which the training step adds on its own batch)."""
    return main_objective(alice_bob, eve_params, plaintext.T, key.T)

  leak = config_lib.leak_penalty_options(config)

  def leak_term(alice_bob, leak_key):
    """losses.moment_leak of Alice's ciphertexts of batch / keys fresh
    plaintexts, each under `keys` fresh keys."""
    m, num = leak['keys'], batch // leak['keys']
    plaintext, msg_key = draw(leak_key, batch)
    plaintext = jnp.repeat(plaintext[:, :num], m, axis=1)  # column i * m + j: plaintext i
    ciphertext = train_scheme.encrypt(alice_bob, plaintext, msg_key)[0]  # [N, B]
    return losses.moment_leak(ciphertext.reshape(n, num, m).transpose(1, 2, 0), leak['order'])

  def step_objective(alice_bob, eve_params, batch_key):
    """The Alice/Bob step's loss: main_objective on a fresh batch, plus the weighted
    leak penalty when config.leak_penalty is on."""
    loss, measure = main_objective(alice_bob, eve_params, *draw(batch_key, batch))
    if leak['weight']:
      loss = loss + leak['weight'] * leak_term(
          alice_bob, jax.random.fold_in(batch_key, LEAK_STREAM))
    return loss, measure

  def eve_objective_of(loss_fn, task=lambda plaintext, view: (view, plaintext)):
    """Eve's objective (eve_params, alice_bob, plaintext, key) for a loss of
    make_eve_loss and a task (plaintext, view) -> (her input, her targets)."""
    def objective(eve_params, alice_bob, plaintext, key):
      return loss_fn(eve_params, *task(plaintext, train_scheme.eve_view(alice_bob, plaintext, key)))

    return objective

  main_eve_objective = eve_objective_of(eve_loss_fn, eve_task)

  def eve_update(params, opt, grads):
    updates, opt = optimizer.update(grads, opt, params)
    return optax.apply_updates(params, updates), opt

  init_one_eve = init_one(eve, optimizer)

  def init_main(key):
    """Fresh main Eves and their Adam states."""
    if stacked:
      return jax.vmap(init_one_eve)(jax.random.split(key, eves.count))
    return init_one_eve(key)

  def with_main(whole, main):
    """The Eves' params (or optimizer states) `whole`, with the main Eves' replaced."""
    return dict(whole, main=main) if eves.warmup is not None else main

  def init_eves(eve_key, seed_key):
    params, opt = init_main(eve_key)
    if eves.warmup is not None:
      warm, warm_opt = init_one(eves.warmup, optimizer)(
          jax.random.fold_in(seed_key, WARMUP_STREAM))
      params, opt = {'warmup': warm, 'main': params}, {'warmup': warm_opt, 'main': opt}
    return params, opt

  init = make_init(scheme.networks, optimizer, init_eves)

  if stacked:
    eve_grads = jax.vmap(jax.grad(main_eve_objective), (0, None, None, None))
    main_update = jax.vmap(eve_update)
  else:
    eve_grads, main_update = jax.grad(main_eve_objective), eve_update

  def main_step(state, step_key, alice_frozen=False):
    """The Alice/Bob step against the main Eves, then their own steps. With
    alice_frozen only Bob learns (the Eve term does not depend on him)."""
    keys = jax.random.split(step_key, 1 + eves.steps)
    main = main_eves(eves, state.eve)
    main_opt = main_eves(eves, state.eve_opt)
    grads, measure = jax.grad(step_objective, has_aux=True)(state.alice_bob, main, keys[0])
    updates, alice_bob_opt = optimizer.update(grads, state.alice_bob_opt, state.alice_bob)
    if alice_frozen:  # zero updates: Adam's momentum would move Alice on zero gradients
      updates = {name: (u if name == 'bob' else jax.tree_util.tree_map(jnp.zeros_like, u))
                 for name, u in updates.items()}
    alice_bob = optax.apply_updates(state.alice_bob, updates)
    for eve_key in keys[1:]:
      grads = eve_grads(main, alice_bob, *draw(eve_key, batch))
      main, main_opt = main_update(main, main_opt, grads)
    return TrainState(alice_bob, alice_bob_opt, with_main(state.eve, main),
                      with_main(state.eve_opt, main_opt)), measure

  train_step = main_step
  if eves.warmup is not None:
    paper_step = make_train_step(optimizer, draw, batch, config.eve_steps_per_ab_step,
                                 paper_objective(eves.warmup),
                                 eve_objective_of(make_eve_loss('l1', eves.warmup, layout)))

    def warmup_step(state, step_key):
      """The paper's step against the warm-up Eve; the main Eves wait."""
      inner = TrainState(state.alice_bob, state.alice_bob_opt,
                         state.eve['warmup'], state.eve_opt['warmup'])
      inner, measure = paper_step(inner, step_key)
      return TrainState(inner.alice_bob, inner.alice_bob_opt,
                        dict(state.eve, warmup=inner.eve),
                        dict(state.eve_opt, warmup=inner.eve_opt)), measure

  def reset(state, seed_key, step):
    """After `step` steps: every reset_every steps the next main Eve (in turn)
    restarts from fresh parameters and a fresh Adam state."""
    fresh_params, fresh_opt = init_main(jax.random.fold_in(
        jax.random.fold_in(seed_key, RESET_STREAM), step))
    main = main_eves(eves, state.eve)
    main_opt = main_eves(eves, state.eve_opt)
    if stacked:
      which = (step // eves.reset_every - 1) % eves.count
      pick = lambda old, new: old.at[which].set(new[which])
      main = jax.tree_util.tree_map(pick, main, fresh_params)
      main_opt = jax.tree_util.tree_map(pick, main_opt, fresh_opt)
    else:
      main, main_opt = fresh_params, fresh_opt
    return state._replace(eve=with_main(state.eve, main),
                          eve_opt=with_main(state.eve_opt, main_opt))

  def maybe_reset(state, seed_key, steps_done):
    due = steps_done % eves.reset_every == 0
    return jax.lax.cond(due, lambda s: reset(s, seed_key, steps_done), lambda s: s, state)

  after_main = maybe_reset if eves.reset_every > 0 else None

  freeze_at = config_lib.freeze_alice_at(config)

  def train_chunk(state, seed_key, first_step, num_steps):
    """A lax.scan of steps. A chunk lies wholly in one phase (config_checks
    makes the phase boundaries multiples of chunk_steps): the warm-up, the
    main Eves, then Alice frozen while Bob and the Eves train on."""
    phases = [make_train_chunk(main_step, after_main)]
    index = 0
    if eves.warmup is not None:
      phases.insert(0, make_train_chunk(warmup_step))
      index = (first_step >= eves.warmup_steps).astype(jnp.int32)
    if freeze_at:
      phases.append(make_train_chunk(functools.partial(main_step, alice_frozen=True),
                                     after_main))
      index = index + (first_step >= freeze_at).astype(jnp.int32)
    phases = [functools.partial(chunk, seed_key=seed_key, first_step=first_step,
                                num_steps=num_steps) for chunk in phases]
    if len(phases) == 1:
      return phases[0](state)
    return jax.lax.switch(index, phases, state)

  def measure(state, seed_key, step):
    """Bob, and the strongest main Eve (during a warm-up: the warm-up Eve)."""
    plaintext, key = draw(eval_key(seed_key, step), eval_batch)
    ciphertext, view = train_scheme.encrypt(state.alice_bob, plaintext, key)
    bob_guess = train_scheme.decrypt(state.alice_bob, ciphertext, key)
    bob_bits = jnp.mean(losses.bits_wrong(plaintext, bob_guess, axis))
    eve_input, target = eve_task(plaintext, view)
    eve_bits = jnp.min(eve_bits_of(
        target, eve_logits(eves, main_eves(eves, state.eve), eve_input, layout)))
    if eves.warmup is not None:
      warm_bits = jnp.mean(losses.bits_wrong(
          plaintext, layout.apply(eves.warmup, state.eve['warmup'], view), axis))
      eve_bits = jnp.where(step <= eves.warmup_steps, warm_bits, eve_bits)
    return Measure(bob_bits, eve_bits)

  def goals_met(m, step):
    """Trained: Bob and Eve meet config.success, after any warm-up and from
    config.train_eves.min_steps on."""
    return ((m.bob_bits <= config.success.bob_bits) &
            (m.eve_bits >= config.success.eve_bits) & (step > eves.warmup_steps) &
            (step >= eves.min_steps))

  return Experiment(scheme, eves, init, alice_bob_objective, train_step, train_chunk, measure,
                    goals_met)
