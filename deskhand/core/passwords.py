"""The password hasher of agents and customers."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with OWASP's recommended minimum (19 MiB of memory, 2 passes, 1 lane): about 25 ms
    a password on a small server, so that a sign-up or sign-in stays well inside 100 ms of server
    time, where PBKDF2's 1 000 000 rounds cost 230 ms. Django's own Argon2 settings ask for 100 MiB
    and 8 lanes, too much for a public form on a two-core machine. Hashes made with other settings
    still verify and are redone at the next sign-in."""

    time_cost = 2
    memory_cost = 19_456  # KiB
    parallelism = 1
