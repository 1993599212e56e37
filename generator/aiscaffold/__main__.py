"""``python -m aiscaffold``."""

from .cli import run

run()
