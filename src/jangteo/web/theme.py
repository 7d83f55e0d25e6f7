"""Theming: a shop's directory (`JANGTEO_THEME_DIR`) overrides templates and static files.

`<theme>/templates/x.html` is used instead of the package's `x.html`, and `<theme>/static/x`
instead of `/static/x`; anything the theme does not have comes from the package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"


def theme_dir(settings: Any) -> Path | None:
    # `theme_dir` is an optional setting (JANGTEO_THEME_DIR); older settings lack the field
    value = getattr(settings, "theme_dir", None)
    return Path(value) if value else None


def template_dirs(settings: Any) -> list[Path]:
    theme = theme_dir(settings)
    dirs = [theme / "templates"] if theme is not None else []
    return [*dirs, TEMPLATES_DIR]


def static_dirs(settings: Any) -> list[Path]:
    theme = theme_dir(settings)
    dirs = [theme / "static"] if theme is not None else []
    return [*dirs, STATIC_DIR]


def make_environment(settings: Any) -> Environment:
    loader = ChoiceLoader([FileSystemLoader(str(d)) for d in template_dirs(settings)])
    env = Environment(
        loader=loader,
        autoescape=select_autoescape(["html", "xml", "svg"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        # templates of a running shop do not change; a theme author restarts to see edits
        auto_reload=getattr(settings, "env", "production") == "development",
    )
    return env


def templates(app: Any) -> Environment:
    """The app's Jinja environment, built on first use from its settings."""
    env = getattr(app.state, "web_templates", None)
    if env is None:
        env = app.state.web_templates = make_environment(app.state.settings)
    return env


class ThemedStaticFiles:
    """`/static`: the theme's files first, then the package's; looked up per app (each test
    app may have its own theme)."""

    def __init__(self) -> None:
        self._by_dirs: dict[tuple[Path, ...], StaticFiles] = {}

    def _files(self, settings: Any) -> StaticFiles:
        dirs = tuple(d for d in static_dirs(settings) if d.is_dir())
        files = self._by_dirs.get(dirs)
        if files is None:
            files = StaticFiles(directory=dirs[-1], check_dir=False)
            files.all_directories = list(dirs)
            self._by_dirs[dirs] = files
        return files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._files(scope["app"].state.settings)(scope, receive, send)
