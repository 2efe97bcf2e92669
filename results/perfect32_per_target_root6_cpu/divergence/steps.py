"""Run after replay.py, from the same directory: PYTHONPATH=. python results/perfect32_per_target_root6_cpu/divergence/steps.py (about 1 min).
From the state before the chunk in which root 6 seed 6 diverged: one step at a time
to the first non-finite state, then what is non-finite and how the state looked before."""
import pickle, time
from adversarial_crypto.training import sharding
print('devices', sharding.one_device_per_core(), flush=True)
import jax, numpy as np
from adversarial_crypto import config as C
from adversarial_crypto.training import runner as runner_lib
from configs import perfect32
cfg2 = C.complete(perfect32.get_config('logistic_bob_per_target')); cfg2.seed, cfg2.num_seeds = 6, 2
r2 = runner_lib.make_runner(cfg2)
template = jax.eval_shape(r2.init)
before = pickle.load(open('/tmp/before6500.pkl', 'rb'))
run = sharding.put_like(before, template)
t0 = time.time()
prev = before
for k in range(500):
  run = r2.run_chunk(run, 1)
  host = jax.device_get(run)
  if runner_lib.diverged(host)[0]:
    print('first non-finite after step', int(prev.steps[0]), '->', int(prev.steps[0]) + 1, f'{time.time() - t0:.0f}s', flush=True)
    break
  prev = host
else:
  print('no NaN in 500 single steps (the 1-step program departs from the 500-step one)')
pickle.dump((prev, host), open('/tmp/around.pkl', 'wb'))
paths = jax.tree_util.tree_leaves_with_path(host.train)
pp = dict((jax.tree_util.keystr(p), x) for p, x in jax.tree_util.tree_leaves_with_path(prev.train))
for p, x in paths:
  name = jax.tree_util.keystr(p)
  x = np.asarray(x)[0]
  if x.dtype.kind != 'f': continue
  y = np.asarray(pp[name])[0]
  bad = (~np.isfinite(x)).mean()
  extra = ''
  if y.ndim == 2 and y.shape[0] == y.shape[1] and 'alice_bob' in name:
    sv = np.linalg.svd(y.astype(np.float64), compute_uv=False); extra = f' sv min {sv[-1]:.3g} max {sv[0]:.3g}'
  print(f'{name:70s} nonfinite after {bad:.2f} | before max|x| {np.abs(y).max():.3g}{extra}')
print('measure before', jax.tree_util.tree_map(lambda v: float(np.asarray(v)[0]), prev.measure._asdict()))
