"""Secrets from the environment cleaned like secret files, refused with a control character
inside, remembered for masking; Salesforce key files checked when the config is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import CertificateBuilder, Name, NameAttribute, random_serial_number
from cryptography.x509.oid import NameOID

from cli.main import main
from config.errors import ProblemsError
from config.loader import load_config
from config.redaction import MASK, Redactor, redact, secret_values
from tests.config.test_settings import BASE, SALESFORCE, write
from tests.sync.fakes import BASE as MOMENT

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"


@pytest.mark.parametrize("around", ["\r", "\r\n", "\n", " \t "])
def test_a_secret_from_the_environment_loses_the_whitespace_around_it(folder, around):
    text = BASE.replace("sqlite:///state/leadsync.db", "${STATE}")
    environ = {
        "TOKEN": TOKEN + around,
        "STATE": f"postgresql+psycopg://u:pw@db/x{around}",
    }
    s = load_config(write(folder, text), environ=environ).settings
    assert s.connections[0].hubspot.access_token.get_secret_value() == TOKEN  # type: ignore[union-attr]
    assert s.state_url.get_secret_value() == "postgresql+psycopg://u:pw@db/x"


def test_leadsync_variables_and_salesforce_secrets_are_cleaned_too(folder):
    environ = {"TOKEN": f" {TOKEN}\r", "LEADSYNC_STATE_URL": "sqlite:////tmp/x.db\r"}
    s = load_config(write(folder, SALESFORCE), environ=environ).settings
    sf = s.connections[0].salesforce
    assert sf is not None and sf.client_secret is not None
    assert sf.client_secret.get_secret_value() == TOKEN
    assert s.state_url.get_secret_value() == "sqlite:////tmp/x.db"


def test_a_control_character_inside_a_secret_is_one_located_problem(folder):
    path = write(folder, BASE)
    with pytest.raises(ProblemsError) as info:
        load_config(path, environ={"TOKEN": "pat-na1-1111\r2222"})
    assert [str(p).replace(str(path), "F") for p in info.value.problems] == [
        "F:5:29 connections[0].hubspot.access_token: holds a control character (U+000D) "
        "inside the value; whitespace around a secret is removed, but none may appear within "
        "it: check the variable or file it comes from"
    ]


def test_the_cli_reports_a_control_character_inside_a_secret_with_exit_2(
    folder, monkeypatch, capsys
):
    path = write(folder, BASE)
    monkeypatch.setenv("TOKEN", "pat-na1-1111\x1b2222")
    assert main(["validate", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}:5:29 connections[0].hubspot.access_token: holds ")
    assert "U+001B" in err and "1111" not in err


def test_loading_a_config_remembers_its_secrets_for_masking(folder):
    text = BASE.replace("sqlite:///state/leadsync.db", "postgresql://leadsync:pg-pass-8@db/x")
    load_config(write(folder, text), environ={"TOKEN": TOKEN})
    assert redact(f"Invalid header value b'Bearer {TOKEN}\\r'") == (
        f"Invalid header value b'Bearer {MASK}\\r'"
    )
    assert redact("FATAL: password pg-pass-8 refused") == f"FATAL: password {MASK} refused"


def test_secret_values_are_every_secret_the_config_holds_and_its_key_lines(folder):
    key = folder / "jwt.key"
    key.write_bytes(_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    text = SALESFORCE.replace(
        "client_secret", "username: u, private_key_file: jwt.key, client_secret"
    )
    text += 'alerts: {webhooks: [{url: "https://hooks.example/T0/B0/abcdefgh"}]}\n'
    text = text.replace("sqlite:///state/leadsync.db", "postgresql://u:pa%2Fss-word@db/x")
    loaded = load_config(write(folder, text), environ={"TOKEN": TOKEN})
    values = secret_values(loaded.settings)
    lines = [line for line in key.read_text().splitlines() if not line.startswith("-----")]
    assert values == [
        "postgresql://u:pa%2Fss-word@db/x",
        "pa%2Fss-word",
        "pa/ss-word",
        TOKEN,
        "https://hooks.example/T0/B0/abcdefgh",
        key.read_text().strip(),
        *lines,
    ]


def test_a_redactor_masks_a_secret_as_texts_quote_it_and_leaves_short_values():
    redactor = Redactor()
    secret = 'a"b\\c d/é-long'
    redactor.remember([secret, "short"])
    assert redactor.redact(f"raw {secret}") == f"raw {MASK}"
    assert redactor.redact(f"repr {secret!r}") == f"repr '{MASK}'"
    assert redactor.redact('json "a\\"b\\\\c d/\\u00e9-long"') == f'json "{MASK}"'
    assert redactor.redact("url a%22b%5Cc%20d%2F%C3%A9-long") == f"url {MASK}"
    assert redactor.redact("form a%22b%5Cc+d%2F%C3%A9-long") == f"form {MASK}"
    assert redactor.redact("a short word") == "a short word"


def test_a_redactor_masks_the_longer_of_two_overlapping_secrets_whole():
    redactor = Redactor()
    redactor.remember(["client-secret-1", "client-secret-1-and-more"])
    assert redactor.redact("x client-secret-1-and-more y") == f"x {MASK} y"


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _certificate(key) -> bytes:
    name = Name([NameAttribute(NameOID.COMMON_NAME, "leadsync")])
    cert = (
        CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(random_serial_number())
        .not_valid_before(MOMENT)
        .not_valid_after(MOMENT.replace(year=MOMENT.year + 1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EXPECTED = (
    "expected an unencrypted PEM private key (-----BEGIN PRIVATE KEY----- or "
    "-----BEGIN RSA PRIVATE KEY-----)"
)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a key\n", f"is not a PEM private key; {EXPECTED}"),
        (_certificate(RSA_KEY), f"holds a certificate, not its private key; {EXPECTED}"),
        (
            RSA_KEY.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            f"holds a public key, not a private key; {EXPECTED}",
        ),
        (
            RSA_KEY.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"passphrase"),
            ),
            "is an encrypted private key; leadsync needs it without a passphrase "
            "(openssl pkey -in jwt.key -out jwt-plain.key writes one)",
        ),
        (
            _pem(ec.generate_private_key(ec.SECP256R1())),
            "holds a private key of type EC; Salesforce's JWT bearer flow signs with RS256, "
            "which needs an RSA key",
        ),
    ],
    ids=["text", "certificate", "public-key", "encrypted", "ec-key"],
)
def test_a_key_file_that_cannot_sign_is_located_without_its_content(
    folder, monkeypatch, capsys, content, message
):
    monkeypatch.setenv("TOKEN", TOKEN)
    key = folder / "jwt.key"
    key.write_bytes(content)
    text = SALESFORCE.replace(
        "client_secret", "username: u, private_key_file: jwt.key, client_secret"
    )
    path = write(folder, text)
    assert main(["validate", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"error: {path}:5:99 connections[0].salesforce.private_key_file: file {key} {message}\n"
    )


def test_an_rsa_key_with_its_certificate_in_one_file_loads(folder):
    key = folder / "jwt.key"
    key.write_bytes(_certificate(RSA_KEY) + _pem(RSA_KEY))
    text = SALESFORCE.replace(
        "client_secret", "username: u, private_key_file: jwt.key, client_secret"
    )
    loaded = load_config(write(folder, text), environ={"TOKEN": TOKEN})
    assert loaded.settings.connections[0].salesforce.private_key_file == Path(key)  # type: ignore[union-attr]
