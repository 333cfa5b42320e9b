"""Python helpers that build small, seeded test models (torch imported lazily)."""
