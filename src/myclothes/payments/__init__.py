"""Payment gateways, one module per provider (the port: ``PaymentGateway`` in ``ports/services.py``)."""
