"""Retrains fresh Eves against frozen ciphers: the paper's robustness check.

For each cipher (a trained Alice, or any encryption function with parameters)
and each attacker of the family (attackers.py), `num_eves` Eves start from
fresh parameters and fresh Adam state drawn from independent keys, train on
fresh random data, and are measured on a fresh held-out batch every
`eval.every` steps. Each Eve keeps its best (lowest) bits wrong in two
measures: the paper's (L1 / 2 of its real-valued guess) and hard decisions
(the sign of its guess against the plaintext bit). An Eve of other targets
than the bits (the 'parity' attacker) counts N x her mean error rate.

By default every Eve trains eval.steps steps (the paper's fixed budget). With
eval.patience > 0 an Eve stops once neither measure has improved (by more than
its standard error at chance) for that many steps, eval.steps being the cap; every Eve records how many steps she
trained and when she last improved, so a verdict says whether she was still
improving when she stopped (still_improving).

The functions of `make_eve_trainer` are written for ONE Eve; this module owns
the loop over (cipher, Eve): lax.map on CPU, vmap on accelerators. Eve e of
attacker a against cipher p draws every key from
fold_in(fold_in(fold_in(root, f + p), id(a)), e), f the run's config.first_seed,
so an Eve's run does not depend on how many ciphers or other attackers are
evaluated beside it, nor on which run of its root trained the cipher.

Given a checkpoint file (eval_checkpoint.py; robustness.evaluate_run keeps one
in the workdir), evaluate_cipher saves every Eve's state after each chunk and
resumes from it: a chunk depends only on the states, the step and the keys,
so an evaluation cut anywhere gives bitwise the numbers of one that was not.
"""

import contextlib
import functools
import time
import zlib
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adversarial_crypto.core import recipe
from adversarial_crypto.evaluation import attackers as attackers_lib
from adversarial_crypto.evaluation import eval_checkpoint
from adversarial_crypto.core import bits
from adversarial_crypto.core import losses
from adversarial_crypto.training import distributed
from adversarial_crypto.training import sharding

# Streams folded into an Eve's key, so init, training and measurement never share draws.
INIT_STREAM, TRAIN_STREAM, HELD_OUT_STREAM = 0, 1, 2
# Folded into a run's root key; above any seed number (training's seed i is
# fold_in(PRNGKey(seed), i), i < config.SEED_NUMBER_LIMIT = 2^30), so fresh Eves
# never reuse a training key.
EVAL_ROOT_STREAM = 0x45766573
EVE_LOOPS = sharding.LOOPS

# encrypt(cipher_params, plaintext [B, N], key [B, K]) -> what Eve sees [B, V]:
# the ciphertext, or for a public-key scheme the ciphertext and the public key.
Encrypt = Callable[[Any, jax.Array, jax.Array], jax.Array]


class EveState(NamedTuple):
  """One fresh Eve: her parameters, her own Adam state and her best so far."""
  params: Any
  opt_state: Any
  best_bits: jax.Array       # lowest mean bits wrong (L1 / 2) on a held-out batch
  best_hard_bits: jax.Array  # lowest mean hard-decision bits wrong
  steps: jax.Array           # steps trained
  last_improved: jax.Array   # the step of the measurement that set either best
  stopped: jax.Array         # no improvement for eval.patience steps: trains no more


class EveMeasure(NamedTuple):
  """Mean bits wrong of one Eve on one held-out batch."""
  bits: jax.Array
  hard_bits: jax.Array


class EveTrainer(NamedTuple):
  """Pure functions of one attacker, for ONE Eve against ONE cipher."""
  init: Any       # eve_key -> EveState
  train_step: Any  # (state, cipher_params, step_key) -> state
  measure: Any    # (state, cipher_params, eve_key, step) -> EveMeasure
  run_chunk: Any  # (state, cipher_params, eve_key, first_step, num_steps) -> (state, EveMeasure)


class Evaluator(NamedTuple):
  """The functions over (cipher, Eve) of every attacker."""
  attackers: tuple
  trainers: dict   # attacker name -> EveTrainer
  eve_keys: Any    # (root_key, num_ciphers) -> {name: [P, E, 2] keys}
  init: Any        # keys -> {name: EveState with leading [P, E] axes}, jitted
  run_chunk: Any   # (states, cipher_params, keys, first_step, num_steps) -> (states, measures)


class EvalResult(NamedTuple):
  """What the evaluation of P ciphers found; arrays are numpy, [P, E] per attacker."""
  attackers: tuple      # the Attackers, in config order
  best_bits: dict       # name -> [P, E] each Eve's best bits wrong (L1 / 2)
  best_hard_bits: dict  # name -> [P, E] each Eve's best hard-decision bits wrong
  history: list         # per measurement: {'step': s, name: {'bits', 'hard_bits'}}
                        # (NaN for an Eve that had stopped)
  steps: int            # the budget: training steps at most of each Eve
  wall_s: float
  eve_steps: dict = None      # name -> [P, E] steps each Eve trained
  last_improved: dict = None  # name -> [P, E] the step at which each last improved
  window: int = 0             # still improving: improved within this many steps of the cap


def improvement_window(eval_config):
  """An Eve that reached the cap was still improving if she improved within this
  many steps of it: eval.patience, or without one the last tenth of the budget
  (at least one measurement)."""
  return eval_config.patience or max(eval_config.every, eval_config.steps // 10)


def still_improving(result):
  """name -> [P, E] bool: each Eve trained to the cap and improved within
  result.window steps of it, so a longer budget might have found more."""
  return {name: (result.eve_steps[name] >= result.steps) &
                (result.last_improved[name] > result.steps - result.window)
          for name in result.best_bits}


def attacker_id(name):
  """A stable number for an attacker, so its Eves' keys do not depend on the others."""
  return zlib.crc32(name.encode()) & 0x7FFFFFFF


def fresh_eve_keys(root_key, num_ciphers, name, num_eves, first_cipher=0):
  """[P, E, 2]: Eve e of attacker `name` against cipher p has key
  fold_in(fold_in(fold_in(root_key, first_cipher + p), attacker_id(name)), e).

  first_cipher: the first cipher's number (a run's config.first_seed), so that a
  seed's Eves are the same whichever run of its root trained it."""
  def one(pair):
    attacker_key = jax.random.fold_in(jax.random.fold_in(root_key, pair), attacker_id(name))
    return jax.vmap(lambda e: jax.random.fold_in(attacker_key, e))(jnp.arange(num_eves))
  return jax.vmap(one)(np.uint32(first_cipher) + jnp.arange(num_ciphers, dtype=jnp.uint32))


def init_each(init, keys):
  """init(key) for each key of keys [..., 2], its outputs stacked as keys' leading axes.

  lax.map, not vmap: XLA compiles vmapped threefry draws several times slower
  (about 19 s against 4 s for the paper's Eve), and an init runs only once.
  """
  flat = jax.lax.map(init, keys.reshape(-1, keys.shape[-1]))
  return jax.tree_util.tree_map(lambda x: x.reshape(keys.shape[:-1] + x.shape[1:]), flat)


def over_ciphers_and_eves(one_eve, loop):
  """one_eve(state, cipher_params, eve_key, first_step) of ONE Eve, run over a block:
  states and keys [P, E, ...], cipher_params and first_step [P, ...]. The Eves
  of one cipher share its parameters and its first step; `loop` is 'map' or
  'vmap' (sharding.over_items), for the ciphers and for their Eves."""
  def per_cipher(states, params, keys, first_step):
    return sharding.over_items(
        lambda state, key: one_eve(state, params, key, first_step), loop)(states, keys)

  return sharding.over_items(per_cipher, loop)


def eval_root_key(config):
  """The root of every fresh Eve's key for a run of `config`."""
  root = jax.random.fold_in(jax.random.PRNGKey(config.seed), EVAL_ROOT_STREAM)
  return jax.random.fold_in(root, config.eval.seed)


def make_held_out_measure(attacker, encrypt, msg_bits, key_bits, eval_config, layout):
  """(measure, noise): one Eve's bits wrong on a fresh held-out batch, and their
  standard error for an Eve at chance.

  measure(state, cipher_params, eve_key, step) -> EveMeasure. An Eve of fewer
  targets per example than N (the distinguisher: one) is measured on
  proportionally more examples, and an Eve judged by her best-read target
  (attacker.score 'best') on N times as many, so that every attacker's measure
  rests on as many guesses, with about the same noise, as a per-bit Eve's.
  noise is N x the standard error of the error rate of that many fair coins:
  an Eve improves only by more than it, so that noise neither resets her
  patience nor makes her look still improving.
  """
  eve, task = attacker.network, attacker.task
  best = attacker.score == 'best'
  held_out = eval_config.eval_batch_size * (
      msg_bits if best else max(1, msg_bits // eve.out_bits))
  noise = msg_bits * 0.5 / float(np.sqrt(held_out * (1 if best else eve.out_bits)))

  def in_bits(wrong, target):
    """Per-example wrong guesses, [B], as bits of N: N x her mean error rate over
    her M targets (for the N plaintext bits, her bits wrong)."""
    return jnp.mean(wrong) * msg_bits / target.shape[layout.bit_axis]

  def best_target_bits(wrong):
    """Wrong guesses per target and example as N x the error rate of her best-read
    target: one leaked parity among 120 would hardly move her mean."""
    return msg_bits * jnp.min(jnp.mean(wrong, axis=-1 - layout.bit_axis))

  def measure(state, cipher_params, eve_key, step):
    held_out_key = jax.random.fold_in(jax.random.fold_in(eve_key, HELD_OUT_STREAM), step)
    plaintext, key = bits.random_messages(held_out_key, held_out, msg_bits, key_bits, layout)
    eve_input, target = task(plaintext, encrypt(cipher_params, plaintext, key), layout)
    guess = layout.apply(eve, state.params, eve_input)
    if best:
      return EveMeasure(best_target_bits(jnp.abs(target - guess) / 2.0),
                        best_target_bits(jnp.where(
                            guess == 0, 0.5, (jnp.sign(guess) != target).astype(jnp.float32))))
    return EveMeasure(in_bits(losses.bits_wrong(target, guess, layout.bit_axis), target),
                      in_bits(losses.hard_bits_wrong(target, guess, layout.bit_axis, tie=0.5),
                              target))

  return measure, noise


def make_eve_trainer(attacker, encrypt, msg_bits, key_bits, eval_config, layout=bits.ROWS):
  """The single-Eve functions of one attacker against one frozen cipher.

  Args:
    attacker: an attackers.Attacker.
    encrypt: encrypt(cipher_params, plaintext, key) -> what Eve sees, for one cipher.
    msg_bits: N, the plaintext and ciphertext length.
    key_bits: the key length.
    eval_config: config.eval (batch_size, eval_batch_size, learning_rate).
    layout: of the batches `encrypt` takes and returns (bits.ROWS or COLUMNS).

  Returns:
    An EveTrainer.
  """
  learning_rate = eval_config.learning_rate
  if eval_config.get('lr_schedule', 'constant') == 'cosine':
    learning_rate = optax.cosine_decay_schedule(learning_rate, eval_config.steps, alpha=0.05)
  optimizer = optax.adam(learning_rate)
  patience = eval_config.get('patience', 0)
  eve = attacker.network
  loss = recipe.make_eve_loss(attacker.loss_name, eve, layout)
  batch = eval_config.batch_size
  task = attacker.task
  measure, noise = make_held_out_measure(attacker, encrypt, msg_bits, key_bits, eval_config,
                                         layout)

  def draw(key, size):
    return bits.random_messages(key, size, msg_bits, key_bits, layout)

  def init(eve_key):
    params = eve.init(jax.random.fold_in(eve_key, INIT_STREAM))
    inf = jnp.array(jnp.inf, jnp.float32)
    zero = jnp.zeros((), jnp.int32)
    return EveState(params, optimizer.init(params), inf, inf, zero, zero,
                    jnp.zeros((), bool))

  def train_step(state, cipher_params, step_key):
    plaintext, key = draw(step_key, batch)
    # Alice is frozen: gradients flow into Eve's parameters only.
    view = jax.lax.stop_gradient(encrypt(cipher_params, plaintext, key))
    grads = jax.grad(loss)(state.params, *task(plaintext, view, layout))
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    return state._replace(params=optax.apply_updates(state.params, updates),
                          opt_state=opt_state)

  def train_chunk(state, cipher_params, eve_key, first_step, num_steps):
    train_key = jax.random.fold_in(eve_key, TRAIN_STREAM)

    def body(state, step):
      return train_step(state, cipher_params, jax.random.fold_in(train_key, step)), None

    state, _ = jax.lax.scan(body, state, first_step + jnp.arange(num_steps))
    step = first_step + num_steps
    m = measure(state, cipher_params, eve_key, step)
    improved = ((m.bits < state.best_bits - noise) |
                (m.hard_bits < state.best_hard_bits - noise))
    last_improved = jnp.where(improved, step, state.last_improved)
    state = state._replace(best_bits=jnp.minimum(state.best_bits, m.bits),
                           best_hard_bits=jnp.minimum(state.best_hard_bits, m.hard_bits),
                           steps=step, last_improved=last_improved,
                           stopped=bool(patience) & (step - last_improved >= patience))
    return state, m

  def run_chunk(state, cipher_params, eve_key, first_step, num_steps):
    if not patience:
      return train_chunk(state, cipher_params, eve_key, first_step, num_steps)
    # A stopped Eve keeps her state and reports no measurement (NaN).
    nan = jnp.array(jnp.nan, jnp.float32)
    return jax.lax.cond(
        state.stopped, lambda s: (s, EveMeasure(nan, nan)),
        lambda s: train_chunk(s, cipher_params, eve_key, first_step, num_steps), state)

  return EveTrainer(init, train_step, measure, run_chunk)


def make_evaluator(encrypt, msg_bits, key_bits, eval_config, attackers, mesh=None,
                   eve_loop=None, layout=bits.ROWS):
  """Runs every attacker's single-Eve functions over (cipher, Eve), jitted.

  The cipher axis is split over the devices of `mesh` (sharding.make_mesh of
  the number of ciphers; default: one device): each device trains the Eves
  of its own block of ciphers.

  Args:
    encrypt: encrypt(cipher_params, plaintext, key) -> what Eve sees, for one cipher.
    msg_bits: N.
    key_bits: the key length.
    eval_config: config.eval.
    attackers: a sequence of attackers.Attacker.
    eve_loop: how a device runs its (cipher, Eve) pairs: 'map' (one Eve after
      another, each Eve's activations staying in cache; the default on CPU)
      or 'vmap' (all at once, which an accelerator needs to be kept busy).
    layout: of the batches `encrypt` takes and returns: bits.COLUMNS
      spares transposes around the Eves (docs/performance.md).

  Returns:
    An Evaluator.
  """
  eve_loop = eve_loop or sharding.default_loop()
  if eve_loop not in EVE_LOOPS:
    raise ValueError(f'unknown eve_loop {eve_loop!r}; choose one of {EVE_LOOPS}')
  attackers = tuple(attackers)
  trainers = {a.name: make_eve_trainer(a, encrypt, msg_bits, key_bits, eval_config, layout)
              for a in attackers}
  num_eves = eval_config.num_eves

  def eve_keys(root_key, num_ciphers, first_cipher=0):
    return {a.name: fresh_eve_keys(root_key, num_ciphers, a.name, num_eves, first_cipher)
            for a in attackers}

  @jax.jit
  def init(keys):
    return {name: init_each(trainers[name].init, k) for name, k in keys.items()}

  def block(states, cipher_params, keys, first_steps, num_steps):
    """The Eves of a block of ciphers; first_steps repeats the step per cipher."""
    new_states, measures = {}, {}
    for name, trainer in trainers.items():
      one_eve = functools.partial(trainer.run_chunk, num_steps=num_steps)
      new_states[name], measures[name] = over_ciphers_and_eves(one_eve, eve_loop)(
          states[name], cipher_params, keys[name], first_steps)
    return new_states, measures

  @functools.partial(jax.jit, static_argnums=4)
  def run_chunk(states, cipher_params, keys, first_step, num_steps):
    num_ciphers = _num_ciphers(cipher_params)
    first_steps = jnp.full((num_ciphers,), first_step, jnp.int32)
    fn = functools.partial(block, num_steps=num_steps)
    if mesh is not None and mesh.size > 1:
      fn = sharding.shard_leading(fn, mesh)
    return fn(states, cipher_params, keys, first_steps)

  return Evaluator(attackers, trainers, eve_keys, init, run_chunk)


def _num_ciphers(cipher_params):
  sizes = {np.shape(x)[0] for x in jax.tree_util.tree_leaves(cipher_params)}
  if len(sizes) != 1:
    raise ValueError(f'cipher_params leaves need one common leading axis, got sizes {sizes}')
  return sizes.pop()


def _placed_inputs(encrypt, cipher_params, msg_bits, key_bits, eval_config, root_key,
                   attackers, devices, layout, eve_loop, first_cipher):
  """(evaluator, mesh, cipher_params, Eve keys) as `place` makes them, without the states."""
  num_ciphers = _num_ciphers(cipher_params)
  mesh = sharding.make_mesh(num_ciphers, devices)
  evaluator = make_evaluator(encrypt, msg_bits, key_bits, eval_config, attackers, mesh,
                             eve_loop, layout)
  # One placement for every input, the ciphers' own split: inputs placed
  # otherwise (a training mesh) would give the Eves' states a second layout
  # after the first chunk, and a recompile.
  cipher_params = sharding.put_leading(sharding.to_host(cipher_params), mesh)
  keys = sharding.put_leading(evaluator.eve_keys(root_key, num_ciphers, first_cipher), mesh)
  return evaluator, mesh, cipher_params, keys


def place(encrypt, cipher_params, msg_bits, key_bits, eval_config, root_key, attackers,
          devices=None, layout=bits.ROWS, eve_loop=None, first_cipher=0):
  """An Evaluator that splits the ciphers over `devices`, and its inputs placed so.

  Arguments as evaluate_cipher's (eve_loop as make_evaluator's).

  Returns:
    (evaluator, cipher_params, Eve keys, fresh Eve states), the last three
    split over the evaluator's devices by their leading cipher axis.
  """
  evaluator, mesh, cipher_params, keys = _placed_inputs(
      encrypt, cipher_params, msg_bits, key_bits, eval_config, root_key, attackers, devices,
      layout, eve_loop, first_cipher)
  return evaluator, cipher_params, keys, sharding.put_leading(evaluator.init(keys), mesh)


def _lowest(values):
  """The lowest of `values`, NaN left out (the Eves of a diverged seed's Alice
  measure NaN); NaN only when all are."""
  values = np.asarray(values)
  values = values[~np.isnan(values)]
  return float(values.min()) if values.size else float('nan')


def evaluate_cipher(encrypt, cipher_params, msg_bits, key_bits, eval_config, root_key,
                    attackers, log=print, devices=None, layout=bits.ROWS, checkpoint=None,
                    first_cipher=0):
  """Trains fresh Eves of every attacker against each frozen cipher.

  Args:
    encrypt: encrypt(params, plaintext [B, N], key [B, K]) -> what Eve sees [B, V],
      for ONE cipher; run here over ciphers and Eves.
    cipher_params: a pytree whose leaves have a leading axis of P ciphers.
    msg_bits: N.
    key_bits: the key length K.
    eval_config: config.eval (num_eves, steps, every, batch_size,
      eval_batch_size, learning_rate).
    root_key: the root of every Eve's key.
    attackers: a sequence of attackers.Attacker.
    log: where progress lines go.
    devices: devices to split the ciphers over (default: every process's
      devices; as many as divide the number of ciphers evenly are used).
    layout: bits.COLUMNS when `encrypt` takes and returns batches transposed,
      [N, B] (faster; see make_evaluator).
    checkpoint: a file (eval_checkpoint.py) where the Eves' progress is saved
      after every chunk and resumed from, if it holds this evaluation's; with
      one, SIGINT and SIGTERM stop the Eves at the end of their chunk, once it
      is saved. None: nothing is saved.
    first_cipher: the number of the first cipher in the Eves' keys (fresh_eve_keys).

  Returns:
    An EvalResult.

  Raises:
    eval_checkpoint.EvaluationInterrupted: SIGINT or SIGTERM (with a checkpoint).
    workdir_lib.WorkdirError: the checkpoint is corrupt.
  """
  evaluator, mesh, cipher_params, keys = _placed_inputs(
      encrypt, cipher_params, msg_bits, key_bits, eval_config, root_key, attackers, devices,
      layout, None, first_cipher)
  num_ciphers = _num_ciphers(cipher_params)
  total, every = eval_config.steps, eval_config.every
  num_eves = num_ciphers * eval_config.num_eves * len(evaluator.attackers)
  store = progress = None
  if checkpoint is not None:
    # Read whole in every process (gathered when the ciphers span several).
    host_params, host_keys = sharding.to_host((cipher_params, keys))
    store = eval_checkpoint.EvalCheckpoint(checkpoint, eval_checkpoint.identity(
        eval_config, [a.name for a in evaluator.attackers], host_params))
    progress = store.load(jax.eval_shape(evaluator.init, keys), host_keys, log)
  if progress is None:
    states = sharding.put_leading(evaluator.init(keys), mesh)
    history, step, earlier_wall_s, finished = [], 0, 0.0, False
  else:
    states = progress.states
    if not progress.finished:
      states = sharding.put_leading(states, mesh)
    history, step = progress.history, progress.step
    earlier_wall_s, finished = progress.wall_s, progress.finished
    log(f'the fresh Eves finished before ({checkpoint}): not retrained' if finished else
        f'resuming the fresh Eves at step {step}/{total} from {checkpoint}')
  start, first = time.time(), True
  with contextlib.ExitStack() as stack:
    interrupts = stack.enter_context(eval_checkpoint.Interrupts(
        collective=distributed.process_count() > 1)) if store else None
    try:
      while not finished:
        # A signal during a chunk (its computation cannot be cut short) ends the
        # Eves once the chunk is saved, not before: nothing is lost.
        with interrupts.deferred() if interrupts else contextlib.nullcontext():
          num_steps = min(every, total - step)
          t = time.time()
          states, measures = jax.block_until_ready(
              evaluator.run_chunk(states, cipher_params, keys, jnp.int32(step), num_steps))
          elapsed = time.time() - t
          step += num_steps
          # Read whole in every process (gathered when the ciphers span several).
          measures, host_states = sharding.to_host((measures, states))
          history.append({'step': step, **{name: {'bits': np.asarray(m.bits),
                                                  'hard_bits': np.asarray(m.hard_bits)}
                                           for name, m in measures.items()}})
          stopped = sum(int(np.sum(s.stopped)) for s in host_states.values())
          # Done at the budget, or once every Eve's patience ran out.
          finished = step >= total or stopped == num_eves
          if store:
            store.save(step, host_states, host_keys, history,
                       earlier_wall_s + time.time() - start, finished)
          parts = [f'{name} best {_lowest(host_states[name].best_bits):.2f} / hard '
                   f'{_lowest(host_states[name].best_hard_bits):.2f}' for name in measures]
          log(f'fresh Eves step {step:>7d}/{total} | {num_eves * num_steps / elapsed:8.0f} '
              f'Eve-steps/s | lowest bits wrong: ' + ', '.join(parts) +
              (f' | stopped {stopped}/{num_eves}' if eval_config.get('patience', 0) else '') +
              (' | with compile' if first else ''))
          first = False
        if interrupts and interrupts.stop_agreed():  # several processes: stop together
          raise KeyboardInterrupt('signal')
    except KeyboardInterrupt:
      if store is None:
        raise
      message = (f'interrupted: the fresh Eves are saved at step {step}/{total} in '
                 f'{checkpoint}; run the same command to resume')
      log(message)
      raise eval_checkpoint.EvaluationInterrupted(message) from None
  states = sharding.to_host(states)
  field = lambda f: {name: np.asarray(getattr(s, f)) for name, s in states.items()}
  return EvalResult(evaluator.attackers, field('best_bits'), field('best_hard_bits'),
                    history, total, earlier_wall_s + time.time() - start, field('steps'),
                    field('last_improved'), improvement_window(eval_config))


def evaluate_alices(config, alice_bob_params, log=print, devices=None, checkpoint=None):
  """Trains the fresh Eves of config.eval against every seed's frozen Alice.

  Args:
    config: the config the pairs were trained with, with an eval section.
    alice_bob_params: Alice and Bob's parameters (the scheme's dict, with the
      public-key generator when asymmetric) with a leading seed axis [S, ...],
      as in `run.train.alice_bob`.
    log: where progress lines go.
    devices: devices to split the seeds' Eves over (default: every process's devices).
    checkpoint: where the Eves' progress is saved and resumed from
      (evaluate_cipher's), or None.

  Returns:
    An EvalResult over the S seeds.
  """
  scheme = recipe.make_scheme(config, bits.COLUMNS)
  # Eve sees the scheme's view: the ciphertext, and the public key when asymmetric.
  return evaluate_cipher(scheme.eve_view, alice_bob_params, config.msg_bits,
                         config.key_bits, config.eval, eval_root_key(config),
                         attackers_lib.make_attackers(config), log, devices, scheme.layout,
                         checkpoint, config.first_seed)
