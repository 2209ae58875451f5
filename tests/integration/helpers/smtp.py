"""A real SMTP server's inbox (an aiosmtpd handler): keeps every message, refuses the recipients it is told to."""
from __future__ import annotations

import email
from email import policy


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: dict[str, str] = {}  # recipient -> the SMTP reply to RCPT TO

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"
