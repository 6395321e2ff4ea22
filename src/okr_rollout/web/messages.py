"""The pages' message catalog: extracted from the templates and the web package's Python, merged into each
language's .po file. ``python -m okr_rollout.web.messages`` updates the catalogs after a text changes; a test
checks that every message has a translation.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from okr_rollout.web.i18n import CATALOG_DIRS, LOCALE_DIR
from okr_rollout.web.templating import EXTENSIONS

WEB_DIR = Path(__file__).parent
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": ",".join(EXTENSIONS), "trimmed": "false"}}


def extract() -> Catalog:
    """Every message the pages can show, in the source language (English)."""
    catalog = Catalog(project="okr-rollout", domain="messages")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(WEB_DIR), METHODS, OPTIONS, keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(locale: str) -> Path:
    return LOCALE_DIR / CATALOG_DIRS[locale] / "LC_MESSAGES" / "messages.po"


def read(locale: str) -> Catalog:
    with po_path(locale).open("rb") as handle:
        return read_po(handle, locale=CATALOG_DIRS[locale])


def missing(locale: str) -> list[str]:
    """Messages of the pages without a translation (or only a fuzzy one) in ``locale``'s catalog."""
    translated = read(locale)
    gaps = []
    for message in extract():
        if not message.id:
            continue
        found = translated.get(message.id, message.context)
        strings = found.string if found else None
        values = strings if isinstance(strings, tuple | list) else (strings,)
        if found is None or found.fuzzy or not all(values):
            gaps.append(message.id if isinstance(message.id, str) else message.id[0])
    return gaps


def update(locale: str) -> int:
    """Merge the extracted messages into ``locale``'s .po (keeping translations); returns the untranslated count."""
    path = po_path(locale)
    template = extract()
    if path.exists():
        catalog = read(locale)
        catalog.update(template, update_header_comment=False, no_fuzzy_matching=True)
    else:
        catalog = Catalog(locale=CATALOG_DIRS[locale], project="okr-rollout", domain="messages")
        for message in template:
            if message.id:
                catalog.add(message.id, None, message.locations, context=message.context)
        path.parent.mkdir(parents=True, exist_ok=True)
    catalog.fuzzy = False  # the header: a fuzzy header would drop the plural rule from the compiled catalog
    with path.open("wb") as handle:
        write_po(handle, catalog, width=120, omit_header=False, ignore_obsolete=True, include_previous=False)
    return len(missing(locale))


if __name__ == "__main__":
    for language in CATALOG_DIRS:
        print(f"{po_path(language)}: {update(language)} untranslated", file=sys.stderr)
