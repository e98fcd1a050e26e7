"""The local SMTP server: accepts every mail on 127.0.0.1 and keeps it as a ``.eml`` file in a
folder, where it can be opened with any mail reader (or read back by the tests), and serves
the mail page over that folder (``deploy.mail_page``) to read them in a browser."""

from __future__ import annotations

import argparse
import time
import uuid
from pathlib import Path
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller

from deploy.mail_page import create_app


class MailFolder:
    """aiosmtpd handler: one file per message received, named by arrival time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(envelope.original_content or envelope.content)
        partial.rename(self.folder / name)  # readers never see half a mail
        return "250 Message accepted for delivery"


def run(host: str, port: int, folder: Path, http_port: int) -> None:
    controller = Controller(MailFolder(folder), hostname=host, port=port)
    controller.start()  # in a thread of its own
    print(f"SMTP on {host}:{port}, mail kept in {folder}", flush=True)
    print(f"Mail page on http://{host}:{http_port}/", flush=True)
    page = uvicorn.Config(create_app(folder), host=host, port=http_port, log_level="warning")
    try:
        uvicorn.Server(page).run()  # until Ctrl-C or SIGTERM
    finally:
        controller.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=50025)
    parser.add_argument("--http-port", type=int, default=8025, help="port of the mail page")
    parser.add_argument("--folder", type=Path, default=Path(".local/mail"))
    args = parser.parse_args()
    run(args.host, args.port, args.folder, args.http_port)
