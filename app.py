"""Chaptan's entry point: `python app.py` locally, and the Hugging Face Space's app_file.

Settings come from environment variables (README.md lists them); --host/--port/--share override
Gradio's GRADIO_SERVER_NAME / GRADIO_SERVER_PORT and add a public share link.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from chaptan.config import Settings
from chaptan.pipeline import warm_up
from chaptan.services import build_services
from chaptan.ui import build_app, launch_options


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Chaptan web app.")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1, or GRADIO_SERVER_NAME)")
    parser.add_argument("--port", type=int, help="port (default 7860, or GRADIO_SERVER_PORT)")
    parser.add_argument("--share", action="store_true", help="create a public Gradio share link")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own start-up requests
    # `docker stop`, a Space restart and systemd send SIGTERM: shut down as on Ctrl-C, so the last
    # edits reach the S3 bucket and the running job goes back in the queue without counting a crash.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    settings = Settings.from_env()
    services = build_services(settings)
    try:
        password = services.start()
        # Loading the Whisper models and the sentence encoder takes seconds on a CPU: done while the
        # server starts, the first job and the first voice question do not wait for it.
        warm_up(services.transcriber)
        if password:
            print(f"Created the first administrator: user 'admin', password {password!r}. "
                  "It is shown only this once: sign in and change it in the Admin tab.", flush=True)
        demo = build_app(services)
        demo.launch(server_name=args.host, server_port=args.port, share=args.share or None,
                    **launch_options(services))
    except KeyboardInterrupt:  # a signal before the server was up
        pass
    finally:
        # A second signal (docker stop and Ctrl-C again, say) must not cut the shutdown short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        services.stop()
    # Everything is saved now. A native thread still running (the chapter model's warm-up in
    # TensorFlow, CTranslate2) aborts the interpreter's own finalization, so leave directly.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
