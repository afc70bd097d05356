"""A real SMTP server on loopback for the mail tests: aiosmtpd's ``Controller`` in a thread,
keeping every message it accepted (parsed) and answering with scripted failures on demand."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class RecordingHandler:
    """Accepts every message, unless ``fail_data`` holds replies to give first (one per DATA,
    e.g. ``"421 4.3.2 Try again later"``)."""

    received: list[Received] = field(default_factory=list)
    fail_data: list[str] = field(default_factory=list)
    data_commands: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_commands += 1
        if self.fail_data:
            return self.fail_data.pop(0)
        raw = envelope.original_content or envelope.content
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def config(self) -> dict[str, Any]:
        """The app settings that send to this server."""
        return {"SMTP_URL": f"smtp://{self.host}:{self.port}",
                "SMTP_FROM": "sel-time <rota@sel-time.example.nhs.uk>"}


@pytest.fixture()
def smtp_server() -> Iterator[SmtpServer]:
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, handler)
    finally:
        controller.stop()
