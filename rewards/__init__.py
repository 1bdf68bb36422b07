"""rewards feature package."""
