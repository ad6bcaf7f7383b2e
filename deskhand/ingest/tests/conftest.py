from __future__ import annotations

from deskhand.testing.smtp import Capture, free_port, smtp_server

__all__ = ["Capture", "free_port", "smtp_server"]
