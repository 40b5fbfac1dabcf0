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
    "search_hint": ("A slot, voucher id, document hash or address", "应收账款编号、凭证编号、单据哈希或地址"),
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
    "path": ("Path back to the core enterprise", "穿透路径（至核心企业）"),
    "frozen": ("frozen", "已冻结"),
    "financed": ("financed", "已融资"),
    "burned": ("paid out", "已兑付"),
    "offer": ("Offer for financing", "申请融资"),
    "my_offers": ("My offers", "我的融资申请"),
    "rate": ("Annual discount rate", "年化贴现率"),
    "financier": ("Bank", "金融机构"),
    "any_financier": ("Any bank (open market)", "任意金融机构（公开）"),
    "days_open": ("Days the offer stands", "申请有效天数"),
    "with_recourse": ("with recourse", "有追索权"),
    "price": ("Price", "融资款"),
    "discount": ("Discount", "贴现息"),
    "days": ("Days", "天数"),
    "quote_submit": ("Quote", "试算"),
    "offer_submit": ("Offer at", "按此价格申请"),
    "cancel": ("Cancel", "撤销"),
    "done_cancelled": ("Cancelled.", "已撤销。"),
    "recourse_on_me": ("Recourse on what I sold", "我出让凭证的追索"),
    "recourse": ("Recourse", "追索"),
    "claimed": ("Claimed", "已追索金额"),
    "claim": ("Claim", "发起追索"),
    "settle": ("Buy back", "回购"),
    "market": ("Open offers", "融资申请市场"),
    "all": ("All", "全部"),
    "matures_by": ("Matures by", "到期日不晚于"),
    "min_value": ("Value from (¥)", "金额不低于（¥）"),
    "max_value": ("Value up to (¥)", "金额不高于（¥）"),
    "min_rate": ("Rate from (%)", "利率不低于（%）"),
    "filter": ("Filter", "筛选"),
    "review": ("Review", "查看"),
    "expected_yield": ("Expected yield", "预期收益率"),
    "realised_yield": ("Realised yield", "实际收益率"),
    "fund_confirm": ("Pay the holder now, against the voucher:", "立即向持有人支付并受让凭证："),
    "fund_submit": ("Fund", "确认放款"),
    "portfolio": ("Portfolio", "资产组合"),
    "cost": ("Cost", "成本"),
    "repaid": ("Repaid", "已回款"),
    "repay": ("Repay", "还款"),
    "profit": ("Profit", "收益"),
    "exposure": ("Exposure by debtor", "按债务人的敞口"),
    "exposure_hint": (
        "Bars: funded and not yet released; lines: your limits.",
        "柱：已放款未释放的金额；线：敞口限额。",
    ),
    "set_limit": ("Set the limit", "设置额度"),
    "ladder": ("Outstanding by month of maturity", "按到期月份的未还金额"),
    "admin": ("Members and settings", "成员与设置"),
    "members": ("Members", "成员"),
    "account": ("Account (address)", "账户（地址）"),
    "admit": ("Admit", "准入"),
    "suspend": ("Suspend", "暂停"),
    "reinstate": ("Reinstate", "恢复"),
    "suspended": ("Suspended", "已暂停"),
    "active": ("Active", "正常"),
    "credit_lines": ("Credit lines", "授信额度"),
    "freezes": ("Freezes", "冻结记录"),
    "freeze": ("Freeze", "冻结"),
    "unfreeze": ("Unfreeze", "解冻"),
    "reason": ("Reason", "原因"),
    "settings": ("Settings", "平台参数"),
    "max_tenor": ("Longest tenor", "最长期限"),
    "grace": ("Grace period", "宽限期"),
    "save": ("Save", "保存"),
    "mint": ("Cash in", "入金"),
    "financings": ("Financings", "融资记录"),
    "fragments": ("Every fragment", "全部凭证拆分"),
    "pay_documents": ("This trade's documents (purchase order, delivery note)", "本笔交易的单据（采购订单、送货单）"),
    "preview": ("Preview", "预览"),
    "total": ("Total", "合计"),
    "in_index": ("The API's index", "平台索引"),
    "on_chain": ("The chain", "链上"),
    "from": ("Paid by", "支付方"),
    "documents_heading": ("Trade documents", "贸易单据"),
    "documents_match": ("The documents' combined hash is the one on chain:", "单据的组合哈希与链上一致："),
    "documents_differ": ("The documents do not match the hash on chain:", "单据与链上哈希不一致："),
    "seller": ("Seller", "出让方"),
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
    "open": ("Open", "待放款"),
    "funding": ("Being funded", "放款中"),
    "funded": ("Funded", "已放款"),
    "cancelled": ("Cancelled", "已撤销"),
    "recourse_none": ("No claim", "未追索"),
    "recourse_claimed": ("Claimed", "已追索"),
    "recourse_settled": ("Bought back", "已回购"),
    "recourse_ended": ("Ended", "已结束"),
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
    "merge": ("Merge", "合并"),
    "admit": ("Admit", "准入"),
    "suspend": ("Suspend", "暂停"),
    "reinstate": ("Reinstate", "恢复"),
    "set_credit_line": ("Credit line", "授信额度"),
    "freeze": ("Freeze", "冻结"),
    "unfreeze": ("Unfreeze", "解冻"),
    "set_max_tenor": ("Longest tenor", "最长期限"),
    "set_grace_period": ("Grace period", "宽限期"),
    "set_approval_for_all": ("Desk approval", "授权融资合约"),
    "set_exposure_limit": ("Exposure limit", "敞口限额"),
    "mint": ("Cash in", "入金"),
    "offer": ("Offer for financing", "融资申请"),
    "fund": ("Fund", "放款"),
    "claim_recourse": ("Claim recourse", "发起追索"),
    "settle_recourse": ("Buy back", "回购"),
    "redeem_recourse": ("Pay out after buy-back", "回购后兑付"),
    "mark_overdue": ("Mark overdue", "标记逾期"),
}

DOCUMENT_KINDS = {
    "contract": ("Contract", "合同"),
    "invoice": ("Invoice", "发票"),
    "delivery_note": ("Delivery note", "送货单"),
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
    "PriceMismatch": ("The request asks another price than the one confirmed.", "融资申请的价格与确认的价格不一致。"),
    "ExposureLimitExceeded": ("This would exceed your exposure limit on that debtor.", "超出对该债务人的敞口限额。"),
    "RequestNotOpen": ("That offer is no longer open.", "该融资申请已不可放款。"),
    "ApprovalRequired": ("A checker must approve this first.", "须经复核后方可执行。"),
    "ERC20InsufficientBalance": ("Not enough cash for this.", "资金余额不足。"),
    "FragmentFrozen": ("That voucher is frozen.", "该凭证已被冻结。"),
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


def percent(rate: Any) -> str:
    """A rate as a percentage with two decimals (Decimal('0.035') -> '3.50%'); blank for none."""
    if rate is None:
        return "—"
    return f"{rate * 100:.2f}%"
