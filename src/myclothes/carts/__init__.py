"""Cart stores (and the session stores that travel with them), one module per backend."""
