"""MyClothes on AWS: one construct per tier, assembled into a stack by ``app.py``."""
