"""Plain helpers shared by the transport test files: fill the emulator, a session on it, a
scripted recording HTTP handler, and a private CA."""

from __future__ import annotations

import datetime
import json
import ssl
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from modelarts_widgets.emulator import Emulator
from modelarts_widgets.sdk import (
    Session,
)
from tests.test_auth_chain import official_sdk  # noqa: F401  (a fixture)


def _fill(emulator: Emulator, count: int, prefix: str = "cfg") -> list[str]:
    names = [f"{prefix}-{i:04d}" for i in range(count)]
    emulator.store.replace(
        [{"config_name": n, "config_desc": "", "create_time": i} for i, n in enumerate(names)]
    )
    return names


def _session(emulator: Emulator, **kwargs: Any) -> Session:
    return Session(environ=emulator.env(), backoff_factor=0.01, **kwargs)


def _password_session(emulator: Emulator, iam_endpoint: str | None = None) -> Session:
    """A password session of the emulator's user acct/bob (registered here), IAM at ``iam_endpoint``."""
    emulator.identities.users[("acct", "bob")] = "bob-password-1"
    return Session(
        account="acct",
        username="bob",
        password="bob-password-1",
        region_name=emulator.region,
        modelarts_endpoint=emulator.endpoint,
        iam_endpoint=iam_endpoint or emulator.endpoint,
        environ={},
    )


class _Recorder(BaseHTTPRequestHandler):
    """Answers from a script; records each request's signing headers."""

    script: list[tuple[int, dict[str, str]]]
    seen: list[dict[str, str]]

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append(dict(self.headers))
        status, headers = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        body = json.dumps({"is_success": status == 200, "error_code": "APIG.0308"}).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    do_DELETE = do_GET


def _private_ca(tmp_path: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA of our own and a server certificate for 127.0.0.1 signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test private CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return ca_file, context
