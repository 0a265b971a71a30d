"""Write the key reference of ``docs/scenarios.md`` from the scenario schema.

The block between the two marker comments is :func:`simcore.scenario.key_reference`, which
takes every key, type, range and description from :data:`simcore.scenario.SCHEMA` (and,
through it, from the parameter definitions).  ``tests/test_docs_keys.py`` fails when the
page and the schema drift apart; then run::

    python docs/_ext/key_reference.py
"""

from __future__ import annotations

import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "scenarios.md"
BEGIN = ("<!-- key reference: generated from simcore.scenario.SCHEMA by "
         "docs/_ext/key_reference.py; do not edit by hand -->")
END = "<!-- end of the generated key reference -->"


def block() -> str:
    from simcore.scenario import key_reference

    return f"{BEGIN}\n\n{key_reference().rstrip()}\n\n{END}"


def current(text: str) -> str:
    a, b = text.index(BEGIN), text.index(END) + len(END)
    return text[a:b]


def main() -> int:
    text = PAGE.read_text(encoding="utf-8")
    PAGE.write_text(text.replace(current(text), block()), encoding="utf-8")
    print(f"wrote the key reference of {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
