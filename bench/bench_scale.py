"""Scale benchmark (JSON lines): a synthetic catalog through the real index path, then N web processes serving it.

1. Build: N synthetic products (vector + 7x7x128 spatial map + 7x7x3 colour grid each) are streamed through the
   build service's own path: IndexStore.new_version_dir -> VersionWriter.append (chunks) -> finish (PCA, Annoy,
   checksum) -> verify_index_version -> IndexStore.set_current. Timed per phase, with the peak resident memory of
   each phase split into anonymous (heap) and file-backed pages (sampled from /proc/self/status), and the size of
   every file of the version.
2. Serve: for each W in --workers, W processes each open the current version with AnnoyCatalogView (as a web worker
   does) and run the same held-out queries: search k=10 (recall@10 against exact search), search k=200,
   features() of 350 candidates, and a Recommender.recommend call with one synthetic region dislike. While all W are
   alive the parent reads /proc/<pid>/smaps_rollup: RSS counts the shared memory-mapped index pages in every
   process, PSS divides them among the processes that map them. Then a cold-read probe: random 350-row gathers from
   vectors.npy and spatial.npy after evicting them from the page cache, with default and MADV_RANDOM advice.
3. Optional (--base-db): time and memory of embeddings.serving.live_catalog.load_fresh_view(since=None) over the
   database in DATABASE_URL, i.e. what a web process does when no index version exists; its real vectors, spatial
   maps and colour grids then seed the synthetic products.

Synthetic vectors: a base (the database's real embeddings with --base-db, vectors from --base real.npy, else random
clustered, anisotropic, non-negative 1280-d vectors with random maps and grids), each
product a random mix of two base vectors (weights 0.6-1.0 / rest) plus Gaussian noise at 0.35x the norm, like
bench_index.py. Queries: 200 perturbed copies of random products, not the products themselves.

Usage: .venv/bin/python bench/bench_scale.py [--n 100000] [--workers 1,2,4] [--dir /tmp/lookaway-scale] [--keep]
       .venv/bin/python bench/bench_scale.py --n 1000000          # the full run: ~20 GB on disk, tens of minutes
       DATABASE_URL=postgres://.../lookaway_bench .venv/bin/python bench/bench_scale.py --base-db [--n 0]
       .venv/bin/python bench/bench_scale.py --probe <version dir>/vectors.npy   # only the cold-read probe
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # queries measured as a web worker runs them (one BLAS thread)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from embeddings.engine.index import (  # noqa: E402
    AnnoyCatalogView,
    IndexParams,
    IndexStore,
    VersionWriter,
    verify_index_version,
)
from embeddings.engine.index.annoy_build import RowReader  # noqa: E402

DIM, SPATIAL, COLOURS = 1280, (7, 7, 128), (7, 7, 3)
CHUNK = 2048  # rows per append, as the build service reads them (BUILD_CHUNK_ROWS)
K = 10
SPATIAL_POOL = 2048  # distinct spatial maps reused by the products (real maps are not needed to measure memory)


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def load_avg() -> float:
    return round(os.getloadavg()[0], 2)


def status_kb(pid: int | str = "self") -> dict[str, int]:
    """Memory fields of /proc/<pid>/status in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            out[key] = int(value.split()[0])
    return out


def smaps_rollup_kb(pid: int) -> dict[str, int]:
    """Rss, Pss, Pss_Anon, Pss_File ... of a process in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, value = line.partition(":")
        out[key] = int(value.split()[0])
    return out


class PeakMemory:
    """Samples this process's RssAnon / RssFile every 0.2 s; `phase(name)` starts a new maximum."""

    def __init__(self) -> None:
        self.peaks: dict[str, dict[str, int]] = {}
        self._name = "start"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        now = status_kb()
        peak = self.peaks.setdefault(self._name, {})
        for key in ("RssAnon", "RssFile", "VmRSS"):
            peak[key] = max(peak.get(key, 0), now.get(key, 0))

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def phase(self, name: str) -> None:
        self._sample()
        self._name = name
        self._sample()

    def mb(self, name: str) -> dict[str, int]:
        peak = self.peaks.get(name, {})
        return {
            "peak_rss_mb": round(peak.get("VmRSS", 0) / 1024),
            "peak_anon_mb": round(peak.get("RssAnon", 0) / 1024),
            "peak_file_mb": round(peak.get("RssFile", 0) / 1024),
        }

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------- synthetic catalog


def synthetic_base(size: int = 9000, seed: int = 0) -> np.ndarray:
    """Clustered non-negative unit vectors with a decaying per-dimension scale (like pooled CNN features)."""
    rng = np.random.default_rng(seed)
    scale = (1.0 + np.arange(DIM)) ** -0.5
    rng.shuffle(scale)
    centres = np.abs(rng.normal(size=(300, DIM))) * scale
    base = np.abs(centres[rng.integers(0, 300, size)] + 0.6 * rng.normal(size=(size, DIM)) * scale)
    return (base / np.linalg.norm(base, axis=1, keepdims=True)).astype(np.float32)


class Catalog:
    """Deterministic synthetic products, generated chunk by chunk (nothing of size n is held in memory)."""

    def __init__(self, base: np.ndarray, seed: int = 0, spatial: np.ndarray | None = None, colours=None):
        rng = np.random.default_rng(seed + 1)
        self.base = base
        self.seed = seed
        self.name = "synthetic clusters"
        if spatial is None:
            spatial = (0.5 * rng.normal(size=(SPATIAL_POOL, *SPATIAL))).astype(np.float16)
        self.spatial_pool = spatial
        if colours is None:
            lab = rng.uniform([20, -40, -40], [100, 40, 40], size=(len(base), 1, 1, 3))
            colours = (lab + rng.normal(scale=5, size=(len(base), *COLOURS))).astype(np.float16)
        self.colours = colours

    def chunk(self, start: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(product ids, vectors, spatial, colours) of products start .. start+m-1 (ids start at 1)."""
        rng = np.random.default_rng([self.seed, start])
        a, b = rng.integers(0, len(self.base), m), rng.integers(0, len(self.base), m)
        w = rng.uniform(0.6, 1.0, (m, 1)).astype(np.float32)
        mixed = w * self.base[a] + (1 - w) * self.base[b]
        mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
        mixed += 0.35 * rng.normal(size=mixed.shape).astype(np.float32) / np.sqrt(DIM)
        vectors = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
        ids = np.arange(start + 1, start + m + 1, dtype=np.int64)
        return ids, vectors, self.spatial_pool[a % len(self.spatial_pool)], self.colours[a]


def held_out_queries(vectors_path: Path, n: int, count: int, seed: int = 7) -> np.ndarray:
    """Perturbed copies of `count` random products (read back from the version's vectors.npy)."""
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, size=min(count, n), replace=False))
    q = RowReader(vectors_path, n)[rows]
    q = q + 0.2 * rng.normal(size=q.shape).astype(np.float32) / np.sqrt(q.shape[1])
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def exact_top_ids(vectors_path: Path, ids: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Ground truth: product ids of the exact top-K by cosine, scanning the vectors in chunks."""
    n = len(ids)
    reader = RowReader(vectors_path, n)
    best_s = np.full((len(queries), K), -np.inf, np.float32)
    best_r = np.zeros((len(queries), K), np.int64)
    for start in range(0, n, 65536):
        sims = queries @ reader[start : start + 65536].T
        rows = np.argpartition(-sims, K - 1, axis=1)[:, :K]
        cand_s = np.concatenate([best_s, np.take_along_axis(sims, rows, 1)], axis=1)
        cand_r = np.concatenate([best_r, rows + start], axis=1)
        keep = np.argsort(-cand_s, axis=1)[:, :K]
        best_s, best_r = np.take_along_axis(cand_s, keep, 1), np.take_along_axis(cand_r, keep, 1)
    return ids[best_r]


def dir_sizes_mb(directory: Path) -> dict[str, float]:
    return {p.name: round(p.stat().st_size / 2**20, 1) for p in sorted(directory.iterdir()) if p.is_file()}


def build(root: Path, n: int, catalog: Catalog, params: IndexParams) -> tuple[Path, dict]:
    """Stream n synthetic products through IndexStore/VersionWriter/verify/set_current; emit the figures."""
    store = IndexStore(root)
    anon_before = status_kb()["RssAnon"]
    memory = PeakMemory()
    memory.phase("fill")
    version, directory = store.new_version_dir()
    writer = VersionWriter(directory, capacity=n, dim=DIM, spatial_shape=SPATIAL, colour_shape=COLOURS)
    generate_s = write_s = 0.0
    started = time.perf_counter()
    for start in range(0, n, CHUNK):
        t0 = time.perf_counter()
        rows = catalog.chunk(start, min(CHUNK, n - start))
        t1 = time.perf_counter()
        writer.append(*rows)
        generate_s, write_s = generate_s + t1 - t0, write_s + time.perf_counter() - t1
    fill_s = time.perf_counter() - started
    memory.phase("finish")
    t0 = time.perf_counter()
    manifest = writer.finish(params, version=version, backbone_version="synthetic")
    finish_s = time.perf_counter() - t0
    del writer
    memory.phase("verify")
    t0 = time.perf_counter()
    view = verify_index_version(directory)
    del view
    verify_s = time.perf_counter() - t0
    store.set_current(version)
    memory.phase("done")
    memory.stop()
    sizes = dir_sizes_mb(directory)
    emit(
        bench="scale_build",
        n=n,
        base=catalog.name,
        trees=params.trees,
        pca_dim=params.pca_dim,
        anon_before_mb=round(anon_before / 1024),
        generate_s=round(generate_s, 1),
        write_s=round(write_s, 1),
        fill_s=round(fill_s, 1),
        finish_s=round(finish_s, 1),
        verify_s=round(verify_s, 1),
        total_s=round(write_s + finish_s + verify_s, 1),
        fill=memory.mb("fill"),
        finish=memory.mb("finish"),
        verify=memory.mb("verify"),
        files_mb=sizes,
        total_mb=round(sum(sizes.values()), 1),
        max_rss_mb_getrusage=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        load_avg_1m=load_avg(),
    )
    return directory, manifest


# ---------------------------------------------------------------- web workers


def feedback_signal(view: AnnoyCatalogView, seed_id: int, passed_over: np.ndarray, rng: np.random.Generator):
    """One synthetic region dislike on `seed_id`: the centre 3x3 cells painted, a perturbed masked embedding."""
    from embeddings.engine.types import FeedbackSignal

    seed = view.features([seed_id])
    cells = np.zeros(SPATIAL[:2], np.float32)
    cells[2:5, 2:5] = 1.0
    masked = seed.vectors[0] + 0.5 * rng.normal(size=DIM).astype(np.float32) / np.sqrt(DIM)
    arrays = {
        "masked_vector": (masked / np.linalg.norm(masked)).astype(np.float32),
        "seed_vector": seed.vectors[0],
        "seed_spatial": seed.spatial[0],
        "seed_colours": seed.colours[0],
        "passed_over": np.asarray(passed_over, dtype=np.int64),
    }
    return FeedbackSignal(seed_id=seed_id, cells=cells, arrays=arrays)


def serve(root: Path, queries_path: Path, truth_path: Path) -> None:
    """One web-like process: open the current version, answer every query, report, then wait to be measured."""
    from embeddings.engine.config import EngineConfig
    from embeddings.engine.recommender import Recommender

    queries, truth = np.load(queries_path), np.load(truth_path)
    t0 = time.perf_counter()
    store = IndexStore(root)
    view = AnnoyCatalogView(store.version_dir(store.current_version()))
    open_ms = (time.perf_counter() - t0) * 1000
    recommender = Recommender(backbone=None, catalog=view, config=EngineConfig())
    rng = np.random.default_rng(os.getpid())
    times: dict[str, list[float]] = {"search10": [], "search200": [], "features350": [], "recommend": []}
    hits, pool_sizes = 0, []
    faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_majflt
    started = time.perf_counter()
    for q, want in zip(queries, truth, strict=True):
        t = time.perf_counter()
        ids, _ = view.search(q, K)
        times["search10"].append(time.perf_counter() - t)
        hits += len(set(ids.tolist()) & set(want.tolist()))
        t = time.perf_counter()
        ids200, _ = view.search(q, 200)
        times["search200"].append(time.perf_counter() - t)
        candidates = view.search(q, 350)[0]
        rng.shuffle(candidates)
        t = time.perf_counter()
        feats = view.features(candidates.tolist())
        times["features350"].append(time.perf_counter() - t)
        pool_sizes.append(len(feats.product_ids))
        signal = feedback_signal(view, int(ids[0]), ids200[10:26], rng)
        t = time.perf_counter()
        slate = recommender.recommend(seed_id=int(ids[0]), feedback=[signal], exclude=[int(ids[0])], k=8)
        times["recommend"].append(time.perf_counter() - t)
        assert len(slate.items) == 8
    elapsed = time.perf_counter() - started
    stats = {
        f"{name}_ms": {
            "p50": round(float(np.percentile(v, 50)) * 1000, 2),
            "p95": round(float(np.percentile(v, 95)) * 1000, 2),
        }
        for name, v in times.items()
    }
    print(
        json.dumps(
            {
                "pid": os.getpid(),
                "open_ms": round(open_ms, 1),
                "queries": len(queries),
                "recall_at_10": round(hits / (len(queries) * K), 4),
                "features_rows": int(np.median(pool_sizes)),
                "rounds_per_s": round(len(queries) / elapsed, 1),
                "major_faults": resource.getrusage(resource.RUSAGE_SELF).ru_majflt - faults_before,
                **stats,
            }
        ),
        flush=True,
    )
    sys.stdin.readline()  # stay alive (mappings in place) until the parent has read smaps_rollup


def measure_workers(root: Path, n: int, workers: int, queries_path: Path, truth_path: Path) -> None:
    """Start `workers` serving processes at once, collect their figures and their RSS / PSS while all are alive."""
    cmd = [sys.executable, __file__, "--serve", str(root), "--queries-file", str(queries_path)]
    cmd += ["--truth-file", str(truth_path)]
    procs = [subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(workers)]
    try:
        reports = [json.loads(p.stdout.readline()) for p in procs]
        memory = [smaps_rollup_kb(p.pid) for p in procs]
    finally:
        for p in procs:
            p.stdin.close()
            p.wait(timeout=60)
    mb = {key: [round(m.get(key, 0) / 1024) for m in memory] for key in ("Rss", "Pss", "Pss_Anon", "Pss_File")}

    def worst(name: str, q: str) -> float:
        return max(r[f"{name}_ms"][q] for r in reports)

    emit(
        bench="scale_serve",
        n=n,
        workers=workers,
        queries_per_worker=reports[0]["queries"],
        recall_at_10=min(r["recall_at_10"] for r in reports),
        features_rows=reports[0]["features_rows"],
        open_ms_max=max(r["open_ms"] for r in reports),
        search10_ms_p50=worst("search10", "p50"),
        search10_ms_p95=worst("search10", "p95"),
        search200_ms_p50=worst("search200", "p50"),
        search200_ms_p95=worst("search200", "p95"),
        features350_ms_p50=worst("features350", "p50"),
        features350_ms_p95=worst("features350", "p95"),
        recommend_ms_p50=worst("recommend", "p50"),
        recommend_ms_p95=worst("recommend", "p95"),
        rounds_per_s_total=round(sum(r["rounds_per_s"] for r in reports), 1),
        major_faults=[r["major_faults"] for r in reports],
        rss_mb=mb["Rss"],
        pss_mb=mb["Pss"],
        pss_anon_mb=mb["Pss_Anon"],
        pss_file_mb=mb["Pss_File"],
        load_avg_1m=load_avg(),
    )


# ---------------------------------------------------------------- cold reads: kernel readahead on the mappings


def read_bytes() -> int:
    """Bytes this process caused to be read from storage (/proc/self/io)."""
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(fields["read_bytes"])


def evict(path: Path) -> None:
    """Drop this file's clean pages from the page cache (only this file: nobody else's cache is touched)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def readahead_probe(path: Path, n: int, rounds: int = 100, rows: int = 350) -> None:
    """Gather `rows` random rows per round from a cold memory-mapped array, with the default and random advice.

    What features() does on a cache miss: the default read-around fetches ~128 KB per faulting row; MADV_RANDOM
    fetches the row's own pages only.
    """
    import mmap

    for advice in ("default", "random"):
        evict(path)
        array = np.load(path, mmap_mode="r")
        if advice == "random":
            array._mmap.madvise(mmap.MADV_RANDOM)
        rng = np.random.default_rng(11)
        times, io0 = [], read_bytes()
        faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_majflt
        for _ in range(rounds):
            wanted = np.sort(rng.choice(n, size=rows, replace=False))
            t0 = time.perf_counter()
            np.array(array[wanted])
            times.append(time.perf_counter() - t0)
        emit(
            bench="scale_cold_gather",
            file=path.name,
            n=n,
            advice=advice,
            rows_per_gather=rows,
            gathers=rounds,
            row_kb=round(array[0].nbytes / 1024, 1),
            ms_p50=round(float(np.percentile(times, 50)) * 1000, 1),
            ms_p95=round(float(np.percentile(times, 95)) * 1000, 1),
            read_mb=round((read_bytes() - io0) / 2**20, 1),
            major_faults=resource.getrusage(resource.RUSAGE_SELF).ru_majflt - faults0,
            load_avg_1m=load_avg(),
        )
        del array


# ---------------------------------------------------------------- the no-index fallback


def fresh_view():
    """Time and memory of load_fresh_view(since=None) on DATABASE_URL (a web process's start without an index).

    Returns the loaded ExactCatalogView (its real vectors, maps and grids can seed the synthetic catalog) or None.
    """
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count

    from embeddings.models import ImageEmbedding
    from embeddings.serving.live_catalog import load_fresh_view

    top = ImageEmbedding.objects.values("backbone_version").annotate(n=Count("id")).order_by("-n").first()
    if top is None:
        emit(bench="scale_fresh_view", skipped="no embeddings in this database")
        return None
    before = status_kb()
    memory = PeakMemory()
    memory.phase("load")
    t0 = time.perf_counter()
    view = load_fresh_view(backbone_version=top["backbone_version"], since=None)
    seconds = time.perf_counter() - t0
    memory.phase("after")
    after = status_kb()
    memory.stop()
    products = len(view)
    held_mb = (view.vectors.nbytes + view.spatial.nbytes + view.colours.nbytes) / 2**20
    emit(
        bench="scale_fresh_view",
        database=connection.settings_dict["NAME"],
        products=products,
        seconds=round(seconds, 2),
        arrays_mb=round(held_mb, 1),
        anon_growth_mb=round((after["RssAnon"] - before["RssAnon"]) / 1024),
        peak_anon_growth_mb=round((memory.peaks["load"]["RssAnon"] - before["RssAnon"]) / 1024),
        kb_per_product=round(held_mb * 1024 / max(products, 1), 1),
        load_avg_1m=load_avg(),
    )
    return view


def make_catalog(base_path: Path | None, real) -> Catalog:
    """The synthetic catalog: derived from the database's embeddings, from a vectors file, or fully synthetic."""
    if real is not None and len(real) and real.vectors.shape[1] == DIM and real.spatial.shape[1:] == SPATIAL:
        keep = np.linalg.norm(real.vectors, axis=1) > 0
        catalog = Catalog(real.vectors[keep], spatial=real.spatial[keep], colours=real.colours[keep])
        catalog.name = f"database ({int(keep.sum())} real embeddings)"
        return catalog
    base = np.load(base_path).astype(np.float32) if base_path else synthetic_base()
    base = base[np.linalg.norm(base, axis=1) > 0]
    catalog = Catalog(base / np.linalg.norm(base, axis=1, keepdims=True))
    catalog.name = f"vectors file {base_path}" if base_path else "synthetic clusters"
    return catalog


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="synthetic products (0: skip the index part)")
    parser.add_argument("--workers", default="1,2,4", help="comma-separated numbers of serving processes")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/lookaway-scale"))
    parser.add_argument("--keep", action="store_true", help="keep the index directory afterwards")
    parser.add_argument("--base", type=Path, help="real vectors (.npy) to derive products from")
    parser.add_argument(
        "--base-db",
        action="store_true",
        help="derive products from the embeddings (vectors, maps, grids) in DATABASE_URL, timing load_fresh_view",
    )
    parser.add_argument("--trees", type=int, default=50)
    parser.add_argument("--pca-dim", type=int, default=256)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--queries-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--truth-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--probe", type=Path, help="only the cold-gather probe on this .npy file (rows: all)")
    args = parser.parse_args()
    if args.probe:
        readahead_probe(args.probe, len(np.load(args.probe, mmap_mode="r")))
        return
    if args.serve:
        serve(args.serve, args.queries_file, args.truth_file)
        return
    real = fresh_view() if args.base_db else None
    if args.n:
        root = args.dir / f"n{args.n}"
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        try:
            catalog = make_catalog(args.base, real)
            del real
            params = IndexParams(trees=args.trees, pca_dim=args.pca_dim or None, search_k=5000, rerank=100)
            directory, _ = build(root, args.n, catalog, params)
            t0 = time.perf_counter()
            ids = RowReader(directory / "ids.npy", args.n)[:]
            queries = held_out_queries(directory / "vectors.npy", args.n, args.queries)
            truth = exact_top_ids(directory / "vectors.npy", ids, queries)
            emit(bench="scale_truth", n=args.n, queries=len(queries), exact_s=round(time.perf_counter() - t0, 1))
            np.save(root / "queries.npy", queries)
            np.save(root / "truth.npy", truth)
            for workers in (int(w) for w in args.workers.split(",") if w):
                measure_workers(root, args.n, workers, root / "queries.npy", root / "truth.npy")
            for name in ("vectors.npy", "spatial.npy"):
                readahead_probe(directory / name, args.n)
        finally:
            if not args.keep:
                shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
