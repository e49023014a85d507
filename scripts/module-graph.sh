#!/usr/bin/env bash
# The module graph of a crate's source tree, one line per file-module with the
# modules it uses, then every import cycle between files; exits 1 when there is
# one. An edge is a `mod x;` declaration (the parent uses its child) or a path
# through `crate::`, `super::` or `self::` in code (comments and the inline
# `#[cfg(test)] mod tests` block left out); a path ending in an item counts
# as a use of the module that holds the item (an item the crate root
# re-exports counts as its defining module's). Files over 600 lines are named
# too (a file that long says why at its top).
# Usage (from anywhere): bash scripts/module-graph.sh [SRC_DIR]   (default: cli/src)
# Needs: python3.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-cli/src}
[[ -d $src ]] || { printf 'module-graph.sh: no directory %s\n' "$src" >&2; exit 2; }

exec python3 - "$src" <<'PY'
import re
import sys
from pathlib import Path

src = Path(sys.argv[1])
roots = {"main.rs", "lib.rs"}


def module_of(path: Path) -> tuple:
    rel = path.relative_to(src)
    parts = list(rel.parts)
    if len(parts) == 1 and parts[0] in roots:
        return ()
    last = parts.pop()
    if last != "mod.rs":
        parts.append(last[:-3])
    return tuple(parts)


def name(m: tuple) -> str:
    return "crate" + "".join("::" + p for p in m)


def code_of(text: str) -> str:
    """The file without comments and without its inline test module."""
    lines = [l for l in text.splitlines() if not l.lstrip().startswith("//")]
    out, skip, depth = [], False, 0
    for i, line in enumerate(lines):
        if not skip and line.strip() == "#[cfg(test)]" and i + 1 < len(lines) \
                and re.match(r"\s*mod \w+ \{", lines[i + 1]):
            skip, depth = True, 0
            continue
        if skip:
            depth += line.count("{") - line.count("}")
            if depth <= 0 and "}" in line:
                skip = False
            continue
        out.append(re.sub(r"\s//.*$", "", line))
    return "\n".join(out)


files = sorted(p for p in src.rglob("*.rs"))
modules = {module_of(p): p for p in files}


def resolve(base: tuple, segments: list) -> tuple:
    """The longest known module along `segments`, starting from `base`."""
    best, cur = base, base
    for s in segments:
        cur = cur + (s,)
        if cur in modules:
            best = cur
        else:
            break
    return best


# Items the crate root re-exports (`pub use store::Store;`): a path to one of
# them is a use of the module that defines it, not of the root.
reexports = {}
if () in modules:
    root_code = code_of(modules[()].read_text(encoding="utf-8"))
    for path, group in re.findall(r"^\s*pub use (?:crate::)?([\w:]+?)::\{([^}]*)\};", root_code, re.M):
        for item in group.split(","):
            item = item.strip().split(" as ")[-1].strip()
            if item and item != "self":
                reexports[item] = resolve((), path.split("::"))
    for path, item, alias in re.findall(r"^\s*pub use (?:crate::)?([\w:]+)::(\w+)(?: as (\w+))?;", root_code, re.M):
        reexports[alias or item] = resolve((), path.split("::"))


def target(base: tuple, segments: list) -> tuple:
    t = resolve(base, segments)
    if t == () and segments and segments[0] in reexports:
        return reexports[segments[0]]
    return t


def with_inline_depth(text: str):
    """(line, how many inline `mod x { }` blocks it is in) for each line."""
    out, stack, depth = [], [], 0
    for line in text.split("\n"):
        bare = re.sub(r"'(?:\\.|[^'\\])'|\"(?:\\.|[^\"\\])*\"", "", line)
        if re.match(r"\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{", bare):
            stack.append(depth)
        out.append((line, len(stack)))
        depth += bare.count("{") - bare.count("}")
        while stack and depth <= stack[-1]:
            stack.pop()
    return out


edges = {m: set() for m in modules}
for m, path in modules.items():
    text = code_of(path.read_text(encoding="utf-8"))
    for child in re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", text, re.M):
        edges[m].add(m + (child,))
    # `crate::a::b`, `super::a`, `self::a`, and groups `crate::{a, b::c}`;
    # inside an inline `mod x { }` the first `super` is this file's module.
    refs = [(a, r, k) for line, k in with_inline_depth(text)
            for a, r in re.findall(r"\b(crate|super|self)((?:::(?:\w+|\{[^}]*\}))+)", line)]
    for anchor, rest, inline in refs:
        if anchor == "crate":
            base = ()
        elif anchor == "self" or inline:
            base = m
        else:
            base = m[:-1]
        head, _, tail = rest[2:].partition("::{")
        segs = [s for s in head.split("::") if s]
        while segs and segs[0] == "super":
            base, segs = base[:-1], segs[1:]
        if segs and segs[-1].startswith("{"):
            tail, segs = segs[-1][1:-1], segs[:-1]
        groups = [g.strip() for g in tail.rstrip("}").split(",") if g.strip()] if tail else []
        prefix = target(base, segs) if segs else base
        targets = [target(prefix, g.split("::")) for g in groups] or [prefix]
        if segs and groups and prefix != base + tuple(segs):
            targets = [prefix]
        for t in targets:
            if t != m:
                edges[m].add(t)

for m in sorted(modules):
    uses = ", ".join(name(t) for t in sorted(edges[m])) or "-"
    print(f"{name(m):<40} {modules[m].relative_to(src)!s:<34} -> {uses}")

# Tarjan's strongly connected components: a component of more than one
# module is an import cycle.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in edges[v]:
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
        sccs.append(comp)


sys.setrecursionlimit(10000)
for v in sorted(modules):
    if v not in index:
        visit(v)
cycles = [sorted(c) for c in sccs if len(c) > 1]
long_files = [(p, n) for p in files if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600]
print()
for p, n in long_files:
    print(f"over 600 lines: {p} ({n})")
if cycles:
    for c in cycles:
        print("cycle: " + " <-> ".join(name(m) for m in c))
    sys.exit(1)
print(f"no import cycles between the {len(modules)} modules of {src}")
PY
