"""The stateless web tier: app factory, middleware, JSON API, HTML pages, health."""
