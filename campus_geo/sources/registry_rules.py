"""Classification of registry rows, and the credit-code check; private to :mod:`campus_geo.registry`.

The words of the hazard categories (a :class:`~campus_geo.category_registry.CategoryRegistry`:
the default rule table's, or a user's with categories of its own) decide a
row's hazard category, first match wins: a 类别 column (a category's key,
labels or aliases, else its ``class_keywords``), the licence (``licences``:
number pattern or 许可证类型), the business scope (经营范围, bracketed
negations removed; ``scope_keywords``), the name (``name_keywords``, then
``registry_name_keywords``), then ``weak_scope_keywords``. ``subcategory``
records the rule that matched. The constants below are the default table's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from campus_geo.categories import classify_names
from campus_geo.category_registry import CategoryRegistry
from campus_geo.rules import default_categories

__all__ = [
    "EXTRA_NAME_RULES",
    "INACTIVE_WORDS",
    "LICENCE_RULES",
    "SCOPE_RULES",
    "WEAK_SCOPE_RULES",
    "classify_registry",
    "codes_valid",
    "credit_code_valid",
]

#: Licence types of the default table: (category, licence name, pattern in the licence
#: number or type). 娱乐经营许可证 covers both dance/KTV and game halls: the scope or
#: name decides.
LICENCE_RULES: Final[tuple[tuple[str, str, str], ...]] = default_categories().licence_rules
_ARCADE_WORDS: Final = r"游艺|游戏|电玩|棋牌"

#: Business-scope keywords (经营范围) of the default table that decide a category, in priority order.
SCOPE_RULES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = default_categories().scope_keywords
#: Scope words that decide only when nothing else does (a restaurant may sell alcohol).
WEAK_SCOPE_RULES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    default_categories().weak_scope_keywords
)
#: Name keywords beyond the name keywords that registries need (啤酒屋 is a bar).
EXTRA_NAME_RULES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    default_categories().registry_name_keywords
)
#: Bracketed negations in a business scope: （不含演艺娱乐活动） allows nothing.
_NEGATION: Final = re.compile(r"[（(](?:不含|除|不得|不包括|禁止|不涉及)[^（()）]*[)）]")
#: 登记状态 values of a business that is not active (substring match).
INACTIVE_WORDS: Final = ("注销", "吊销", "撤销", "迁出", "revoked", "cancelled", "closed")
_CODE_CHARS: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CODE_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CODE_VALUE: Final = {c: i for i, c in enumerate(_CODE_CHARS)}


def credit_code_valid(code: str) -> bool:
    """Whether an 18-character unified social credit code has a valid check character.

    The check character is defined by GB 32100-2015 (weights 3^i mod 31).

    Examples
    --------
    >>> credit_code_valid("91419950MAW01L657K"), credit_code_valid("91419950MAW01L657A")
    (True, False)
    """
    code = code.strip().upper()
    if len(code) != 18 or any(c not in _CODE_VALUE for c in code):
        return False
    total = sum(_CODE_VALUE[c] * w for c, w in zip(code[:17], _CODE_WEIGHTS, strict=True))
    return _CODE_CHARS[(31 - total % 31) % 31] == code[17]


def _keyword_pass(
    text: pd.Series,
    rules: Sequence[tuple[str, tuple[str, ...]]],
    prefix: str,
    category: pd.Series,
    sub: pd.Series,
) -> None:
    """Give the still unclassified rows the category of the first rule matching `text`."""
    for cat, words in rules:
        todo = category == ""
        if not todo.any():
            return
        alternatives = "|".join(re.escape(w) for w in words)
        # contains() runs in pyarrow over the whole column; extract() only on the hits
        hits = text[todo]
        hits = hits[hits.str.contains(f"(?:{alternatives})", case=False, regex=True)]
        found = hits.str.extract(f"({alternatives})", flags=re.IGNORECASE, expand=False).dropna()
        category[found.index] = cat
        sub[found.index] = prefix + found.astype(str)


def _category_column(
    values: pd.Series, category: pd.Series, sub: pd.Series, table: CategoryRegistry
) -> None:
    names = table.names()  # key, labels and aliases, folded
    folded = values.str.normalize("NFKC").str.strip().str.casefold()  # as fold() does
    exact = folded.map(names).fillna("").astype(object)
    hit = (exact != "") & (exact != "other")
    category[hit] = exact[hit]
    sub[hit] = "类别:" + values[hit]
    words = table.class_keywords
    _keyword_pass(values.where(values != "", "\x00"), words, "类别:", category, sub)
    # the 类别 text itself, not the keyword, is what the office wrote
    by_words = sub.str.startswith("类别:") & ~hit
    sub[by_words] = "类别:" + values[by_words]


def _licence_pass(
    text: pd.Series,
    decider: pd.Series,
    category: pd.Series,
    sub: pd.Series,
    table: CategoryRegistry,
) -> None:
    for cat, name, pattern in table.licence_rules:
        todo = category == ""
        hit = todo & text.str.contains(pattern, regex=True)
        if cat == "entertainment" and "arcade" in table:
            arcade = hit & decider.str.contains(_ARCADE_WORDS, regex=True)
            category[arcade] = "arcade"
            sub[arcade] = f"licence:{name}(游艺)"
            hit &= ~arcade
        category[hit] = cat
        sub[hit] = f"licence:{name}"


def classify_registry(
    rows: pd.DataFrame, categories: CategoryRegistry | None = None
) -> tuple[pd.Series, pd.Series]:
    """Category and the rule that decided it, for each registry row.

    Parameters
    ----------
    rows
        Columns ``name``, ``scope``, ``licence``, ``licence_type``,
        ``category`` (strings; "" where the file has no such column).
    categories
        The categories whose words classify (the default table's when None).

    Returns
    -------
    category, subcategory
        ``"other"`` and ``""`` where no rule matches.

    Examples
    --------
    >>> rows = pd.DataFrame({
    ...     "name": ["星空网咖", "金嗓子", "海川啤酒屋", "新华书店"],
    ...     "scope": ["", "歌舞娱乐活动；酒类经营", "酒类经营；餐饮服务", "图书零售"],
    ...     "licence": ["豫网文〔2019〕0898-025号", "", "", ""],
    ...     "licence_type": "", "category": ""})
    >>> cat, sub = classify_registry(rows)
    >>> cat.tolist()
    ['internet_cafe', 'entertainment', 'entertainment', 'other']
    >>> sub.tolist()
    ['licence:网络文化经营许可证', 'scope:歌舞娱乐', 'name:啤酒屋', '']
    """
    table = default_categories() if categories is None else categories
    index = rows.index
    category = pd.Series("", index=index, dtype=object)
    sub = pd.Series("", index=index, dtype=object)
    text = {
        c: rows[c].fillna("").astype(str)
        for c in ("name", "scope", "licence", "licence_type", "category")
    }
    scope = text["scope"].str.replace(_NEGATION, "", regex=True)
    _category_column(text["category"], category, sub, table)
    licence_text = text["licence"] + " " + text["licence_type"]
    _licence_pass(licence_text, scope + " " + text["name"], category, sub, table)
    _keyword_pass(scope, table.scope_keywords, "scope:", category, sub)
    todo = category == ""
    if todo.any():
        name_cat, name_sub = classify_names(text["name"][todo], table)
        hit = name_cat[name_cat != ""].index
        category[hit], sub[hit] = name_cat[hit], name_sub[hit]
    _keyword_pass(text["name"], table.registry_name_keywords, "name:", category, sub)
    _keyword_pass(scope, table.weak_scope_keywords, "scope:", category, sub)
    return category.where(category != "", "other"), sub


def codes_valid(codes: pd.Series) -> pd.Series:
    """:func:`credit_code_valid` of many codes at once (numpy over the 18 characters)."""
    text = codes.to_numpy(dtype=str)
    shaped = np.flatnonzero(np.char.str_len(text) == 18)
    out = np.zeros(len(text), dtype=bool)
    if len(shaped):
        raw = "".join(text[shaped]).encode("ascii", errors="replace")  # non-ASCII: "?" (invalid)
        chars = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
        lut = np.full(256, -1, dtype=np.int64)
        lut[[ord(c) for c in _CODE_CHARS]] = np.arange(len(_CODE_CHARS))
        values = lut[chars]
        total = (values[:, :17] * np.asarray(_CODE_WEIGHTS)).sum(axis=1)
        check = np.frombuffer(_CODE_CHARS.encode(), dtype=np.uint8)[(31 - total % 31) % 31]
        out[shaped] = (values >= 0).all(axis=1) & (check == chars[:, 17])
    return pd.Series(out, index=codes.index)
