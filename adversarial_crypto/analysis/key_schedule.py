"""What a learned sign cipher is, element by element: C_i = P_j x s_i(K).

pad_structure proves a cipher is the one-time pad up to permutations and signs,
one plaintext bit times one key bit per element. A cipher can be perfectly
secret without that: C = P[pi] * f(K) is whenever f(K) is uniform for a uniform
key, for example for any bijection f of the keys (then each ciphertext is
explained by every key, each with its own plaintext): C is uniform whatever P.
`describe` finds that form from Alice's outputs alone: for each element the
plaintext bit j that always flips it, whether it depends on any other plaintext
bit, and its key function s_i = C_i P_j with the key bits that move it; it
names s_i when it is one key bit (the pad) or a signed majority of three. The
elements are grouped into blocks joined by shared key bits, and each block's
map from its key bits to its elements' s_i is tried on every value of those
bits: f(K) is uniform exactly when every block takes each value of its
elements equally often ("balanced"; with as many key bits as elements, one-to-one).

`describe` samples (the dependence on `samples` random inputs; each block in
`contexts` random settings of the other inputs), so it describes a cipher and
proves nothing. `prove` decides the same form from the weights of a keyed
network, on every input: with M_i the bilinear form of element i
(pad_structure.bilinear_forms), u_i = t_j (M_i[j, S] . k_S) + r, where j is the
row of M_i's largest entry, S the key bits of row j's entries of at least
SUPPORT of it, and |r| at most the sum of M_i's other |entries|. Where the least
|M_i[j, S] . k_S| over the 2^|S| values of k_S exceeds that sum,

    sign(u_i) = t_j sign(M_i[j, S] . k_S)      on every text and key

(pad_structure's dominance is the case |S| = 1). With every element so
certified and the plaintext bits a permutation, each block's key function is
known exactly and tried on every value of its key bits: every block balanced
proves C = P[pi] * f(K) with f(K) uniform, so perfect secrecy (with K = N, f a
bijection); a block that is not proves the opposite: f(K) is not uniform, so the
ciphertext's distribution depends on the plaintext, and H(P | C) < N. The
arithmetic is float64 on the float32 weights; a margin (reported) far above
float32 rounding, as every recorded one is (0.19 or more of sum |M_i|), keeps
the network's own float32 signs the same.
"""

import itertools

import numpy as np

from adversarial_crypto.analysis import key_search
from adversarial_crypto.analysis import pad_structure

MAX_BLOCK_BITS = 16  # a block's key bits tried exhaustively: 2^16 keys per setting
SUPPORT = 0.05  # prove: a key weight of the element's text row counts from this x its largest


def _signed(bit, weight):
  """'K3' or '-K3': key bit `bit` with the sign of `weight`."""
  return f"{'-' if weight < 0 else ''}K{bit}"


def _every_value(bits):
  """Every value of `bits` -1/+1 bits, [2^bits, bits] (key_search.all_keys)."""
  return np.asarray(key_search.all_keys(bits))


def _majority_fit(s, keys, key_bits):
  """The signed majority of three key bits equal to s on every sample, or None."""
  for signs in itertools.product((1, -1), repeat=4):
    votes = sum(g * keys[:, k] for g, k in zip(signs[1:], key_bits))
    if np.array_equal(signs[0] * np.sign(votes), s):
      lead = '-' if signs[0] < 0 else ''
      return lead + 'maj(' + ', '.join(map(_signed, key_bits, signs[1:])) + ')'
  return None


def _balanced(s):
  """Whether the rows of s [2^u, e], a block's key functions on every value of its
  u key bits, take each of the 2^e values equally often (with u = e: one-to-one)."""
  rows, counts = np.unique(s, axis=0, return_counts=True)
  return len(rows) == 2 ** s.shape[1] and bool(np.all(counts == counts[0]))


def _kind(single_key_bits, msg_bits, key_bits):
  """The name of a balanced C = P[pi] * f(K): one key bit per element is the pad
  (balanced: distinct key bits)."""
  if single_key_bits:
    return 'pad'
  return 'pad under a key bijection' if key_bits == msg_bits else 'pad under a balanced key map'


def _blocks(key_sets):
  """Elements joined when they share a key bit (connected components): a list of
  (elements, their key bits sorted)."""
  parent = list(range(len(key_sets)))

  def root(i):
    while parent[i] != i:
      i = parent[i]
    return i

  for i, j in itertools.combinations(range(len(key_sets)), 2):
    if key_sets[i] & key_sets[j]:
      parent[root(i)] = root(j)
  groups = {}
  for i in range(len(key_sets)):
    groups.setdefault(root(i), []).append(i)
  return [(members, sorted(set().union(*(key_sets[i] for i in members))))
          for members in sorted(groups.values())]


def describe(encrypt, msg_bits, key_bits, samples=4096, contexts=16, seed=0):
  """Describes the sign cipher `encrypt` as C_i = P_j x s_i(K) where it is one.

  Args:
    encrypt: maps plaintexts [M, msg_bits] and keys [M, key_bits] of -1/+1 to
      ciphertexts [M, msg_bits] of -1/+1.
    msg_bits, key_bits: N and K.
    samples: random (plaintext, key) pairs for the dependences.
    contexts: random settings of the other inputs in which each block is tried.
    seed: numpy seed of the draws.

  Returns:
    A dict: `elements`, per element its `text_bit` (None unless exactly one
    plaintext bit flips it on every sample), `other_text_bits` (plaintext bits
    that change it otherwise), `key_flips` ({key bit: fraction of samples its
    flip changes the element}) and `form` ('K3', '-K3', a signed majority such
    as '-maj(K0, -K6, K11)', or None); `blocks`, each with its `elements`,
    `key_bits` and `balanced` (None if it has over MAX_BLOCK_BITS key bits);
    `unused_key_bits`; and `kind`: 'pad' (every element +-P_j K_k, j a
    permutation, k distinct), 'pad under a key bijection' (C = P[pi] * f(K), f
    a bijection; K = N), 'pad under a balanced key map' (f(K) uniform; K > N),
    or 'neither'.
  """
  rng = np.random.default_rng(seed)
  draw = lambda *shape: rng.choice(np.array([-1.0, 1.0], np.float32), size=shape)
  p, k = draw(samples, msg_bits), draw(samples, key_bits)
  c = np.asarray(encrypt(p, k))
  text_flips = np.zeros((msg_bits, msg_bits))  # [flipped text bit, element]
  for j in range(msg_bits):
    flipped = p.copy()
    flipped[:, j] *= -1
    text_flips[j] = np.mean(np.asarray(encrypt(flipped, k)) != c, axis=0)
  key_flips = np.zeros((key_bits, msg_bits))
  for b in range(key_bits):
    flipped = k.copy()
    flipped[:, b] *= -1
    key_flips[b] = np.mean(np.asarray(encrypt(p, flipped)) != c, axis=0)

  elements = []
  for i in range(msg_bits):
    always = np.nonzero(text_flips[:, i] == 1.0)[0]
    text_bit = int(always[0]) if len(always) == 1 else None
    others = [int(j) for j in np.nonzero(text_flips[:, i] > 0)[0] if j != text_bit]
    moved = {int(b): float(key_flips[b, i]) for b in np.nonzero(key_flips[:, i] > 0)[0]}
    form = None
    if text_bit is not None and not others:
      s = c[:, i] * p[:, text_bit]
      if len(moved) == 1:
        (b,) = moved
        for sign in (1, -1):
          if np.array_equal(s, sign * k[:, b]):
            form = _signed(b, sign)
      elif len(moved) == 3:
        form = _majority_fit(s, k, sorted(moved))
    elements.append({'text_bit': text_bit, 'other_text_bits': others,
                     'key_flips': moved, 'form': form})

  blocks = []
  for members, bits_ in _blocks([set(e['key_flips']) for e in elements]):
    blocks.append({'elements': members, 'key_bits': bits_,
                   'balanced': _sampled_balance(encrypt, elements, members, bits_, msg_bits,
                                                key_bits, contexts, draw)})
  used = set().union(*(set(e['key_flips']) for e in elements))
  unused = [b for b in range(key_bits) if b not in used]
  text_bits = [e['text_bit'] for e in elements]
  clean = (None not in text_bits and sorted(text_bits) == list(range(msg_bits)) and
           not any(e['other_text_bits'] for e in elements))
  if clean and all(b['balanced'] for b in blocks):
    kind = _kind(all(e['form'] and 'maj' not in e['form'] for e in elements), msg_bits,
                 key_bits)
  else:
    kind = 'neither'
  return {'elements': elements, 'blocks': blocks, 'unused_key_bits': unused, 'kind': kind}


def _sampled_balance(encrypt, elements, members, key_bits_, msg_bits, key_bits, contexts,
                     draw):
  """_balanced for a block of `encrypt`, in `contexts` random settings of the rest."""
  if len(key_bits_) > MAX_BLOCK_BITS:
    return None
  if any(elements[i]['text_bit'] is None for i in members):
    return False  # no key function to speak of: an element is not P_j x s_i(K)
  if not key_bits_:
    return False  # an element the key does not move: one value of its two
  values = _every_value(len(key_bits_))
  text_bits = [elements[i]['text_bit'] for i in members]
  for _ in range(contexts):
    p = np.repeat(draw(1, msg_bits), len(values), axis=0)
    k = np.repeat(draw(1, key_bits), len(values), axis=0)
    k[:, key_bits_] = values
    s = np.asarray(encrypt(p, k))[:, members] * p[:, text_bits]
    if not _balanced(s):
      return False
  return True


def _form_name(key_bits_, weights):
  signed = list(map(_signed, key_bits_, weights))
  if len(signed) == 1:
    return signed[0]
  magnitudes = np.sort(np.abs(weights))
  if len(signed) == 3 and magnitudes[2] < magnitudes[0] + magnitudes[1]:
    return f"maj({', '.join(signed)})"  # each term weaker than the other two together
  return 'sign(' + ' + '.join(f'{w:.3g} K{b}' for b, w in zip(key_bits_, weights)) + ')'


def certify_elements(forms, support=SUPPORT):
  """Per element, by dominance of one text row: sign(u_i) = t_j sign(w . k_S) exactly?

  Args:
    forms: [out, text, key] bilinear forms (pad_structure.bilinear_forms).
    support: a key weight of row j counts if at least this x the row's largest.

  Returns:
    A list of dicts, one per element: `text_bit` j, `key_bits` S, `weights` w,
    `form` (its name), `margin` (the least |w . k_S| less the rest, over sum |M_i|;
    positive iff certified) and `certified`.
  """
  out = []
  for m in np.asarray(forms, np.float64):
    j = int(np.unravel_index(np.argmax(np.abs(m)), m.shape)[0])
    row = np.abs(m[j])
    key_bits_ = [int(b) for b in np.flatnonzero(row >= support * row.max())]
    weights = m[j, key_bits_]
    if len(key_bits_) > MAX_BLOCK_BITS:
      least = 0.0
    else:
      least = float(np.min(np.abs(_every_value(len(key_bits_)) @ weights)))
    total = float(np.abs(m).sum())
    rest = total - float(np.abs(weights).sum())
    margin = (least - rest) / total if total > 0 else 0.0  # a form of zeros: no sign
    out.append({'text_bit': j, 'key_bits': key_bits_, 'weights': weights.tolist(),
                'form': _form_name(key_bits_, weights), 'margin': margin,
                'certified': margin > 0})
  return out


def prove(forms, support=SUPPORT):
  """Whether the weights prove Alice's cipher C = P[pi] * f(K) with f(K) uniform.

  Args:
    forms: [out, text, key] bilinear forms of one seed's Alice
      (pad_structure.bilinear_forms(params, arch)).
    support: as certify_elements.

  Returns:
    A dict: `perfect` (True: proved perfectly secret on every input; False:
    proved not to be, as the module docstring says; None: not decided, the form
    not certified), `kind` ('pad', 'pad under a key bijection' or None),
    `elements` (certify_elements), `blocks` (`elements`, `key_bits`,
    `balanced`), `unused_key_bits`, `min_margin` and `reason` ('' when proved).
  """
  forms = np.asarray(forms, np.float64)
  n_out, n_text, n_key = forms.shape
  elements = certify_elements(forms, support)
  result = {'perfect': None, 'kind': None, 'elements': elements, 'blocks': [],
            'unused_key_bits': [], 'min_margin': min(e['margin'] for e in elements),
            'reason': ''}
  uncertified = [i for i, e in enumerate(elements) if not e['certified']]
  if uncertified:
    result['reason'] = f'elements {uncertified} are not proved t_j sign(w . k_S)'
    return result
  text_bits = np.array([e['text_bit'] for e in elements])
  if not (n_out == n_text and pad_structure.is_permutation(text_bits, n_text)):
    result['reason'] = f'plaintext bits {text_bits.tolist()} are not a permutation'
    return result
  for members, bits_ in _blocks([set(e['key_bits']) for e in elements]):
    balanced = None
    if len(bits_) <= MAX_BLOCK_BITS:
      values = _every_value(len(bits_))
      s = np.stack([np.sign(values[:, [bits_.index(b) for b in elements[i]['key_bits']]]
                            @ np.asarray(elements[i]['weights'])) for i in members], axis=1)
      balanced = _balanced(s)
    result['blocks'].append({'elements': members, 'key_bits': bits_, 'balanced': balanced})
  used = set().union(*(set(e['key_bits']) for e in elements))
  result['unused_key_bits'] = [b for b in range(n_key) if b not in used]
  uneven = [b for b in result['blocks'] if b['balanced'] is False]
  if uneven:
    result['perfect'] = False
    result['reason'] = '; '.join(f"key bits {b['key_bits']} give elements {b['elements']} "
                                 'some values more often than others' for b in uneven)
  elif any(b['balanced'] is None for b in result['blocks']):
    result['reason'] = f'a block of over {MAX_BLOCK_BITS} key bits'
  else:
    result['perfect'] = True
    result['kind'] = _kind(all(len(e['key_bits']) == 1 for e in elements), n_out, n_key)
  return result



def prove_weights(params, arch='keyed_bilinear'):
  """prove() on one seed's Alice ({'text', 'key', 'out'}, and 'gain' for
  keyed_orthogonal), in short: `perfect`, `kind`, `min_margin` and `reason`."""
  proof = prove(pad_structure.bilinear_forms(params, arch))
  return {k: proof[k] for k in ('perfect', 'kind', 'min_margin', 'reason')}
