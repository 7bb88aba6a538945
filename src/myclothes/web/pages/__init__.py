"""Server-rendered HTML pages (Jinja2), mirroring the API."""
