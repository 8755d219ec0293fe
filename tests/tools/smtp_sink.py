"""A real SMTP server for the tests (aiosmtpd) on 127.0.0.1:PORT.

Every accepted message is written to DIR as NNNN.eml (written under another name first,
then renamed, so a reader never sees half a message). While the file DIR/refuse exists,
every message is refused with 451 (try again later). A recipient address containing
"tolak" is refused for good (550); one containing "penuh" always gets 452 (mailbox full,
temporary). Prints "ready" when it listens; stops at the end of standard input.
"""

import argparse
import pathlib
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder: pathlib.Path):
        self.folder = folder
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "tolak" in address:
            return "550 5.1.1 Kotak surat tidak ada"
        if "penuh" in address:
            return "452 4.2.2 Kotak surat penuh"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if (self.folder / "refuse").exists():
            return "451 4.3.0 Sementara tidak dapat menerima surel"
        self.count += 1
        target = self.folder / f"{self.count:04d}.eml"
        partial = self.folder / f"{self.count:04d}.part"
        partial.write_bytes(envelope.original_content or envelope.content)
        partial.rename(target)
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    folder = pathlib.Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(Sink(folder), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
