#!/usr/bin/env python3
"""The files of src/lib call only downward: from the symbols each object
file of build/lib defines and uses (nm), the graph "file A calls file B" has
no cycle. Prints the layers bottom-up (each file calls only files of lower
layers), or the cycle and the symbols that close it; exit 1 on a cycle.
Usage: tests/layers.py BUILD_LIB_DIR"""
import glob
import os
import subprocess
import sys


def graph(libdir):
    defs, uses = {}, {}
    objs = sorted(glob.glob(os.path.join(libdir, "*.o")))
    for o in objs:
        name = os.path.basename(o)[:-2] + ".c"
        out = subprocess.run(["nm", o], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "TDRBG":
                defs[f[2]] = name
            elif len(f) == 2 and f[0] == "U":
                uses.setdefault(name, set()).add(f[1])
    g = {os.path.basename(o)[:-2] + ".c": {} for o in objs}
    for name, syms in uses.items():
        for s in syms:
            d = defs.get(s)
            if d and d != name:
                g[name].setdefault(d, []).append(s)
    return g


def find_cycle(g):
    state, stack = {}, []

    def dfs(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(g[n]):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if not state.get(m):
                c = dfs(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(g):
        if not state.get(n):
            c = dfs(n)
            if c:
                return c
    return None


def main():
    g = graph(sys.argv[1] if len(sys.argv) > 1 else "build/lib")
    if not g:
        print("no object files", file=sys.stderr)
        return 1
    c = find_cycle(g)
    if c:
        hops = ", ".join("%s -> %s (%s)" % (a, b, " ".join(sorted(g[a][b])[:3]))
                         for a, b in zip(c, c[1:]))
        print("cycle: " + hops)
        return 1
    layer = {}
    def depth(n):
        if n not in layer:
            layer[n] = 1 + max((depth(m) for m in g[n]), default=-1)
        return layer[n]
    for n in g:
        depth(n)
    for lv in range(max(layer.values()) + 1):
        print("layer %d: %s" % (lv, " ".join(sorted(n for n in g if layer[n] == lv))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
