"""A real SMTP server for the tests (aiosmtpd): every message it accepts is written to DIR as
<pid>-<n>.eml, with <pid>-<n>.json holding the envelope, so tests read what was delivered.

    python3 sink.py PORT DIR
"""
import asyncio
import itertools
import json
import os
import sys

from aiosmtpd.controller import Controller

counter = itertools.count(1)


class Store:
    def __init__(self, folder):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        n = next(counter)
        base = os.path.join(self.folder, f"{os.getpid()}-{n:06d}")
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos}, f)
        with open(base + ".eml.part", "wb") as f:
            f.write(envelope.original_content)
        # Renamed last: a reader sees a message whole or not at all.
        os.rename(base + ".eml.part", base + ".eml")
        return "250 Message accepted for delivery"


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    controller = Controller(Store(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
