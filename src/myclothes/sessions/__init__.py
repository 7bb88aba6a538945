"""Session stores, one module per backend: memory.py, redis.py, sql.py (the port: ``ports/sessions.py``)."""
