"""Figures per policy and bootstrap intervals for relative improvements (protocol, "Figures to report")."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evaluation.runner import FAILED_SLATES, EpisodeResult

BOOTSTRAP_SAMPLES = 2000


def summarise(results: Sequence[EpisodeResult]) -> dict[str, float]:
    """Success rates, slates to success (failures count 16) and engine time per step."""
    strict = np.array([r.strict_slates for r in results], dtype=float)
    lenient = np.array([r.lenient_slates for r in results], dtype=float)
    times = np.concatenate([np.asarray(r.step_ms, dtype=float) for r in results]) if results else np.zeros(0)
    feedback_times = [t for r in results for t, a in zip(r.step_ms, r.actions, strict=True) if a == "feedback"]
    return {
        "episodes": len(results),
        "strict_success": float((strict < FAILED_SLATES).mean()),
        "lenient_success": float((lenient < FAILED_SLATES).mean()),
        "strict_mean_slates": float(strict.mean()),
        "strict_median_slates": float(np.median(strict)),
        "lenient_mean_slates": float(lenient.mean()),
        "lenient_median_slates": float(np.median(lenient)),
        "step_ms_median": float(np.median(times)) if len(times) else 0.0,
        "step_ms_p95": float(np.percentile(times, 95)) if len(times) else 0.0,
        "feedback_ms_median": float(np.median(feedback_times)) if feedback_times else 0.0,
    }


def relative_improvement(
    ours: Sequence[EpisodeResult], theirs: Sequence[EpisodeResult], key: str = "lenient_slates", seed: int = 0
) -> dict[str, float]:
    """1 - mean(ours) / mean(theirs) in slates to success, with a 95% paired bootstrap interval over episodes."""
    a = np.array([getattr(r, key) for r in ours], dtype=float)
    b = np.array([getattr(r, key) for r in theirs], dtype=float)
    if len(a) != len(b) or len(a) == 0:
        raise ValueError("relative improvement needs the same, non-empty episodes for both policies")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(BOOTSTRAP_SAMPLES, len(a)))
    boot = 1.0 - a[idx].mean(axis=1) / np.maximum(b[idx].mean(axis=1), 1e-9)
    low, high = np.percentile(boot, [2.5, 97.5])
    return {"improvement": float(1.0 - a.mean() / b.mean()), "low": float(low), "high": float(high)}
