"""The 'your chapters are ready' e-mail, sent over SMTP when a job ends."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from .config import Settings
from .storage.store import Job, JobStatus

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 30.0
_IMPLICIT_TLS_PORT = 465  # SMTPS: TLS from the first byte, STARTTLS does not apply


def job_email(settings: Settings, user_email: str, job: Job, chapters: str = "") -> EmailMessage:
    """The message for a finished job; `chapters` (YouTube text) is included when given."""
    name = job.title or job.source_name or job.id
    message = EmailMessage()
    message["From"] = settings.email_from or settings.email_user or "chaptan@localhost"
    message["To"] = user_email
    if job.status == JobStatus.DONE:
        message["Subject"] = f"Chapters ready: {name}"
        lines = [f"The chapters for “{name}” are ready. Sign in to Chaptan to review and copy them."]
        if chapters:
            lines += ["", chapters.rstrip()]
    else:
        message["Subject"] = f"Chapters failed: {name}"
        lines = [f"Chaptan could not make chapters for “{name}”:", "", job.error or "unknown error",
                 "", "You can retry the job from your list of videos."]
    if job.warnings:
        lines += ["", "Warnings:"] + [f"- {w}" for w in job.warnings]
    message.set_content("\n".join(lines) + "\n")
    return message


def send_job_email(settings: Settings, user_email: str, job: Job, chapters: str = "") -> bool:
    """Send the job's e-mail; True when the server accepted it.

    Does nothing without EMAIL_HOST or an address. Failures are logged, never raised: a broken mail
    server must not turn a finished job into a failed one.
    """
    if not settings.email_configured or not user_email.strip():
        return False
    message = job_email(settings, user_email.strip(), job, chapters)
    try:
        with _connect(settings) as smtp:
            if settings.email_user:
                smtp.login(settings.email_user, settings.email_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        log.error("could not e-mail %s about job %s via %s:%d: %s", user_email, job.id,
                  settings.email_host, settings.email_port, exc)
        return False
    log.info("e-mailed %s about job %s", user_email, job.id)
    return True


def _connect(settings: Settings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if settings.email_use_tls and settings.email_port == _IMPLICIT_TLS_PORT:
        return smtplib.SMTP_SSL(settings.email_host, settings.email_port, timeout=SMTP_TIMEOUT,
                                context=context)
    smtp = smtplib.SMTP(settings.email_host, settings.email_port, timeout=SMTP_TIMEOUT)
    try:
        if settings.email_use_tls:
            smtp.starttls(context=context)
    except BaseException:
        smtp.close()
        raise
    return smtp
