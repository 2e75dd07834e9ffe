"""Classification of registry rows, and the credit-code check; private to :mod:`campus_geo.registry`.

The tables below decide a row's hazard category, first match wins: a 类别
column, the licence (number pattern or 许可证类型), the business scope (经营范围,
bracketed negations removed), the name keywords of :mod:`campus_geo.categories`
(plus :data:`EXTRA_NAME_RULES`), then weak scope words. ``subcategory`` records
the rule that matched.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from campus_geo.categories import classify_names
from campus_geo.settings import CATEGORY_LABELS

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

#: Licence types: (category, licence name, pattern in the licence number or type).
#: 娱乐经营许可证 covers both dance/KTV and game halls: the scope or name decides.
LICENCE_RULES: Final[tuple[tuple[str, str, str], ...]] = (
    ("internet_cafe", "网络文化经营许可证", r"网文|网络文化经营"),
    ("internet_cafe", "互联网上网服务营业场所许可", r"上网服务"),
    ("entertainment", "娱乐经营许可证", r"娱经|娱乐经营"),
    ("lottery", "彩票代销证", r"彩票|体彩|福彩"),
    ("tobacco_alcohol", "烟草专卖零售许可证", r"烟草专卖|烟草零售"),
    ("dangerous_site", "危险化学品经营许可证", r"危化|危险化学品|安经"),
    ("dangerous_site", "成品油零售经营批准证书", r"油零售|成品油"),
    ("dangerous_site", "燃气经营许可证", r"燃经|燃气经营"),
    ("dangerous_site", "烟花爆竹经营许可证", r"YH经|烟花爆竹"),
    ("care_centre", "民办学校办学许可证", r"教民|办学许可"),
)
_ARCADE_WORDS: Final = r"游艺|游戏|电玩|棋牌"

#: Business-scope keywords (经营范围) that decide a category, in priority order.
SCOPE_RULES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("internet_cafe", ("互联网上网服务", "上网服务", "网吧")),
    ("arcade", ("游艺娱乐", "电子游艺", "游戏游艺", "游艺厅", "游戏厅", "棋牌室", "棋牌服务")),
    ("entertainment", ("歌舞娱乐", "歌舞厅", "卡拉OK", "KTV", "酒吧服务", "夜总会", "迪厅")),
    ("lottery", ("彩票代销", "彩票销售", "彩票零售", "体育彩票", "福利彩票")),
    ("tobacco_alcohol", ("烟草制品零售", "卷烟零售", "雪茄烟零售", "卷烟、雪茄烟", "电子烟")),
    ("dangerous_site", (
        "成品油零售", "成品油批发", "危险化学品", "燃气经营", "液化石油气", "烟花爆竹",
        "加油站", "加气站", "民用爆炸物品",
    )),
    ("care_centre", (
        "校外托管", "托管服务", "午托", "晚托", "小饭桌", "非学科类培训", "学科类培训",
        "课外辅导", "教育培训",
    )),
    ("vendor", ("食品小摊点", "小摊点", "摊贩", "调味面制品", "辣条")),
)  # fmt: skip
#: Scope words that decide only when nothing else does (a restaurant may sell alcohol).
WEAK_SCOPE_RULES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("tobacco_alcohol", ("酒类经营", "酒类零售", "酒类销售", "酒类批发")),
)
#: Name keywords beyond categories.NAME_KEYWORDS that registries need (啤酒屋 is a bar).
EXTRA_NAME_RULES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("entertainment", ("啤酒屋", "清吧", "酒馆")),
)
#: Values of a 类别 column, beyond the category keys and their Chinese labels.
_CATEGORY_WORDS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("internet_cafe", ("网吧", "网咖", "上网")),
    ("arcade", ("游艺", "游戏", "电玩", "棋牌")),
    ("entertainment", ("歌舞", "KTV", "酒吧", "娱乐")),
    ("lottery", ("彩票",)),
    ("tobacco_alcohol", ("烟", "酒")),
    ("dangerous_site", ("加油", "加气", "燃气", "危化", "危险", "烟花")),
    ("care_centre", ("托管", "培训", "辅导")),
    ("vendor", ("摊", "辣条", "三无")),
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


def _category_column(values: pd.Series, category: pd.Series, sub: pd.Series) -> None:
    labels = {
        unicodedata.normalize("NFKC", text).lower(): key
        for key, (zh, en) in CATEGORY_LABELS.items()
        for text in (key, zh, en)
    }
    exact = values.str.lower().map(labels).fillna("")
    hit = (exact != "") & (exact != "other")
    category[hit] = exact[hit]
    sub[hit] = "类别:" + values[hit]
    _keyword_pass(values.where(values != "", "\x00"), _CATEGORY_WORDS, "类别:", category, sub)
    # the 类别 text itself, not the keyword, is what the office wrote
    by_words = sub.str.startswith("类别:") & ~hit
    sub[by_words] = "类别:" + values[by_words]


def _licence_pass(text: pd.Series, decider: pd.Series, category: pd.Series, sub: pd.Series) -> None:
    for cat, name, pattern in LICENCE_RULES:
        todo = category == ""
        hit = todo & text.str.contains(pattern, regex=True)
        if cat == "entertainment":
            arcade = hit & decider.str.contains(_ARCADE_WORDS, regex=True)
            category[arcade] = "arcade"
            sub[arcade] = f"licence:{name}(游艺)"
            hit &= ~arcade
        category[hit] = cat
        sub[hit] = f"licence:{name}"


def classify_registry(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Category and the rule that decided it, for each registry row.

    Parameters
    ----------
    rows
        Columns ``name``, ``scope``, ``licence``, ``licence_type``,
        ``category`` (strings; "" where the file has no such column).

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
    index = rows.index
    category = pd.Series("", index=index, dtype=object)
    sub = pd.Series("", index=index, dtype=object)
    text = {
        c: rows[c].fillna("").astype(str)
        for c in ("name", "scope", "licence", "licence_type", "category")
    }
    scope = text["scope"].str.replace(_NEGATION, "", regex=True)
    _category_column(text["category"], category, sub)
    licence_text = text["licence"] + " " + text["licence_type"]
    _licence_pass(licence_text, scope + " " + text["name"], category, sub)
    _keyword_pass(scope, SCOPE_RULES, "scope:", category, sub)
    todo = category == ""
    if todo.any():
        name_cat, name_sub = classify_names(text["name"][todo])
        hit = name_cat[name_cat != ""].index
        category[hit], sub[hit] = name_cat[hit], name_sub[hit]
    _keyword_pass(text["name"], EXTRA_NAME_RULES, "name:", category, sub)
    _keyword_pass(scope, WEAK_SCOPE_RULES, "scope:", category, sub)
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
