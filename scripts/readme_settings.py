"""Rewrite the settings table in README.md from trialscout.settings (run after adding one)."""

from __future__ import annotations

import re
from pathlib import Path

from trialscout.settings import settings_table

README = Path(__file__).resolve().parents[1] / "README.md"


def render() -> str:
    lines = ["| setting | environment variable | default | meaning |", "|---|---|---|---|"]
    lines += [f"| `{n}` | `{e}` | `{d}` | {h} |" for n, e, d, h in settings_table()]
    return "\n".join(lines)


def main() -> None:
    text = README.read_text()
    new = re.sub(r"(<!-- settings-table -->\n).*?(\n<!-- /settings-table -->)",
                 lambda m: m.group(1) + render() + m.group(2), text, flags=re.S)
    README.write_text(new)


if __name__ == "__main__":
    main()
