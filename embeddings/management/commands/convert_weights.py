"""Convert the EfficientNet-Lite0 PyTorch weights into the cached Keras weights file (once per model dir)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from embeddings.engine.backbones import BackboneUnavailable


class Command(BaseCommand):
    help = "Convert efficientnet-lite0 .pth weights (read without PyTorch) into a Keras weights file in the model dir."

    def add_arguments(self, parser):
        parser.add_argument("--weights", help="the .pth file (default: LOOKAWAY_BACKBONE_WEIGHTS, else the package's)")
        parser.add_argument("--model-dir", help="output directory (default: LOOKAWAY_MODEL_DIR)")
        parser.add_argument("--force", action="store_true", help="convert again even if the cached file exists")
        parser.add_argument("--verify", action="store_true", help="load the converted backbone and print its version")

    def handle(self, *args, **options):
        from embeddings.engine.backbones import build_backbone, lite0

        model_dir = Path(options["model_dir"] or settings.LOOKAWAY_MODEL_DIR)
        weights = options["weights"]
        if not weights and settings.LOOKAWAY_BACKBONE == lite0.SPEC.name:
            weights = settings.LOOKAWAY_BACKBONE_WEIGHTS or None
        try:
            target = lite0.convert_weights(model_dir=model_dir, weights_path=weights, force=options["force"])
            self.stdout.write(self.style.SUCCESS(f"Keras weights: {target}"))
            if options["verify"]:
                backbone = build_backbone(lite0.SPEC.name, model_dir=model_dir, weights_path=weights)
                self.stdout.write(f"backbone version: {backbone.version}")
        except BackboneUnavailable as exc:
            raise CommandError(str(exc)) from exc
