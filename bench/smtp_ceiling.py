"""The SMTP sink's own ceiling, for bench/mail.sh: N messages of SIZE bytes sent by 16 threads,
each over one kept-open connection (as our worker's pool does). Prints messages per second.

    python3 smtp_ceiling.py PORT N SIZE
"""
import smtplib
import sys
import threading
import time

port, total, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
body = ("Subject: ceiling\r\nFrom: a@b.example\r\nTo: c@d.example\r\n\r\n" + "x" * 76 + "\r\n") * max(1, size // 80)
threads = 16
per = total // threads


def run():
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for _ in range(per):
            smtp.sendmail("a@b.example", ["c@d.example"], body)


started = time.monotonic()
workers = [threading.Thread(target=run) for _ in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
elapsed = time.monotonic() - started
print(f"{per * threads / elapsed:.0f}")
