"""Benchmark the image backbone: warm single-image latency, batch throughput, raw model vs pipeline throughput.

Prints one JSON object per line. All ratios come from the same process, so they survive a noisy shared machine.

    .venv/bin/python bench/bench_backbone.py --intra-op-threads 1     # request-path latency setting
    .venv/bin/python bench/bench_backbone.py                          # worker setting (TF default threads)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.shared import SHARED_CATALOG_IMAGES
from embeddings.engine.backbones import build_backbone, configure_tensorflow  # noqa: E402
from embeddings.engine.pipeline import DEFAULT_DECODE_WORKERS, embed_files  # noqa: E402
from embeddings.engine.preprocess import prepare_square  # noqa: E402

CATALOG_IMAGES = SHARED_CATALOG_IMAGES


def emit(**fields) -> None:
    """Print one JSON line."""
    print(json.dumps(fields), flush=True)


def percentile(values: list[float], q: float) -> float:
    """q-th percentile (0-100) of values."""
    return float(np.percentile(np.asarray(values), q))


def throughput(run, images: int, repeats: int) -> float:
    """Images per second of `run()` (which processes `images` images), best of `repeats` after a warm-up."""
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return images / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--model-dir", default="/tmp/lookaway-models")
    parser.add_argument("--intra-op-threads", type=int, default=0, help="0: TensorFlow's default")
    parser.add_argument("--inter-op-threads", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--files", type=int, default=512, help="catalog files for the pipeline run")
    parser.add_argument("--latency-runs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=DEFAULT_DECODE_WORKERS, help="decode threads of the pipeline")
    args = parser.parse_args()

    import tensorflow as tf

    configure_tensorflow(args.intra_op_threads or None, args.inter_op_threads or None)
    started = time.perf_counter()
    backbone = build_backbone(args.backbone, model_dir=Path(args.model_dir))
    backbone.warm_up()
    emit(
        metric="load_seconds",
        value=round(time.perf_counter() - started, 2),
        backbone=backbone.version,
        intra_op_threads=args.intra_op_threads or "default",
        gpus=len(tf.config.list_physical_devices("GPU")),
    )

    files = sorted(CATALOG_IMAGES.glob("*.jpg"))[: args.files]
    size, bs = backbone.input_size, args.batch_size
    batch = np.stack([prepare_square(path, size) for path in files[:bs]])

    one = batch[:1]
    backbone.forward(one)
    latencies = []
    for _ in range(args.latency_runs):
        t0 = time.perf_counter()
        backbone.forward(one)
        latencies.append((time.perf_counter() - t0) * 1000)
    emit(
        metric="single_image_forward_ms",
        p50=round(percentile(latencies, 50), 2),
        p95=round(percentile(latencies, 95), 2),
        runs=args.latency_runs,
    )

    end_to_end = []
    for path in files[: args.latency_runs]:
        t0 = time.perf_counter()
        backbone.features(prepare_square(path, size)[None])
        end_to_end.append((time.perf_counter() - t0) * 1000)
    emit(
        metric="single_image_decode_to_features_ms",
        p50=round(percentile(end_to_end, 50), 2),
        p95=round(percentile(end_to_end, 95), 2),
        runs=len(end_to_end),
    )

    # Raw model: the compiled graph on a tensor already in TF, nothing else.
    tensor = tf.constant(batch)
    raw = throughput(lambda: backbone._forward(tensor)[0].numpy(), bs, args.repeats)
    forward = throughput(lambda: backbone.forward(batch), bs, args.repeats)
    features = throughput(lambda: backbone.features(batch), bs, args.repeats)
    emit(
        metric="batch_throughput_img_per_s",
        batch_size=bs,
        raw_model=round(raw, 1),
        forward=round(forward, 1),
        features=round(features, 1),
    )

    in_model = [0.0]
    features_method = backbone.features

    def timed_features(batch, colours=None):
        started = time.perf_counter()
        try:
            return features_method(batch, colours)
        finally:
            in_model[0] += time.perf_counter() - started

    def run_pipeline() -> None:
        backbone.features = timed_features  # instance attribute: only this benchmark's object is affected
        try:
            for _, result in embed_files(backbone, files, batch_size=bs, workers=args.workers):
                if isinstance(result, Exception):
                    raise result
        finally:
            del backbone.features

    # Raw throughput again over the same span of images, interleaved, so both see the same machine load.
    raw_n = throughput(
        lambda: [backbone._forward(tensor)[0].numpy() for _ in range(len(files) // bs)], len(files) // bs * bs, 1
    )
    started = time.perf_counter()
    run_pipeline()
    pipeline_seconds = time.perf_counter() - started
    pipeline = len(files) / pipeline_seconds
    raw_after = throughput(
        lambda: [backbone._forward(tensor)[0].numpy() for _ in range(len(files) // bs)], len(files) // bs * bs, 1
    )
    raw_mean = (raw_n + raw_after) / 2
    emit(
        metric="pipeline_throughput_img_per_s",
        files=len(files),
        batch_size=bs,
        workers=args.workers,
        pipeline=round(pipeline, 1),
        raw_model=round(raw_mean, 1),
        ratio=round(pipeline / raw_mean, 3),
        # Load-independent: share of the pipeline's wall time spent in the model call (1.0 = decoding fully hidden).
        time_in_model=round(in_model[0] / pipeline_seconds, 3),
    )


if __name__ == "__main__":
    main()
