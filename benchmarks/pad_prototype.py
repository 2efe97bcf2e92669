"""The prototype of docs/one_time_pad.md (runs P0-P15): keyed Alice and Bob against
Eves, sign ciphertexts, 4 seeds, standalone (it does not go through the package's runner).

Every 500-2,000 steps it prints, per seed, Bob's L1 bits wrong and the Eve term on the
last 50 training batches, H(C | P) over all 2^16 keys for 4 fixed plaintexts (the
minimum; 16 for every P is what a perfect cipher needs) and the fraction of those
4 x 2^16 (plaintext, key) pairs Bob decodes exactly. Every weight is trained from random
initialisation. The recipe it led to is configs/perfect16.py; for example run P15:

  python benchmarks/pad_prototype.py --hidden 16 --key_pos orth --text_pos orth \
    --out_orth 1 --bob_out_orth 1 --bob_gain 1 --lr 0.002 --game parity --eve_arch bilinear \
    --eve_hidden 128 --eves 2 --weight 48 --weight2 4 --switch 2000 --freeze 4000 \
    --eve_steps 2 --term information --steps 6000 --every 1000
"""
import argparse, functools, time, sys
import numpy as np
import jax, jax.numpy as jnp, optax
sys.path.insert(0, __import__('os').path.dirname(__import__('os').path.dirname(__import__('os').path.abspath(__file__))))
from adversarial_crypto.core import networks, bits, losses
from adversarial_crypto.evaluation import attackers
from adversarial_crypto.extensions import eve_games
from adversarial_crypto.analysis import key_search

ap = argparse.ArgumentParser()
ap.add_argument('--seeds', type=int, default=4)
ap.add_argument('--steps', type=int, default=3000)
ap.add_argument('--every', type=int, default=500)
ap.add_argument('--batch', type=int, default=512)
ap.add_argument('--hidden', type=int, default=32)
ap.add_argument('--arch', default='keyed_bilinear')
ap.add_argument('--cipher', default='sign')
ap.add_argument('--game', default='siamese')  # siamese | distinguish | parity | none
ap.add_argument('--eves', type=int, default=2)
ap.add_argument('--eve_hidden', default='64,64')
ap.add_argument('--eve_steps', type=int, default=2)
ap.add_argument('--reset', type=int, default=0)
ap.add_argument('--weight', type=float, default=1.0)
ap.add_argument('--term', default='information')
ap.add_argument('--lr', type=float, default=0.0008)
ap.add_argument('--freeze', type=int, default=0)
ap.add_argument('--n', type=int, default=16)
ap.add_argument('--warm', type=int, default=0)
ap.add_argument('--eve_view', default='cipher')
ap.add_argument('--eve_arch', default='mlp')
ap.add_argument('--save', default='', help='where to save the final Alice/Bob params (.npy)')
ap.add_argument('--out_orth', type=int, default=0)
ap.add_argument('--weight2', type=float, default=-1)
ap.add_argument('--switch', type=int, default=0)
ap.add_argument('--bob_out_orth', type=int, default=0)
ap.add_argument('--bob_gain', type=int, default=0)
ap.add_argument('--eve_kb', type=int, default=64)
ap.add_argument('--key_pos', default='none')  # none | square | abs | softplus
ap.add_argument('--bob_hidden', type=int, default=0)  # 0: as Alice
ap.add_argument('--bob_key_pos', default='same')
ap.add_argument('--key_init', type=float, default=0)
ap.add_argument('--text_pos', default='none')
ap.add_argument('--diag_block_text', type=int, default=0)  # cipher | tanh | u
args = ap.parse_args()
N = args.n
EH = tuple(int(x) for x in args.eve_hidden.split(','))

H = args.hidden
alice = networks.make_network(args.arch, 2 * N, N, (H,), key_bits=N)
BH = args.bob_hidden or H
bob = networks.make_network(args.arch, 2 * N, N, (BH,), key_bits=N)
if args.game == 'siamese':
  eve = attackers.siamese_scorer(N, N, EH)
  task = lambda p, c: eve_games.distinguishing_game(p, c)
elif args.game == 'distinguish':
  eve = networks.make_network('mlp', 3 * N, 1, EH)
  task = lambda p, c: eve_games.distinguishing_game(p, c)
elif args.game == 'parity':
  eve = networks.make_network(args.eve_arch, N, N + N * (N - 1) // 2, EH)
  task = lambda p, c: (c, jnp.concatenate([p, bits.pair_parities(p)], -1))
elif args.game == 'partial':
  eve = networks.make_network('keyed_bilinear', 2 * N, N, (args.eve_kb,), key_bits=N)
  task = None
else:
  eve = None
opt = optax.adam(args.lr)


def orth(m):
  q, r = jnp.linalg.qr(m)
  return q * jnp.sign(jnp.diag(r))[None, :]


def fix(params, who='alice'):
  kp = args.key_pos if who == 'alice' or args.bob_key_pos == 'same' else args.bob_key_pos
  pos = {'none': lambda b: b, 'square': jnp.square, 'abs': jnp.abs,
         'softplus': lambda b: jax.nn.softplus(4 * b) / 4, 'exp': jnp.exp, 'orth': orth, 'absf': lambda b: jnp.abs(b) + 0.02}[kp]
  tpos = {'none': lambda b: b, 'absf': lambda b: jnp.abs(b) + 0.02, 'abs': jnp.abs, 'exp': jnp.exp, 'orth': orth}[args.text_pos]
  tp = tpos if who == 'alice' or args.bob_key_pos == 'same' else (lambda b: b)
  out = params['out']
  if (args.out_orth and who == 'alice') or (args.bob_out_orth and who == 'bob'):
    out = orth(out)
  return dict(params, key=pos(params['key']), text=tp(params['text']), out=out)


def enc_view(ab, p, k):
  u = alice.logits(fix(ab['alice']), jnp.concatenate([p, k], -1))
  c = jnp.tanh(u)
  if args.cipher == 'sign':
    c = c + jax.lax.stop_gradient(jnp.sign(c) - c)
  view = {'cipher': c, 'tanh': jnp.tanh(u), 'u': u}[args.eve_view]
  return c, view


def enc(ab, p, k):
  return enc_view(ab, p, k)[0]


def dec(ab, c, k):
  u = bob.logits(fix(ab['bob'], 'bob'), jnp.concatenate([c, k], -1))
  if args.bob_gain:
    u = u * jnp.exp(ab['bob']['gain'])
  return jnp.tanh(u)


def partial_ce(ep, p, c, k, rk):
  """Eve knows every key bit but one (j, uniform per example): she decodes C under both
  completions and pays the joint cross-entropy of the mixture (nats per message)."""
  j = jax.random.randint(rk, (p.shape[0],), 0, N)
  onehot = jax.nn.one_hot(j, N)
  kp = k * (1 - onehot) + onehot
  km = k * (1 - onehot) - onehot
  lp = -jnp.sum(jax.nn.softplus(-2 * p * eve.logits(ep, jnp.concatenate([c, kp], -1))), -1)
  lm = -jnp.sum(jax.nn.softplus(-2 * p * eve.logits(ep, jnp.concatenate([c, km], -1))), -1)
  return -jnp.mean(jnp.logaddexp(lp, lm) - jnp.log(2.0))[None]


def eve_ce(ep, p, c, k=None, rk=None):
  if args.game == 'partial':
    return partial_ce(ep, p, c, k, rk)
  x, t = task(p, c)
  u = eve.logits(ep, x)
  return jnp.mean(jax.nn.softplus(-2 * t * u), 0)  # per target, nats


def eve_term(ep, p, c, k, rk):
  ce = eve_ce(ep, p, c, k, rk)
  if args.term == 'infomax':
    return jnp.max(jnp.maximum(jnp.log(2.0) - ce, 0) / jnp.log(2.0))
  if args.term == 'information':
    info = jnp.maximum(jnp.log(2.0) - ce, 0) / jnp.log(2.0)
    if args.game == 'parity':
      return jnp.maximum(jnp.mean(info[:N]), jnp.mean(info[N:]))
    return jnp.mean(info)
  x, t = task(p, c)
  u = eve.logits(ep, x)
  wrong = jnp.mean(jnp.abs(t - jnp.tanh(u)) / 2, 0)
  return jnp.mean((0.5 - wrong) ** 2 / 0.25)


def draw(key, b):
  return bits.random_messages(key, b, N, N)


def init(key):
  ka, kb, ke = jax.random.split(key, 3)
  ab = {'alice': alice.init(ka), 'bob': bob.init(kb)}
  if args.bob_gain:
    ab['bob']['gain'] = jnp.zeros((N,))
  if args.key_init:
    for who, kk in (('alice', ka), ('bob', kb)):
      shape = ab[who]['key'].shape
      ab[who] = dict(ab[who], key=jax.random.uniform(jax.random.fold_in(kk, 5), shape,
                                                   minval=-args.key_init, maxval=args.key_init))
  st = {'ab': ab, 'ab_opt': opt.init(ab)}
  if eve is not None:
    ep = jax.vmap(eve.init)(jax.random.split(ke, args.eves))
    st['eve'] = ep
    st['eve_opt'] = jax.vmap(opt.init)(ep)
  return st


def ab_loss(ab, eps, p, k, w, rk):
  c, view = enc_view(ab, p, k)
  if args.diag_block_text:
    ab_t = dict(ab, alice=dict(ab['alice'], text=jax.lax.stop_gradient(ab['alice']['text'])))
    view = enc_view(ab_t, p, k)[1]
  bob_bits = jnp.mean(losses.bits_wrong(p, dec(ab, c, k)))
  if eve is None:
    return bob_bits, (bob_bits, 0.0)
  terms = jax.vmap(eve_term, (0, None, None, None, None))(eps, p, view, k, rk)
  return bob_bits + w * jnp.max(terms), (bob_bits, jnp.max(terms))


def step(st, key, frozen, w):
  keys = jax.random.split(key, 1 + args.eve_steps + 1)
  p, k = draw(keys[0], args.batch)
  g, aux = jax.grad(ab_loss, has_aux=True)(st['ab'], st.get('eve'), p, k, w, keys[-1])
  upd, ab_opt = opt.update(g, st['ab_opt'], st['ab'])
  upd = dict(upd, alice=jax.tree_util.tree_map(lambda u: u * (1.0 - frozen), upd['alice']))
  ab = optax.apply_updates(st['ab'], upd)
  st = dict(st, ab=ab, ab_opt=ab_opt)
  if eve is not None:
    ep, eo = st['eve'], st['eve_opt']
    for kk in keys[1:-1]:
      p, k = draw(kk, args.batch)
      c = jax.lax.stop_gradient(enc_view(ab, p, k)[1])
      rk = jax.random.fold_in(kk, 1)
      g = jax.vmap(jax.grad(lambda e: jnp.sum(eve_ce(e, p, c, k, rk))))(ep)
      u, eo = jax.vmap(opt.update)(g, eo, ep)
      ep = optax.apply_updates(ep, u)
    st = dict(st, eve=ep, eve_opt=eo)
  return st, aux


def maybe_reset(st, key, i):
  if eve is None or not args.reset:
    return st
  which = (i // args.reset) % args.eves
  fresh = jax.vmap(eve.init)(jax.random.split(key, args.eves))
  fo = jax.vmap(opt.init)(fresh)
  due = (i % args.reset == 0) & (i > 0)
  pick = lambda old, new: jnp.where(due, old.at[which].set(new[which]), old)
  return dict(st, eve=jax.tree_util.tree_map(pick, st['eve'], fresh),
              eve_opt=jax.tree_util.tree_map(pick, st['eve_opt'], fo))


@functools.partial(jax.jit, static_argnums=3)
def chunk(st, seed_key, first, n):
  def body(st, i):
    frozen = jnp.where((args.freeze > 0) & (i >= args.freeze), 1.0, 0.0)
    st = maybe_reset(st, jax.random.fold_in(jax.random.fold_in(seed_key, 7), i), i)
    w = jnp.where(i >= args.warm, args.weight, 0.0)
    if args.weight2 >= 0:
      w = jnp.where(i >= args.switch, args.weight2, w)
    st, aux = step(st, jax.random.fold_in(seed_key, i), frozen, w)
    return st, aux
  return jax.lax.scan(body, st, first + jnp.arange(n))


ALLK = key_search.all_keys(N)


@jax.jit
def cond_entropy(ab, p):
  """H(C | P = p) over all keys, per plaintext p [M, N], and Bob's exact rate over all keys."""
  def one(pp):
    c = enc(ab, jnp.broadcast_to(pp, ALLK.shape), ALLK)
    codes = key_search.plaintext_codes(c)[:, 0]
    s = jnp.sort(codes)
    starts = jnp.concatenate([jnp.ones(1, bool), s[1:] != s[:-1]])
    grp = jnp.cumsum(starts) - 1
    counts = jax.ops.segment_sum(jnp.ones_like(s, jnp.float32), grp, num_segments=s.shape[0])
    h = key_search.entropy_bits(counts)
    ok = jnp.mean(jnp.all((dec(ab, c, ALLK) > 0) == (pp > 0), -1))
    return h, ok
  return jax.lax.map(one, p)


def main():
  seed_keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.PRNGKey(0), i))(
      jnp.arange(args.seeds))
  st = jax.vmap(init)(seed_keys)
  vchunk = jax.vmap(chunk, (0, 0, None, None))
  tp = bits.random_bits(jax.random.PRNGKey(99), (4, N))
  t0 = time.time()
  for first in range(0, args.steps, args.every):
    st, aux = vchunk(st, seed_keys, first, args.every)
    bob_b, eterm = jax.device_get(aux)
    hs, oks = [], []
    for s in range(args.seeds):
      ab = jax.tree_util.tree_map(lambda x: x[s], st['ab'])
      h, ok = cond_entropy(ab, tp)
      hs.append(float(np.min(h))); oks.append(float(np.mean(ok)))
    print(f'step {first + args.every:6d} {time.time() - t0:6.0f}s | bob L1 '
          + ' '.join(f'{b:.3f}' for b in bob_b[:, -50:].mean(1))
          + ' | eve term ' + ' '.join(f'{e:.3f}' for e in eterm[:, -50:].mean(1))
          + ' | H(C|P) min ' + ' '.join(f'{h:5.2f}' for h in hs)
          + ' | bob exact ' + ' '.join(f'{o:.3f}' for o in oks), flush=True)
  if args.save:
    np.save(args.save, jax.device_get(st['ab']), allow_pickle=True)


main()
