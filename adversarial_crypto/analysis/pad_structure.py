"""An exact proof, from the weights, that a keyed_bilinear cipher is a one-time pad.

The exhaustive key search (key_search.py) proves H(P | C) = N on sampled
ciphertexts, for keys of up to 20 bits. At N = 32 or 64 the keys are too many;
for Alice and Bob of keyed product units (networks.keyed_bilinear) sending
signs (config.ciphertext = 'sign'), the weights themselves can give a proof
that holds for every plaintext, key and ciphertext, at any N.

Each output is a bilinear form of text and key: u_i = sum_h W_hi (t A)_h (k B)_h
= t^T M_i k with M_i = A diag(W_:i) B^T, an [N, K] matrix (keyed_orthogonal:
A, B, W the orthogonal factors of its free matrices, each M_i scaled by a
positive gain exp(g_i), which changes no sign). If one entry
dominates, |M_i[j, k]| > the sum of |M_i|'s other entries, then for every t and
k in {-1, +1} the other terms cannot outweigh it, so

    sign(u_i) = sign(M_i[j, k]) t_j k_k      exactly.

A certificate of that kind for every ciphertext element, with the plaintext
bits j a permutation and the key bits k a permutation, proves Alice's cipher
is C = s * P[pi] * K[rho] (elementwise; signs s): the one-time pad up to a
permutation of bits and signs. Then every ciphertext is explained by every
key, each with a different plaintext: H(P | C) = N for every ciphertext, and
C is uniform and independent of P. The same certificate on Bob (his text is
C), checked against Alice's, proves that his hard decisions decode every
message: Bob_j = s'_j C_i K_k with C_i = s_i P_j K_k.

Dominance (`certify`) is a sufficient condition: a cipher that fails it may
still be a pad (a dominant entry is not the only way a bilinear form can keep
one sign), so its `certified` False proves nothing either way. Up to EXACT_MAX_BITS text bits
`certify_exactly` decides it instead: for every text t, with v = M_i^T t,
sign(v . k) = s t_j k_k for every key k exactly when s t_j v_k > sum_{b != k} |v_b|
(the worst key sets every other term against it), so trying all 2^N texts,
not all 2^(2N) pairs, says whether element i is exactly s t_j k_k. Beyond that,
`certify_enumerated` tries every value of the 16 text bits that weigh most in the
element's form and bounds the others: still sufficient, and far tighter than
dominance (at N = 32 it certified 18 of a near-pad's 32 elements, dominance 9).
`certify_decided` decides it exactly at any N by branch and bound: it fixes the
text bits one by one, heaviest first, drops every partial text whose worst case
already keeps the sign, and either runs out of partial texts (proved) or reaches
a whole text whose worst key flips it (a counterexample: disproved), or gives up
after a budget of partial texts (undecided). prove_pad uses it beyond 20 bits.
`entropy_bound` turns the same walk into a lower bound of H(P | C) over every input,
for ciphers that depart from the pad on a few inputs: a Chernoff bound of the keys on
which each element flips, summed over the texts, and what that share can leak.
With tanh ciphertexts (config.ciphertext = 'tanh') it proves only that the
ciphertext's signs form a pad; the magnitudes may leak.
"""

from typing import NamedTuple, Optional

import numpy as np

from adversarial_crypto.analysis import key_search
from adversarial_crypto.core import networks


class Certificate(NamedTuple):
  """Per output i of one network: its largest entry (j, k) and whether the output
  is sign * t_j * k_k on every input, by the check that made it."""
  text_bit: np.ndarray   # [out] j: the text bit of the largest entry
  key_bit: np.ndarray    # [out] k: the key bit of the largest entry
  sign: np.ndarray       # [out] sign(M_i[j, k]), -1 or +1
  margin: np.ndarray     # [out] over sum |M_i|, positive iff certified: certify's
                         # |M_i[j, k]| - the rest; the other checks' (least) worst case
  certified: np.ndarray  # [out] proved: sign(u_i) = sign * t_j * k_k on every input
  # [out] whether `certified` is a decision either way (certify_decided), None for
  # the checks that only ever prove.
  decided: Optional[np.ndarray] = None


def bilinear_forms(params, arch='keyed_bilinear'):
  """[out, text, key]: M_i = A diag(W_:i) B^T of a keyed network's params."""
  if arch not in networks.KEYED_ARCHS:
    raise ValueError(f'a proof from the weights needs one of {networks.KEYED_ARCHS}, not {arch!r}')
  a, b, w = (np.asarray(params[name], np.float64) for name in ('text', 'key', 'out'))
  if arch == 'keyed_orthogonal':
    a, b, w = (np.asarray(networks.orthogonal_factor(m), np.float64) for m in (a, b, w))
    w = w * np.exp(np.asarray(params['gain'], np.float64))[None, :]
  return np.einsum('th,kh,hi->itk', a, b, w)


def certify(params, arch='keyed_bilinear'):
  """The Certificate of each output of a keyed network (float64)."""
  forms = bilinear_forms(params, arch)
  out, text, key = forms.shape
  flat = np.abs(forms.reshape(out, text * key))
  top = np.argmax(flat, axis=1)
  best = flat[np.arange(out), top]
  total = flat.sum(axis=1)
  # A zero form has no sign to keep: margin 0, not certified.
  margin = np.where(total > 0, (2 * best - total) / np.where(total > 0, total, 1), 0.0)
  j, k = np.divmod(top, key)
  sign = np.sign(forms[np.arange(out), j, k]).astype(np.int64)
  return Certificate(j, k, sign, margin, margin > 0)


# certify_exactly tries every text of up to this many bits (2^20 x N x K per element),
# listed as the key search lists its keys.
EXACT_MAX_BITS = key_search.MAX_KEY_BITS


def certify_exactly(params, arch='keyed_bilinear'):
  """certify's Certificate, decided exactly over every text: `certified` is True
  iff sign(u_i) = sign * t_j * k_k for every text and key, with (j, k) the dominant
  entry; `margin` is the least of s t_j v_k - sum_{b != k} |v_b| over the texts,
  over sum |M_i| (positive iff certified). Texts of at most EXACT_MAX_BITS bits."""
  text = np.asarray(params['text']).shape[0]
  if text > EXACT_MAX_BITS:
    raise ValueError(f'certify_exactly tries all 2^{text} texts; at most 2^{EXACT_MAX_BITS}: '
                     'use certify')
  return certify_enumerated(params, arch, enumerate_bits=text)  # nothing left to bound


# certify_enumerated tries every value of this many text bits per element (2^16 x
# their count x K), the ones its form weighs most, and bounds the rest.
ENUMERATED_BITS = 16


def certify_enumerated(params, arch='keyed_bilinear', enumerate_bits=ENUMERATED_BITS):
  """certify_exactly's check on the `enumerate_bits` text bits that weigh most in
  each element's form (the dominant one among them), every other text bit's terms
  bounded by their worst case: with v = v_S + r, |r_b| <= R_b = sum_{t not in S}
  |M_i[t, b]|, the element is s t_j k_k on every input if for every text of S
  s t_j v_S,k - R_k > sum_{b != k} (|v_S,b| + R_b). Sufficient at any N, and much
  tighter than `certify` (which bounds every text bit); with no bit left out it
  is certify_exactly's exact condition."""
  forms = bilinear_forms(params, arch)
  out, text, key = forms.shape
  rough = certify(params, arch)
  margin = np.empty(out)
  for i in range(out):
    j, k, sign = rough.text_bit[i], rough.key_bit[i], rough.sign[i]
    weight = np.abs(forms[i]).sum(axis=1)
    weight[j] = np.inf
    rows = np.sort(np.argsort(-weight, kind='stable')[:min(enumerate_bits, text)])
    bound = np.abs(np.delete(forms[i], rows, axis=0)).sum(axis=0)      # [K] R_b
    texts = np.asarray(key_search.all_keys(len(rows)), np.float64)
    v = texts @ forms[i][rows]                                         # [2^S, K]
    rest = (np.abs(v) + bound).sum(axis=1) - np.abs(v[:, k]) - bound[k]
    worst = np.min(sign * texts[:, np.flatnonzero(rows == j)[0]] * v[:, k] - bound[k] - rest)
    total = np.abs(forms[i]).sum()
    margin[i] = worst / total if total > 0 else 0.0
  return rough._replace(margin=margin, certified=margin > 0)


# certify_decided's budget per element: the partial texts it may bound before it
# calls the element undecided (about 15 s of a 2-core CPU at N = 32; the elements of
# the N = 32 runs were decided within 6.4 million).
DECIDE_MAX_NODES = 1 << 24
# ... and how it walks them: this many text bits fixed per step, at most
# _DECIDE_BATCH partial texts bounded at once (memory: _DECIDE_BATCH x K floats per
# level of the stack).
_DECIDE_BITS = 8
_DECIDE_BATCH = 1 << 16


def decide_element(form, text_bit, key_bit, sign, max_nodes=DECIDE_MAX_NODES):
  """Whether sign(t^T form k) = sign * t_j * k_k for every text t and key k.

  Exact, by branch and bound over the text: with v = form^T t, the element keeps
  that sign for every key iff f(t) = sign t_j v_k - sum_{b != k} |v_b| > 0
  (certify_exactly's condition). The text bits are fixed heaviest first, t_j = +1
  (f is even in t); a partial text with the rest bounded by their worst case
  (certify_enumerated's bound) that keeps f > 0 is proved with all its
  completions, and a whole text with f <= 0 is a counterexample.

  Args:
    form: [T, K] the element's bilinear form M_i.
    text_bit, key_bit, sign: the entry it is checked against (j, k, s).
    max_nodes: the partial texts it may bound before it gives up.

  Returns:
    (decision, margin, counterexample): decision True (proved), False (a
    counterexample) or None (undecided within max_nodes); margin, over sum |M_i|,
    a lower bound of min_t f(t) when proved, f of the counterexample when
    disproved, the least bound met when undecided; counterexample (text [T],
    key [K], -1/+1) on which the element's sign is not sign * t_j * k_k (or u = 0),
    None unless disproved.
  """
  form = np.asarray(form, np.float64)
  text, key = form.shape
  total = np.abs(form).sum()
  if total == 0:
    return False, 0.0, (np.ones(text), np.ones(key))
  order, rest = _text_order(form, text_bit)
  # The stack holds (v of the fixed bits [F, K], their signs [F, d] in `order`, d).
  stack = [(form[text_bit][None, :], np.zeros((1, 0), np.int8), 0)]
  nodes, least_proved, least_open = 0, np.inf, np.inf
  while stack:
    v, fixed, depth = stack.pop()
    step = min(_DECIDE_BITS, text - 1 - depth)
    take = max(1, _DECIDE_BATCH >> step)
    if len(v) > take:                  # bound a batch, leave the rest on the stack
      stack.append((v[:-take], fixed[:-take], depth))
      v, fixed = v[-take:], fixed[-take:]
    signs = (np.asarray(key_search.all_keys(step), np.float64) if step    # [2^step, step]
             else np.zeros((1, 0)))
    v = (v[:, None, :] + (signs @ form[order[depth:depth + step]])[None]).reshape(-1, key)
    fixed = np.concatenate([np.repeat(fixed, len(signs), axis=0),
                            np.tile(signs.astype(np.int8), (len(fixed), 1))], axis=1)
    depth += step
    bound = _least_f(v, rest[depth], key_bit, sign)
    nodes += len(v)
    open_ = bound <= 0
    if (~open_).any():
      least_proved = min(least_proved, bound[~open_].min())
    if not open_.any():
      continue
    if depth == text - 1:              # whole texts: the bound is f itself
      r = int(np.argmin(bound))
      t = np.empty(text)
      t[text_bit] = 1.0
      t[order] = fixed[r]
      vt = form.T @ t
      k = np.where(sign * vt >= 0, -1.0, 1.0)         # each other term against s t_j k_k
      k[key_bit] = 1.0
      return False, float(bound[r] / total), (t, k)
    least_open = min(least_open, bound[open_].min())
    stack.append((v[open_], fixed[open_], depth))
    if nodes > max_nodes:
      return None, float(least_open / total), None
  return True, float(least_proved / total), None


def _text_order(form, text_bit):
  """Every text bit but j, heaviest first, and rest[d] [K]: per key bit, the most
  the bits order[d:] can add to |v_b|."""
  weight = np.abs(form).sum(axis=1)
  weight[text_bit] = -np.inf
  order = np.argsort(-weight, kind='stable')[:form.shape[0] - 1]
  rest = np.concatenate([np.cumsum(np.abs(form[order])[::-1], axis=0)[::-1],
                         np.zeros((1, form.shape[1]))])
  return order, rest


def _least_f(v, rest, key_bit, sign):
  """The least f = s v_k - sum_{b != k} |v_b| over the completions of partial texts
  whose fixed bits give v [F, K], the others bounded by rest [K]."""
  worst = np.abs(v) + rest
  return sign * v[:, key_bit] - rest[key_bit] - (worst.sum(axis=1) - worst[:, key_bit])


def certify_decided(params, arch='keyed_bilinear', max_nodes=DECIDE_MAX_NODES):
  """certify's Certificate, each element decided by decide_element at any N:
  `certified` True where proved exactly, `decided` True where proved or disproved
  (False: undecided within max_nodes). `margin` as decide_element's."""
  forms = bilinear_forms(params, arch)
  rough = certify(params, arch)
  results = [decide_element(forms[i], rough.text_bit[i], rough.key_bit[i], rough.sign[i],
                            max_nodes) for i in range(forms.shape[0])]
  return rough._replace(margin=np.array([m for _, m, _ in results]),
                        certified=np.array([d is True for d, _, _ in results]),
                        decided=np.array([d is not None for d, _, _ in results]))


# flip_fraction: the Chernoff bound tries these multiples of the Gaussian tilt
# a / sum w_b^2; partial texts whose bound is below FLIP_TOLERANCE are not split
# (together at most FLIP_TOLERANCE of the texts' share), and at most FLIP_BEAM of
# them, the worst, are split at each depth.
_TILTS = np.geomspace(0.25, 8.0, 12)
FLIP_TOLERANCE = 1e-12
FLIP_BEAM = 1 << 12


def _log_cosh(x):
  x = np.abs(x)
  return x + np.log1p(np.exp(-2 * x)) - np.log(2.0)


def _flip_bound(v, rest, key_bit, sign):
  """Per partial text (fixed bits giving v [F, K], the others bounded by rest [K]):
  the most, over its completions t, of Pr_k[sign(u) != s t_j k_k] over the keys.

  The element fails on key k iff sum_{b != k} v_b xi_b <= -a, a = s t_j v_k, with
  xi_b = s t_j k_k k_b independent signs; with a >= a' > 0 and |v_b| <= w_b that has
  probability at most exp(-theta a') prod_b cosh(theta w_b) for every theta > 0
  (Markov on exp(-theta sum)), and none when a' > sum_b w_b.
  """
  least = sign * v[:, key_bit] - rest[key_bit]
  widths = np.abs(v) + rest
  widths[:, key_bit] = 0.0
  out = np.where(_least_f(v, rest, key_bit, sign) > 0, 0.0, 1.0)   # decide_element's proof
  live = np.flatnonzero((least > 0) & (out > 0))
  for chunk in np.array_split(live, max(1, len(live) // 2048)):
    a, w = least[chunk], widths[chunk]
    theta = (a / np.maximum((w * w).sum(axis=1), 1e-300))[:, None] * _TILTS[None]
    log = _log_cosh(theta[:, :, None] * w[:, None, :]).sum(axis=2) - theta * a[:, None]
    out[chunk] = np.exp(np.minimum(log.min(axis=1), 0.0))
  return out


# Fractions of the largest tilt _average_bound may take (the tilt at which its Gaussian
# integral diverges); any tilt gives a valid bound, the smallest of these is kept.
_AVERAGE_TILTS = np.concatenate([np.geomspace(1e-3, 0.5, 24), 1.0 - np.geomspace(0.4, 1e-4, 12)])


def _average_bound(v, rows, key_bit, sign):
  """Per partial text (fixed bits giving v [F, K]; the text bits not fixed, uniform, with
  rows [m, K] of the form): a bound of the share of its completions and keys on which the
  element fails, the average over completions where _flip_bound takes the worst.

  With a = s v_k + alpha.T (alpha_r = s rows_rk) and w(T) = v' + A T over the key
  bits b != k (A = rows[:, b != k]^T), the element fails iff a + sum_b xi_b w_b <= 0,
  xi_b independent signs. For theta > 0, E exp(-theta z) <= E_T exp(-theta a + theta^2/2
  |w(T)|^2) (cosh x <= exp(x^2 / 2)); writing exp(theta^2/2 |x|^2) = E_g exp(theta g.x),
  g standard normal, and bounding the cosh over T the same way leaves a Gaussian
  integral: exp(-theta s v_k + theta^2/2 |alpha|^2) det(I - S)^-1/2 exp(c^T (I - S)^-1 c / 2),
  S = theta^2 A A^T, c = theta v' - theta^2 A alpha, for theta^2 |A A^T| < 1.
  """
  if not len(rows):
    return np.ones(len(v))
  others = np.arange(v.shape[1]) != key_bit
  a_mat, alpha = rows[:, others].T, sign * rows[:, key_bit]          # [K-1, m], [m]
  lam, basis = np.linalg.eigh(a_mat @ a_mat.T)
  lam = np.maximum(lam, 0.0)
  top = 1.0 / np.sqrt(max(lam.max(), 1e-300))
  thetas = top * _AVERAGE_TILTS                                       # [J]
  shift = basis.T @ (a_mat @ alpha)                                   # [K-1]
  vt = v[:, others] @ basis                                           # [F, K-1]
  room = 1.0 - thetas[:, None] ** 2 * lam[None]                       # [J, K-1]
  c = thetas[None, :, None] * vt[:, None] - (thetas ** 2)[None, :, None] * shift[None, None]
  log = (-thetas[None] * (sign * v[:, key_bit])[:, None] + thetas[None] ** 2 / 2 * (alpha @ alpha)
         - 0.5 * np.log(room).sum(axis=1)[None] + 0.5 * (c * c / room[None]).sum(axis=2))
  return np.exp(np.minimum(log.min(axis=1), 0.0))


def flip_fraction(form, text_bit, key_bit, sign, beam=FLIP_BEAM, tolerance=FLIP_TOLERANCE):
  """An upper bound of Pr_{t,k}[sign(t^T form k) != sign * t_j * k_k], over uniform texts and keys.

  Exact arithmetic, no sampling: the texts are split bit by bit (heaviest first,
  t_j = +1: the share is even in t), each partial text bounded by the lesser of
  _flip_bound (the worst of its completions) and _average_bound (their average);
  the bound is the sum of each final partial text's bound times its share of the
  texts. 0 when the element is proved the pad.
  """
  form = np.asarray(form, np.float64)
  order, rest = _text_order(form, text_bit)
  v, depth, settled = form[text_bit][None, :], 0, 0.0
  while True:
    bound = np.minimum(_flip_bound(v, rest[depth], key_bit, sign),
                       _average_bound(v, form[order[depth:]], key_bit, sign))
    share = 2.0 ** -depth
    split = bound > tolerance
    if split.sum() > beam:             # split the worst `beam`; the rest keep their bound
      split[:] = False
      split[np.argpartition(-bound, beam)[:beam]] = True
    settled += bound[~split].sum() * share
    v, bound = v[split], bound[split]
    if not len(v) or depth == len(order):
      return float(min(settled + bound.sum() * share, 1.0))
    row = form[order[depth]]
    v = np.concatenate([v + row, v - row])
    depth += 1


def _element_entropy(f):
  """The most H(E_i) can be, in bits, when E_i, an element's departure from the pad,
  is +1 (it follows the pad) but on a share at most f of the inputs, where it is -1 or
  0 (an output of exactly 0, a tie, is a third value): h(f) + f, up to f = 2/3 where
  it reaches log2 3, the most for three values. A share that is not a number counts
  as failing everywhere."""
  f = np.asarray(f, np.float64)
  f = np.minimum(np.where(np.isfinite(f), f, 1.0), 2.0 / 3.0)
  with np.errstate(divide='ignore', invalid='ignore'):
    h = -(f * np.log2(f) + (1 - f) * np.log2(1 - f))
  return np.where(f > 0, h + f, 0.0)


def leaked_bits(element_flips, n):
  """The most I(P; C) can be, in bits, for n-bit plaintexts, when the ciphertext
  equals the one-time pad C = s P[pi] K[rho] (rho a permutation) except that element
  i differs from it on at most a share element_flips[i] of the (plaintext, key) pairs.

  Let E be the elements' departures from the pad: E_i = C_i / pad_i, -1 or 0 where it
  departs. Given P = p and E = e, with S the elements where e_i != 0, C is a one-to-one
  function of the key bits rho(S) and fixed elsewhere, so H(C | E = e) <= |S| and
  H(C | P, E = e) = H(K_rho(S) | P, E = e) >= H(K | P, E = e) - (n - |S|): I(P; C |
  E = e) <= n - H(K | P, E = e). E is a function of (P, K), so H(K | P, E) = n -
  H(E | P), and I(P; C) <= I(P; C, E) = I(P; E) + I(P; C | E) <= H(E) <= sum_i H(E_i),
  each at most _element_entropy(f_i); and at most n = H(P). Shares summing to f,
  spread evenly over the elements, cost about f log2(2 n e / f) bits, not the f n of a
  bound that lets every failing pair leak the whole plaintext.
  """
  flips = np.asarray(element_flips, np.float64)
  if flips.ndim != 1:
    raise ValueError('leaked_bits needs one share per ciphertext element, not a total')
  return float(min(n, _element_entropy(flips).sum()))


def entropy_bound(params, arch='keyed_bilinear', need_bits=None, beam=FLIP_BEAM):
  """A lower bound of H(P | C) (averaged over ciphertexts, as the key search's), from
  the weights: every plaintext and key is accounted for, none sampled.

  flip_fraction bounds, per ciphertext element, the share of (plaintext, key) pairs
  on which it is not the pad its leading terms describe; with the leading key bits a
  permutation, leaked_bits turns those shares into a bound of I(P; C). N bits when
  every element is proved the pad (then for every ciphertext), and close to N for a
  cipher that departs from the pad on a small share of inputs, which certify_decided
  can only reject.

  Args:
    params: one keyed Alice, as certify's.
    need_bits: if given, stop as soon as the bound is sure to fall below it (the
      elements not reached then count as failing everywhere, log2 3 bits each).
    beam: flip_fraction's.

  Returns:
    A dict: 'bits' (the bound), 'flips' (the bound of the share of inputs on which
    the cipher is not the pad), 'elements' (flip_fraction per element; None for
    those not reached) and 'reason' ('' or why the bound is 0 or was cut short).
  """
  rough = certify(params, arch)
  forms = bilinear_forms(params, arch)
  out, text, key = forms.shape
  if not (out == key and is_permutation(rough.key_bit, key)):
    return {'bits': 0.0, 'flips': 1.0, 'elements': [None] * out,
            'reason': f'the leading key bits {rough.key_bit.tolist()} are not a permutation'}
  elements = [None] * out
  for i in range(out):
    elements[i] = flip_fraction(forms[i], rough.text_bit[i], rough.key_bit[i], rough.sign[i],
                                beam)
    reached = elements[:i + 1]
    # leaked_bits only grows with more elements: once below need_bits, it stays below.
    if need_bits is not None and text - leaked_bits(reached, text) < need_bits and i + 1 < out:
      # The elements not reached may fail on every input: the bound has only that.
      worst = reached + [1.0] * (out - i - 1)
      return {'bits': float(text - leaked_bits(worst, text)), 'flips': min(sum(worst), 1.0),
              'elements': elements,
              'reason': f'below {need_bits:g} bits after {i + 1} of {out} elements; stopped'}
  return {'bits': float(text - leaked_bits(elements, text)), 'flips': min(sum(elements), 1.0),
          'elements': elements, 'reason': ''}


def is_permutation(indices, size):
  """Whether `indices` lists each of 0 .. size - 1 once."""
  return len(indices) == size and sorted(indices.tolist()) == list(range(size))


def prove_pad(alice_params, bob_params=None, arch='keyed_bilinear', exact=None):
  """Whether the weights prove Alice a one-time pad, and Bob its exact decoder.

  Args:
    alice_params: one seed's Alice ({'text', 'key', 'out'}, and 'gain' for
      keyed_orthogonal).
    bob_params: his, or None to judge Alice alone.
    arch: their architecture, one of networks.KEYED_ARCHS.
    exact: True: decide each element over every text (certify_exactly); False:
      by dominance (certify); None (default): over every text when it has at most
      EXACT_MAX_BITS bits, otherwise by branch and bound (certify_decided), exact
      where it decides within its budget.

  Returns:
    A dict: 'exact' (whether every element of Alice was decided exactly), 'check'
    ('exhaustive', 'branch_and_bound' or 'dominance'), 'alice_pad' (every ciphertext
    element certified, plaintext bits and
    key bits each a permutation), 'bob_exact' (None without Bob: every output
    certified and decoding Alice's pad), 'min_margin' of Alice (and 'bob_min_margin'),
    'text_bits', 'key_bits', 'signs' (Alice's C_i = signs_i P[text_bits_i]
    K[key_bits_i]) and 'reason', one line saying what failed, '' when both hold.
  """
  text_bits = np.asarray(alice_params['text']).shape[0]
  if exact is None:
    check = 'exhaustive' if text_bits <= EXACT_MAX_BITS else 'branch_and_bound'
  else:
    check = 'exhaustive' if exact else 'dominance'
  judge = {'exhaustive': certify_exactly, 'branch_and_bound': certify_decided,
           'dominance': certify}[check]
  alice = judge(alice_params, arch)
  exact = check == 'exhaustive' or (check == 'branch_and_bound' and alice.decided.all())
  n_out = len(alice.text_bit)
  key_bits = np.asarray(alice_params['key']).shape[0]
  result = {'exact': bool(exact), 'check': check,
            'text_bits': alice.text_bit.tolist(), 'key_bits': alice.key_bit.tolist(),
            'signs': alice.sign.tolist(), 'min_margin': float(alice.margin.min()),
            'alice_pad': False, 'bob_exact': None, 'reason': ''}
  if not alice.certified.all():
    what = {'exhaustive': 'not exactly +-P_j K_k on every input',
            'branch_and_bound': 'not exactly +-P_j K_k on every input (a counterexample each)',
            'dominance': 'no dominant entry (not proved)'}[check]
    decided = np.ones_like(alice.certified) if alice.decided is None else alice.decided
    failed, parts = ~alice.certified & decided, []
    if failed.any():
      parts.append(f'ciphertext elements {np.flatnonzero(failed).tolist()} {what}')
    if not decided.all():
      parts.append(f'elements {np.flatnonzero(~decided).tolist()} undecided within '
                   f'{DECIDE_MAX_NODES} partial texts each')
    result['reason'] = 'Alice: ' + '; '.join(parts)
  elif not (n_out == text_bits and is_permutation(alice.text_bit, text_bits)):
    result['reason'] = f'Alice: plaintext bits {alice.text_bit.tolist()} are not a permutation'
  elif not (n_out == key_bits and is_permutation(alice.key_bit, key_bits)):
    result['reason'] = (f'Alice: key bits {alice.key_bit.tolist()} are not a permutation '
                        '(a key bit used twice leaks the product of two plaintext bits)')
  else:
    result['alice_pad'] = True
  if bob_params is None:
    return result
  bob = judge(bob_params, arch)
  result['bob_min_margin'] = float(bob.margin.min())
  result['bob_exact'] = False
  if not result['alice_pad']:
    return result
  # Bob_j = s'_j C_i K_k must equal P_j: C_i = s_i P_j K_k with the same k, s'_j s_i = +1.
  element_of = np.empty(n_out, np.int64)
  element_of[alice.text_bit] = np.arange(n_out)     # which C_i carries P_j
  wrong = [j for j in range(len(bob.text_bit))
           if not (bob.certified[j] and bob.text_bit[j] == element_of[j]
                   and bob.key_bit[j] == alice.key_bit[element_of[j]]
                   and bob.sign[j] * alice.sign[element_of[j]] == 1)]
  if len(bob.text_bit) != n_out or wrong:
    result['reason'] = f'Bob: outputs {wrong} are not proved to decode their plaintext bit'
  else:
    result['bob_exact'] = True
  return result


def skeleton_decoder(certificate, key_bits, arch='keyed_bilinear'):
  """A decoder of the pad an Alice's leading terms describe, for analysis only.

  Bob's parameters (of `arch`) that compute P_j = s_i C_i K_k exactly for each
  element i = (j, k, s) of `certificate`: unit i reads C_i and K_k, output j takes
  it with sign s. Signed permutation matrices are their own orthogonal factors,
  so the same parameters serve keyed_orthogonal (gain 0). An eavesdropper who
  holds Alice can build it from her weights alone; the key search
  (key_search.leakage) with it as Bob measures H(P | C) of Alice without her own
  Bob, who may fail where she does not. It needs the text bits j to be a
  permutation (each P_j carried by one element).
  """
  n = len(certificate.text_bit)
  if not is_permutation(np.asarray(certificate.text_bit), n):
    raise ValueError(f'the leading plaintext bits {np.asarray(certificate.text_bit).tolist()} '
                     'are not a permutation: no element carries some plaintext bit')
  text = np.eye(n)
  key = np.zeros((key_bits, n))
  key[certificate.key_bit, np.arange(n)] = 1.0
  out = np.zeros((n, n))
  out[np.arange(n), certificate.text_bit] = certificate.sign
  params = {'text': text, 'key': key, 'out': out}
  if arch == 'keyed_orthogonal':
    params['gain'] = np.zeros(n)
  elif arch != 'keyed_bilinear':
    raise ValueError(f'a skeleton decoder needs one of {networks.KEYED_ARCHS}, not {arch!r}')
  return params


def pad_agreement(ciphertext, plaintext, key, certificate):
  """How often a cipher is the pad its leading terms describe, on given messages.

  The exact check above says whether an element is s t_j k_k on every input;
  this says on how many of the sampled ones it is, which tells a cipher that
  misses the pad on a few rare inputs from one that is far from it.

  Args:
    ciphertext: Alice's signs, [M, N_out], -1/+1.
    plaintext: [M, N], key: [M, K], -1/+1, the messages they encrypt.
    certificate: a Certificate of that Alice (certify or certify_exactly).

  Returns:
    (per_message, per_element): the fraction of messages whose every element
    equals sign_i * P[text_bit_i] * K[key_bit_i], and that fraction per element, [N_out].
  """
  pad = (np.asarray(certificate.sign)[None, :] * np.asarray(plaintext)[:, certificate.text_bit]
         * np.asarray(key)[:, certificate.key_bit])
  same = np.asarray(ciphertext) == pad
  return float(np.mean(np.all(same, axis=1))), np.mean(same, axis=0)
