"""Resumable fresh Eves: an evaluation's progress, saved after every chunk.

The fresh Eves' training (evaluator.evaluate_cipher) is the longest part of
the protocol; with a checkpoint path it saves, after every chunk of
eval.every steps, everything that the rest of the evaluation depends on:

  eval_checkpoint.msgpack, a flax.serialization msgpack map
    {'format': FORMAT,
     'identity': {'eval': config.eval without the key search's fields,
                  'attackers': their names, 'ciphers': a SHA-256 of the frozen
                  ciphers' parameters, 'num_ciphers': P},
     'step': steps trained so far, 'finished': bool,
     'wall_s': the fresh Eves' time so far, summed over sessions,
     'keys': {attacker: [P, E, 2] every Eve's key},
     'history': {'step': [T], attacker: {'bits', 'hard_bits': [T, P, E]}},
     'eves': {attacker: {leaf path: array}}}

While the Eves train, 'eves' holds each Eve's whole state (parameters, Adam
state, best so far, steps, last improvement, stopped); once they are done only
what the verdicts read is kept (no parameters), so that a finished
evaluation is not redone and its file stays small. The file is written as
workdir.write_atomically writes (a synced temporary file, renamed), so a crash
at any moment leaves the previous chunk's checkpoint or this one, never half
a file; a storage fault raises WorkdirError.

Every chunk's computation depends only on the state, the step and the keys,
so an evaluation resumed from its checkpoint gives bitwise the numbers of an
uninterrupted one. A checkpoint of another identity (a changed eval.* field,
other ciphers: a run trained further) is set aside: the evaluation starts
afresh and overwrites it. eval.key_search_* only concern the key search that
runs after the Eves, which is never saved, so changing them keeps the Eves.
"""

import hashlib
from typing import NamedTuple

import jax
import numpy as np
from flax import serialization

from adversarial_crypto import config as config_lib
from adversarial_crypto.training import interrupts as interrupts_lib
from adversarial_crypto.training import workdir as workdir_lib

FORMAT = 'adversarial_crypto.eval_checkpoint/1'
FILE = 'eval_checkpoint.msgpack'
# config.eval fields that do not change what the fresh Eves do.
NOT_EVES_FIELDS = ('key_search_messages', 'key_search_tolerance')
# What the verdicts read of a fresh Eve (evaluator.EveState), all a finished file keeps.
RESULT_FIELDS = ('best_bits', 'best_hard_bits', 'steps', 'last_improved', 'stopped')


class EvaluationInterrupted(KeyboardInterrupt):
  """An evaluation stopped by SIGINT or SIGTERM; its message says how to resume it.

  A KeyboardInterrupt, so that whoever caught Ctrl-C before still does.
  """


class Progress(NamedTuple):
  """An evaluation's state after `step` steps, as saved; arrays are numpy."""
  step: int
  states: dict    # attacker -> evaluator.EveState [P, E]; params, opt_state None when finished
  history: list   # as EvalResult.history
  wall_s: float
  finished: bool


# Kept here for the evaluation's callers; defined with training's.
Interrupts = interrupts_lib.Interrupts


def digest(tree):
  """A SHA-256 of a pytree's leaves (shapes, dtypes and bytes), as hex."""
  h = hashlib.sha256()
  for leaf in jax.tree_util.tree_leaves(jax.device_get(tree)):
    leaf = np.ascontiguousarray(leaf)
    h.update(f'{leaf.shape}{leaf.dtype.str};'.encode())
    h.update(leaf.tobytes())
  return h.hexdigest()


def identity(eval_config, attacker_names, cipher_params):
  """What a saved evaluation must match to be resumed.

  Args:
    eval_config: config.eval (a ConfigDict or dict).
    attacker_names: the evaluated attackers' names, in order.
    cipher_params: the frozen ciphers' parameters, leading axis P.
  """
  fields = eval_config.to_dict() if hasattr(eval_config, 'to_dict') else dict(eval_config)
  fields = {k: v for k, v in fields.items() if k not in NOT_EVES_FIELDS}
  num_ciphers = {np.shape(x)[0] for x in jax.tree_util.tree_leaves(cipher_params)}
  return config_lib.as_json({'eval': fields, 'attackers': list(attacker_names),
                             'ciphers': digest(cipher_params), 'num_ciphers': sorted(num_ciphers)})


def _flat(tree):
  """{leaf path: numpy array} of a pytree."""
  return {jax.tree_util.keystr(path): np.asarray(leaf)
          for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]}


def _unflat(template, flat, what):
  """The pytree of `template`'s structure with the leaves of `flat` (from _flat).

  Raises:
    ValueError: a leaf is missing or of another shape or dtype than the template's.
  """
  paths, treedef = jax.tree_util.tree_flatten_with_path(template)
  leaves = []
  for path, want in paths:
    name = jax.tree_util.keystr(path)
    if name not in flat:
      raise ValueError(f'{what}{name} is missing')
    got = np.asarray(flat[name])
    if got.shape != tuple(want.shape) or got.dtype != want.dtype:
      raise ValueError(f'{what}{name} is {got.dtype}{list(got.shape)}, expected '
                       f'{np.dtype(want.dtype)}{list(want.shape)}')
    leaves.append(got)
  if len(flat) != len(leaves):
    raise ValueError(f'{what} holds {len(flat)} arrays, expected {len(leaves)}')
  return jax.tree_util.tree_unflatten(treedef, leaves)


def _kept(state, finished):
  """What is saved of an evaluator.EveState: all of it, or once the Eves are
  finished only RESULT_FIELDS (None is an empty pytree)."""
  if not finished:
    return state
  return state._replace(**{f: None for f in state._fields if f not in RESULT_FIELDS})


def _history_to_arrays(history, names):
  return {'step': np.asarray([row['step'] for row in history], np.int64),
          **{name: {f: np.stack([np.asarray(row[name][f]) for row in history])
                    for f in ('bits', 'hard_bits')} for name in names}}


def _history_from_arrays(saved, names):
  steps = np.asarray(saved['step'])
  return [{'step': int(s), **{name: {f: np.asarray(saved[name][f][t])
                                     for f in ('bits', 'hard_bits')} for name in names}}
          for t, s in enumerate(steps)]


class EvalCheckpoint:
  """Where an evaluation's progress is saved, and the identity it must match."""

  def __init__(self, path, identity_):
    self.path = path
    self.identity = identity_

  def save(self, step, states, keys, history, wall_s, finished):
    """Writes the progress after `step` steps.

    Args:
      step: steps trained.
      states: attacker -> evaluator.EveState [P, E] (on the host or not).
      keys: attacker -> [P, E, 2] the Eves' keys.
      history: as EvalResult.history.
      wall_s: the Eves' time so far, over every session.
      finished: no Eve will train further; only RESULT_FIELDS of each are kept.
    """
    states, keys = jax.device_get((states, keys))
    names = list(states)
    eves = {name: _flat(_kept(s, finished)) for name, s in states.items()}
    payload = {'format': FORMAT, 'identity': self.identity, 'step': int(step),
               'finished': bool(finished), 'wall_s': float(wall_s),
               'keys': {name: np.asarray(keys[name]) for name in names},
               'history': _history_to_arrays(history, names), 'eves': eves}
    workdir_lib.write_atomically(self.path, serialization.msgpack_serialize(payload))

  def load(self, template, keys, log=print):
    """The saved progress, or None to start afresh.

    Args:
      template: attacker -> evaluator.EveState of arrays or ShapeDtypeStructs
        [P, E, ...]: the shapes a fresh evaluation's states have.
      keys: attacker -> [P, E, 2] the keys this evaluation's Eves would have.
      log: where a line goes when a checkpoint is resumed or set aside.

    Returns:
      A Progress, or None when there is no checkpoint or it belongs to another
      evaluation (a changed eval.* field, other ciphers, other shapes or keys).

    Raises:
      workdir_lib.WorkdirError: the file is unreadable or corrupt.
    """
    try:
      with open(self.path, 'rb') as f:
        payload = serialization.msgpack_restore(f.read())
    except FileNotFoundError:
      return None
    except Exception as e:  # msgpack raises several unrelated types on bad bytes
      raise workdir_lib.WorkdirError(
          f'{self.path} is corrupt ({type(e).__name__}: {e}); delete it to start the '
          'evaluation afresh') from e
    if not isinstance(payload, dict) or payload.get('format') != FORMAT:
      raise workdir_lib.WorkdirError(f'{self.path} is not an {FORMAT} checkpoint; delete it '
                                     'to start the evaluation afresh')

    def set_aside(why):
      log(f'{self.path} holds {why}; the fresh Eves start afresh')

    saved_identity = payload.get('identity') or {}
    diffs = config_lib.differences(saved_identity, self.identity, 'then', 'now')
    if diffs:
      set_aside('another evaluation (' + '; '.join(
          d if not d.startswith('ciphers:') else 'other ciphers: the run was trained further'
          for d in diffs) + ')')
      return None
    names = list(template)
    keys = jax.device_get(keys)
    try:
      for name in names:
        saved = np.asarray(payload['keys'][name])
        if saved.shape != np.shape(keys[name]) or not np.array_equal(saved, keys[name]):
          set_aside(f'other keys for the {name} Eves')
          return None
      finished = bool(payload['finished'])
      states = {name: _unflat(_kept(template[name], finished), payload['eves'][name], name)
                for name in names}
      history = _history_from_arrays(payload['history'], names)
      step = int(payload['step'])
    except (KeyError, TypeError, ValueError, IndexError) as e:
      set_aside(f'Eves of another shape ({type(e).__name__}: {e})')
      return None
    return Progress(step, states, history, float(payload.get('wall_s', 0.0)), finished)
