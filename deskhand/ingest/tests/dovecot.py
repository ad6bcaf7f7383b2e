"""A throwaway Dovecot on loopback for the IMAP tests: Debian's `dovecot-imapd` (.ci/run installs
it), its own config, users, Maildirs, sockets and logs in a temporary directory, free ports, a
self-signed certificate for the TLS tests. Nothing of the system's Dovecot is used or touched.

    @pytest.fixture(scope="module")
    def dovecot() -> Iterator[Dovecot]:
        yield from run_dovecot()
"""

from __future__ import annotations

import getpass
import grp
import imaplib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class ImapUser:
    username: str
    password: str


@dataclass
class Dovecot:
    root: Path
    port: int  # plain IMAP, STARTTLS offered
    tls_port: int  # IMAP over TLS (imaps)
    ca_file: Path  # the self-signed certificate, to trust it in a test (SSL_CERT_FILE)
    process: subprocess.Popen[bytes]

    def add_user(self, name: str = "", password: str = "") -> ImapUser:
        """A new account with an empty INBOX. One passwd-file per user: Dovecot notices a changed
        file by its modification time, which two users added within a second would not change."""
        user = ImapUser(name or f"desk{secrets.token_hex(4)}", password or secrets.token_urlsafe(12))
        (self.root / "users" / user.username).write_text(f"{user.username}:{{PLAIN}}{user.password}\n")
        return user

    def connect(self, user: ImapUser) -> imaplib.IMAP4:
        client = imaplib.IMAP4(HOST, self.port, timeout=10)
        if user.password.isascii():
            client.login(user.username, user.password)
        else:
            client.authenticate("PLAIN", lambda _: f"\0{user.username}\0{user.password}".encode())
        return client

    def deliver(self, user: ImapUser, *mails: bytes, folder: str = "INBOX", seen: bool = False) -> None:
        """Put mail in the account the way an MTA's local delivery would (IMAP APPEND)."""
        client = self.connect(user)
        try:
            if folder != "INBOX":
                client.create(folder)
            for raw in mails:
                status, data = client.append(folder, r"(\Seen)" if seen else None, None, raw)
                assert status == "OK", data
        finally:
            client.logout()

    def messages(self, user: ImapUser, folder: str = "INBOX") -> list[tuple[bool, bytes]]:
        """Every mail on the server, oldest first: (seen, raw bytes). Reading changes no flag."""
        client = self.connect(user)
        try:
            client.select(folder, readonly=True)
            _status, data = client.uid("SEARCH", "ALL")
            found = []
            for uid in data[0].split():
                _status, parts = client.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
                header, raw = next(part for part in parts if isinstance(part, tuple))
                flags = header + b"".join(part for part in parts if isinstance(part, bytes))
                found.append((b"\\Seen" in flags, raw))
            return found
        finally:
            client.logout()

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _accounts() -> tuple[str, str, str]:
    """(internal user, login user, mail user). Dovecot will not run its login processes or open
    mail as root, so as root the Debian package's own users serve; otherwise all are us."""
    if os.geteuid() != 0:
        me = getpass.getuser()
        return me, me, me
    names = {entry.pw_name for entry in pwd.getpwall()}
    login = "dovenull" if "dovenull" in names else "nobody"
    mail = "dovecot" if "dovecot" in names else "nobody"
    return "root", login, mail


def _group(user: str) -> str:
    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


def _certificate(root: Path) -> tuple[Path, Path]:
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True)
    return cert, key


def _config(root: Path, *, port: int, tls_port: int, cert: Path, key: Path) -> str:
    internal, login, mail = _accounts()
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = {HOST}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = 1
default_internal_user = {internal}
default_internal_group = {_group(internal)}
default_login_user = {login}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={mail} gid={_group(mail)} home={root}/home/%u
}}
# No chroot (only root may), and no growing delay after failed logins from one address: the
# tests fail logins on purpose.
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {HOST}
    port = {port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {tls_port}
  }}
}}
"""


def _wait_for_greeting(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited with {process.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=1) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot did not answer on {HOST}:{port}")


def start_dovecot() -> Dovecot:
    assert Path(DOVECOT).exists(), "Install Debian's dovecot-imapd package (.ci/run does)."
    root = Path(tempfile.mkdtemp(prefix="deskhand-dovecot-"))  # short: unix socket paths are limited
    root.chmod(0o755)
    _internal, _login, mail = _accounts()
    for folder in ("mail", "home"):
        (root / folder).mkdir()
        shutil.chown(root / folder, user=mail, group=_group(mail))
    (root / "users").mkdir()
    cert, key = _certificate(root)
    port, tls_port = free_port(), free_port()
    (root / "dovecot.conf").write_text(_config(root, port=port, tls_port=tls_port, cert=cert, key=key))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Dovecot(root=root, port=port, tls_port=tls_port, ca_file=cert, process=process)
    try:
        _wait_for_greeting(port, process, time.monotonic() + 15)
    except Exception as exc:
        log = server.log()
        stop_dovecot(server)
        raise RuntimeError(f"dovecot did not start ({exc}):\n{log}") from None
    return server


def stop_dovecot(server: Dovecot) -> None:
    if server.process.poll() is None:
        server.process.terminate()  # the master stops its children and removes its sockets
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(5)
    shutil.rmtree(server.root, ignore_errors=True)


def run_dovecot() -> Iterator[Dovecot]:
    """For a fixture: a running Dovecot, stopped and removed after."""
    server = start_dovecot()
    try:
        yield server
    finally:
        stop_dovecot(server)
