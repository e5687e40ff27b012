"""Credentials in transcripts: finding them, and the placeholders that replace them."""

from graph.secrets.config import SecretsConfig, load_config
from graph.secrets.detect import (
    PLACEHOLDER,
    Finding,
    Pattern,
    SecretScanner,
    fingerprint,
    placeholder,
)

__all__ = [
    "PLACEHOLDER",
    "Finding",
    "Pattern",
    "SecretScanner",
    "SecretsConfig",
    "fingerprint",
    "load_config",
    "placeholder",
]
