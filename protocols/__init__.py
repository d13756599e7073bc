"""Wire protocols the product speaks; knows nothing of ports, storage or UI."""
