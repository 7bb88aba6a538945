"""Pure models and rules of the shop: no I/O, no framework imports."""
