"""Relational storage: engines with read/write routing, tables, repositories, migrations."""
