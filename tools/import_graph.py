#!/usr/bin/env python3
"""The import graph of src/: files, `crate::`/`super::` paths between them, the strongly connected
components (import circles), and a greedy feedback arc set (the imports that run back up)."""
import os, re, sys
from collections import defaultdict
root = sys.argv[1] if len(sys.argv) > 1 else 'src'
files = {}
for d, _, fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'):
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)[:-3]
            parts = rel.split(os.sep)
            if parts[-1] in ('mod', 'lib', 'main'):
                parts = parts[:-1]
            files[tuple(parts)] = os.path.relpath(p, root)
def strip(src):
    src = re.sub(r'//[^\n]*', '', src)
    # drop #[cfg(test)] mod tests { ... } at the end
    m = re.search(r'#\[cfg\(test\)\]\s*mod \w+ \{', src)
    if m: src = src[:m.start()]
    return src
def resolve(path):
    for n in range(len(path), 0, -1):
        if tuple(path[:n]) in files:
            return tuple(path[:n])
    return None
edges = defaultdict(set)
for mod, f in files.items():
    if mod == () : continue
    src = strip(open(os.path.join(root, f)).read())
    is_dir_mod = os.path.basename(f) == 'mod.rs'
    base_for_super = mod[:-1] if not is_dir_mod else mod[:-1]
    # expand use-trees
    for m in re.finditer(r'\b(crate|super)((?:::\w+)+)(::\{([^;]*?)\})?', src, re.S):
        head, rest, _, tree = m.groups()
        segs = [s for s in rest.split('::') if s]
        if head == 'crate': prefix = []
        else:
            prefix = list(mod[:-1])
            while segs and segs[0] == 'super':
                prefix = prefix[:-1]; segs = segs[1:]
        paths = [prefix + segs]
        if tree:
            for item in re.split(r',', re.sub(r'\{[^{}]*\}', '', tree)):
                item = item.strip().split(' as ')[0].strip()
                if item:
                    paths.append(prefix + segs + [s for s in item.split('::') if s])
        for p in paths:
            t = resolve(p)
            if t is not None and t != mod and t != ():
                edges[mod].add(t)
# Tarjan
idx = {}; low = {}; st = []; on = set(); sccs = []; c = [0]
sys.setrecursionlimit(10000)
def strong(v):
    idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in edges[v]:
        if w not in idx: strong(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        sccs.append(comp)
for v in list(files):
    if v != () and v not in idx: strong(v)
name = lambda m: files[m]
big = [s for s in sccs if len(s) > 1]
def fas(comp):
    comp = set(comp)
    E = {(a, b) for a in comp for b in edges[a] if b in comp}
    nodes = set(comp); s1 = []; s2 = []
    while nodes:
        changed = True
        while changed:
            changed = False
            for n in list(nodes):
                if not any(a == n and b in nodes for a, b in E):
                    s2.insert(0, n); nodes.discard(n); changed = True
            for n in list(nodes):
                if not any(b == n and a in nodes for a, b in E):
                    s1.append(n); nodes.discard(n); changed = True
        if nodes:
            n = max(nodes, key=lambda n: sum(1 for a, b in E if a == n and b in nodes) - sum(1 for a, b in E if b == n and a in nodes))
            s1.append(n); nodes.discard(n)
    order = {n: i for i, n in enumerate(s1 + s2)}
    return sorted((a, b) for a, b in E if order[a] > order[b])
total_back = 0
for comp in sorted(big, key=len, reverse=True):
    back = fas(comp)
    total_back += len(back)
    print(f'circle of {len(comp)} files: ' + ', '.join(sorted(name(m) for m in comp)))
    for a, b in back:
        print(f'  back up: {name(a)} -> {name(b)}')
print(f'largest circle: {max((len(s) for s in big), default=0)} files; circles: {len(big)}; imports that run back up: {total_back}')
