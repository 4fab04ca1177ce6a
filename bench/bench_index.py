"""Annoy index benchmark (JSON lines): build time, peak RSS, recall@10 vs exact cosine, queries/s.

Two data sets:
- "real": the 9,000 catalog photos embedded by the current backbone (computed once, cached as .npy);
- "synthetic": N vectors made from the real ones: each is a random mix of two real vectors (weights 0.6-1.0 / rest)
  plus isotropic Gaussian noise at 0.35x the vector norm, re-normalised. That keeps the real embeddings' anisotropy
  and cluster structure (so PCA and Annoy behave as on real catalogs) while making N distinct items.
Queries are held out: perturbed copies of random items (not the items themselves), ground truth by exact search.

Usage: .venv/bin/python bench/bench_index.py [--n 1000000] [--configs default|sweep] [--skip-real]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # queries measured as a web worker runs them (one thread)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from config.shared import SHARED_CATALOG_IMAGES
from embeddings.engine.index import AnnoyCatalogView, IndexParams, VersionWriter  # noqa: E402

CATALOG = SHARED_CATALOG_IMAGES
CACHE = Path(tempfile.gettempdir()) / "lookaway-bench"
QUERIES = 200
K = 10


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_vectors() -> np.ndarray:
    """The catalog's vectors by the configured backbone (embedded once, then cached)."""
    import django

    django.setup()
    from embeddings.engine.pipeline import embed_files
    from embeddings.services.embedding import load_backbone

    backbone = load_backbone()
    path = CACHE / f"catalog-{backbone.version.replace('/', '_')}.npy"
    if path.exists():
        return np.load(path)
    sources = sorted(str(p) for p in CATALOG.glob("*.jpg"))
    vectors = np.zeros((len(sources), backbone.dim), np.float32)
    started = time.perf_counter()
    for i, features in embed_files(backbone, sources, 32):
        if not isinstance(features, Exception):
            vectors[i] = features.vector
    emit(bench="embed_catalog", images=len(sources), seconds=round(time.perf_counter() - started, 1))
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def synthetic(base: np.ndarray, n: int, path: Path, seed: int = 0) -> np.ndarray:
    """n synthetic vectors derived from `base`, written chunk by chunk to an .npy memmap."""
    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, base.shape[1]))
    for start in range(0, n, 50_000):
        m = min(50_000, n - start)
        a, b = base[rng.integers(0, len(base), m)], base[rng.integers(0, len(base), m)]
        w = rng.uniform(0.6, 1.0, (m, 1)).astype(np.float32)
        mixed = w * a + (1 - w) * b
        mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
        mixed += 0.35 * rng.normal(size=mixed.shape).astype(np.float32) / np.sqrt(base.shape[1])
        out[start : start + m] = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    out.flush()
    return np.load(path, mmap_mode="r")


def queries_for(vectors: np.ndarray, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q = np.asarray(vectors[np.sort(rng.choice(len(vectors), QUERIES, replace=False))], dtype=np.float32)
    q = q + 0.2 * rng.normal(size=q.shape).astype(np.float32) / np.sqrt(q.shape[1])
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def exact_top(vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Ground truth: exact top-K rows by cosine, in chunks."""
    best_sims = np.full((len(queries), K), -np.inf, np.float32)
    best_rows = np.zeros((len(queries), K), np.int64)
    for start in range(0, len(vectors), 100_000):
        sims = queries @ np.asarray(vectors[start : start + 100_000]).T
        rows = np.argpartition(-sims, K - 1, axis=1)[:, :K]
        cand_s = np.concatenate([best_sims, np.take_along_axis(sims, rows, 1)], axis=1)
        cand_r = np.concatenate([best_rows, rows + start], axis=1)
        keep = np.argsort(-cand_s, axis=1)[:, :K]
        best_sims, best_rows = np.take_along_axis(cand_s, keep, 1), np.take_along_axis(cand_r, keep, 1)
    return best_rows


def run(dataset: str, vectors: np.ndarray, build: IndexParams, probes: list[tuple[int, int]], truth, queries) -> None:
    """Build once with `build`, then measure recall and speed for each (search_k, rerank) probe."""
    n, dim = vectors.shape
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        writer = VersionWriter(Path(tmp), capacity=n, dim=dim, spatial_shape=(1, 1, 1), colour_shape=(1, 1, 3))
        for start in range(0, n, 50_000):
            chunk = np.asarray(vectors[start : start + 50_000])
            m = len(chunk)
            writer.append(np.arange(start, start + m), chunk, np.zeros((m, 1, 1, 1)), np.zeros((m, 1, 1, 3)))
        rss_before = peak_rss_mb()
        started = time.perf_counter()
        writer.finish(build, version="bench", backbone_version="bench")
        build_seconds = time.perf_counter() - started
        del writer
        for search_k, rerank in probes:
            view = AnnoyCatalogView(tmp, search_k=search_k)
            view.rerank = rerank
            hits = 0
            started = time.perf_counter()
            for q, want in zip(queries, truth, strict=True):
                ids, _ = view.search(q, K)
                hits += len(set(ids.tolist()) & set(want.tolist()))
            elapsed = time.perf_counter() - started
            emit(
                bench="annoy_index",
                dataset=dataset,
                n=n,
                dim=dim,
                trees=build.trees,
                pca_dim=build.pca_dim,
                on_disk_build=build.on_disk_build,
                build_seconds=round(build_seconds, 1),
                index_mb=round((Path(tmp) / "index.ann").stat().st_size / 2**20, 1),
                peak_rss_mb_before_build=round(rss_before),
                peak_rss_mb_after_build=round(peak_rss_mb()),
                search_k=search_k,
                rerank=rerank,
                recall_at_10=round(hits / (len(queries) * K), 4),
                queries_per_s=round(len(queries) / elapsed, 1),
                ms_per_query=round(1000 * elapsed / len(queries), 2),
            )


PROBES = [(5000, 100), (5000, 300), (20000, 300)]
CONFIGS = {
    "default": [(IndexParams(trees=50, pca_dim=256), PROBES)],
    "compare": [(IndexParams(trees=50), PROBES), (IndexParams(trees=50, pca_dim=256), PROBES)],
    "pca": [(IndexParams(trees=50, pca_dim=256), PROBES + [(40000, 500)])],
    "full": [(IndexParams(trees=50), PROBES)],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="synthetic vectors (0: real catalog only)")
    parser.add_argument("--configs", choices=sorted(CONFIGS), default="default")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--base", type=Path, help="real vectors (.npy) to use instead of embedding the catalog")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    base = np.load(args.base) if args.base else real_vectors()
    base = base[np.linalg.norm(base, axis=1) > 0]
    if not args.skip_real:
        queries = queries_for(base)
        truth = exact_top(base, queries)
        for build, probes in CONFIGS[args.configs]:
            run("real", base, build, probes, truth, queries)
    if args.n:
        with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
            vectors = synthetic(base, args.n, Path(tmp) / "synthetic.npy")
            queries = queries_for(vectors)
            truth = exact_top(vectors, queries)
            for build, probes in CONFIGS[args.configs]:
                run("synthetic", vectors, build, probes, truth, queries)


if __name__ == "__main__":
    main()
