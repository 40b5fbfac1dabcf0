"""The portal's words in English and Chinese, and how it writes amounts, dates and states.

Every label is a key of `TEXT` with both languages, so a page cannot show a label in one language only
(tests/test_portal/test_pages.py renders every page in both). A refusal is shown by its error name: the ones a
clerk meets have a sentence of their own in `ERRORS`; any other shows its name and fields, never nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from chain_client.money import format_fen

LANGS = ("en", "zh")
DEFAULT = "en"

TEXT: dict[str, tuple[str, str]] = {
    "portal": ("Supply-chain finance", "供应链金融平台"),
    "sign_in": ("Sign in", "登录"),
    "sign_out": ("Sign out", "退出"),
    "api_key": ("API key", "API 密钥"),
    "sign_in_hint": ("Your user's key, as your administrator gave it to you.", "管理员发给您的用户密钥。"),
    "language": ("中文", "English"),
    "home": ("Home", "首页"),
    "member": ("Member", "成员"),
    "role": ("Role", "角色"),
    "duty": ("Duty", "职责"),
    "holdings": ("Holdings by maturity", "持有的债权凭证（按到期日）"),
    "to_accept": ("Vouchers to accept", "待签收的凭证"),
    "nothing": ("Nothing here.", "暂无。"),
    "token_id": ("Voucher", "凭证"),
    "receivable": ("Receivable", "应收账款"),
    "debtor": ("Debtor", "债务人"),
    "supplier": ("Supplier", "供应商"),
    "value": ("Value", "金额"),
    "face_value": ("Face value", "面值"),
    "maturity": ("Maturity", "到期日"),
    "state": ("State", "状态"),
    "tier": ("Tier", "层级"),
    "holder": ("Holder", "持有人"),
    "accept": ("Accept", "签收"),
    "reject": ("Reject", "拒收"),
    "redeem": ("Redeem", "兑付"),
    "issue": ("Issue a voucher", "开立凭证"),
    "issue_submit": ("Prepare the issue", "提交开立"),
    "documents": ("Trade documents (contract, invoice, delivery note)", "贸易单据（合同、发票、送货单）"),
    "owed": ("What we owe, by maturity", "应付账款（按到期日）"),
    "credit_line": ("Credit line", "授信额度"),
    "limit": ("Limit", "额度"),
    "used": ("Used", "已用"),
    "available": ("Available", "可用"),
    "approvals": ("Approvals", "复核"),
    "approve": ("Approve", "复核通过"),
    "kind": ("Action", "业务"),
    "amount": ("Amount", "金额"),
    "maker": ("Prepared by", "经办人"),
    "prepared_actions": ("Waiting for a checker", "待复核"),
    "recent_actions": ("Recent actions", "最近的业务"),
    "pay": ("Pay my suppliers", "支付上游供应商"),
    "pay_from": ("From voucher", "拆分凭证"),
    "payee": ("Payee (address)", "收款方（地址）"),
    "pay_submit": ("Prepare the payment", "提交支付"),
    "remaining": ("Remains with you", "剩余"),
    "tree": ("Credit tree", "穿透式债权树"),
    "search": ("Search", "查询"),
    "search_hint": ("A slot, a voucher id or an address", "应收账款编号、凭证编号或地址"),
    "audit": ("Audit trail", "审计记录"),
    "reconcile": ("Reconcile with the chain", "链上对账"),
    "agree": ("The API's records and the chain agree.", "平台记录与链上一致。"),
    "differ": ("Differences between the API's records and the chain", "平台记录与链上的差异"),
    "at_block": ("at block", "区块高度"),
    "done_executed": ("Done: executed on chain.", "已完成：已上链执行。"),
    "done_prepared": ("Prepared: it waits for a checker.", "已提交：等待复核。"),
    "done_rejected": ("Rejected: nothing was sent.", "已拒绝：未发送任何交易。"),
    "failed": ("Refused", "未通过"),
    "when": ("When", "时间"),
    "user": ("User", "用户"),
    "event": ("Event", "事件"),
    "tx": ("Transaction", "交易"),
    "path": ("Path", "路径"),
    "frozen": ("frozen", "已冻结"),
    "financed": ("financed", "已融资"),
    "burned": ("paid out", "已兑付"),
}

ROLES = {
    "operator": ("Operator", "平台运营方"),
    "core_enterprise": ("Core enterprise", "核心企业"),
    "supplier": ("Supplier", "供应商"),
    "financier": ("Financier", "金融机构"),
    "auditor": ("Auditor", "审计方"),
}

DUTIES = {
    "admin": ("Administrator", "管理员"),
    "maker": ("Maker", "经办"),
    "checker": ("Checker", "复核"),
    "viewer": ("Viewer", "查看"),
}

STATES = {
    "PENDING": ("Waiting for the supplier", "待签收"),
    "ACTIVE": ("Active", "有效"),
    "MATURED": ("Matured", "已到期"),
    "OVERDUE": ("Overdue", "已逾期"),
    "REPAID": ("Repaid", "已结清"),
    "REJECTED": ("Rejected", "已拒收"),
    "CANCELLED": ("Cancelled", "已撤销"),
    "prepared": ("Waiting for a checker", "待复核"),
    "executing": ("Executing", "执行中"),
    "executed": ("Executed", "已执行"),
    "failed": ("Refused", "未通过"),
    "rejected": ("Rejected", "已拒绝"),
    "expired": ("Expired", "已过期"),
}

KINDS = {
    "issue": ("Issue", "开立"),
    "cancel": ("Cancel", "撤销"),
    "repay": ("Repay", "还款"),
    "accept": ("Accept", "签收"),
    "reject": ("Reject", "拒收"),
    "pay_suppliers": ("Pay suppliers", "支付供应商"),
    "transfer": ("Transfer", "转让"),
    "redeem": ("Redeem", "兑付"),
}

ERRORS: dict[str, tuple[str, str]] = {
    "CreditLineExceeded": ("This would exceed the debtor's credit line.", "超出核心企业的授信额度。"),
    "InsufficientValue": ("The voucher does not hold that much.", "凭证余额不足。"),
    "MaturityNotInFuture": ("The maturity must be in the future.", "到期日必须晚于今天。"),
    "TenorTooLong": ("The maturity is further away than the platform allows.", "期限超过平台允许的最长期限。"),
    "NotMember": ("That address is not a member of the platform.", "该地址不是平台成员。"),
    "AccountSuspended": ("That member is suspended.", "该成员已被暂停。"),
    "DutyNotAllowed": ("Your duty does not allow this.", "您的职责不允许此操作。"),
    "MakerCannotApprove": ("The user who prepared it may not approve it.", "经办人不能复核自己提交的业务。"),
    "WrongRole": ("Your member's role does not allow this.", "您所在成员的角色不允许此操作。"),
    "ValidationError": ("Some fields are not valid.", "部分字段无效。"),
    "InvalidCsrf": ("The form is out of date: reload the page and try again.", "页面已过期，请刷新后重试。"),
    "UnknownKey": ("That key is not known.", "密钥无效。"),
    "UnsupportedDocumentType": ("Documents must be PDF, PNG, JPEG or XML.", "单据须为 PDF、PNG、JPEG 或 XML 文件。"),
    "EmptyDocument": ("A document is empty.", "单据文件为空。"),
    "DocumentTooLarge": ("A document is larger than 10 MiB.", "单据文件超过 10 MiB。"),
    "DocumentAlreadyIssued": ("These documents already back a receivable.", "这些单据已用于开立其他凭证。"),
    "NothingToRedeem": ("Nothing is payable on this voucher yet.", "该凭证暂无可兑付金额。"),
    "NotFound": ("Not found, or not yours to see.", "未找到，或您无权查看。"),
}


def text(key: str, lang: str) -> str:
    en, zh = TEXT[key]
    return zh if lang == "zh" else en


def pick(table: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    """The word for `key` (a role, a duty, a state, a kind) in `lang`; the key itself if it has none."""
    if key not in table:
        return key
    en, zh = table[key]
    return zh if lang == "zh" else en


def error_text(error: str, fields: dict[str, Any], lang: str) -> str:
    """A refusal in words: the sentence for its name, then its fields, so nothing the API said is lost."""
    sentence = pick(ERRORS, error, lang) if error in ERRORS else error
    detail = "; ".join(f"{k}: {v}" for k, v in fields.items())
    return f"{sentence} ({error}{': ' + detail if detail else ''})"


# ¥1,234,567.89, exact to the fen: the one formatter every screen and report uses.
yuan = format_fen


def day(unix: int) -> str:
    """2027-03-31 (UTC, as the contracts count maturity)."""
    return dt.datetime.fromtimestamp(unix, dt.UTC).strftime("%Y-%m-%d")


def moment(unix: float) -> str:
    return dt.datetime.fromtimestamp(unix, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
