"""Warm time per feedback step (mask in, slate out, engine only) at catalog size; prints JSON lines.

Usage: .venv/bin/python bench/bench_engine.py [--catalog-dir ../shared/catalog] [--cache /tmp/lookaway-eval]
       [--steps 50] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from config.shared import SHARED_CATALOG  # noqa: E402


def main() -> None:
    """Time derive_feedback + recommend on real images with the protocol's difference masks."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--catalog-dir", default=str(SHARED_CATALOG))
    parser.add_argument("--cache", default="/tmp/lookaway-eval")
    parser.add_argument("--model-dir", default=os.environ.get("LOOKAWAY_MODEL_DIR", "/tmp/lookaway-models"))
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(args.threads))

    from PIL import Image

    from embeddings.engine.backbones import lite0
    from embeddings.engine.backbones.runtime import configure_tensorflow
    from embeddings.engine.config import EngineConfig
    from evaluation.episodes import draw_episodes
    from evaluation.shoppers import load_shopper
    from evaluation.standalone import build_standalone

    configure_tensorflow(args.threads, 1)
    backbone = lite0.load(model_dir=Path(args.model_dir))
    backbone.warm_up()
    recommender, catalog = build_standalone(args.catalog_dir, backbone, args.cache, EngineConfig())
    shopper = load_shopper("colour", catalog, args.cache)
    episodes = draw_episodes(catalog, args.steps + 5, seed=12345)
    feedback: list = []
    derive_ms, recommend_ms, total_ms = [], [], []
    for i, episode in enumerate(episodes):
        mask = shopper.mask(episode.start, episode.target, np.random.default_rng(i))
        with Image.open(catalog.path(episode.start)) as img:
            image = img.convert("RGB")
        began = time.perf_counter()
        signal = recommender.derive_feedback(seed_id=episode.start, seed_image=image, mask=mask)
        middle = time.perf_counter()
        history = (feedback[-2:] + [signal]) if i % 2 else [signal]  # sessions of 1 to 3 feedbacks
        recommender.recommend(seed_id=episode.start, feedback=history, exclude=[episode.start], k=8)
        done = time.perf_counter()
        feedback.append(signal)
        if i >= 5:  # warm-up steps are not counted
            derive_ms.append((middle - began) * 1000)
            recommend_ms.append((done - middle) * 1000)
            total_ms.append((done - began) * 1000)
    for name, values in (("derive_feedback", derive_ms), ("recommend", recommend_ms), ("step", total_ms)):
        row = {
            "bench": "engine_step",
            "part": name,
            "products": len(catalog.product_ids),
            "steps": len(values),
            "threads": args.threads,
            "p50_ms": round(float(np.median(values)), 2),
            "p95_ms": round(float(np.percentile(values, 95)), 2),
            "load_avg_1m": round(os.getloadavg()[0], 2),
        }
        print(json.dumps(row))


if __name__ == "__main__":
    main()
