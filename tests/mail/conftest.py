"""The mail tests' app sends to a real SMTP server on loopback (aiosmtpd)."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.smtp import SmtpServer, smtp_server  # noqa: F401  (a fixture)


@pytest.fixture()
def app_config(smtp_server: SmtpServer) -> dict[str, Any]:  # noqa: F811
    return smtp_server.config()
