"""Credentials in transcripts: finding them, and the placeholders that replace them."""

from graph.secrets.config import SecretsConfig, default_scanner, load_config, redact_on_import
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
    "default_scanner",
    "fingerprint",
    "load_config",
    "placeholder",
    "redact_on_import",
]
