"""The identity domain's emails (address verification, password reset), sent through SES from the mail outbox.

An email is a ``mail_outbox`` row written in the transaction that issues its token, so a
rolled-back registration sends nothing. After the commit the request sends its own emails
(``send_recorded``); what SES did not take stays pending and the mail relay
(identity/internal/mail_relay.py, every minute and invoked on demand) sends it later, so an
SES outage delays an email and loses none. Delivery is at least once.

The row holds the token's id, never the token: the link's token is derived from the id when
the email is written (``eduplatform.security.email_link_token``), so neither the database nor
the outbox nor a log line ever holds it. Only a mail's id and kind are logged, never the
address's link or body.
"""

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from uuid import UUID

from aws_lambda_powertools.metrics import MetricUnit

from eduplatform import clock, internal_calls
from eduplatform.aws_clients import InstanceClient
from eduplatform.db import Database, database
from eduplatform.drain import drain
from eduplatform.observability import logger, metrics
from eduplatform.security import email_link_token_matching
from eduplatform.settings import get_settings

from identity import repository

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"
BATCH_SIZE = 10
RELAY_MAX_BATCHES = 50
# The relay function POST /forgot-password pokes (asynchronously) instead of sending itself.
MAIL_RELAY_FUNCTION = ("MAIL_RELAY_FUNCTION", "IdentityInternalMailRelayFunction")

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client


def _new_ses_client() -> "SESV2Client":
    # Imported with the first email, not with the module: the identity functions' other
    # requests (a login, GET /me) send none and do not pay for boto3.
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.client("sesv2", config=config)


_ses: InstanceClient["SESV2Client"] = InstanceClient(_new_ses_client)


def ses_client() -> "SESV2Client":
    return _ses.get()


def use_client(client: "SESV2Client | None") -> None:
    """Replace the SES client (tests; None goes back to a fresh real one)."""
    _ses.replace(client)


def send_recorded(mail_ids: list[UUID], db: Database | None = None) -> int:
    """Send emails recorded by a committed transaction; how many SES took. Never raises."""
    if not mail_ids:
        return 0
    try:
        return _send_batch(db or database(), mail_ids)[0]
    except Exception:
        logger.exception("emails left in the outbox for the relay", extra={"mail_ids": [str(i) for i in mail_ids]})
        return 0


def poke_relay() -> None:
    """Ask the mail relay to run now, without waiting for it (an asynchronous invoke). Never raises."""
    if not internal_calls.start(MAIL_RELAY_FUNCTION[0], {}):
        logger.warning("mail relay not started; pending emails wait for its schedule")


def relay(db: Database | None = None) -> dict[str, int]:
    """Send pending emails, oldest first, until none is left or SES refuses one."""
    db = db or database()
    sent, failed = drain(lambda: _send_batch(db), BATCH_SIZE, RELAY_MAX_BATCHES)
    return {"sent": sent, "failed": failed}


def _send_batch(db: Database, mail_ids: list[UUID] | None = None) -> tuple[int, int]:
    """Send up to BATCH_SIZE pending emails (only the given ones, when given): (sent, failed).

    The rows stay locked (SKIP LOCKED for everyone else) while SES is called, so two senders
    never send the same email at the same time.
    """
    sent = failed = 0
    with db.transaction() as conn:
        rows = repository.lock_pending_mail(conn, mail_ids, BATCH_SIZE)
        now = clock.utcnow()
        for row in rows:
            token = email_link_token_matching(row["token_id"], row["purpose"], bytes(row["token_hash"]))
            if token is None:
                # Issued under a key retired since (two rotations while the email waited).
                repository.mark_mail_dropped(conn, row["id"], "its key was rotated out")
                continue
            if row["used_at"] is not None or row["expires_at"] <= now:
                # A link replaced (resend), used or expired while its email waited (SES down): mailing it helps nobody.
                repository.mark_mail_dropped(conn, row["id"], "its link no longer works")
                logger.info(
                    "email dropped: its link no longer works", extra={"mail_id": str(row["id"]), "kind": row["purpose"]}
                )
                continue
            error = _send(row, token)
            if error is None:
                repository.mark_mail_sent(conn, row["id"])
                sent += 1
            else:
                repository.mark_mail_failed(conn, row["id"], error)
                failed += 1
                logger.warning(
                    "email not sent, kept in the outbox",
                    extra={"mail_id": str(row["id"]), "kind": row["purpose"], "error": error},
                )
    if sent:
        logger.info("emails sent", extra={"count": sent})
        metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=sent)
    if failed:
        metrics.add_metric(name="EmailsNotSent", unit=MetricUnit.Count, value=failed)
    return sent, failed


def _send(row: dict[str, Any], token: str) -> str | None:
    """Send one email; None when SES took it, else why not (never the content)."""
    from botocore.exceptions import BotoCoreError, ClientError  # with the first email, as boto3

    subject, text, html = render(row["purpose"], row["name"], token)
    try:
        ses_client().send_email(
            FromEmailAddress=get_settings().email_sender,
            Destination={"ToAddresses": [row["recipient"]]},
            Content={
                "Simple": {
                    "Subject": {"Data": subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": text, "Charset": "UTF-8"}, "Html": {"Data": html, "Charset": "UTF-8"}},
                }
            },
        )
        return None
    except (BotoCoreError, ClientError) as exc:
        # botocore's messages name the operation and the service's answer, not the request's content.
        return f"{type(exc).__name__}: {exc}"[:500]


def link(purpose: str, token: str) -> str:
    page = "verify-email" if purpose == VERIFY_EMAIL else "reset-password"
    return f"{get_settings().app_base_url.rstrip('/')}/{page}?{urlencode({'token': token})}"


def render(purpose: str, name: str, token: str) -> tuple[str, str, str]:
    """(subject, text body, HTML body) of an email carrying ``token`` in its link."""
    from html import escape

    url = link(purpose, token)
    if purpose == VERIFY_EMAIL:
        subject = "Confirm your EduPlatform email address"
        lines = [f"Hello {name},", "", "Confirm your email address by opening this link (valid for 24 hours):", url]
    else:
        subject = "Reset your EduPlatform password"
        lines = [
            f"Hello {name},",
            "",
            (
                "Someone asked to reset your password. To choose a new one, open this link "
                "(valid for one hour; it works once):"
            ),
            url,
            "",
            "If it was not you, ignore this email.",
        ]
    text = "\n".join(lines) + "\n"
    html = "".join(
        f"<p>{escape(line)}</p>" if line != url else f'<p><a href="{escape(url)}">{escape(url)}</a></p>'
        for line in lines
        if line
    )
    return subject, text, html
