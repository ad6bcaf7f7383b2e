"""`deskhand`: the command line (Django's management commands plus serve, token, customers…)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskhand.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["deskhand", *sys.argv[1:]])


if __name__ == "__main__":
    main()
