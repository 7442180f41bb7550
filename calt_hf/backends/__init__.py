"""Backend adapters: how each computer algebra system's objects become strings and are sampled."""
