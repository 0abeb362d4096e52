"""TLS for a sidecar bound off loopback: a self-signed certificate made at first start, pinned by Home Assistant.

No certificate authority vouches for a sidecar on a home network, so Home Assistant pins the certificate's
SHA-256 fingerprint when the user adds it (the config flow shows it; the sidecar logs it) and refuses any
other certificate afterwards. Pinning makes expiry and host names irrelevant; the certificate is kept in the
data directory because a new one would break the pin.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import ssl
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CERT_FILE: Final = "tls_cert.pem"
KEY_FILE: Final = "tls_key.pem"
# Pinned, so never renewed: long enough to outlive the hardware it runs on.
VALIDITY: Final = dt.timedelta(days=20 * 365)


class TlsError(Exception):
    """The certificate cannot be made, read or used."""


def load_or_create_certificate(data_dir: Path, common_name: str) -> tuple[Path, Path]:
    """Return the certificate and key files in ``data_dir``, making them the first time."""
    cert, key = data_dir / CERT_FILE, data_dir / KEY_FILE
    if cert.exists() and key.exists():
        return cert, key
    private_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))  # a client clock a little behind still accepts it
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(private_key, hashes.SHA256())
    )
    key_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the key: owner only
        with os.fdopen(fd, "wb") as file:
            file.write(key_pem)
        cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    except OSError as err:
        raise TlsError(f"cannot write the TLS certificate to {data_dir}: {err}") from err
    return cert, key


def fingerprint(cert: Path) -> str:
    """Return the certificate's SHA-256 fingerprint as colon-separated hex (what browsers show)."""
    der = x509.load_pem_x509_certificate(cert.read_bytes()).public_bytes(serialization.Encoding.DER)
    return format_fingerprint(hashlib.sha256(der).digest())


def format_fingerprint(digest: bytes) -> str:
    """Format a digest as ``AB:CD:...``."""
    return ":".join(f"{byte:02X}" for byte in digest)


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """Return a server context with TLS 1.2 or newer (RFC 8996 retires 1.0 and 1.1)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as err:
        raise TlsError(f"cannot use the TLS certificate {cert}: {err}") from err
    return context
