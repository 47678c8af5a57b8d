"""`python app.py [--host H] [--port P]`: one process serving the Gradio chat (`/`), the staff view
(`/staff`, when BOT_WEB_STAFF_KEY is set), the HTTP API (`/v1/chat/completions`, `/api/*`, `/healthz`,
`/readyz`) and the embeddable widget (`/widget.js`, demo page at `/demo`), run by uvicorn.

Thin on purpose: the FastAPI app comes from bot/web/api.py, the Gradio UI from bot/web/gradio_ui.py, the
assistant from bot/factory.py; settings are `BOT_WEB_*` (bot/web/settings.py) and `BOT_*` (bot/config.py)
environment variables. `BOT_LLM_BACKEND=fake` serves the deterministic fake model (for load tests)."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from bot.web import WebSettings


def build(host: str | None = None, port: int | None = None) -> tuple[FastAPI, WebSettings]:
    from bot.config import BotConfig
    from bot.factory import build_assistant
    from bot.web import WebSettings
    from bot.web.api import create_app
    from bot.web.gradio_ui import mount_gradio

    settings = WebSettings.from_env(host=host, port=port)
    assistant = build_assistant(BotConfig.from_env(channel="web"), progress=True)
    app = create_app(assistant, settings)
    mount_gradio(app, assistant, settings)
    return app, settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python app.py", description="Serve the Fernhollow Bank assistant.")
    parser.add_argument("--host", help="address to listen on (default BOT_WEB_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port (default BOT_WEB_PORT or 8000)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    import uvicorn

    app, settings = build(args.host, args.port)
    print(
        f"Fernhollow Bank assistant on http://{settings.host}:{settings.port}/  (API /v1, widget /widget.js)"
    )
    uvicorn.run(
        app, host=settings.host, port=settings.port, log_level=args.log_level, timeout_graceful_shutdown=5
    )


if __name__ == "__main__":
    main()
