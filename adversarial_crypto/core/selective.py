"""Selective protection (Section 3): publish an estimate of D while hiding C.

Data: tuples (A, B, C, D) of standard normals with a chosen correlation
matrix R, drawn as L z with R = L L^T (Cholesky) and z four independent
standard normals. Alice gets A, B, C and an 8-bit key, and outputs D-public
and a ciphertext; Bob gets both and the key and estimates D; Eve gets both
and estimates C.

Networks. Alice: a new fully connected layer 12 -> 12 (no nonlinearity: the
paper names none), then the Section 2 network (config.arch) to 1 +
cipher_len outputs: D-public, then the ciphertext. Bob (Alice's outputs and
the key) and Eve (Alice's outputs) are Section 2 networks of the same output
width whose first output is their estimate; the paper does not give their
shapes. The targets are real-valued with unit variance, so every network's
last layer is linear (networks' `logits`), not the tanh of Section 2, which
could never output |x| > 1.

Losses (Section 3.2). Eve: mean squared error of her estimate of C. Alice
and Bob: public_weight * MSE(D-public, D) + bob_weight * MSE(Bob, D) +
covariance_weight * |Cov(Eve's estimate, C)| over the batch.

Blind Eve knows only C's distribution. We take her analytic optimum: the
guess E[C] = 0, whose mean squared error is Var(C) = 1 in expectation and
mean(C^2) on a batch. Eve's advantage is Blind Eve's error minus hers, on the
same batch.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from adversarial_crypto.core import recipe
from adversarial_crypto.core import bits
from adversarial_crypto.core import networks

A, B, C, D = range(4)
# The default correlation matrix of (A, B, C, D). A, B and C are mildly
# correlated (0.3); D correlates with all three, most with C (0.6). So the
# best estimate of D uses C, and a D-public that hides C must give up
# accuracy: its best linear mean squared error is 0.817 against Bob's 0.457
# (see `yardsticks`).
DEFAULT_CORRELATION = ((1.0, 0.3, 0.3, 0.5),
                       (0.3, 1.0, 0.3, 0.5),
                       (0.3, 0.3, 1.0, 0.6),
                       (0.5, 0.5, 0.6, 1.0))
VALUES = 3  # A, B and C go into Alice with the key


class Measure(NamedTuple):
  """Mean squared errors on one batch, and Eve's advantage over Blind Eve."""
  public_mse: jax.Array     # D-public against D
  bob_mse: jax.Array        # Bob's estimate against D
  eve_mse: jax.Array        # Eve's estimate against C
  blind_eve_mse: jax.Array  # Blind Eve (guess 0) against C
  eve_advantage: jax.Array  # blind_eve_mse - eve_mse


class Experiment(NamedTuple):
  """Pure functions of one selective config, for one seed."""
  networks: dict   # 'alice', 'bob', 'eve'
  factor: np.ndarray  # the Cholesky factor L of the correlation matrix
  draw: Any        # (key, size) -> (tuples [size, 4], key bits [size, K])
  init: Any        # seed_key -> recipe.TrainState
  publish: Any     # (alice_params, values [B, 3], key [B, K]) -> (D-public [B], ciphertext)
  # (alice_bob, eve_params, tuples, key) -> (loss, Measure on that batch)
  alice_bob_objective: Any
  train_step: Any  # (state, step_key) -> (state, Measure on the Alice/Bob batch)
  train_chunk: Any  # (state, seed_key, first_step, num_steps) -> (state, per-step Measure)
  measure: Any     # (state, seed_key, step) -> Measure on a fresh evaluation batch
  goals_met: Any   # (Measure, step) -> False: the paper trains for a fixed number of steps


def cholesky_factor(correlation):
  """The lower-triangular L with L L^T = correlation, checking it is one.

  Raises:
    ValueError: not a symmetric 4x4 matrix with unit diagonal and positive eigenvalues.
  """
  r = np.asarray(correlation, np.float64)
  if r.shape != (4, 4) or not np.allclose(r, r.T) or not np.allclose(np.diag(r), 1.0):
    raise ValueError(f'the correlation matrix must be a symmetric 4x4 matrix with ones on '
                     f'its diagonal (rows A, B, C, D), got {correlation!r}')
  if np.linalg.eigvalsh(r).min() <= 0:
    raise ValueError(f'the correlation matrix {correlation!r} is not positive definite '
                     '(no such four variables exist); weaken its correlations')
  return np.linalg.cholesky(r)


def draw_tuples(key, size, factor):
  """[size, 4] tuples (A, B, C, D): standard normals times L^T."""
  z = jax.random.normal(key, (size, 4), jnp.float32)
  return z @ jnp.asarray(factor, jnp.float32).T


def best_linear_mse(correlation, target, given):
  """The least mean squared error of a linear estimate of `target` from `given`.

  For jointly normal values it is also the best of any estimate:
  Var(t) - R[t, g] R[g, g]^-1 R[g, t].
  """
  r = np.asarray(correlation, np.float64)
  g = list(given)
  return float(r[target, target] - r[target, g] @ np.linalg.solve(r[np.ix_(g, g)], r[g, target]))


def yardsticks(correlation):
  """The analytic optima that Bob, D-public and Eve are judged against.

  bob_best_mse: the best estimate of D given A, B and C (Bob has the key, so
    all of it can reach him).
  public_best_mse: the best linear estimate of D from what carries no
    information about C: A and B with their regression on C removed,
    U = (A, B) - R[(A, B), C] C. A linear function of (A, B, C) is
    uncorrelated with C, hence for normals independent of it, exactly when it
    is a function of U. Nonlinear C-independent estimates are not covered.
  blind_eve_mse: Var(C), Blind Eve's error.
  """
  r = np.asarray(correlation, np.float64)
  ab = [A, B]
  cov_u = r[np.ix_(ab, ab)] - np.outer(r[ab, C], r[C, ab]) / r[C, C]
  cov_ud = r[ab, D] - r[ab, C] * r[C, D] / r[C, C]
  return {'bob_best_mse': best_linear_mse(r, D, (A, B, C)),
          'public_best_mse': float(r[D, D] - cov_ud @ np.linalg.solve(cov_u, cov_ud)),
          'blind_eve_mse': float(r[C, C])}


def covariance(x, y):
  """Cov(x, y) over a batch: mean of (x - mean x)(y - mean y)."""
  return jnp.mean((x - jnp.mean(x)) * (y - jnp.mean(y)))


def make_networks(config):
  """Alice, Bob and Eve of a selective config (see the module docstring)."""
  width = 1 + config.cipher_len   # D-public and the ciphertext
  k = config.key_bits
  pre = networks.make_network('mlp', VALUES + k, VALUES + k, ())  # one linear layer
  body = networks.make_network(config.arch, VALUES + k, width)

  def alice_init(key):
    k_pre, k_body = jax.random.split(key)
    return {'pre': pre.init(k_pre), 'body': body.init(k_body)}

  def alice_logits(params, x):
    return body.logits(params['body'], pre.logits(params['pre'], x))

  return {'alice': networks.Network(alice_init, alice_logits, VALUES + k, width),
          'bob': networks.make_network(config.arch, width + k, width),
          'eve': networks.make_network(config.arch, width, width)}


def make_experiment(config):
  """Builds the single-seed functions of a selective config.

  Args:
    config: a config with key_bits, cipher_len, arch, correlation, loss
      (public_weight, bob_weight, covariance_weight), batch_size,
      eval_batch_size, learning_rate and eve_steps_per_ab_step.

  Returns:
    An Experiment.
  """
  nets = make_networks(config)
  alice, bob, eve = nets['alice'], nets['bob'], nets['eve']
  factor = cholesky_factor(config.correlation)
  weights = config.loss
  optimizer = optax.adam(config.learning_rate)

  def draw(key, size):
    k_values, k_key = jax.random.split(key)
    tuples = draw_tuples(k_values, size, factor)
    return tuples, bits.random_bits(k_key, (size, config.key_bits))

  def publish(alice_params, values, key):
    out = alice.logits(alice_params, jnp.concatenate([values, key], -1))
    return out[..., 0], out[..., 1:]

  def estimates(alice_bob, eve_params, tuples, key):
    d_public, ciphertext = publish(alice_bob['alice'], tuples[:, :VALUES], key)
    seen = jnp.concatenate([d_public[:, None], ciphertext], -1)   # Alice's outputs
    d_bob = bob.logits(alice_bob['bob'], jnp.concatenate([seen, key], -1))[:, 0]
    c_eve = eve.logits(eve_params, seen)[:, 0]
    return d_public, d_bob, c_eve

  def measures(tuples, d_public, d_bob, c_eve):
    c, d = tuples[:, C], tuples[:, D]
    eve_mse, blind = jnp.mean((c_eve - c) ** 2), jnp.mean(c ** 2)
    return Measure(jnp.mean((d_public - d) ** 2), jnp.mean((d_bob - d) ** 2),
                   eve_mse, blind, blind - eve_mse)

  def alice_bob_objective(alice_bob, eve_params, tuples, key):
    d_public, d_bob, c_eve = estimates(alice_bob, eve_params, tuples, key)
    m = measures(tuples, d_public, d_bob, c_eve)
    loss = (weights.public_weight * m.public_mse + weights.bob_weight * m.bob_mse +
            weights.covariance_weight * jnp.abs(covariance(c_eve, tuples[:, C])))
    return loss, m

  def eve_objective(eve_params, alice_bob, tuples, key):
    d_public, ciphertext = publish(alice_bob['alice'], tuples[:, :VALUES], key)
    seen = jnp.concatenate([d_public[:, None], ciphertext], -1)
    return jnp.mean((eve.logits(eve_params, seen)[:, 0] - tuples[:, C]) ** 2)

  init = recipe.make_init({'alice': alice, 'bob': bob}, optimizer,
                              recipe.init_one(eve, optimizer))
  train_step = recipe.make_train_step(optimizer, draw, config.batch_size,
                                           config.eve_steps_per_ab_step,
                                           alice_bob_objective, eve_objective)
  train_chunk = recipe.make_train_chunk(train_step)

  def measure(state, seed_key, step):
    tuples, key = draw(recipe.eval_key(seed_key, step), config.eval_batch_size)
    return measures(tuples, *estimates(state.alice_bob, state.eve, tuples, key))

  def goals_met(m, step):
    return jnp.zeros_like(m.eve_mse, bool)

  return Experiment(nets, factor, draw, init, publish, alice_bob_objective, train_step,
                    train_chunk, measure, goals_met)
