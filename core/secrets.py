"""Secrets at rest (Stripe keys, user DB DSNs) are Fernet-encrypted in the app database.

The Fernet key comes from FDE_SECRET_KEY or, in the embedded default, a file created once in
the data dir with owner-only permissions.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from core.errors import ConfigError
from core.settings import Settings


class SecretBox:
    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except ValueError:
            raise ConfigError(
                "FDE_SECRET_KEY is not a valid Fernet key",
                hint="generate one with `python -c 'from cryptography.fernet import Fernet;"
                " print(Fernet.generate_key().decode())'`",
            ) from None

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                "a stored secret cannot be decrypted with the current secret key",
                hint="restore the FDE_SECRET_KEY (or data dir secret.key) the secret was saved "
                "with, or re-add the engagement's key",
            ) from None


def secret_box(settings: Settings) -> SecretBox:
    if settings.secret_key is not None:
        return SecretBox(settings.secret_key.get_secret_value().encode())
    path: Path = settings.data_dir / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key())
    return SecretBox(path.read_bytes().strip())
