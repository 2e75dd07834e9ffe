"""The hazard categories: what a category is called, how it is drawn and recognised.

A :class:`Category` says how a hazard of one kind is named (Chinese, English,
aliases), drawn (glyph, colour) and recognised (OSM tags, name keywords,
registry licences and business-scope words). The categories of a screening
are one immutable :class:`CategoryRegistry`: the default table's
(``[[category]]`` tables of ``campus_geo/rules/default.toml``), plus those a
user's rule table adds or changes (:func:`campus_geo.rules.read_categories`). It
is passed to whatever classifies (:mod:`campus_geo.categories`,
:mod:`campus_geo.sources`), validates, draws (:mod:`campus_geo.maps`) or labels
(:mod:`campus_geo.reports`) hazards; it is never kept in module state.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final

from campus_geo._errors import RulesError

__all__ = ["Category", "CategoryRegistry", "category_from_table", "fold"]

_KEY: Final = re.compile(r"[a-z][a-z0-9_]*")
_COLOUR: Final = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class Category:
    """One hazard category: its names, its style on the maps and how it is recognised.

    Attributes
    ----------
    key
        Identifier (lower-case ASCII, digits, ``_``): the ``category`` value of hazards and findings.
    label, label_en
        Chinese and English names, on forms, maps and reports.
    aliases
        Other names the command line accepts for the key (``--hazards 网吧=FILE``).
    glyph, glyph_en
        One character on the category's map markers (Chinese, English map).
    colour
        ``#rrggbb`` of its markers and charts.
    osm_tags
        ``(key, value)`` OSM tags that classify a feature (value ``"*"``: any value).
    weak_osm_tags
        Tags that classify a feature only when no category's tag or name keyword does.
    name_keywords
        Words in a feature's or a business's name (case-insensitive).
    registry_name_keywords
        Words in a registry business's name, tried after every category's name keywords.
    licences
        ``(licence name, regular expression)``: a licence whose number or type matches.
    scope_keywords, weak_scope_keywords
        Words of a business scope (经营范围); the weak ones decide only when nothing else does.
    class_keywords
        Words a registry's 类别 value contains (its key, labels and aliases match a whole value).
    context
        Context for the analyses, not a problem by itself: water (drowning
        risk), traffic points (crossings, bus stops: guard posts) and cameras
        (coverage). :func:`campus_geo.screen.screen` leaves their rules out
        (the analyses measure them), ``dist`` does not apply to them, and they
        never become findings, form rows or ledger cases; a problem about them
        is named by an analysis (an arterial frontage without a signalised
        crossing, a gate no camera sees) or a checklist.
    """

    key: str
    label: str
    label_en: str
    aliases: tuple[str, ...] = ()
    glyph: str = "?"
    glyph_en: str = "?"
    colour: str = "#aaaaaa"
    osm_tags: tuple[tuple[str, str], ...] = ()
    weak_osm_tags: tuple[tuple[str, str], ...] = ()
    name_keywords: tuple[str, ...] = ()
    registry_name_keywords: tuple[str, ...] = ()
    licences: tuple[tuple[str, str], ...] = ()
    scope_keywords: tuple[str, ...] = ()
    weak_scope_keywords: tuple[str, ...] = ()
    class_keywords: tuple[str, ...] = ()
    context: bool = False


def _grouped(
    categories: Iterable[Category], tags: str
) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """``(category, key, values)`` per category and OSM key, in table then tag order."""
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for cat in categories:
        by_key: dict[str, list[str]] = {}
        for key, value in getattr(cat, tags):
            by_key.setdefault(key, []).append(value)
        out += [(cat.key, key, tuple(values)) for key, values in by_key.items()]
    return tuple(out)


def fold(text: str) -> str:
    """`text` as names are compared: NFKC-normalised, stripped, case-folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


@dataclass(frozen=True)
class CategoryRegistry:
    """The hazard categories of a screening, in order of precedence and of display.

    Built from the default table (:func:`campus_geo.rules.default_categories`), a
    user's table added (:func:`campus_geo.rules.read_categories`), or the rules given
    (:func:`campus_geo.rules.categories_of`).
    Immutable: :meth:`merged` and :meth:`with_keys` return new registries.

    Examples
    --------
    >>> from campus_geo.rules import default_categories
    >>> cats = default_categories()
    >>> cats.resolve("网吧"), cats.label("lottery"), cats.label("lottery", "en")
    ('internet_cafe', '彩票销售点', 'lottery outlet')
    >>> cats.suggest("interet_cafe")
    ['internet_cafe']
    """

    categories: tuple[Category, ...]
    _by_key: dict[str, Category] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key: dict[str, Category] = {}
        for cat in self.categories:
            if cat.key in by_key:
                msg = f"category {cat.key!r} is defined twice; give each category one table"
                raise RulesError(msg)
            by_key[cat.key] = cat
        object.__setattr__(self, "_by_key", by_key)

    def __iter__(self) -> Iterator[Category]:
        return iter(self.categories)

    def __len__(self) -> int:
        return len(self.categories)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __getitem__(self, key: str) -> Category:
        return self._by_key[key]

    def get(self, key: object) -> Category | None:
        """The category of `key`, or None."""
        return self._by_key.get(key) if isinstance(key, str) else None

    @property
    def keys(self) -> tuple[str, ...]:
        """The category keys, in order."""
        return tuple(self._by_key)

    @property
    def context_keys(self) -> frozenset[str]:
        """Keys of the context categories (water, traffic, camera by default): not problems."""
        return frozenset(c.key for c in self.categories if c.context)

    @property
    def labels(self) -> dict[str, tuple[str, str]]:
        """Key -> (Chinese, English) label, as :data:`campus_geo.settings.CATEGORY_LABELS`."""
        return {c.key: (c.label, c.label_en) for c in self.categories}

    def label(self, key: str, lang: str = "zh") -> str:
        """The label of `key` in `lang` ("zh" or "en"); the key itself when unknown."""
        cat = self._by_key.get(key)
        if cat is None:
            return key
        return cat.label if lang == "zh" else cat.label_en

    def colour(self, key: str, default: str = "#aaaaaa") -> str:
        """The map colour of `key` (`default` when unknown)."""
        cat = self._by_key.get(key)
        return default if cat is None else cat.colour

    def glyph(self, key: str, lang: str = "zh") -> str:
        """The marker character of `key` in `lang` ("?" when unknown)."""
        cat = self._by_key.get(key)
        if cat is None:
            return "?"
        return cat.glyph if lang == "zh" else cat.glyph_en

    @property
    def tag_rules(self) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
        """``(category, OSM key, values)`` in priority order: the first match wins."""
        return _grouped(self.categories, "osm_tags")

    @property
    def weak_tag_rules(self) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
        """Tag rules tried after every name keyword."""
        return _grouped(self.categories, "weak_osm_tags")

    @property
    def tag_keys(self) -> tuple[str, ...]:
        """Every OSM key some category's tags look at."""
        rules = (*self.tag_rules, *self.weak_tag_rules)
        return tuple(dict.fromkeys(key for _, key, _ in rules))

    def _words(self, attribute: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return tuple(
            (c.key, getattr(c, attribute)) for c in self.categories if getattr(c, attribute)
        )

    @property
    def name_keywords(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``(category, keywords)`` in priority order, matched in names."""
        return self._words("name_keywords")

    @property
    def registry_name_keywords(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Name keywords that only registries use."""
        return self._words("registry_name_keywords")

    @property
    def scope_keywords(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``(category, business-scope words)`` in priority order."""
        return self._words("scope_keywords")

    @property
    def weak_scope_keywords(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Scope words that decide only when nothing else does."""
        return self._words("weak_scope_keywords")

    @property
    def class_keywords(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``(category, words)`` of a registry's 类别 column."""
        return self._words("class_keywords")

    @property
    def licence_rules(self) -> tuple[tuple[str, str, str], ...]:
        """``(category, licence name, pattern)`` in priority order."""
        return tuple(
            (c.key, name, pattern) for c in self.categories for name, pattern in c.licences
        )

    def names(self) -> dict[str, str]:
        """Every name of a category (key, labels, aliases), folded (NFKC, casefold) -> key."""
        out: dict[str, str] = {}
        for cat in self.categories:
            for text in (cat.key, cat.label, cat.label_en, *cat.aliases):
                out.setdefault(fold(text), cat.key)
        return out

    def resolve(self, name: str) -> str | None:
        """The key named by `name` (a key, a Chinese or English label or an alias), or None."""
        return self.names().get(fold(name))

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """Keys whose names are close to `name`, best first: for "did you mean".

        difflib's ratio, at least 0.6 and within 0.1 of the best (``lotery``
        suggests lottery, not also other).
        """
        folded = fold(name)
        names = self.names()
        scored = sorted(
            ((difflib.SequenceMatcher(None, folded, text).ratio(), text) for text in names),
            key=lambda pair: -pair[0],
        )
        best = scored[0][0] if scored else 0.0
        close = [text for ratio, text in scored if ratio >= max(0.6, best - 0.1)]
        return list(dict.fromkeys(names[text] for text in close))[:n]

    def unknown_message(self, name: str, where: str = "") -> str:
        """``unknown category 'x'; did you mean 'y'? (expected one of ...)``; `where` follows the name."""
        hint = self.suggest(name)
        did = f"; did you mean {' or '.join(repr(h) for h in hint)}?" if hint else ""
        return (
            f"unknown category {name!r}{where}{did} (expected one of {', '.join(self.keys)}, a "
            "Chinese name such as 网吧, or a category of a [[category]] table of the rules)"
        )

    def merged(self, categories: Iterable[Category]) -> CategoryRegistry:
        """These categories with `categories` added: a known key is replaced in place."""
        out = dict(self._by_key)
        for cat in categories:
            out[cat.key] = cat
        return CategoryRegistry(tuple(out.values()))

    def with_keys(self, keys: Iterable[str]) -> CategoryRegistry:
        """These categories plus a bare one (labelled by its key) for each unknown key."""
        new = [Category(key=k, label=k, label_en=k) for k in dict.fromkeys(keys) if k not in self]
        return self.merged(new) if new else self


_CATEGORY_FIELDS: Final = {f.name for f in fields(Category)}
_TAG_FIELDS: Final = ("osm_tags", "weak_osm_tags")


def _strings(value: Any, name: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    msg = f"{where}: `{name}` must be a string or a list of strings, got {value!r}"
    raise RulesError(msg)


def _flag(value: Any, name: str, where: str) -> bool:
    if not isinstance(value, bool):
        msg = f"{where}: `{name}` must be true or false, got {value!r}"
        raise RulesError(msg)
    return value


def _tag_pairs(value: Any, name: str, where: str) -> tuple[tuple[str, str], ...]:
    out = []
    for item in _strings(value, name, where):
        key, sep, tag_value = item.partition("=")
        if not sep or not key.strip() or not tag_value.strip():
            msg = f'{where}: `{name}` item {item!r} is not "key=value" (e.g. "leisure=escape_game")'
            raise RulesError(msg)
        out.append((key.strip(), tag_value.strip()))
    return tuple(out)


def _licences(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if not (isinstance(item, dict) and set(item) == {"name", "pattern"}):
            msg = (
                f"{where}: `licences` must be a list of {{ name = ..., pattern = ... }} tables, "
                f"got {item!r}"
            )
            raise RulesError(msg)
        try:
            re.compile(str(item["pattern"]))
        except re.error as exc:
            msg = f"{where}: licence pattern {item['pattern']!r} is not a regular expression: {exc}"
            raise RulesError(msg) from exc
        out.append((str(item["name"]), str(item["pattern"])))
    return tuple(out)


def category_from_table(
    table: dict[str, Any], where: str, base: Category | None = None
) -> Category:
    """A :class:`Category` from one ``[[category]]`` table; `base`: the category it changes.

    `where` names the table in error messages (file, number, line).
    """
    unknown = sorted(set(table) - _CATEGORY_FIELDS)
    if unknown:
        msg = f"{where}: unknown key(s) {', '.join(unknown)}; expected {', '.join(sorted(_CATEGORY_FIELDS))}"
        raise RulesError(msg)
    key = table.get("key")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        msg = (
            f"{where}: `key` must be lower-case ASCII letters, digits and _ starting with a "
            f"letter (e.g. esports_hotel), got {key!r}"
        )
        raise RulesError(msg)
    if base is None and not isinstance(table.get("label"), str):
        msg = f"{where}: new category {key!r} needs a Chinese `label` (and a `label_en`)"
        raise RulesError(msg)
    values: dict[str, Any] = {}
    for name, raw in table.items():
        if name in ("key", "label", "label_en", "glyph", "glyph_en", "colour"):
            if not isinstance(raw, str) or not raw.strip():
                msg = f"{where}: `{name}` must be a non-empty string, got {raw!r}"
                raise RulesError(msg)
            values[name] = raw.strip()
        elif name in _TAG_FIELDS:
            values[name] = _tag_pairs(raw, name, where)
        elif name == "licences":
            values[name] = _licences(raw, where)
        elif name == "context":
            values[name] = _flag(raw, name, where)
        else:
            values[name] = tuple(w for w in _strings(raw, name, where) if w)
    for name in ("glyph", "glyph_en"):
        if name in values and len(values[name]) != 1:
            msg = f"{where}: `{name}` must be one character, got {values[name]!r}"
            raise RulesError(msg)
    if "colour" in values and not _COLOUR.fullmatch(values["colour"]):
        msg = f'{where}: `colour` must be "#rrggbb", got {values["colour"]!r}'
        raise RulesError(msg)
    if base is not None:
        return replace(base, **values)
    label = values["label"]
    values.setdefault("label_en", key)
    values.setdefault("glyph", label[0])
    values.setdefault("glyph_en", key[0].upper())
    return Category(**values)
