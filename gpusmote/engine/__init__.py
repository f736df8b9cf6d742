"""The engine: per-class plans and blocks written into one allocation, the random draws, label caching and phase timings."""
