"""The package's import graph: no cycles, and the layout of its subpackages.

Every module of adversarial_crypto/ is parsed with `ast` (nothing is
imported): its imports at module level and inside functions and classes, in
the forms `import a.b`, `import a.b as c`, `from a import b` and relative
`from . import b`. `from adversarial_crypto.core import recipe` names the
module adversarial_crypto.core.recipe; `from adversarial_crypto import
load_run` names the package adversarial_crypto (its __init__.py).
"""

import ast
import os

import pytest

PACKAGE = 'adversarial_crypto'
ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), PACKAGE)
# What core/ (the paper) must not depend on: the other subpackages and the config
# module; nor the package's root or its command lines, which import them.
NOT_FOR_CORE = tuple(f'{PACKAGE}.{name}' for name in
                     ('training', 'evaluation', 'analysis', 'extensions', 'config'))


def _modules():
  """{module name: path} of every .py file of the package (packages by __init__)."""
  modules = {}
  for folder, _, files in os.walk(ROOT):
    for file in files:
      if file.endswith('.py'):
        rel = os.path.relpath(os.path.join(folder, file), os.path.dirname(ROOT))
        parts = rel[:-len('.py')].split(os.sep)
        if parts[-1] == '__init__':
          parts.pop()
        modules['.'.join(parts)] = os.path.join(folder, file)
  return modules


def _imported_names(module, path):
  """(line, dotted name) of everything `module` imports, at any depth of its code.

  For `from X import y` both X.y and X are given; the caller keeps X.y if it is a
  module and X otherwise.
  """
  is_package = os.path.basename(path) == '__init__.py'
  with open(path) as f:
    tree = ast.parse(f.read(), path)
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      for alias in node.names:
        yield node.lineno, alias.name, None
    elif isinstance(node, ast.ImportFrom):
      base = node.module or ''
      if node.level:  # relative: from the module's package, up level - 1 more
        package = module.split('.') if is_package else module.split('.')[:-1]
        package = package[:len(package) - (node.level - 1)]
        base = '.'.join(package + ([base] if base else []))
      for alias in node.names:
        yield node.lineno, base, alias.name


def _import_graph():
  """{module: {imported module of the package: first line that imports it}}."""
  modules = _modules()
  graph = {}
  for module, path in modules.items():
    edges = {}
    for line, base, name in _imported_names(module, path):
      if name is not None and f'{base}.{name}' in modules:
        target = f'{base}.{name}'
      else:
        target = base
      if target.split('.')[0] != PACKAGE:
        continue
      assert target in modules, f'{path}:{line} imports {target}, which is not a module'
      if target != module:
        edges.setdefault(target, line)
    graph[module] = edges
  return graph


def _find_cycle(graph):
  """A list of modules [a, b, ..., a] that import each other in a circle, or None."""
  unvisited, on_path, done = 0, 1, 2
  state = dict.fromkeys(graph, unvisited)
  path = []

  def visit(node):
    state[node] = on_path
    path.append(node)
    for nxt in sorted(graph[node]):
      if state[nxt] == on_path:
        return path[path.index(nxt):] + [nxt]
      if state[nxt] == unvisited:
        cycle = visit(nxt)
        if cycle:
          return cycle
    path.pop()
    state[node] = done
    return None

  for node in sorted(graph):
    if state[node] == unvisited:
      cycle = visit(node)
      if cycle:
        return cycle
  return None


def _describe(graph, cycle):
  return '\n'.join(f'  {a} imports {b} (line {graph[a][b]})' for a, b in zip(cycle, cycle[1:]))


def test_the_graph_sees_every_form_of_import():
  graph = _import_graph()
  assert f'{PACKAGE}.core.recipe' in graph[f'{PACKAGE}.training.experiments']  # from a.b import c
  assert f'{PACKAGE}.config' in graph[f'{PACKAGE}.training.experiments']  # from a import b as c
  assert f'{PACKAGE}.analysis.cipher' in graph[PACKAGE]          # from a.b import function
  assert len(graph) > 30 and sum(map(len, graph.values())) > 50


def test_find_cycle_finds_a_cycle_and_only_a_cycle():
  assert _find_cycle({'a': {'b': 1}, 'b': {'c': 1}, 'c': {}}) is None
  assert _find_cycle({'a': {'b': 1, 'c': 1}, 'b': {'c': 1}, 'c': {}}) is None  # a diamond
  assert _find_cycle({'a': {'b': 1}, 'b': {'c': 1}, 'c': {'a': 1}}) == ['a', 'b', 'c', 'a']
  assert _find_cycle({'a': {'b': 1}, 'b': {'b': 1}}) == ['b', 'b']


def test_function_level_and_relative_imports_are_read(tmp_path):
  # A module whose import sits inside a function, and relative imports.
  package = tmp_path / PACKAGE
  (package / 'sub').mkdir(parents=True)
  (package / '__init__.py').write_text('')
  (package / 'sub' / '__init__.py').write_text('from . import late\n')
  (package / 'sub' / 'late.py').write_text(
      'def f():\n  import adversarial_crypto.sub.other as o\n  from ..sub import first\n')
  module = f'{PACKAGE}.sub.late'
  names = list(_imported_names(module, str(package / 'sub' / 'late.py')))
  assert names == [(2, f'{PACKAGE}.sub.other', None), (3, f'{PACKAGE}.sub', 'first')]
  names = list(_imported_names(f'{PACKAGE}.sub', str(package / 'sub' / '__init__.py')))
  assert names == [(1, f'{PACKAGE}.sub', 'late')]


def test_the_package_has_no_import_cycle():
  graph = _import_graph()
  cycle = _find_cycle(graph)
  assert cycle is None, 'import cycle:\n' + _describe(graph, cycle)


def test_core_depends_on_nothing_but_core():
  graph = _import_graph()
  core = [m for m in graph if m.startswith(f'{PACKAGE}.core.')]
  assert {f'{PACKAGE}.core.{m}' for m in ('recipe', 'symmetric', 'asymmetric', 'networks',
                                           'losses', 'bits', 'selective')} <= set(core)
  imports = [(m, t, line) for m in sorted(core) for t, line in sorted(graph[m].items())]
  bad = [f'  {m} imports {t} (line {line})' for m, t, line in imports
         if any(t == p or t.startswith(p + '.') for p in NOT_FOR_CORE)]
  assert not bad, 'core/ must not import these:\n' + '\n'.join(bad)
  # Nor anything else outside core/ (the root package and the command lines).
  outside = [f'  {m} imports {t} (line {line})' for m, t, line in imports
             if not t.startswith(f'{PACKAGE}.core.')]
  assert not outside, 'core/ imports only core/:\n' + '\n'.join(outside)


@pytest.mark.parametrize('name', ['load_run', 'encrypt', 'decrypt', 'eavesdrop', 'Run'])
def test_the_package_exposes_the_research_api(name):
  import adversarial_crypto  # pylint: disable=g-import-not-at-top
  from adversarial_crypto.analysis import cipher  # pylint: disable=g-import-not-at-top
  assert getattr(adversarial_crypto, name) is getattr(cipher, name)
  assert callable(getattr(adversarial_crypto, name))
