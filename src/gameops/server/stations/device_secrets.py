"""Device passwords at rest: Fernet (AES-128-CBC + HMAC) with a key derived from the
device key in settings (generated into data_dir on first run, like the JWT secret)."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken


class DeviceSecrets:
    def __init__(self, key_material: str) -> None:
        # Fernet wants 32 url-safe base64 bytes; any stored secret is hashed to that size.
        digest = hashlib.sha256(f"gameops-device-key:{key_material}".encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, passwords: dict[str, str]) -> str | None:
        if not passwords:
            return None
        return self._fernet.encrypt(json.dumps(passwords).encode()).decode()

    def open(self, sealed: str | None) -> dict[str, str]:
        """The passwords; an unreadable token (the key changed) reads as none."""
        if not sealed:
            return {}
        try:
            opened: dict[str, str] = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            return {}
        return opened
