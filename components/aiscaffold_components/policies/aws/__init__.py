"""aws policies: one module per service; importing this package registers them."""
