"""Shopping sessions and their feedback events (filled in by the engine/session work)."""
