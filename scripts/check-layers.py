#!/usr/bin/env python3
"""The agent's layering rules, checked over its includes.

A module is a folder: agent/<module>/ and include/composewatch/<module>/. An include of
"composewatch/<other>/..." is an edge module -> other. The rules:

  - no cycle between modules;
  - docker, cgroup, compose and config never include state or engine;
  - state includes no module but docker (log, the leaf every module may use, aside);
  - the features (autoheal, disk, images, metrics, prune) never include the layers above
    them: jobs (the long-lived jobs), commands (the one-shot commands), web (the routes and
    the status page), app;
  - jobs, commands and web never include each other (web gets health as a function);
  - nothing but app/ (and agent/main.cpp) includes app/.

Prints every edge that breaks a rule with the file and line that makes it, and every
cycle with one include per edge; exits 1 when there is any.

    scripts/check-layers.py [--graph]      --graph also prints each module's dependencies
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
INCLUDE = re.compile(r'^\s*#\s*include\s+"composewatch/([a-z_]+)/')

# The modules every module may include: leaves with no dependency of their own.
UTILITIES = {"log"}
NEVER = {m: {"state", "engine"} for m in ("docker", "cgroup", "compose", "config")}
ABOVE_FEATURES = {"jobs", "commands", "web"}
NEVER.update({m: set(ABOVE_FEATURES) for m in ("autoheal", "disk", "images", "metrics", "prune")})
NEVER.update({m: ABOVE_FEATURES - {m} for m in ABOVE_FEATURES})
ONLY = {"state": {"docker"}}
TOP = "app"


def sources():
    """(module, path) of every source and header of a module."""
    for base in (ROOT / "agent", ROOT / "include" / "composewatch"):
        for path in sorted(base.rglob("*")):
            if path.suffix not in (".h", ".hpp", ".cpp") or not path.is_file():
                continue
            rel = path.relative_to(base)
            if len(rel.parts) < 2:
                continue  # agent/main.cpp, include/composewatch/version.h: above every module
            yield rel.parts[0], path


def edges():
    """{(from, to): [(path, line)]} of every include of another module."""
    found = {}
    for module, path in sources():
        for n, text in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(text)
            if m and m.group(1) != module:
                found.setdefault((module, m.group(1)), []).append((path.relative_to(ROOT), n))
    return found


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    found = edges()
    graph = {}
    for a, b in found:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    broken = []
    for (a, b), where in sorted(found.items()):
        why = None
        if b in NEVER.get(a, ()):
            why = f"{a} never includes {b}"
        elif a in ONLY and b not in ONLY[a] | UTILITIES:
            why = f"{a} includes only {', '.join(sorted(ONLY[a] | UTILITIES))}"
        elif b == TOP:
            why = f"nothing below {TOP}/ includes {TOP}/"
        if why:
            broken.append(why)
            print(f"{where[0][0]}:{where[0][1]}: {a} -> {b}: {why}" +
                  (f" (and {len(where) - 1} more includes)" if len(where) > 1 else ""))
    for comp in cycles(graph):
        broken.append("cycle")
        print(f"cycle: {' <-> '.join(comp)}")
        for a in comp:
            for b in comp:
                if (a, b) in found:
                    path, line = found[(a, b)][0]
                    print(f"  {path}:{line}: {a} -> {b}")
    if "--graph" in sys.argv[1:]:
        for a in sorted(graph):
            print(f"{a}: {' '.join(sorted(graph[a])) or '-'}")
    if broken:
        print(f"check-layers: {len(broken)} rule(s) broken", file=sys.stderr)
        return 1
    print("check-layers: no cycle, every layering rule holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
