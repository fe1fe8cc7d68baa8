"""The console's labels: Chinese by default, English on request (``?lang=en``, kept in a cookie)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["LABELS", "LANGUAGES", "translator"]

LANGUAGES = ("zh", "en")

#: key -> (Chinese, English)
LABELS: Mapping[str, tuple[str, str]] = {
    "title": ("监管交换 运维控制台", "jgx operator console"),
    "dashboard": ("总览", "Dashboard"),
    "search": ("交换日志检索", "Exchange log search"),
    "lifecycle": ("任务/线索生命周期", "Task / clue lifecycle"),
    "dead_letters": ("死信队列", "Dead letters"),
    "checkpoints": ("检查点历史", "Checkpoint history"),
    "audit": ("操作审计", "Audit log"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "login_failed": ("用户名或密码错误", "Wrong username or password"),
    "role": ("角色", "Role"),
    "operator": ("运维", "operator"),
    "auditor": ("审计", "auditor"),
    "department": ("部门", "department"),
    "message_id": ("报文标识", "Message id"),
    "correlation_id": ("关联标识（任务/线索）", "Correlation id (task/clue)"),
    "sender": ("发送方", "Sender"),
    "recipient": ("接收方", "Recipient"),
    "standard": ("标准", "Standard"),
    "outcome": ("结果", "Outcome"),
    "reason": ("原因码", "Reason code"),
    "since": ("起始时间", "From"),
    "until": ("截止时间", "Until"),
    "time": ("时间", "Time"),
    "action": ("环节", "Action"),
    "log_index": ("日志序号", "Log index"),
    "any": ("全部", "any"),
    "accepted": ("已接收", "accepted"),
    "rejected": ("已拒绝", "rejected"),
    "duplicate": ("重复", "duplicate"),
    "submit_search": ("检索", "Search"),
    "next_page": ("下一页", "Next page"),
    "first_page": ("第一页", "First page"),
    "export_csv": ("导出 CSV", "Export CSV"),
    "no_results": ("没有符合条件的记录", "No matching entries"),
    "detail": ("报文详情", "Message detail"),
    "header": ("报文头", "Header"),
    "receipt": ("回执", "Receipt"),
    "findings": ("校验发现", "Findings"),
    "deliveries": ("投递记录", "Delivery attempts"),
    "payload": ("报文内容", "Payload"),
    "payload_masked": ("已按 SC-20 脱敏显示", "shown masked per SC-20"),
    "payload_hidden": ("无权查看个人信息，内容已隐藏", "personal data hidden for your role"),
    "verify_proof": ("验证存证（包含证明）", "Verify inclusion proof"),
    "proof_ok": ("验证通过：该条目包含在已签名的检查点中", "Verified: the entry is in the signed checkpoint"),
    "proof_failed": ("验证未通过", "Verification failed"),
    "tree_size": ("树大小", "Tree size"),
    "root_hash": ("根哈希", "Root hash"),
    "leaf_hash": ("叶哈希", "Leaf hash"),
    "proof_path": ("证明路径", "Audit path"),
    "signature_valid": ("签名有效", "Signature valid"),
    "recipients": ("接收方", "Recipient"),
    "state": ("状态", "State"),
    "attempts": ("尝试次数", "Attempts"),
    "last_error": ("最近错误", "Last error"),
    "next_attempt": ("下次尝试", "Next attempt"),
    "replay": ("重新投递", "Replay"),
    "replayed": ("已重新排队投递", "Queued for delivery again"),
    "no_dead_letters": ("没有死信", "No dead letters"),
    "consistent": ("与上一检查点一致", "Consistent with previous"),
    "size": ("大小", "Size"),
    "throughput": ("吞吐量（每小时）", "Throughput per hour"),
    "by_department": ("按部门", "By department"),
    "by_standard": ("按标准", "By standard"),
    "queue": ("投递队列", "Delivery queue"),
    "overdue": ("超期事项", "Overdue items"),
    "open_items": ("在办事项", "Open items"),
    "last_checkpoint": ("最新检查点", "Last checkpoint"),
    "due": ("期限", "Due"),
    "days_overdue": ("超期工作日", "Working days overdue"),
    "timeline": ("时间线", "Timeline"),
    "nodes": ("涉及节点", "Nodes"),
    "actor": ("操作人", "Actor"),
    "detail_col": ("内容", "Detail"),
    "not_found": ("未找到", "Not found"),
    "forbidden": ("无权执行此操作", "You may not do this"),
    "bad_request": ("请求有误", "Bad request"),
    "none": ("无", "none"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "dispatched": ("已分发", "dispatched"),
    "claimed": ("已认领", "claimed"),
    "fed_back": ("已反馈", "fed back"),
    "closed": ("已结束", "closed"),
    "returned": ("已退回", "returned"),
    "pending": ("待投递", "pending"),
    "delivered": ("已投递", "delivered"),
    "dead": ("死信", "dead"),
    "dispatch": ("分发", "dispatch"),
    "claim": ("认领", "claim"),
    "feedback": ("反馈", "feedback"),
    "close": ("结束", "close"),
    "return": ("退回", "return"),
    "delivery_event": ("投递回执", "delivery receipt"),
    "submission": ("提交", "submission"),
    "switch_language": ("English", "中文"),
}


def translator(lang: str) -> Callable[[str], str]:
    """A lookup of labels in ``lang`` (zh or en); unknown keys come back unchanged."""
    position = 1 if lang == "en" else 0

    def t(key: str) -> str:
        pair = LABELS.get(key)
        return pair[position] if pair is not None else key

    return t
