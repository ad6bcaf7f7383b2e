"""CPU per mail of `deskhand mail import`, writer and parser apart (issue 12).

    .venv/bin/python bench/ingest_cpu.py CORPUS_DIR [--database-url URL] [--jobs 1]

Wall-clock rates swing with whatever else runs on a 2-core machine; CPU time per mail does much
less, so this is the figure to compare commits by while the machine is shared. It imports the
folder into a fresh data directory (and, with `--database-url`, a database that must be empty),
in this process with `--jobs` parser processes beside it, and prints the statuses, the wall time,
the writer's CPU (this process) and the parsers' CPU (its children), each per mail.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="deskhand-ingest-cpu-")
    os.environ["DESKHAND_DATA_DIR"] = data_dir
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskhand.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    from deskhand.core.actors import SYSTEM
    from deskhand.ingest.importer import import_mail
    from deskhand.mail.services import ensure_mailboxes

    try:
        call_command("migrate", verbosity=0)
        ensure_mailboxes(["support@deskhand.test"], actor=SYSTEM)
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        report = import_mail(args.corpus, jobs=args.jobs)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        writer = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        parsers = children.ru_utime + children.ru_stime
        total = max(1, report.total)
        print(f"{dict(report.statuses)}; wall {wall:.1f} s ({report.total / wall:.0f} mails/s, start-up excluded); "
              f"writer CPU {writer:.1f} s = {writer / total * 1000:.2f} ms/mail; "
              f"parser CPU {parsers:.1f} s = {parsers / total * 1000:.2f} ms/mail; load {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
