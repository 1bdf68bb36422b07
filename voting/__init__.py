"""voting feature package."""
