"""E-mail: a transactional outbox (:func:`queue_message`, flush-only, in the caller's
transaction) and its sender (:func:`deliver_pending`, SMTP with retries, one transaction per
message). ``sel-time mail send`` runs the sender; the task queue runs it too."""

from .delivery import DeliveryReport, deliver_pending
from .models import MailMessage, MailStatus
from .outbox import compose, queue_message
from .settings import MailSettings, mail_settings

__all__ = [
    "DeliveryReport",
    "MailMessage",
    "MailSettings",
    "MailStatus",
    "compose",
    "deliver_pending",
    "mail_settings",
    "queue_message",
]
