"""Simulated shoppers: eyes (which product looks closer to the target) + a brush (the mask painted on the seed)."""

from evaluation.shoppers.base import GRID, IMAGE_SIZE, Brush, Eyes, GridBrush, Shopper, choose_cells
from evaluation.shoppers.registry import SHOPPERS, load_shopper

__all__ = ["GRID", "IMAGE_SIZE", "SHOPPERS", "Brush", "Eyes", "GridBrush", "Shopper", "choose_cells", "load_shopper"]
