"""The certificate the SMTP listener offers with STARTTLS: DESKHAND_SMTP_TLS_CERT and
DESKHAND_SMTP_TLS_KEY (PEM files), or, when both are unset, a self-signed pair generated once in
the data directory. Senders on the internet do not check an MX host's certificate (RFC 7435,
opportunistic TLS), so a self-signed one already keeps mail from travelling in clear text."""

from __future__ import annotations

import datetime
import os
import socket
import ssl
from pathlib import Path

from deskhand.conf import conf

SELF_SIGNED_DIR = "smtp-tls"
VALID_DAYS = 10 * 365


def tls_context(*, cert: str | None = None, key: str | None = None, data_dir: Path | None = None,
                hostname: str | None = None) -> ssl.SSLContext:
    """A server context for STARTTLS. Raises ValueError for half a configuration or files that
    do not load, so that a wrong setting stops the listener at start instead of every session."""
    cert = conf.smtp_tls_cert if cert is None else cert
    key = conf.smtp_tls_key if key is None else key
    if bool(cert) != bool(key):
        raise ValueError("Set both DESKHAND_SMTP_TLS_CERT and DESKHAND_SMTP_TLS_KEY, or neither.")
    if not cert:
        cert_path, key_path = self_signed_pair(data_dir or conf.data_dir, hostname=hostname or socket.getfqdn())
    else:
        cert_path, key_path = Path(cert), Path(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(cert_path), str(key_path))
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"The SMTP TLS certificate or key does not load ({cert_path}, {key_path}): {exc}") from None
    return context


def self_signed_pair(data_dir: Path, *, hostname: str) -> tuple[Path, Path]:
    """`<data dir>/smtp-tls/cert.pem` and `key.pem`, made on first use (the key readable by the
    owner only) and kept from then on."""
    folder = Path(data_dir) / SELF_SIGNED_DIR
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_pem, cert_pem = _generate(hostname)
    for path, content, mode in ((key_path, key_pem, 0o600), (cert_path, cert_pem, 0o644)):
        temporary = path.with_suffix(f".tmp{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.replace(temporary, path)  # two processes starting at once both end with a whole file
    return cert_path, key_path


def _generate(hostname: str) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # what every MTA speaks
    hostname = hostname if hostname and hostname.isascii() else "localhost"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname[:64])])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)
