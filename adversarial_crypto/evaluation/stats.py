"""Success rates with exact (Clopper-Pearson) confidence intervals."""

import math


def _binomial_cdf(k, n, p):
  """P(X <= k) for X ~ Binomial(n, p)."""
  return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k + 1))


def _bisect(f, lo=0.0, hi=1.0, iters=100):
  """The root of an increasing function f on [lo, hi]."""
  for _ in range(iters):
    mid = (lo + hi) / 2
    if f(mid) < 0:
      lo = mid
    else:
      hi = mid
  return (lo + hi) / 2


def clopper_pearson(k, n, confidence=0.95):
  """Exact two-sided confidence interval of a binomial rate k/n.

  Returns:
    (lower, upper): lower solves P(X >= k | p) = alpha/2 and upper solves
    P(X <= k | p) = alpha/2, with alpha = 1 - confidence.
  """
  if not 0 <= k <= n or n <= 0:
    raise ValueError(f'need 0 <= k <= n and n > 0, got k={k}, n={n}')
  alpha = 1 - confidence
  lower = 0.0 if k == 0 else _bisect(
      lambda p: (1 - _binomial_cdf(k - 1, n, p)) - alpha / 2)
  upper = 1.0 if k == n else _bisect(
      lambda p: alpha / 2 - _binomial_cdf(k, n, p))
  return lower, upper


def rate(k, n, confidence=0.95):
  """A success count as a dict: count, n, rate and its Clopper-Pearson interval."""
  lower, upper = clopper_pearson(k, n, confidence)
  return {'count': int(k), 'n': int(n), 'rate': k / n,
          'ci_low': lower, 'ci_high': upper, 'confidence': confidence}


def format_rate(r):
  """'14/20 = 0.70 [0.46, 0.88]'."""
  return f"{r['count']}/{r['n']} = {r['rate']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]"
