"""`deskhand`: the command line (Django's management commands plus serve, token, customers…)."""

import os
import sys


def main() -> None:
    if sys.argv[1:] == ["keys"]:
        # New keys need no settings: nothing is read or made in a data directory, and a key in the
        # environment that is not valid does not stop you from making a good one.
        from deskhand.core.keys import env_lines

        print(env_lines())
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskhand.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["deskhand", *sys.argv[1:]])


if __name__ == "__main__":
    main()
