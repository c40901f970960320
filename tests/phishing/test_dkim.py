"""DKIM signatures verified with dkimpy against keys given in a file, never DNS: a key
made here signs a message; the signature verifies, and fails once a byte changes."""

from __future__ import annotations

import base64
from pathlib import Path

import dkim  # type: ignore[import-untyped]
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from vigile.errors import ConfigError
from vigile.phishing import Guard, ProviderDomains, load_dkim_keys

MESSAGE = (
    b"From: Vigile Security <security@vigile.example>\r\n"
    b"To: ann@ministry.example\r\n"
    b"Subject: Your invoice\r\n"
    b"Message-ID: <dkim-1@vigile.example>\r\n"
    b"\r\n"
    b"Your invoice of June is available in the console.\r\n"
)


@pytest.fixture(scope="module")
def signed_and_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signature = dkim.sign(
        MESSAGE, b"s2021", b"vigile.example", private, include_headers=[b"from", b"subject"]
    )
    keys = tmp_path_factory.mktemp("dkim") / "keys.txt"
    record = "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode()
    keys.write_text(f"# the provider's keys\ns2021._domainkey.vigile.example {record}\n")
    return signature + MESSAGE, keys


def _guard(keys: Path) -> Guard:
    return Guard(provider=ProviderDomains.of(("vigile.example",)), dkim_keys=load_dkim_keys(keys))


def test_a_good_signature_verifies(signed_and_keys: tuple[bytes, Path]) -> None:
    signed, keys = signed_and_keys
    verdict = _guard(keys).check(signed)
    assert [s.kind for s in verdict.signals] == ["dkim-verified"]
    assert verdict.verdict == "clean"


def test_an_altered_message_fails(signed_and_keys: tuple[bytes, Path]) -> None:
    signed, keys = signed_and_keys
    altered = signed.replace(b"Your invoice\r\n", b"Your invoice (new bank)\r\n")
    verdict = _guard(keys).check(altered)
    assert [s.kind for s in verdict.signals] == ["dkim-invalid"]
    assert "does not verify" in verdict.signals[0].reason


def test_another_key_fails(signed_and_keys: tuple[bytes, Path], tmp_path: Path) -> None:
    signed, _ = signed_and_keys
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    der = other.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    keys = tmp_path / "keys.txt"
    keys.write_text(
        "s2021._domainkey.vigile.example v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
    )
    assert [s.kind for s in _guard(keys).check(signed).signals] == ["dkim-invalid"]


def test_no_key_for_the_selector_means_not_checked(
    signed_and_keys: tuple[bytes, Path], tmp_path: Path
) -> None:
    signed, keys = signed_and_keys
    elsewhere = tmp_path / "keys.txt"
    elsewhere.write_text(keys.read_text().replace("s2021._domainkey", "other._domainkey"))
    assert _guard(elsewhere).check(signed).signals == ()


def test_a_bad_keys_file_names_its_line(tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("# fine\nnot a key line\n")
    with pytest.raises(ConfigError, match=r"keys.txt:2: expected"):
        load_dkim_keys(keys)
