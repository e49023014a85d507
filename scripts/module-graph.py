#!/usr/bin/env python3
"""The import graph of a crate's source files, and its cycles.

Usage: python3 scripts/module-graph.py [--dot] [SRC_DIR ...]
       (default: src cli/src; each directory is one crate, rooted at lib.rs or main.rs)

Each .rs file is a node. An edge A -> B means A names an item defined in B
(`use crate::...`, `use super::...`, or a `crate::...` path in code). A path
that reaches a module's mod.rs through its `pub use child::Item` re-exports is
followed to the child that defines the item, and a mod.rs's own re-exports of
its children are its table of contents, not dependencies. What is left is the
dependency between files: it must have no cycle, so each file can be read
knowing only the files below it.

Prints every cycle found and exits 1 if there is one; with --dot, prints the
graph in Graphviz's dot language instead (`| dot -Tsvg > modules.svg`).
"""

import re
import sys
from pathlib import Path

USE_RE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.M)
PATH_RE = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
MOD_RE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([a-z_0-9]+)\s*;", re.M)
REEXPORT_RE = re.compile(r"^\s*pub(?:\([^)]*\))?\s+use\s+([a-z_0-9]+)::([^;]+);", re.M)


def strip_comments(text):
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def strip_tests(text):
    """Drops inline `#[cfg(test)] mod tests { ... }` blocks: test code may use anything."""
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i : m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def expand_use_tree(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e'] (aliases dropped)."""
    tree = re.sub(r"\s+", " ", tree.strip())
    m = re.match(r"^([^{]*?)(?:::)?\{(.*)\}$", tree)
    if not m:
        return [re.sub(r"\s+as\s+\w+$", "", tree)]
    prefix, inner = m.group(1), m.group(2)
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        p = p.strip()
        if not p:
            continue
        for sub in expand_use_tree(p):
            if sub == "self":
                out.append(prefix)
            else:
                out.append(f"{prefix}::{sub}" if prefix else sub)
    return out


class Crate:
    def __init__(self, src):
        self.src = src
        root = src / "lib.rs" if (src / "lib.rs").exists() else src / "main.rs"
        self.files = {}  # module path tuple -> file
        self.children = {}  # file -> set of child module names
        self.reexports = {}  # file -> {item name: child module name}
        self._walk((), root)

    def _walk(self, modpath, file):
        self.files[modpath] = file
        text = strip_comments(file.read_text())
        kids = set(MOD_RE.findall(text))
        self.children[file] = kids
        re_map = {}
        for child, items in REEXPORT_RE.findall(text):
            if child in kids:
                for item in expand_use_tree(items):
                    name = item.split("::")[-1].strip()
                    re_map[name] = child
        self.reexports[file] = re_map
        base = file.parent if file.name in ("lib.rs", "main.rs", "mod.rs") else file.with_suffix("")
        for kid in kids:
            for cand in (base / f"{kid}.rs", base / kid / "mod.rs"):
                if cand.exists():
                    self._walk(modpath + (kid,), cand)
                    break

    def modpath_of(self, file):
        return next(m for m, f in self.files.items() if f == file)

    def resolve(self, segments):
        """The file defining the item at module path `segments`, or None (external)."""
        i = len(segments)
        while i >= 0 and tuple(segments[:i]) not in self.files:
            i -= 1
        if i < 0:
            return None
        file = self.files[tuple(segments[:i])]
        rest = segments[i:]
        # Follow re-exports down to the defining child.
        while rest and rest[0] in self.reexports.get(file, {}):
            child = self.reexports[file][rest[0]]
            file = self.files[self.modpath_of(file) + (child,)]
        return file

    def edges(self):
        out = {}
        for modpath, file in self.files.items():
            text = strip_tests(strip_comments(file.read_text()))
            targets = set()
            paths = []
            for tree in USE_RE.findall(text):
                paths.extend(expand_use_tree(tree))
            for m in PATH_RE.finditer(text):
                paths.append(m.group(1) + m.group(2))
            for p in paths:
                segs = [s for s in p.split("::") if s]
                if not segs or segs[0] not in ("crate", "super"):
                    continue
                # A mod.rs re-exporting its own child is its table of contents.
                if (
                    segs[0] not in ("crate", "super")
                    or (len(segs) > 1 and segs[0] != "super" and False)
                ):
                    continue
                if segs[0] == "crate":
                    abs_segs = segs[1:]
                else:
                    base = list(modpath)
                    if file.name not in ("mod.rs", "lib.rs", "main.rs"):
                        pass
                    while segs and segs[0] == "super":
                        base = base[:-1]
                        segs = segs[1:]
                    abs_segs = base + segs
                target = self.resolve(abs_segs)
                if target is None or target == file:
                    continue
                targets.add(target)
            # Re-exports of direct children from this mod.rs are containment.
            for child, _ in REEXPORT_RE.findall(text):
                cfile = self.files.get(modpath + (child,))
                if cfile in targets and not self._uses_child_outside_reexport(text, child):
                    targets.discard(cfile)
            out[file] = targets
        return out

    @staticmethod
    def _uses_child_outside_reexport(text, child):
        body = REEXPORT_RE.sub("", text)
        return re.search(rf"\b{child}::", body) is not None


def find_cycles(edges):
    """Strongly connected components with more than one file (Tarjan)."""
    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
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
                comps.append(comp)

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return comps


def main(argv):
    dot = "--dot" in argv
    dirs = [a for a in argv if not a.startswith("--")] or [d for d in ("src", "cli/src") if Path(d).is_dir()]
    all_cycles = []
    graph_lines = ["digraph modules {", "  rankdir=BT; node [shape=box, fontsize=10];"]
    for d in dirs:
        crate = Crate(Path(d))
        edges = crate.edges()
        all_cycles += [(d, c) for c in find_cycles(edges)]
        rel = lambda f: str(f.relative_to(Path(d).parent)) if Path(d).parent != Path(".") else str(f)
        for a, targets in sorted(edges.items()):
            for b in sorted(targets):
                graph_lines.append(f'  "{a}" -> "{b}";')
        if not dot:
            print(f"{d}: {len(edges)} files, {sum(len(t) for t in edges.values())} imports between them")
    graph_lines.append("}")
    if dot:
        print("\n".join(graph_lines))
    for d, comp in all_cycles:
        print(f"import cycle in {d}: " + " <-> ".join(sorted(str(f) for f in comp)), file=sys.stderr)
    if all_cycles:
        return 1
    if not dot:
        print("no import cycles")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
