"""Log filters: what a log line must not show."""

from __future__ import annotations

import logging

HIDDEN = "…"


class HideUrlTokens(logging.Filter):
    """Django logs each 4xx and 5xx answer with its path ("Unprocessable Entity: /welcome/<token>").
    A path that carries a token (an agent's invitation, a customer's sign-in, reset or
    verification link, a survey) is shown without it: after a refused password the link still
    works, and a log is read by more people than the link was sent to. A URL pattern says which
    part is a token by naming it `token`."""

    def filter(self, record: logging.LogRecord) -> bool:
        match = getattr(getattr(record, "request", None), "resolver_match", None)
        tokens = [str(value) for name, value in (match.kwargs.items() if match is not None else ())
                  if "token" in name and len(str(value)) >= 4]
        if tokens:
            message = record.getMessage()
            for token in tokens:
                message = message.replace(token, HIDDEN)
            record.msg, record.args = message, ()
        return True
