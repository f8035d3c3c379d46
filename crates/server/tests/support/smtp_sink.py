"""A real SMTP server on loopback for Rapport's outbox tests (aiosmtpd).

Every message it accepts is appended to a JSONL file (one object per line: from, to,
subject, message_id, text, html) before it answers 250, and flushed, so a test reads
exactly what was delivered. It prints "PORT <n>" once it listens on 127.0.0.1:<n>.

Options:
  --out FILE        the JSONL file (appended to)
  --delay SECONDS   wait this long before taking each message (so a kill lands mid-batch)
  --fail-first N    answer "451 try again later" to the first N messages
"""

import argparse
import asyncio
import email
import email.policy
import json
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out, delay, fail_first):
        self.out = out
        self.delay = delay
        self.fail_left = fail_first

    async def handle_DATA(self, server, session, envelope):
        if self.fail_left > 0:
            self.fail_left -= 1
            return "451 4.3.0 try again later"
        if self.delay:
            await asyncio.sleep(self.delay)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": msg["subject"],
            "message_id": msg["message-id"],
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
        }
        with open(self.out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
        return "250 2.0.0 OK"


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--fail-first", type=int, default=0)
    a = p.parse_args()
    sink = Sink(a.out, a.delay, a.fail_first)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink), "127.0.0.1", 0)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
