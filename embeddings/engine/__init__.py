"""Framework-free ML core: backbones, preprocessing, masking, vector algebra, the Annoy index, feedback scoring.

Nothing in this package imports Django or Celery or reads settings; the apps build config objects and pass them in.
"""
