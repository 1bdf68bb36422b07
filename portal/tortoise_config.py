"""Configuration for the `tortoise` command: `tortoise -c portal.tortoise_config.CONFIG makemigrations`."""

from __future__ import annotations

from portal.db import tortoise_config
from portal.features import load_features
from portal.settings import Settings

_settings = Settings.from_env()
CONFIG = tortoise_config(_settings, load_features(_settings.features))
