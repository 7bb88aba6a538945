"""Cache backends and the cache-aside helper for catalog reads."""
