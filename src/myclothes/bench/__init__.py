"""`myclothes bench`: the store's hot paths against a bare-ASGI baseline, measured in the same run."""
