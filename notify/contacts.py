"""The contact directory (setting ``CONTACTS_FILE``): who is reached on which Apprise URLs, best first.

A YAML file in the style of an Apprise configuration file — a list of URLs, each with tags — where
a tag names a person and may carry a priority (lower goes first)::

    version: 1
    urls:
      - "wechat://${WECOM_CORPID}:${WECOM_SECRET}@1000002/@KangMingLi":
          tag: 1:kang-mingli
      - "mailto://${SMTP_USER}:${SMTP_PASSWORD}@mail.example.gov.cn?to=kml@example.gov.cn":
          tag: 2:kang-mingli
      - "wecombot://${WAFANG_BOT_KEY}":
          tag: 1:乡镇党委书记@瓦房镇, 2:扶贫专干@瓦房镇
      - "outbox://":
          tag: 9:*

A tag's person is a person key of the directory (``kang-mingli``, ``乡镇党委书记@220881100000``) or
a role in a unit (``乡镇党委书记@瓦房镇``, the unit by name or code); ``*`` is everyone, after their
own channels. ``outbox://`` with no recipient means the person's local outbox.

Credentials never appear in the file: write ``${NAME}`` and set the environment variable ``NAME``
(or ``NAME_FILE``, a file holding the value). A secret written literally where the service expects
a credential is refused at load. Resolved URLs are used to send and never logged or stored; what
is shown is Apprise's privacy URL or the URL as written, with its placeholders.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
PRIORITY = re.compile(r"^(\d+):(.+)$")
DEFAULT_PRIORITY = 1
EVERYONE = "*"


class ContactsError(ValueError):
    """The contact directory cannot be used; the message names the file and entry, never a secret."""


@dataclass(frozen=True)
class Channel:
    """One channel of one person, best first. ``url`` holds credentials: send with it, never show it."""

    url: str = field(repr=False)
    written: str  # the URL as written in the file, placeholders and all (safe to show)
    priority: int
    entry: int  # 1-based entry number in the file (ContactChannel.url_ref)
    scheme: str


@dataclass(frozen=True)
class _Entry:
    written: str
    url: str = field(repr=False)
    scheme: str
    tags: tuple[tuple[int, str], ...]
    number: int


def resolve_secret(name: str, env: dict[str, str] | None = None) -> str | None:
    """NAME from the environment, else the content of the file named by NAME_FILE."""
    env = os.environ if env is None else env  # type: ignore[assignment]
    assert env is not None
    if env.get(name):
        return env[name]
    path = env.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ContactsError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None
    return None


def _parse_tags(value: object, where: str) -> tuple[tuple[int, str], ...]:
    items: list[str] = []
    if isinstance(value, str):
        items = [t for t in re.split(r"[,\s]+", value) if t]
    elif isinstance(value, list):
        for v in value:
            items += [t for t in re.split(r"[,\s]+", str(v)) if t]
    else:
        raise ContactsError(f"{where}: tag must be a string or a list")
    out = []
    for t in items:
        m = PRIORITY.match(t)
        out.append((int(m.group(1)), m.group(2)) if m else (DEFAULT_PRIORITY, t))
    if not out:
        raise ContactsError(f"{where}: no tag (whom is this URL for?)")
    return tuple(out)


def _entries(doc: Any, file: str) -> Iterable[tuple[str, object, str]]:
    """(url as written, tag value, where) for each entry, in file order."""
    if not isinstance(doc, dict) or not isinstance(doc.get("urls"), list):
        raise ContactsError(f"{file}: expected a mapping with a 'urls:' list (Apprise YAML style)")
    if doc.get("version", 1) != 1:
        raise ContactsError(f"{file}: unsupported version {doc.get('version')!r} (expected 1)")
    for i, item in enumerate(doc["urls"], start=1):
        where = f"{file}: urls[{i}]"
        if isinstance(item, str):
            raise ContactsError(f"{where}: a URL without tags reaches nobody; add 'tag: <person key>'")
        if not isinstance(item, dict):
            raise ContactsError(f"{where}: expected '- URL: {{tag: ...}}'")
        if "url" in item:  # - {url: ..., tag: ...}
            yield str(item["url"]), item.get("tag"), where
            continue
        if len(item) != 1:
            raise ContactsError(f"{where}: one URL per list item")
        written, opts = next(iter(item.items()))
        for j, opt in enumerate(opts if isinstance(opts, list) else [opts], start=1):
            if not isinstance(opt, dict) or "tag" not in opt:
                raise ContactsError(f"{where}: expected 'tag:' under the URL")
            yield str(written), opt["tag"], where if not isinstance(opts, list) else f"{where}[{j}]"


class Masker:
    """Replaces known secret values by **** in any text (errors, log records)."""

    def __init__(self, secrets: Iterable[str] = ()):
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "****")
        return text

    def __add__(self, other: Masker) -> Masker:
        return Masker([*self.secrets, *other.secrets])


def url_secrets(url: str) -> Masker:
    """The credential values of an Apprise URL (its private fields), for masking."""
    from notify.plugins import plugin_class, url_fields

    cls, fields = plugin_class(url), url_fields(url)
    if cls is None or not fields:
        return Masker([url])
    values = []
    for key, tok in getattr(cls, "template_tokens", {}).items():
        if tok.get("private"):
            v = fields.get(key) or fields.get(tok.get("map_to", key))
            if isinstance(v, str):
                values += [v, quote(v, safe="")]
    return Masker(values)


class ContactBook:
    """The loaded directory: channels per person, with the placeholders resolved."""

    def __init__(self, entries: list[_Entry], secrets: set[str], source: str):
        self.entries = entries
        self.source = source
        self.masker = Masker(secrets)
        self._by_who: dict[str, list[tuple[int, int, _Entry]]] = {}
        for e in entries:
            for prio, who in e.tags:
                self._by_who.setdefault(who, []).append((prio, e.number, e))

    @classmethod
    def load(cls, path: Path, env: dict[str, str] | None = None) -> ContactBook:
        file = str(path)
        try:
            doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ContactsError(f"{file}: cannot read ({exc.strerror})") from None
        except yaml.YAMLError as exc:
            raise ContactsError(f"{file}: not valid YAML ({exc})") from None
        entries: list[_Entry] = []
        secrets: set[str] = set()
        missing: dict[str, list[str]] = {}
        for n, (written, tag_value, where) in enumerate(_entries(doc, file), start=1):
            tags = _parse_tags(tag_value, where)
            values: list[str] = []

            def sub(m: re.Match[str], where: str = where, values: list[str] = values) -> str:
                val = resolve_secret(m.group(1), env)
                if val is None:
                    missing.setdefault(m.group(1), []).append(where)
                    return ""
                values.append(val)
                return quote(val, safe="")

            url = PLACEHOLDER.sub(sub, written)
            secrets.update(values)
            secrets.update(quote(v, safe="") for v in values)
            scheme = written.split("://", 1)[0].lower() if "://" in written else ""
            if not scheme:
                raise ContactsError(f"{where}: '{_shown(written)}' is not a URL (schema://...)")
            entries.append(_Entry(written, url, scheme, tags, n))
            if scheme != "outbox" and not missing:
                _check_no_literal_secret(url, values, where)
        if missing:
            names = ", ".join(f"{k} (used at {', '.join(v)})" for k, v in sorted(missing.items()))
            raise ContactsError(f"{file}: no value for {names}: set the variable or <NAME>_FILE")
        return cls(entries, secrets, file)

    def people(self) -> set[str]:
        return set(self._by_who) - {EVERYONE}

    def channels_for(self, aliases: Iterable[str], outbox_url: str) -> list[Channel]:
        """The channels of a person known by ``aliases`` (key, role@unit …), best first; ``*``
        channels follow the person's own. A bare ``outbox://`` becomes ``outbox_url``."""
        own: list[tuple[int, int, _Entry]] = []
        for a in aliases:
            own += self._by_who.get(a, [])
        ordered = sorted(own, key=lambda t: (t[0], t[1])) + sorted(
            self._by_who.get(EVERYONE, []), key=lambda t: (t[0], t[1])
        )
        out: list[Channel] = []
        seen: set[str] = set()
        for prio, _, e in ordered:
            url = outbox_url if e.url.rstrip("/") == "outbox:" else e.url
            if url in seen:
                continue
            seen.add(url)
            out.append(Channel(url, e.written, prio, e.number, e.scheme))
        return out

    def mask(self, text: str) -> str:
        """Replace every resolved secret value in ``text`` by ****."""
        return self.masker(text)


def _shown(written: str) -> str:
    return written if len(written) < 120 else written[:117] + "..."


def _check_no_literal_secret(url: str, values: list[str], where: str) -> None:
    """Refuse a URL whose credential fields were written out rather than given as ${NAME}."""
    from notify.plugins import plugin_class, url_fields

    cls = plugin_class(url)
    fields = url_fields(url)
    if cls is None or fields is None:
        raise ContactsError(f"{where}: Apprise does not recognise this URL (unknown schema or bad syntax)")
    for key, tok in getattr(cls, "template_tokens", {}).items():
        if not tok.get("private"):
            continue
        value = fields.get(key) or fields.get(tok.get("map_to", key))
        if isinstance(value, str) and value and not any(v and v in value for v in values):
            raise ContactsError(
                f"{where}: the {tok.get('name', key)} is written in the file; "
                "put it in the environment and write ${NAME} instead"
            )


_cache_lock = threading.Lock()
_cache: dict[tuple[str, float], ContactBook] = {}


def load_contacts(path: Path | None) -> ContactBook | None:
    """The contact book of ``path`` (reloaded when the file changes); None without a file."""
    if path is None:
        return None
    try:
        mtime = Path(path).stat().st_mtime
    except OSError as exc:
        raise ContactsError(f"CONTACTS_FILE {path}: {exc.strerror}") from None
    key = (str(path), mtime)
    with _cache_lock:
        book = _cache.get(key)
    if book is None:
        book = ContactBook.load(Path(path))
        with _cache_lock:
            _cache.clear()
            _cache[key] = book
    return book
