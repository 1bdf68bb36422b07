"""ideas feature package."""
