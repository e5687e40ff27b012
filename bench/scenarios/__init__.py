"""The scenarios; ``bench.__main__.SCENARIOS`` names them."""
