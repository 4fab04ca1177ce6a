"""Simulated-shopper evaluation (docs/EVALUATION_PROTOCOL.md), framework-free: no Django imports here."""
