"""Run from the repository root: PYTHONPATH=. python results/perfect32_per_target_root6_cpu/divergence/replay.py (about 22 min on the 2-core CPU beside a training run).
Root 6 seeds 6 and 7 of perfect32:logistic_bob_per_target on two CPU devices (one seed
each, as main.py's run had 4 each), checked against the run's metrics; keeps the state
before the chunk in which seed 6 diverges."""
import csv, pickle, time
from adversarial_crypto.training import sharding
print('devices', sharding.one_device_per_core(), flush=True)
import jax, numpy as np
from adversarial_crypto import config as C
from adversarial_crypto.training import runner as runner_lib
from configs import perfect32
SEEDS = [6, 7]
cfg = C.complete(perfect32.get_config('logistic_bob_per_target')); cfg.seed, cfg.num_seeds = 6, 8
full = jax.device_get(runner_lib.make_runner(cfg).init())
cfg2 = C.complete(perfect32.get_config('logistic_bob_per_target')); cfg2.seed, cfg2.num_seeds = 6, 2
r2 = runner_lib.make_runner(cfg2)
pick = lambda x: np.asarray(x)[SEEDS]
state = full._replace(train=jax.tree_util.tree_map(pick, full.train), seed_keys=pick(full.seed_keys),
                      steps=pick(full.steps), stopped=pick(full.stopped),
                      measure=jax.tree_util.tree_map(pick, full.measure))
template = jax.eval_shape(r2.init)
run = sharding.put_like(state, template)
want = {(int(r['step']), int(r['seed'])): (r['bob_bits'], r['eve_bits']) for r in csv.DictReader(
    open('results/perfect32_per_target_root6_cpu/metrics.csv'))}
t0 = time.time()
for chunk in range(14):
  prev = jax.device_get(run)
  run = r2.run_chunk(run, 500)
  host = jax.device_get(run)
  step = 500 * (chunk + 1)
  for j, s in enumerate(SEEDS):
    got = (f'{float(host.measure.bob_bits[j]):.4f}', f'{float(host.measure.eve_bits[j]):.4f}')
    print(step, s, got, 'run:', want.get((step, s)), 'same' if got == want.get((step, s)) else 'DIFFERENT', f'{time.time() - t0:.0f}s', flush=True)
  if runner_lib.diverged(host)[0]:
    pickle.dump(prev, open('/tmp/before6500.pkl', 'wb'))
    print('seed 6 diverged in this chunk; state before saved', flush=True)
    break
