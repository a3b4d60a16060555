"""payment-service (consumer) <- product-service (publisher): inventory.reserved, consumed
from ``payment.saga``."""
