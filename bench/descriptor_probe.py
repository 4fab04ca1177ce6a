"""Probe (tuning seed 11 only): after one feedback, how well do per-cell descriptors rank the target among its kind?

Usage: python bench/descriptor_probe.py [episodes] [features-cache] [catalog-dir]. Prints, per shopper
and family, the mean share of same-kind products ranked above the target by each feature (lower is better). It chose
the shape grid and the max-of-contrasts rule of the engine (docs/ENGINE.md); its edge descriptor is the first draft
of embeddings/engine/cell_shapes.shape_grid (the same numbers to 2e-4).
"""
import sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np
from pathlib import Path
from PIL import Image
from evaluation.data import load_catalog_dir
from evaluation.episodes import draw_episodes
from evaluation.shoppers.registry import load_shopper
from embeddings.engine.masking import cell_coverage
from embeddings.engine.ranking.scoring import pair_contrast, foreground_cells
from evaluation.shoppers.pixels import rgb_to_lab

CACHE = Path(sys.argv[2] if len(sys.argv) > 2 else "/work/evalcache")  # manage.py evaluate --features-cache
cat = load_catalog_dir(sys.argv[3] if len(sys.argv) > 3 else "../shared/catalog")
feat = np.load(sorted(CACHE.glob("features-*.npz"))[0])
ids = feat["product_ids"]; row = {int(p): i for i, p in enumerate(ids)}
V = feat["vectors"].astype(np.float32); S = feat["spatial"].astype(np.float32); C = feat["colours"].astype(np.float32)
G = 7

def sobel(L):
    p = np.pad(L, 1, mode="edge")
    gx = (p[:-2, 2:] + 2*p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2*p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2*p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2*p[:-2, 1:-1] + p[:-2, 2:])
    return gx, gy

def edge_desc(rgb, bins=6):
    lab = rgb_to_lab(rgb)
    gxs, gys = zip(*(sobel(lab[..., i]) for i in range(3)))
    mags = [np.hypot(a, b) for a, b in zip(gxs, gys)]
    k = np.argmax(np.stack(mags), axis=0)  # strongest channel per pixel
    gx = np.choose(k, gxs); gy = np.choose(k, gys); mag = np.choose(k, mags)
    ang = (np.arctan2(gy, gx) % np.pi) / np.pi * bins
    lo = np.floor(ang - 0.5); share = ang - 0.5 - lo; lo = lo.astype(int) % bins; hi = (lo + 1) % bins
    size = rgb.shape[0]; edges = np.linspace(0, size, G + 1).round().astype(int)
    cell_r = np.searchsorted(edges, np.arange(size), side="right") - 1
    rr, cc = np.meshgrid(cell_r, cell_r, indexing="ij")
    base = ((rr * G + cc) * bins).ravel()
    h = np.bincount(base + lo.ravel(), mag.ravel() * (1 - share.ravel()), G*G*bins)
    h += np.bincount(base + hi.ravel(), mag.ravel() * share.ravel(), G*G*bins)
    h = h.reshape(G, G, bins)
    area = np.bincount((rr*G+cc).ravel(), minlength=G*G).reshape(G, G, 1)
    h = h / area  # mean magnitude per pixel per orientation
    energy = h.sum(-1, keepdims=True)
    orient = h / np.maximum(energy, 20.0)  # orientation shares, faint cells near 0
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    fg = ((lab[..., 0] < 95) | (chroma > 8)).astype(np.float32)
    fill = np.bincount((rr*G+cc).ravel(), fg.ravel(), G*G).reshape(G, G, 1) / area
    tex = np.log1p(energy) / 5.0
    return np.concatenate([orient, tex, fill], -1).astype(np.float32)

ef = CACHE / "probe_edges.npz"
if ef.exists():
    E = np.load(ef)["E"]
else:
    t = time.time()
    E = np.stack([edge_desc(np.asarray(Image.open(cat.path(p)).convert("RGB"))) for p in ids])
    np.savez(ef, E=E); print("edges", time.time() - t)

kind = np.char.add(np.char.add(cat.article_type.astype(str), "|"), cat.gender.astype(str))
Vn = V / np.linalg.norm(V, axis=1, keepdims=True)

def features_for(s, w, cand):
    """per-candidate features given seed row s, 7x7 weights w, candidate rows."""
    fg = foreground_cells(C[s], 95, 8)
    inside = w * fg
    out = fg * (1 - w)
    f = {}
    f["cos"] = Vn[cand] @ Vn[s]
    dc = np.linalg.norm(C[cand] - C[s], axis=-1)
    f["pc_col"] = pair_contrast(dc, inside, out)
    Sn = S / 1.0
    ds = np.linalg.norm(S[cand] - S[s], axis=-1)
    f["pc_cnn"] = pair_contrast(ds, inside, out)
    de = np.linalg.norm(E[cand] - E[s], axis=-1)
    f["pc_edge"] = pair_contrast(de, inside, out)
    dshape = np.linalg.norm(E[cand][..., :-2] - E[s][..., :-2], axis=-1) + np.abs(E[cand][..., -1]-E[s][..., -1])
    f["pc_shape"] = pair_contrast(dshape, inside, out)
    osum = max(out.sum(), 1e-6)
    f["out_col"] = (dc * out).sum((1, 2)) / osum / 100
    f["out_edge"] = (de * out).sum((1, 2)) / osum
    f["out_cnn"] = (ds * out).sum((1, 2)) / osum / 10
    isum = max(inside.sum(), 1e-6)
    f["in_col"] = (dc * inside).sum((1, 2)) / isum / 100
    f["in_edge"] = (de * inside).sum((1, 2)) / isum
    return f

def run(shopper_name, family, n, seed):
    sh = load_shopper(shopper_name, cat, CACHE)
    eps = draw_episodes(cat, n, seed, family)
    rows = []
    for ep in eps:
        s, t = row[ep.start], row[ep.target]
        rng = np.random.default_rng([seed, ep.index, 0])
        mask = sh.mask(ep.start, ep.target, rng)
        w = cell_coverage(mask, G)
        cand = np.flatnonzero((kind == kind[s]) & (np.arange(len(ids)) != s))
        f = features_for(s, w, cand)
        target_pos = int(np.flatnonzero(cand == t)[0])
        looks = sh.looks(ids[cand], ep.target)
        rows.append((f, target_pos, looks))
    return rows

def pct_rank(score, pos):
    return float((score > score[pos]).mean())

if __name__ == "__main__":
    import itertools, json
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    data = {}
    for shn in ["colour", "structure"]:
        for fam in ["standard", "same-colour"]:
            data[(shn, fam)] = run(shn, fam, n, 11)
    import pickle; pickle.dump(data, open(CACHE / "probe_rows.pkl", "wb"))
    names = list(data[("colour", "standard")][0][0].keys())
    for key, rows in data.items():
        line = []
        for nm in names:
            sgn = -1 if nm.startswith("out") else 1
            line.append(f"{nm}={np.mean([pct_rank(sgn*f[nm], p) for f, p, _ in rows]):.3f}")
        print(key, " ".join(line))
