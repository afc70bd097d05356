"""``python -m sel_time.imports``: write the template files after a change to the columns."""
from __future__ import annotations

from .templates import write_templates

if __name__ == "__main__":
    for path in write_templates():
        print(path)  # noqa: T201  (a developer's command: the paths written)
