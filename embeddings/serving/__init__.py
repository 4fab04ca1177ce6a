"""The Django side of the engine in web processes: the backbone, the live catalog view, the request cache, the
reloader, the shared Recommender and the slate filter (docs/ARCHITECTURE.md lists each file)."""
