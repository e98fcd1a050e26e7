"""Developer commands, run with ``uv run python -m scripts.<name>``."""
