"""manage.py feedback_gallery: render the fixed gallery cases (seed + paint, plain slate, slate after feedback)."""

from __future__ import annotations

import dataclasses
import json
import shlex
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config.shared import SHARED_CATALOG

DEFAULT_CASES = Path(__file__).resolve().parents[3] / "evaluation" / "gallery" / "cases.toml"


OPTIONS = ("catalog_dir", "features_cache", "out", "cases", "engine")


def _command_line(opts: dict) -> str:
    """The command as a shell line, with the options that were given (defaults left out)."""
    defaults = {"cases": str(DEFAULT_CASES), "engine": "{}"}
    words = ["python", "manage.py", "feedback_gallery"]
    for name in OPTIONS:
        if opts.get(name) is not None and opts[name] != defaults.get(name):
            words += ["--" + name.replace("_", "-"), str(opts[name])]
    return shlex.join(words)


class Command(BaseCommand):
    help = "Render the feedback gallery (docs/gallery/): each fixed case's seed with its paint and both slates."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--catalog-dir", default=str(SHARED_CATALOG), help="catalog folder (styles.csv, images/)")
        parser.add_argument("--features-cache", default="/tmp/lookaway-eval", help="feature cache dir (.npz)")
        parser.add_argument("--out", default="docs/gallery", help="folder for the PNGs and README.md")
        parser.add_argument("--cases", default=str(DEFAULT_CASES), help="the cases file (TOML)")
        parser.add_argument("--engine", default="{}", help="JSON overrides of EngineConfig fields")

    def handle(self, *args, **opts) -> None:
        from embeddings.serving.backbone import get_backbone
        from embeddings.serving.shared_recommender import engine_config
        from evaluation.cli import git_revision
        from evaluation.gallery import CaseError, build_gallery, load_cases
        from evaluation.standalone import build_standalone

        try:
            config = engine_config(json.loads(opts["engine"]))
        except (ValueError, TypeError) as exc:
            raise CommandError(f"--engine: {exc}") from exc
        if not (Path(opts["catalog_dir"]) / "styles.csv").exists():
            raise CommandError(f"--catalog-dir: no styles.csv in {opts['catalog_dir']}")
        backbone = get_backbone()
        recommender, catalog = build_standalone(opts["catalog_dir"], backbone, opts["features_cache"], config)
        try:
            cases = load_cases(opts["cases"], known_ids=catalog.product_ids.tolist())
        except CaseError as exc:
            raise CommandError(str(exc)) from exc
        overrides = {
            f.name: getattr(config, f.name) for f in dataclasses.fields(config) if getattr(config, f.name) != f.default
        }
        header = {
            "made by": f"`{_command_line(opts)}`",
            "engine revision": f"`{git_revision()}`",
            "backbone": f"`{backbone.version}`",
            "engine config": f"`{json.dumps(overrides)}` (overrides of EngineConfig defaults)"
            if overrides
            else "EngineConfig defaults",
            "catalog": f"{len(catalog.product_ids)} products (standalone: exact search over the cached features)",
        }
        results = build_gallery(
            recommender=recommender, catalog=catalog, cases=cases, out_dir=opts["out"], header=header
        )
        self.stdout.write(f"wrote {len(results)} cases and README.md to {opts['out']}")
