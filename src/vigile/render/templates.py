"""The one Jinja environment factory: the console's pages, the self-contained reports
(breach record, demo) and the customer notifications all load their templates here.

What every environment shares:

- **Escaping by file name.** HTML (``.html.j2``, ``.html``, ``.xml``) is escaped; plain
  text (``.txt.j2``, ``.txt``) is not, nor a ``.j2`` file of labels shared by text and
  HTML templates (``{% set %}`` values, which the HTML template escapes as it outputs
  them). Any other name, and a template from a string, is escaped: on doubt, escape.
- **Text as written**, its last newline included (a message's text part ends as its
  template does).
- **An undefined variable is an error**, unless ``strict=False``: the console's pages test
  their optional parts with ``{% if error %}``.
- **Time filters**: ``time`` (RFC 3339) and ``when`` (``2021-05-20 09:00:00 UTC``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from vigile.model.times import format_rfc3339

__all__ = ["template_environment"]

_ESCAPED = ("html.j2", "html", "xml")
_PLAIN = ("txt.j2", "txt", "j2")


def template_environment(
    *folders: Path,
    sandboxed: bool = False,
    strict: bool = True,
    trim_blocks: bool = False,
) -> Environment:
    """Templates from ``folders``, the first that holds a name winning (a user's folder
    before the built-in one overrides it file by file).

    ``sandboxed`` for templates a user may write: they render data, they do not run code.
    ``trim_blocks``: a line holding only a block tag leaves nothing in the output.
    """
    kind = SandboxedEnvironment if sandboxed else Environment
    env = kind(
        loader=FileSystemLoader(list(folders)),
        autoescape=select_autoescape(
            enabled_extensions=_ESCAPED, disabled_extensions=_PLAIN, default=True
        ),
        undefined=StrictUndefined if strict else Undefined,
        keep_trailing_newline=True,
        trim_blocks=trim_blocks,
        lstrip_blocks=trim_blocks,
    )
    env.filters["time"] = format_rfc3339
    env.filters["when"] = _when
    return env


def _when(moment: datetime | None) -> str:
    """``moment`` for people, to the second, in UTC (empty for no time)."""
    return "" if moment is None else format_rfc3339(moment).replace("T", " ")[:19] + " UTC"
