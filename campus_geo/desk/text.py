"""The desk's words, Chinese first, English on the switch.

Statuses, fields, actions and roles come from the ledger's own label tables
(:data:`~campus_geo.ledger.db.STATUS_LABELS`, ...), so the desk, the CLI and
the xlsx say the same thing.
"""

from __future__ import annotations

from typing import Final

from campus_geo.desk.users import ROLES
from campus_geo.ledger.actions import ACTION_LABELS
from campus_geo.ledger.attachments import ATTACHMENT_KINDS
from campus_geo.ledger.db import FIELD_LABELS, OVERDUE_LABEL, STATUS_LABELS

__all__ = ["LANGS", "WORDS", "labels", "word"]

#: Languages of the switch: code -> its own name.
LANGS: Final = {"zh": "中文", "en": "English"}

#: The desk's own words (key -> (Chinese, English)).
WORDS: Final[dict[str, tuple[str, str]]] = {
    "title": ("校园安全整改工作台", "School safety review desk"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "bad_login": ("用户名或密码不正确", "Wrong user name or password"),
    "dashboard": ("概况", "Dashboard"),
    "cases": ("案件列表", "Cases"),
    "map": ("地图", "Map"),
    "filter": ("筛选", "Filter"),
    "all": ("全部", "all"),
    "overdue_only": ("只看逾期", "overdue only"),
    "school": ("学校", "School"),
    "unit": ("单位", "Unit"),
    "township": ("乡镇（街道）", "Township"),
    "category": ("问题类别", "Category"),
    "status": ("状态", "Status"),
    "sort": ("排序", "Sort"),
    "hazard": ("场所", "Venue"),
    "deadline": ("整改时限", "Deadline"),
    "days_overdue": ("逾期天数", "Days overdue"),
    "distance": ("距离（米）", "Distance (m)"),
    "page": ("页", "page"),
    "of": ("共", "of"),
    "found": ("条", "cases"),
    "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "open": ("未办结", "Open"),
    "closed": ("已办结", "Closed"),
    "closed_this_month": ("本月办结", "Closed this month"),
    "opened_this_month": ("本月新增", "Opened this month"),
    "by_unit": ("按责任单位", "By responsible unit"),
    "by_township": ("按乡镇（街道）", "By township"),
    "finding": ("问题", "Finding"),
    "history": ("变更记录", "History"),
    "attachments": ("照片与材料", "Photos and documents"),
    "evidence": ("证据单", "Evidence sheet"),
    "record": ("办理", "Record"),
    "save": ("保存", "Save"),
    "no_change": ("（不变）", "(unchanged)"),
    "photo": ("照片或扫描件", "Photo or scan"),
    "kind": ("类型", "Kind"),
    "upload": ("上传", "Upload"),
    "why": ("说明", "Why"),
    "units": ("单位（用、分隔）", "Units (separated by 、)"),
    "supervisor": ("督办单位", "Supervising unit"),
    "lead": ("牵头单位", "Lead unit"),
    "read_only": ("只读：您的角色不能修改此案件", "Read-only: your role cannot change this case"),
    "saved": ("已保存", "Saved"),
    "conflict": ("冲突", "Conflict"),
    "error": ("未保存", "Not saved"),
    "forbidden": ("无权访问", "Forbidden"),
    "not_found": ("没有这个案件", "No such case"),
    "measured_line": ("量算线", "Measured line"),
    "no_findings": ("未加载筛查结果文件，无法显示位置", "No findings file loaded: no positions"),
    "full_map": ("完整地图（与 map.html 相同的图层）", "Full map (the layers of map.html)"),
    "no_full_map": (
        "未加载区域数据：启动时加 --osm 文件（及筛查结果文件）",
        "No district data: start the desk with --osm FILE (and the findings file)",
    ),
    "when": ("时间", "When"),
    "who": ("操作人", "Who"),
    "field": ("变更项", "Field"),
    "old": ("原值", "Old"),
    "new": ("新值", "New"),
    "source": ("来源", "Source"),
    "version": ("版本", "Version"),
    "role": ("角色", "Role"),
    "case_units": ("相关单位", "Units of the case"),
    "opened_on": ("立案日期", "Opened"),
    "legend": ("图例", "Legend"),
    "actions": ("督办/抄告/联合整改", "Actions"),
}


def labels(lang: str) -> dict[str, object]:
    """Every label in one language (index 0 Chinese, 1 English), for the templates."""
    i = 1 if lang == "en" else 0
    return {
        "w": {k: v[i] for k, v in WORDS.items()},
        "status": {k: v[i] for k, v in STATUS_LABELS.items()} | {"overdue": OVERDUE_LABEL[i]},
        "field": {k: v[i] for k, v in FIELD_LABELS.items()},
        "action": {k: v[i] for k, v in ACTION_LABELS.items()},
        "kind": {k: v[i] for k, v in ATTACHMENT_KINDS.items()},
        "role": {k: v[i] for k, v in ROLES.items()},
    }


def word(lang: str, key: str) -> str:
    """One of the desk's words in `lang`."""
    return WORDS[key][1 if lang == "en" else 0]
