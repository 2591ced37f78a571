"""Certificates for the sandbox: a throwaway CA, the API server's serving cert, an admin client.

Uses ``cryptography`` (X.509 and key generation are not something to hand-write).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = dt.timedelta(days=365)


@dataclass(frozen=True)
class PkiFiles:
    """Paths of the PEM files the control plane and clients use."""

    ca_cert: Path
    ca_key: Path
    serving_cert: Path
    serving_key: Path
    admin_cert: Path
    admin_key: Path
    sa_key: Path
    sa_pub: Path

    @classmethod
    def in_dir(cls, pki: Path) -> PkiFiles:
        return cls(
            ca_cert=pki / "ca.crt",
            ca_key=pki / "ca.key",
            serving_cert=pki / "apiserver.crt",
            serving_key=pki / "apiserver.key",
            admin_cert=pki / "admin.crt",
            admin_key=pki / "admin.key",
            sa_key=pki / "sa.key",
            sa_pub=pki / "sa.pub",
        )


def _name(common: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def generate(pki_dir: Path, *, extra_ips: tuple[str, ...] = ()) -> PkiFiles:
    """Write a fresh CA, serving cert (127.0.0.1, localhost), admin cert and SA keys."""
    pki_dir.mkdir(parents=True, exist_ok=True)
    files = PkiFiles.in_dir(pki_dir)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("gitops-tui-sandbox-ca")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(
        subject: x509.Name, usage: x509.ObjectIdentifier, sans: list[x509.GeneralName]
    ) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)

    ips = ["127.0.0.1", "10.96.0.1", *extra_ips]
    serving_sans: list[x509.GeneralName] = [
        x509.DNSName(name)
        for name in ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc")
    ]
    serving_sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    serving_cert, serving_key = leaf(
        _name("kube-apiserver"), ExtendedKeyUsageOID.SERVER_AUTH, serving_sans
    )
    admin_cert, admin_key = leaf(
        _name("sandbox-admin", "system:masters"), ExtendedKeyUsageOID.CLIENT_AUTH, []
    )
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    _write(files.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM))
    _write(files.ca_key, _key_pem(ca_key))
    _write(files.serving_cert, serving_cert)
    _write(files.serving_key, serving_key)
    _write(files.admin_cert, admin_cert)
    _write(files.admin_key, admin_key)
    _write(files.sa_key, _key_pem(sa_key))
    _write(
        files.sa_pub,
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )
    return files


def issue_client_cert(
    files: PkiFiles, user: str, groups: tuple[str, ...], out_dir: Path
) -> tuple[Path, Path]:
    """A client certificate for ``user`` in ``groups`` (e.g. a read-only RBAC user for tests)."""
    ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TypeError("unexpected CA key type")
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, user)]
    attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in groups]
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attrs))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = out_dir / f"{user}.crt", out_dir / f"{user}.key"
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    _write(key_path, _key_pem(key))
    return cert_path, key_path
