"""The job e-mail, sent to a small real SMTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest

from chaptan.config import Settings
from chaptan.mail import send_job_email
from chaptan.storage.store import Job


@dataclass
class Received:
    sender: str = ""
    recipients: list[str] = field(default_factory=list)
    login: str = ""
    message: EmailMessage | None = None


class SMTPServer:
    """Speaks just enough SMTP for smtplib: EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, QUIT."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received: list[Received] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept(); close() alone does not on Linux
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            with conn, conn.makefile("rb") as lines:
                self._session(conn, lines)

    def _session(self, conn: socket.socket, lines) -> None:
        def reply(text: str) -> None:
            conn.sendall(text.encode() + b"\r\n")

        reply("220 test ESMTP")
        mail = Received()
        for raw in lines:
            line = raw.decode().rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                reply("250-test\r\n250 AUTH PLAIN")
            elif verb == "HELO":
                reply("250 test")
            elif verb == "AUTH":
                _, user, password = base64.b64decode(line.split()[2]).decode().split("\0")
                mail.login = f"{user}:{password}"
                reply("235 ok")
            elif verb == "MAIL":
                mail.sender = line.split(":", 1)[1].split()[0].strip("<>")
                reply("250 ok")
            elif verb == "RCPT":
                mail.recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                reply("250 ok")
            elif verb == "DATA":
                reply("354 go on")
                mail.message = self._read_data(lines)
                self.received.append(mail)
                mail = Received(login=mail.login)
                reply("250 queued")
            elif verb == "RSET":
                reply("250 ok")
            elif verb == "QUIT":
                reply("221 bye")
                return
            else:
                reply("502 not implemented")

    @staticmethod
    def _read_data(lines) -> EmailMessage:
        body = []
        for raw in lines:
            if raw == b".\r\n":
                break
            body.append(raw[1:] if raw.startswith(b"..") else raw)  # undo dot-stuffing
        return email.message_from_bytes(b"".join(body), policy=email.policy.default)


@pytest.fixture
def server() -> Iterator[SMTPServer]:
    smtp = SMTPServer()
    yield smtp
    smtp.close()


def _settings(port: int, **overrides) -> Settings:
    values = {"email_host": "127.0.0.1", "email_port": port, "email_use_tls": False,
              "email_from": "chaptan@example.com"} | overrides
    return Settings(**values)


def test_done_job_mail(server: SMTPServer) -> None:
    job = Job("j1", "ann", title="Cooking pasta", status="done", warnings=("speech is quiet",))
    assert send_job_email(_settings(server.port), "ann@example.com", job, chapters="00:00 Intro\n01:10 Sauce")

    [mail] = server.received
    assert (mail.sender, mail.recipients, mail.login) == ("chaptan@example.com", ["ann@example.com"], "")
    assert mail.message["Subject"] == "Chapters ready: Cooking pasta"
    body = mail.message.get_content()
    assert "are ready" in body and "01:10 Sauce" in body and "speech is quiet" in body


def test_failed_job_mail_with_login(server: SMTPServer) -> None:
    job = Job("j1", "ann", source_name="clip.mp4", status="failed", error="the file has no audio track")
    settings = _settings(server.port, email_user="mailer", email_password="secret", email_from="")
    assert send_job_email(settings, "ann@example.com", job)

    [mail] = server.received
    assert mail.login == "mailer:secret" and mail.sender == "mailer"
    assert mail.message["Subject"] == "Chapters failed: clip.mp4"
    assert "the file has no audio track" in mail.message.get_content()


def test_not_configured_or_no_address_is_a_no_op(server: SMTPServer) -> None:
    job = Job("j1", "ann", status="done")
    assert not send_job_email(Settings(), "ann@example.com", job)
    assert not send_job_email(_settings(server.port), " ", job)
    assert server.received == []


def test_unreachable_server_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with socket.create_server(("127.0.0.1", 0)) as unused:
        port = unused.getsockname()[1]  # closed again below: nothing listens there
    assert not send_job_email(_settings(port), "ann@example.com", Job("j1", "ann", status="done"))
    assert "could not e-mail ann@example.com about job j1" in caplog.text
