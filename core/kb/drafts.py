"""KB drafts: an editor turns a resolved ticket into a draft entry; approval writes kb/ YAML.

Reviews go the same way: an entry whose `last_reviewed` is older than the review age (the
console's review queue) becomes a `review` draft holding its current text; approving it writes
the editor's changes, if any, and today's date as `last_reviewed` into the existing file.

The written file is validated with the same loader as `make kb` (on a copy of kb/ with the new
file in place), so an approved draft never breaks the knowledge base. `make kb` and retraining
then pick it up.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models import HandoffTicket, KbDraft
from core.kb.loader import SOURCES_POLICY, KBError, KnowledgeBase, check_sources, load_kb
from core.kb.schema import KB_ID_RE, Source, SourcePolicy
from core.kb.topics import TOPICS


class DraftError(Exception):
    """The draft cannot be saved or approved; `problems` are for the editor."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class DraftFields:
    """What the editor can change in the form."""

    kb_id: str
    topic: str
    title: str
    questions: list[str]
    answer: str
    sources: list[dict[str, Any]]


def parse_sources(text: str) -> list[dict[str, Any]]:
    """Lines "title | https://url" → [{title, url}]; a third part "title | url | reason" marks
    the source `secondary: true` with that reason (a page not on an official host)."""
    sources: list[dict[str, Any]] = []
    for line in text.splitlines():
        if line.strip():
            title, _, rest = line.partition("|")
            url, _, reason = rest.partition("|")
            source: dict[str, Any] = {"title": title.strip(), "url": url.strip()}
            if reason.strip():
                source.update(secondary=True, reason=reason.strip())
            sources.append(source)
    return sources


def format_sources(sources: list[dict[str, Any]]) -> str:
    """The inverse of parse_sources, for the form."""
    lines = []
    for s in sources:
        line = f"{s.get('title', '')} | {s.get('url', '')}"
        if s.get("secondary"):
            line += f" | {s.get('reason') or ''}"
        lines.append(line)
    return "\n".join(lines)


def source_dict(source: dict[str, Any]) -> dict[str, Any]:
    """A source as a KB file holds it: title and url, plus secondary and reason when set."""
    out: dict[str, Any] = {"title": source.get("title"), "url": source.get("url")}
    if source.get("secondary"):
        out.update(secondary=True, reason=source.get("reason"))
    return out


def load_source_policy(kb_dir: Path) -> SourcePolicy:
    """The official hosts of kb/sources_policy.yml; DraftError when the file is missing or bad."""
    try:
        raw = yaml.safe_load((kb_dir / SOURCES_POLICY).read_text(encoding="utf-8"))
        return SourcePolicy.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise DraftError([f"无法读取官方网站名单 kb/{SOURCES_POLICY}，请联系管理员。"]) from exc


def source_problems(sources: list[dict[str, Any]], policy: SourcePolicy) -> list[str]:
    """What is wrong with the form's sources, one message per line, by the rules of `make kb`
    (core.kb.loader.check_sources): an official page, not a bare home page, or else marked
    secondary with a reason."""
    problems = []
    for number, raw in enumerate(sources, start=1):
        where = f"依据第 {number} 行"
        try:
            source = Source.model_validate(source_dict(raw))
        except ValidationError:
            problems.append(
                f"{where}：请写成“标题 | https://链接”（链接以 http:// 或 https:// 开头）。"
            )
            continue
        if not check_sources([source], policy):
            continue
        host = (source.url.host or "").lower()
        if not policy.is_official(host):
            problems.append(
                f"{where}：{host} 不在官方网站名单（kb/{SOURCES_POLICY}）上。"
                "请引用官方页面，或在行末加“ | 理由”标为次要来源。"
            )
        else:  # on an official host, so check_sources refused it as a bare home page
            problems.append(
                f"{where}：{source.url} 是网站首页。"
                "请链接到具体页面（如法规的深链接），或在行末加“ | 理由”标为次要来源。"
            )
    return problems


def draft_from_ticket(session: Session, ticket_id: int, editor: str) -> KbDraft:
    """A draft prefilled from a closed ticket: citizen messages as questions, replies as answer."""
    ticket = session.get(HandoffTicket, ticket_id)
    if ticket is None or ticket.state != "closed":
        raise DraftError(["只能从已关闭（已解决）的工单创建草稿。"])
    asked = [m.text.strip() for m in ticket.messages if m.author == "citizen" and m.text.strip()]
    replies = [m.text.strip() for m in ticket.messages if m.author == "staff"]
    topic = ticket.topic if ticket.topic in TOPICS else "other_services"
    draft = KbDraft(
        ticket_id=ticket.id,
        kb_id=f"draft_ticket_{ticket.id}",
        topic=topic,
        title=(asked[0] if asked else "")[:120],
        questions=asked[:20],
        answer="\n\n".join(replies),
        sources=[],
        created_by=editor,
    )
    session.add(draft)
    session.flush()
    return draft


def list_drafts(session: Session) -> list[KbDraft]:
    """Drafts, open ones first, newest first."""
    return list(session.scalars(select(KbDraft).order_by(KbDraft.status, KbDraft.id.desc())))


def update_draft(
    session: Session, draft_id: int, fields: DraftFields, policy: SourcePolicy
) -> KbDraft:
    """Save the editor's changes to an open draft; DraftError when the topic is unknown or a
    source breaks the sources policy (see `source_problems`)."""
    draft = _open_draft(session, draft_id)
    if fields.topic.strip() not in TOPICS:
        raise DraftError([f"主题必须是知识库的主题之一（{', '.join(TOPICS)}）。"])
    problems = source_problems(fields.sources, policy)
    if problems:
        raise DraftError(problems)
    draft.kb_id = fields.kb_id.strip()
    draft.topic = fields.topic.strip()
    draft.title = fields.title.strip()
    draft.questions = [q.strip() for q in fields.questions if q.strip()]
    draft.answer = fields.answer.strip()
    draft.sources = [source_dict(s) for s in fields.sources]
    session.flush()
    return draft


def entry_data(draft: KbDraft, today: dt.date) -> dict[str, object]:
    """The KB entry as it will be written (key order as in existing files)."""
    return {
        "id": draft.kb_id,
        "topic": draft.topic,
        "title": draft.title,
        "questions": list(draft.questions),
        "answer": draft.answer.strip() + "\n",
        "sources": list(draft.sources),
        "effective_from": today,
        "last_reviewed": today,
    }


def entry_path(kb_dir: Path, topic: str, kb_id: str) -> Path:
    """kb/<topic>/<id>.yml for a KB topic and a snake_case id, and never a path outside kb/
    (a topic such as `../..` once wrote wherever it pointed); DraftError otherwise."""
    if topic not in TOPICS:
        raise DraftError([f"主题必须是知识库的主题之一（{', '.join(TOPICS)}）。"])
    if not KB_ID_RE.fullmatch(kb_id):
        raise DraftError(["条目 id 必须是小写英文、数字和下划线（snake_case）。"])
    root = kb_dir.resolve()
    target = (root / topic / f"{kb_id}.yml").resolve()
    if not target.is_relative_to(root) or target.parent == root:
        raise DraftError(["条目文件必须位于知识库目录 kb/<主题>/ 之内。"])
    return kb_dir / topic / f"{kb_id}.yml"


def approve_draft(
    session: Session, draft_id: int, kb_dir: Path, approver: str, today: dt.date
) -> Path:
    """Validate the draft as a KB entry, write kb/<topic>/<id>.yml, mark the draft approved."""
    draft = _open_draft(session, draft_id)
    if draft.kind == "review":
        return _approve_review(session, draft, kb_dir, approver, today)
    target = entry_path(kb_dir, draft.topic, draft.kb_id)
    if target.exists():
        raise DraftError([f"条目 {draft.kb_id} 已存在，请换一个 id。"])
    text = yaml.safe_dump(entry_data(draft, today), allow_unicode=True, sort_keys=False, width=100)
    return _write_approved(session, draft, kb_dir, target, text, approver)


def _write_approved(
    session: Session, draft: KbDraft, kb_dir: Path, target: Path, text: str, approver: str
) -> Path:
    """Validate the entry's file text against the KB, write it, mark the draft approved."""
    _validate_with(kb_dir, target.relative_to(kb_dir), text)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    draft.status = "approved"
    draft.approved_by = approver
    draft.approved_at = dt.datetime.now(dt.UTC)
    session.flush()
    return target


def reject_draft(session: Session, draft_id: int) -> KbDraft:
    """Set a draft aside."""
    draft = _open_draft(session, draft_id)
    draft.status = "rejected"
    session.flush()
    return draft


def _open_draft(session: Session, draft_id: int) -> KbDraft:
    draft = session.get(KbDraft, draft_id)
    if draft is None:
        raise DraftError(["草稿不存在。"])
    if draft.status != "draft":
        raise DraftError(["草稿已处理。"])
    return draft


def _validate_with(kb_dir: Path, relative: Path, text: str) -> None:
    """Load a copy of kb/ plus the new file with the real loader; DraftError on any problem."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "kb"
        shutil.copytree(kb_dir, copy)
        (copy / relative).parent.mkdir(parents=True, exist_ok=True)
        (copy / relative).write_text(text, encoding="utf-8")
        try:
            load_kb(copy)
        except KBError as exc:
            raise DraftError([p.replace(str(copy), "kb") for p in exc.problems]) from exc


def find_draft(session: Session, draft_id: int) -> KbDraft | None:
    """A draft by id, whatever its status."""
    return session.get(KbDraft, draft_id)


LAST_REVIEWED_RE = re.compile(r"^last_reviewed:.*$", re.MULTILINE)


def entries_due(kb: KnowledgeBase, today: dt.date, max_age_days: int) -> list[tuple[str, str, int]]:
    """(kb_id, title, age in days) of entries reviewed more than `max_age_days` ago, oldest
    first."""
    due = [
        (kb_id, entry.title, (today - entry.last_reviewed).days)
        for kb_id, entry in kb.entries.items()
        if (today - entry.last_reviewed).days > max_age_days
    ]
    return sorted(due, key=lambda item: (-item[2], item[0]))


def draft_for_review(session: Session, kb: KnowledgeBase, kb_id: str, editor: str) -> KbDraft:
    """A review draft holding the entry's current text (the open one if it exists)."""
    entry = kb.get(kb_id)
    if entry is None:
        raise DraftError([f"条目 {kb_id} 不存在。"])
    existing = session.scalar(
        select(KbDraft).where(
            KbDraft.kb_id == kb_id, KbDraft.kind == "review", KbDraft.status == "draft"
        )
    )
    if existing is not None:
        return existing
    draft = KbDraft(
        kind="review",
        kb_id=kb_id,
        topic=entry.topic,
        title=entry.title,
        questions=list(entry.questions),
        answer=entry.answer.strip(),
        sources=[source_dict({**s.model_dump(), "url": str(s.url)}) for s in entry.sources],
        created_by=editor,
    )
    session.add(draft)
    session.flush()
    return draft


def _approve_review(
    session: Session, draft: KbDraft, kb_dir: Path, approver: str, today: dt.date
) -> Path:
    """Write the reviewed entry back to its file with `last_reviewed: today`."""
    target = entry_path(kb_dir, draft.topic, draft.kb_id)
    if not target.exists():
        raise DraftError(
            [f"条目文件 {target.relative_to(kb_dir)} 不存在（主题不能在复核时更改）。"]
        )
    original = target.read_text(encoding="utf-8")
    data = yaml.safe_load(original)
    sources = [source_dict(s) for s in data.get("sources", [])]
    unchanged = (
        data.get("title") == draft.title
        and list(data.get("questions", [])) == list(draft.questions)
        and str(data.get("answer", "")).strip() == draft.answer.strip()
        and sources == [source_dict(s) for s in draft.sources]
    )
    if unchanged and LAST_REVIEWED_RE.search(original):
        # Only the date changes: keep the file as the editors wrote it (comments, layout).
        text = LAST_REVIEWED_RE.sub(f"last_reviewed: {today.isoformat()}", original, count=1)
    else:
        data.update(
            title=draft.title,
            questions=list(draft.questions),
            answer=draft.answer.strip() + "\n",
            last_reviewed=today,
        )
        if sources != [source_dict(s) for s in draft.sources]:
            data["sources"] = [source_dict(s) for s in draft.sources]
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    return _write_approved(session, draft, kb_dir, target, text, approver)
