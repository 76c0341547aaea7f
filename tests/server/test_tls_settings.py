"""TLS settings: both files or neither, and they must exist; the scheme follows."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gameops.server.settings import Settings
from gameops.server.tls import write_self_signed


def test_tls_needs_both_files(tmp_path: Path) -> None:
    cert, key = write_self_signed(tmp_path, ["venue.local", "192.168.1.10"])
    assert key.stat().st_mode & 0o777 == 0o600  # the key is the server's alone
    assert Settings(data_dir=tmp_path, tls_certfile=cert, tls_keyfile=key).scheme == "https"
    assert Settings(data_dir=tmp_path).scheme == "http"
    with pytest.raises(ValidationError, match="set both tls_certfile and tls_keyfile"):
        Settings(data_dir=tmp_path, tls_certfile=cert)
    with pytest.raises(ValidationError, match="does not exist"):
        Settings(data_dir=tmp_path, tls_certfile=cert, tls_keyfile=tmp_path / "nope.pem")


def test_a_self_signed_certificate_needs_a_host() -> None:
    with pytest.raises(ValueError, match="at least one host"):
        write_self_signed(Path("unused"), [])
