"""Framework-free evaluation (no Django, no Celery): simulated shoppers, episodes, baselines, figures, the gallery.

It lives outside the apps because nothing in the product imports it: the management commands `evaluate` and
`feedback_gallery` (feedback app) are its only Django-side callers, and it drives the engine only through the calls
the API makes (`embeddings.engine.Recommender`).
"""
