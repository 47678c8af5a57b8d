"""The web front ends of the assistant: the FastAPI app (the widget's SSE endpoint, the OpenAI-compatible
`/v1/chat/completions`, feedback, handoff, health and readiness, the widget's static files) in api.py, the
Gradio chat and staff view in gradio_ui.py (the only module here that imports gradio), and a load
generator in loadtest.py. `app.py` at the repository root puts them into one process. Nothing here decides
what the assistant says."""

from .settings import WebSettings, WebSettingsError

__all__ = ["WebSettings", "WebSettingsError", "create_app"]


def __getattr__(name: str):  # create_app imports FastAPI: only when asked for
    if name == "create_app":
        from .api import create_app

        return create_app
    raise AttributeError(name)
