"""Message templates per school: stored wording or the defaults, checking and previewing.

A preview renders the template with a real invoice of the school (or a made-up one when the
school has none yet), shows the SMS as it will be sent (without diacritics if so chosen), its
length and number of parts, the email and the data a ZNS template would get.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

from ..core import clock
from ..extensions import db
from ..models import MessageTemplate, School, User
from ..services import audit
from ..services.access import require_manage, require_read
from ..services.errors import Invalid
from .core import (
    DEFAULT_TEMPLATES,
    SMS_MAX_SEGMENTS,
    TEMPLATE_KEYS,
    SmsLength,
    TemplateText,
    placeholders,
    render,
    sms_length,
    sms_text,
    unknown_placeholders,
)


@dataclass(frozen=True)
class Template:
    key: str
    text: TemplateText
    zns_template_id: str | None
    #: {Zalo parameter name: our placeholder}
    zns_params: dict[str, str]
    #: False: the default wording (the school has not saved its own).
    saved: bool

    def sms(self, values: dict[str, str]) -> str:
        return sms_text(render(self.text.sms, values), unaccented=self.text.unaccented)

    def email_subject(self, values: dict[str, str]) -> str:
        return " ".join(render(self.text.email_subject, values).split())

    def email_body(self, values: dict[str, str]) -> str:
        return render(self.text.email_body, values)

    def zns_data(self, values: dict[str, str]) -> dict[str, str]:
        return {param: values.get(name, "") for param, name in self.zns_params.items()}


def _check_key(key: str) -> None:
    if key not in TEMPLATE_KEYS:
        raise Invalid("Không có mẫu tin nhắn này.", "No such message template.", field="key")


def get_template(school_id: int, key: str) -> Template:
    _check_key(key)
    row = db.session.scalar(select(MessageTemplate).where(
        MessageTemplate.school_id == school_id, MessageTemplate.key == key))
    if row is None:
        return Template(key, DEFAULT_TEMPLATES[key], None, {}, saved=False)
    return Template(key, TemplateText(row.sms_text, row.email_subject, row.email_body,
                                      row.unaccented),
                    row.zns_template_id, dict(row.zns_params or {}), saved=True)


def all_templates(actor: User, school: School) -> list[Template]:
    require_read(actor, school)
    return [get_template(school.id, key) for key in TEMPLATE_KEYS]


def parse_zns_params(text: str) -> dict[str, str]:
    """``"student_name=ten_hoc_sinh"`` lines (or ``:``) -> {"student_name": "ten_hoc_sinh"}."""
    params: dict[str, str] = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        name, sep, placeholder = line.replace(":", "=", 1).partition("=")
        name, placeholder = name.strip(), placeholder.strip().strip("{}")
        if not sep or not name or not placeholder:
            raise Invalid(f"Dòng tham số ZNS “{line}” phải có dạng tên_tham_số=tên_trường.",
                          f"ZNS parameter line {line!r} must read param=placeholder.",
                          field="zns_params")
        params[name] = placeholder
    return params


def _from_form(key: str, data: dict[str, Any]) -> Template:
    def text(field: str, max_len: int, *, required: bool = True) -> str:
        value = str(data.get(field) or "").replace("\r\n", "\n").strip()
        if required and not value:
            raise Invalid("Nội dung mẫu không được để trống.", "The template text is empty.",
                          field=field)
        if len(value) > max_len:
            raise Invalid(f"Nội dung tối đa {max_len} ký tự.",
                          f"At most {max_len} characters.", field=field)
        return value

    zns_params = data.get("zns_params") or {}
    if isinstance(zns_params, str):
        zns_params = parse_zns_params(zns_params)
    zns_template_id = str(data.get("zns_template_id") or "").strip() or None
    if zns_template_id and (not zns_template_id.isdigit() or len(zns_template_id) > 20):
        raise Invalid("ID mẫu ZNS chỉ gồm chữ số.", "The ZNS template id is digits only.",
                      field="zns_template_id")
    unaccented = data.get("unaccented")
    return Template(
        key,
        TemplateText(
            sms=text("sms_text", 1000), email_subject=text("email_subject", 200),
            email_body=text("email_body", 5000),
            unaccented=str(unaccented).lower() in ("1", "true", "on", "yes"),
        ),
        zns_template_id, dict(zns_params), saved=True,
    )


@dataclass
class Preview:
    template: Template
    values: dict[str, str]
    sms: str
    length: SmsLength
    email_subject: str
    email_body: str
    zns_data: dict[str, str]
    #: Which student the sample is (empty: made up).
    sample: str
    problems: list[str]


def preview(actor: User, school: School, key: str, data: dict[str, Any] | None = None,
            *, today: date | None = None) -> Preview:
    """Render ``data`` (a template as typed) or the stored template with sample values."""
    require_read(actor, school)
    _check_key(key)
    template = _from_form(key, data) if data is not None else get_template(school.id, key)
    from .outbox import sample_values

    values, sample = sample_values(school, key, today=today)
    sms = template.sms(values)
    problems = _problems(template)
    length = sms_length(sms)
    if length.segments > SMS_MAX_SEGMENTS:
        problems.append(f"Tin SMS dài {length.length} ký tự = {length.segments} tin; tối đa "
                        f"{SMS_MAX_SEGMENTS} tin.")
    return Preview(template, values, sms, length, template.email_subject(values),
                   template.email_body(values), template.zns_data(values), sample, problems)


def _problems(template: Template) -> list[str]:
    problems = []
    for label, text in (("SMS", template.text.sms),
                        ("Tiêu đề email", template.text.email_subject),
                        ("Nội dung email", template.text.email_body)):
        unknown = unknown_placeholders(text, template.key)
        if unknown:
            problems.append(f"{label}: không có trường " +
                            ", ".join("{" + name + "}" for name in unknown))
    known = placeholders(template.key)
    bad = sorted(name for name in template.zns_params.values() if name not in known)
    if bad:
        problems.append("Tham số ZNS: không có trường " + ", ".join(bad))
    return problems


def save(actor: User, school: School, key: str, data: dict[str, Any]) -> Template:
    """Store the school's template; refused (Invalid) when it uses unknown placeholders or
    its SMS would not fit in three parts."""
    require_manage(actor, school)
    result = preview(actor, school, key, data)
    if result.problems:
        raise Invalid("Mẫu tin nhắn chưa hợp lệ: " + "; ".join(result.problems),
                      "The template is not valid: " + "; ".join(result.problems),
                      field="sms_text", problems=result.problems)
    t = result.template
    row = db.session.scalar(select(MessageTemplate).where(
        MessageTemplate.school_id == school.id, MessageTemplate.key == key))
    if row is None:
        row = MessageTemplate(school_id=school.id, key=key)
        db.session.add(row)
    row.sms_text = t.text.sms
    row.unaccented = t.text.unaccented
    row.email_subject = t.text.email_subject
    row.email_body = t.text.email_body
    row.zns_template_id = t.zns_template_id
    row.zns_params = t.zns_params
    row.updated_by_id = actor.id
    row.updated_at = clock.now_utc()
    db.session.flush()
    audit.record(actor, school.id, "messaging.template", f"template:{key}")
    return t

