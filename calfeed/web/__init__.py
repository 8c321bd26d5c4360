"""The HTTP edge: blueprints per URL family, and the helpers they share."""
