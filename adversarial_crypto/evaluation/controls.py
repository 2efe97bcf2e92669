"""Control ciphers with a known, tunable planted leak, to calibrate the evaluator.

Each control is an `encrypt(params, plaintext, key)` that evaluator.evaluate_cipher
takes like a trained Alice: params = {'q': a scalar} for one cipher (a leading
axis of P strengths batches P ciphers in one evaluation), plaintext and key in
the layout's bits (bits.ROWS [B, .] or bits.COLUMNS [., B]), -1/+1 floats.

The key is N pad bits K_0 .. K_{N-1} followed by GATE_BITS = 8 gate bits; the
gate bits, read as an integer g in [0, 256) (gate bit j worth 2^j, +1 = set),
open the gate when g < 256 q. So q is the probability that a message leaks,
exactly: the gate fires on 256 q of the 256 gate patterns (q a multiple of
1/256). Eve does not see the gate, only its effect. Ciphertext elements that
no leak touches are the one-time pad C_i = P_i K_i.

  'pad'        C = P x K. Leaks nothing: C is uniform and independent of P.
               Every attacker must stay at chance; its spread there is the
               false-alarm floor of a verdict.
  'bit'        C_0 = P_0 in the clear when gated. Seen by the per-bit
               attackers ('paper', 'mlp', 'deep_mlp', 'products') and by
               'distinguish'; 'parity' and 'parity4' guess products that
               still hold a hidden bit, so they are blind to it. Given C_0,
               P_0 = C_0 with probability (1 + q) / 2: 1 - h((1 + q) / 2)
               bits of information per message (h the binary entropy), and a
               best per-bit Eve's error N/2 - q/2 bits.
  'pair'       a reused key bit: C_1 = P_1 K_0 when gated, so C_0 C_1 = P_0 P_1
               while every single bit stays hidden. Seen by 'parity' (its
               target P_0 P_1) and by 'distinguish'; blind to the per-bit
               attackers. Information per message as for 'bit': P_0 P_1 is
               right with probability (1 + q) / 2 given C_0 C_1.
  'quad'       C_3 = P_3 K_0 K_1 K_2 when gated, so C_0 C_1 C_2 C_3 =
               P_0 P_1 P_2 P_3 while every single bit, pair and triple stays
               hidden (each of their products keeps a key bit). Seen by
               'parity4' only when its sample of 4-bit groups holds the
               group (attackers.quads: it does at N = 8, not at N = 16), and
               by 'distinguish' if her network learns a product of four of
               her features. Information as for 'bit', of P_0 P_1 P_2 P_3.
  'magnitude'  C = P x K x (1 + q P_0) on every element, no gate: the signs
               are the pad's, and P_0 = sign(|C_i| - 1) for every i. q is the
               step's relative size, not a probability: for any q > 0 the
               message gives away P_0 exactly (1 bit; a best per-bit Eve's
               error N/2 - 1/2), but only to an Eve that resolves a change
               of q in |C|. Seen by the per-bit attackers and 'distinguish'
               (and 'products', whose C_i C_k = P_i P_k K_i K_k (1 + q P_0)^2
               carries it too); a model of a trained Alice whose tanh
               outputs' magnitudes depend on the plaintext.

Every control with q = 0 is the pad.
"""

import functools

import jax.numpy as jnp

from adversarial_crypto.core import bits
from adversarial_crypto.evaluation import attackers as attackers_lib

GATE_BITS = 8
GATE_LEVELS = 2 ** GATE_BITS
# The 4 bits whose product 'quad' leaks, by default; the last one carries it.
QUAD = (0, 1, 2, 3)
CONTROLS = ('pad', 'bit', 'pair', 'quad', 'magnitude')


def key_bits(msg_bits):
  """The key length of every control: N pad bits and GATE_BITS gate bits."""
  return msg_bits + GATE_BITS


def _at(layout, index):
  """The index of bits `index` (an int or slice) along the layout's bit axis."""
  return (Ellipsis, index) if layout.bit_axis == -1 else (Ellipsis, index, slice(None))


def _bit(x, i, layout):
  """Bit i of a batch, keeping the bit axis (length 1)."""
  return x[_at(layout, slice(i, i + 1))]


def gate(q, key, msg_bits, layout=bits.ROWS):
  """Whether each message leaks: its gate bits, as an integer g, below 256 q.

  Args:
    q: the leak probability, a scalar (exact for multiples of 1/256).
    key: [.., B, N + GATE_BITS] keys (COLUMNS: [N + GATE_BITS, B]).
    msg_bits: N; the gate bits follow the N pad bits.
    layout: bits.ROWS or bits.COLUMNS.

  Returns:
    A bool array shaped like one bit of the key (length 1 on the bit axis).
  """
  gate_bits = key[_at(layout, slice(msg_bits, msg_bits + GATE_BITS))]
  weights = 2.0 ** jnp.arange(GATE_BITS, dtype=jnp.float32)
  if layout.bit_axis == -2:
    weights = weights[:, None]
  # (b + 1) / 2 turns -1/+1 into 0/1; g is an integer below 256, exact in float32.
  g = jnp.sum((gate_bits + 1.0) / 2.0 * weights, axis=layout.bit_axis, keepdims=True)
  return g < GATE_LEVELS * q


def encrypt(control, params, plaintext, key, layout=bits.ROWS, quad=QUAD):
  """The ciphertext of control `control` (module docstring) with strength params['q'].

  Args:
    control: one of CONTROLS.
    params: {'q': scalar}: the leak probability ('magnitude': the step size).
    plaintext: [.., B, N] -1/+1 (COLUMNS: [N, B]).
    key: [.., B, N + GATE_BITS] (COLUMNS: [N + GATE_BITS, B]).
    layout: bits.ROWS or bits.COLUMNS.
    quad: for 'quad', the 4 bits whose product leaks; the last one carries it.

  Returns:
    The ciphertext, shaped like the plaintext: what Eve sees.
  """
  n = plaintext.shape[layout.bit_axis]
  if key.shape[layout.bit_axis] != key_bits(n):
    raise ValueError(f'a control of N = {n} takes keys of {key_bits(n)} bits (N pad bits and '
                     f'{GATE_BITS} gate bits), got {key.shape[layout.bit_axis]}')
  q = jnp.asarray(params['q'], plaintext.dtype)
  pad_key = key[_at(layout, slice(0, n))]
  pad = plaintext * pad_key
  if control == 'pad':
    return pad
  if control == 'magnitude':
    return pad * (1.0 + q * _bit(plaintext, 0, layout))
  leaks = gate(q, key, n, layout)
  p, k = lambda i: _bit(plaintext, i, layout), lambda i: _bit(pad_key, i, layout)
  if control == 'bit':
    carrier, leaked = 0, p(0)
  elif control == 'pair':
    carrier, leaked = 1, p(1) * k(0)
  elif control == 'quad':
    *others, carrier = quad
    leaked = p(carrier)
    for i in others:
      leaked = leaked * k(i)
  else:
    raise ValueError(f'unknown control {control!r}; choose one of {CONTROLS}')
  return pad.at[_at(layout, slice(carrier, carrier + 1))].set(
      jnp.where(leaks, leaked, _bit(pad, carrier, layout)))


def make_encrypt(control, layout=bits.ROWS, quad=QUAD):
  """encrypt(params, plaintext, key) of one control, as evaluate_cipher takes it."""
  if control not in CONTROLS:
    raise ValueError(f'unknown control {control!r}; choose one of {CONTROLS}')
  return functools.partial(encrypt, control, layout=layout, quad=tuple(quad))


def make_encrypt_any(controls, layout=bits.ROWS, quads=None):
  """One encrypt for ciphers of several controls, so one evaluation runs them all.

  Args:
    controls: the control names params['control'] indexes.
    layout: bits.ROWS or bits.COLUMNS.
    quads: for each control, its `quad` group (None: QUAD for all).

  Returns:
    encrypt(params, plaintext, key) with params = {'control': int index into
    `controls`, 'q': scalar}: every control's ciphertext is computed and the
    indexed one kept (elementwise work, small beside any Eve's).
  """
  quads = quads or [QUAD] * len(controls)
  each = [make_encrypt(c, layout, g) for c, g in zip(controls, quads)]

  def encrypt_any(params, plaintext, key):
    out = each[0](params, plaintext, key)
    for i, fn in enumerate(each[1:], 1):
      out = jnp.where(params['control'] == i, fn(params, plaintext, key), out)
    return out

  return encrypt_any


def ideal_bits(control, q, attacker, msg_bits, quad=QUAD):
  """The bits wrong (N x error rate) of a Bayes-optimal Eve of `attacker`'s task.

  What an attacker that learnt the leak perfectly would score on average: the
  floor under her measured best, and N/2 where she is blind to it. One leaked
  target among her T, right with probability (1 + a) / 2, gives N/2 - N a / (2T)
  (N/2 - N a / 2 for an attacker scored by her best-read target).

  Args:
    control: one of CONTROLS.
    q: the strength.
    attacker: an attacker name (config.ATTACKERS).
    msg_bits: N.
    quad: for 'quad', the 4 bits whose product leaks.

  Returns:
    A float.
  """
  n = msg_bits
  half = n / 2.0
  if control == 'pad' or q == 0:
    return half
  # The leaked target's advantage: q, or 1 for magnitude (P_0 read exactly).
  a = 1.0 if control == 'magnitude' else float(q)
  if attacker == 'distinguish':
    # Her two candidates differ in the leaked target half the time; then she
    # reads it with advantage a, otherwise she guesses.
    return n * (0.5 - a / 4.0)
  per_bit = ('paper', 'mlp', 'deep_mlp', 'products')
  if control in ('bit', 'magnitude') and attacker in per_bit:
    targets = n
  elif control == 'pair' and attacker == 'parity':
    targets = n * (n - 1) // 2
  elif (control == 'quad' and attacker == 'parity4' and
        list(quad) in attackers_lib.quads(n).tolist()):
    targets = len(attackers_lib.quads(n))
  else:
    return half
  if attackers_lib.make_attacker_score(attacker) == 'best':
    # Scored by her best-read target: the leaked one, read with error (1 - a) / 2.
    return n * (0.5 - a / 2.0)
  # One target of `targets` read with error (1 - a) / 2, the others at 1/2.
  return n * (0.5 - a / 2.0 / targets)
