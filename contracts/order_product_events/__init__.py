"""order-service (consumer) <- product-service (publisher): inventory.rejected, consumed
from ``order.saga``."""
