"""The shipped translations: every customer-facing text (mails, portal, survey page, web forms,
error pages, and the messages of the services behind them) is translated in every catalogue, with
the same placeholders, and each compiled .mo says what its .po says (the .mo files are committed:
a fresh clone needs no gettext tools)."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]
# What customers read. Agents' mails (notifications, invitations) and pages are not listed.
TEMPLATES = ["templates/emails/acknowledgement.*", "templates/emails/reply.*", "templates/emails/rejected.*",
             "templates/emails/survey.*", "templates/emails/portal_*", "templates/emails/_layout.html",
             "templates/portal/*.html", "templates/4*.html", "templates/500.html", "templates/error.html",
             "templates/emails/chat_transcript.*",
             # The public knowledge base (its pages, suggestions and the answer after a suggestion).
             "templates/portal/kb/*.html"]
PYTHON = ["deskhand/portal/**/*.py", "deskhand/accounts/*.py", "deskhand/webforms/*.py", "deskhand/surveys/*.py",
          "deskhand/widget/**/*.py",
          # Live chat: its system messages, availability texts and the errors a visitor meets.
          "deskhand/chat/*.py",
          # The knowledge base: its services' errors reach the public pages, the widget and the API.
          "deskhand/kb/*.py"]
# What agents read: their app is translated into German (deskhand.core.i18n.AGENT_LANGUAGES); the
# other catalogues may leave these empty.
AGENT_TEMPLATES = ["templates/base.html", "templates/web/**/*.html"]
AGENT_PYTHON = ["deskhand/web/**/*.py",
                # The services' and queries' errors agents meet in the app and the API (deskhand.core.errors).
                *[f"deskhand/{app}/**/*.py" for app in ("agents", "automations", "config", "core", "customers", "fields",
                                                         "imports", "mail", "notifications", "replies", "reports",
                                                         "sla", "work")]]
PLURALS = {"hr": 3}
# Longer texts that read the same in German (the check for texts left in English skips them).
SAME = {"de": {"Administration", "SLA %(state)s", "%(count)s %(noun)s %(done)s.", "Import %(id)s", "%(name)s: %(status)s",
              "Gmail / Google Workspace", "Outlook / Microsoft 365", "Status: %(value)s"},
        "fr": {"%(counter)s article"}}

CALL = re.compile(r"\b(npgettext|pgettext|ngettext|gettext)\(")
LITERAL = re.compile(r"""\s*u?('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*,?""")
FUNCTIONS = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy",
             "npgettext", "npgettext_lazy"}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")

Message = tuple[str | None, str, str | None]  # context, msgid, plural


def _from_template(text: str) -> list[Message]:
    """What `makemessages` reads from a template: Django's own templatize, then its gettext calls."""
    found: list[Message] = []
    code = templatize(text)
    for call in CALL.finditer(code):
        position, args = call.end(), []
        while literal := LITERAL.match(code, position):
            args.append(ast.literal_eval(literal.group(1)))
            position = literal.end()
        name = call.group(1)
        context = args.pop(0) if name.startswith(("p", "np")) else None
        found.append((context, args[0], args[1] if "n" in name.removeprefix("p")[:1] else None))
    return found


def _from_python(text: str) -> list[Message]:
    found: list[Message] = []
    for node in ast.walk(ast.parse(text)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
            continue
        args = [arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
        name = node.func.id.removesuffix("_lazy").removesuffix("_noop")
        if len(args) < len(node.args):
            continue  # a text computed at run time (`gettext(label)`): its literal is marked where it is written
        if name.startswith("np"):
            found.append((args[0], args[1], args[2]))
        elif name.startswith("p"):
            found.append((args[0], args[1], None))
        elif name.startswith("n"):
            found.append((None, args[0], args[1]))
        elif args:
            found.append((None, args[0], None))
    return found


def customer_messages() -> dict[Message, str]:
    """Every translatable text customers can meet, with the first file it is in."""
    return _messages(TEMPLATES, PYTHON)


def agent_messages() -> dict[Message, str]:
    """Every translatable text of the agents' app (its pages, forms and messages)."""
    return _messages(AGENT_TEMPLATES, AGENT_PYTHON)


def _messages(templates: list[str], python: list[str]) -> dict[Message, str]:
    found: dict[Message, str] = {}
    for pattern in templates:
        for path in sorted(ROOT.glob(pattern)):
            for message in _from_template(path.read_text(encoding="utf-8")):
                found.setdefault(message, str(path.relative_to(ROOT)))
    for pattern in python:
        for path in sorted(ROOT.glob(pattern)):
            if "/tests/" not in str(path) and "/migrations/" not in str(path):
                for message in _from_python(path.read_text(encoding="utf-8")):
                    found.setdefault(message, str(path.relative_to(ROOT)))
    return found


def _unquote(text: str) -> str:
    return str(ast.literal_eval(text))


def read_po(path: Path) -> dict[tuple[str | None, str], tuple[str | None, list[str], bool]]:
    """(context, msgid) → (plural msgid, translations, fuzzy), for the entries of a .po file."""
    entries: dict[tuple[str | None, str], tuple[str | None, list[str], bool]] = {}
    fields: dict[str, str] = {}
    fuzzy, key = False, ""

    def close() -> None:
        nonlocal fuzzy
        if "msgid" in fields:
            strings = [fields[name] for name in sorted(k for k in fields if k.startswith("msgstr"))]
            entries[(fields.get("msgctxt"), fields["msgid"])] = (fields.get("msgid_plural"), strings, fuzzy)
        fields.clear()
        fuzzy = False

    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = line.strip()
        if not line:
            close()
        elif line.startswith("#,"):
            fuzzy = fuzzy or "fuzzy" in line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            fields[key] += _unquote(line)
        else:
            key, _space, value = line.partition(" ")
            fields[key] = _unquote(value)
    return entries


def _po(language: str) -> Path:
    return ROOT / "locale" / language / "LC_MESSAGES" / "django.po"


def test_the_customer_texts_are_found() -> None:
    messages = customer_messages()
    assert (None, "Hello %(name)s,", None) in messages
    assert ("request status", "Waiting for you", None) in messages
    assert (None, "The link works once and for %(hours)s hour.", "The link works once and for %(hours)s hours.") \
        in messages
    assert len(messages) > 120


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_customer_text_is_translated(language: str) -> None:
    _assert_translated(language, customer_messages())


def test_the_agent_texts_are_found() -> None:
    messages = agent_messages()
    assert (None, "Save view", None) in messages
    assert (None, "No %(noun)s match these filters.", None) in messages
    assert (None, "View “%(name)s” saved.", None) in messages
    assert len(messages) > 200


@pytest.mark.parametrize("language", ["de"])
def test_every_agent_text_is_translated(language: str) -> None:
    """The agents' app in German (`AGENT_LANGUAGES`): nothing an agent reads stays English."""
    _assert_translated(language, agent_messages())


def _assert_translated(language: str, messages: dict[Message, str]) -> None:
    entries = read_po(_po(language))
    missing, wrong = [], []
    for (context, msgid, plural), where in messages.items():
        entry = entries.get((context, msgid))
        if entry is None or entry[2] or not all(entry[1]) or (plural is not None and entry[0] != plural):
            missing.append(f"{where}: {msgid!r}")
            continue
        forms = entry[1]
        if plural is not None and len(forms) != PLURALS.get(language, 2):
            wrong.append(f"{msgid!r}: {len(forms)} plural forms")
        for form in forms:
            if set(PLACEHOLDER.findall(form)) != set(PLACEHOLDER.findall(plural or msgid)):
                wrong.append(f"{msgid!r} → {form!r}: other placeholders")
            if form == msgid and len(msgid) > 12 and msgid not in SAME.get(language, ()):
                wrong.append(f"{msgid!r} is left in English")
    assert not missing, f"untranslated in {language}:\n" + "\n".join(missing)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_its_source(language: str) -> None:
    """Run `make messages` after editing a .po file: this fails while its .mo says otherwise."""
    with (_po(language).with_suffix(".mo")).open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    assert compiled.info()["language"] == language
    for (context, msgid), (plural, forms, fuzzy) in read_po(_po(language)).items():
        if not msgid or fuzzy or not all(forms):
            continue
        if plural is None:
            got = compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)
            assert got == forms[0], f"{language}: {msgid!r} is {got!r} in the .mo, {forms[0]!r} in the .po"
        else:
            for count, form in _samples(language, len(forms)):
                got = compiled.npgettext(context, msgid, plural, count) if context else \
                    compiled.ngettext(msgid, plural, count)
                assert got == forms[form], f"{language}: {msgid!r} ({count}) differs between .mo and .po"


def _samples(language: str, forms: int) -> list[tuple[int, int]]:
    """Counts that pick each plural form, with the form they pick."""
    if language == "hr":
        return [(1, 0), (21, 0), (3, 1), (24, 1), (5, 2), (11, 2), (14, 2)][: 7 if forms == 3 else 0]
    if language == "fr":
        return [(1, 0), (0, 0), (2, 1)]
    return [(1, 0), (0, 1), (2, 1)]
