"""A large mail corpus made of copies of a small one (issue 12: cost per mail from 5 000 to 100 000).

    .venv/bin/python bench/scale_corpus.py SOURCE OUT --copies 20

`../shared/bench/make_corpus.py` stops with a UnicodeEncodeError above about 20 000 mails (a price
in euros meets a Latin-1 mail), so the 100 000-mail corpus is the 5 000-mail one (`--seed 1`)
copied 20 times. Each copy gets its own Message-IDs: `.c<copy>` is added before the `@` of every id
on the Message-ID, In-Reply-To and References lines (folded lines included), so every copy threads
within itself exactly as the original does. Senders, subjects and bodies repeat: the same
customers write again, which a real mailbox does too. Files are named `<copy>-<original name>`,
so that a folder import reads them copy after copy.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

ID_HEADERS = (b"message-id:", b"in-reply-to:", b"references:")
MESSAGE_ID = re.compile(rb"<([^<>@\s]+)@")


def rewrite(raw: bytes, copy: int) -> bytes:
    head, separator, body = raw.partition(b"\n\n") if b"\r\n\r\n" not in raw else raw.partition(b"\r\n\r\n")
    lines = head.splitlines(keepends=True)
    in_id_header = False
    for index, line in enumerate(lines):
        if line[:1] in (b" ", b"\t"):
            pass  # a folded line belongs to the header before it
        else:
            in_id_header = line.lower().startswith(ID_HEADERS)
        if in_id_header:
            lines[index] = MESSAGE_ID.sub(lambda match: b"<" + match.group(1) + b".c%d@" % copy, line)
    return b"".join(lines) + separator + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    files = sorted(path for path in args.source.iterdir() if path.is_file())
    for copy in range(args.copies):
        for path in files:
            (args.out / f"{copy:03d}-{path.name}").write_bytes(rewrite(path.read_bytes(), copy))
    print(f"{len(files) * args.copies} mails in {args.out}")


if __name__ == "__main__":
    main()
