"""The check of a Salesforce JWT bearer key file, made when the configuration is loaded.

The connector signs its JWT with RS256 through PyJWT, which takes an unencrypted PEM private key
(`-----BEGIN PRIVATE KEY-----` or `-----BEGIN RSA PRIVATE KEY-----`). A file that is anything
else is named with what it holds instead, never with its content.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

#: More than any PEM key; a larger file is not one.
_MOST = 1 << 20
_EXPECTED = (
    "an unencrypted PEM private key (-----BEGIN PRIVATE KEY----- or "
    "-----BEGIN RSA PRIVATE KEY-----)"
)


def private_key_problem(path: Path) -> str | None:
    """Why `path` cannot sign Salesforce's JWT bearer assertion (RS256), or None."""
    try:
        with path.open("rb") as handle:
            data = handle.read(_MOST + 1)
    except OSError as exc:
        return f"file {path} cannot be read: {exc.strerror or exc}"
    if len(data) > _MOST:
        return f"file {path} is over {_MOST:,} bytes, too large for a key; expected {_EXPECTED}"
    try:
        key = load_pem_private_key(data, password=None)
    except TypeError:
        return (
            f"file {path} is an encrypted private key; leadsync needs it without a passphrase "
            f"(openssl pkey -in {path.name} -out {path.stem}-plain.key writes one)"
        )
    except (ValueError, UnsupportedAlgorithm):
        return f"file {path} {_holds(data)}; expected {_EXPECTED}"
    if not isinstance(key, RSAPrivateKey):
        kind = type(key).__name__.replace("PrivateKey", "") or "another"
        return (
            f"file {path} holds a private key of type {kind}; Salesforce's JWT bearer flow "
            "signs with RS256, which needs an RSA key"
        )
    return None


def _holds(data: bytes) -> str:
    """What a file that is no usable private key holds, as far as its PEM labels tell."""
    if b"-----BEGIN CERTIFICATE-----" in data:
        return "holds a certificate, not its private key"
    if b"PUBLIC KEY-----" in data:
        return "holds a public key, not a private key"
    if b"PRIVATE KEY-----" in data:
        return "holds a private key that cannot be read (damaged, or of an unsupported type)"
    return "is not a PEM private key"
