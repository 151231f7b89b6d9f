"""Staff pages: the student list, editing a student and importing a roster."""

from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from ...core.numbers import small_int
from ...extensions import db
from ...importing.roster import RosterInvalid, parse_roster
from ...importing.tabular import FileTooLarge, ImportFileError
from ...importing.templates import template
from ...services import students as student_service
from ...services.errors import ServiceError
from . import bp, load_school

PER_PAGE = 100
#: Largest roster file accepted from the form; a school's roster is far smaller.
MAX_UPLOAD = 5 * 1024 * 1024


def localised(message_vi: str, message_en: str) -> str:
    """Pick a service's Vietnamese or English message for the page's language."""
    return message_en if str(get_locale()) == "en" else message_vi


def refusal_status(exc: Exception) -> int:
    """A form's status when the upload or the change is refused: 413 for a file too large
    to read, else 422."""
    return 413 if isinstance(exc, FileTooLarge) else 422


def page_number() -> int:
    return small_int(request.args.get("trang"), limit=100_000) or 1


def status_labels() -> dict[str, str]:
    return {"studying": _("Đang học"), "left": _("Đã nghỉ")}


@bp.get("/<school_code>/hoc-sinh")
def students(school_code: str):
    school = load_school(school_code)
    filters = {
        "q": request.args.get("q", "").strip(),
        "lop": request.args.get("lop", "").strip(),
        "trang_thai": request.args.get("trang_thai", "studying"),
    }
    page = page_number()
    found, total = student_service.search_students(
        g.user, school, search=filters["q"], class_name=filters["lop"] or None,
        status=filters["trang_thai"] or None, page=page, per_page=PER_PAGE,
    )
    return render_template(
        "staff/students/list.html", students=found, total=total, page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1), filters=filters,
        classes=sorted({room.name for room in student_service.school_classes(school)}),
        statuses=status_labels(),
    )


@bp.route("/<school_code>/hoc-sinh/<student_code>/sua", methods=["GET", "POST"])
def student_edit(school_code: str, student_code: str):
    school = load_school(school_code, manage=request.method == "POST")
    student = student_service.get_student(school, student_code)
    if student is None:
        abort(404)
    classes = [room for room in student_service.school_classes(school)
               if room.school_year == student.classroom.school_year]
    if student.classroom not in classes:
        classes.append(student.classroom)
    form = {
        "full_name": student.full_name,
        "date_of_birth": student.date_of_birth.isoformat() if student.date_of_birth else "",
        "classroom_id": str(student.classroom_id),
        "status": student.status,
        "guardian_name": student.guardian_name or "",
        "guardian_phone": student.guardian_phone or "",
        "guardian_email": student.guardian_email or "",
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = {field: request.form.get(field, "") for field in form}
        try:
            student_service.update_student(g.user, school, student, form)
        except ServiceError as exc:
            db.session.rollback()
            flash(localised(exc.message_vi, exc.message_en), "error")
            errors = {field: localised(e["message"], e["message_en"])
                      for field, e in exc.details.get("errors", {}).items()}
            return render_template("staff/students/edit.html", student=student, form=form,
                                   errors=errors, classes=classes,
                                   statuses=status_labels()), 422
        db.session.commit()
        flash(_("Đã lưu thông tin học sinh %(name)s.", name=student.full_name), "info")
        return redirect(url_for("staff.students", school_code=school.code,
                                lop=student.classroom.name))
    return render_template("staff/students/edit.html", student=student, form=form,
                           errors=errors, classes=classes, statuses=status_labels())


@bp.route("/<school_code>/hoc-sinh/nhap", methods=["GET", "POST"])
def students_import(school_code: str):
    school = load_school(school_code, manage=True)
    if request.method == "GET":
        return render_template("staff/students/import.html", row_errors=[])
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Hãy chọn tệp danh sách (XLSX hoặc CSV)."), "error")
        return render_template("staff/students/import.html", row_errors=[]), 422
    data = upload.read(MAX_UPLOAD + 1)
    try:
        if len(data) > MAX_UPLOAD:
            raise FileTooLarge("Tệp lớn hơn 5 MB.", "The file is larger than 5 MB.")
        rows = parse_roster(data, upload.filename)
        result = student_service.import_roster(g.user, school, rows)
    except (ImportFileError, ServiceError) as exc:
        db.session.rollback()
        flash(localised(exc.message_vi, exc.message_en), "error")
        return render_template("staff/students/import.html", row_errors=[]), refusal_status(exc)
    except RosterInvalid as exc:
        db.session.rollback()
        flash(_("Tệp có %(n)d lỗi; chưa nhập học sinh nào. Sửa các dòng dưới đây rồi tải lại.",
                n=len(exc.errors)), "error")
        row_errors = [(e.row, e.column, localised(e.message, e.message_en)) for e in exc.errors]
        return render_template("staff/students/import.html", row_errors=row_errors,
                               filename=upload.filename), 422
    db.session.commit()
    flash(_("Đã nhập danh sách: %(created)d học sinh mới, %(updated)d học sinh cập nhật.",
            created=result["created"], updated=result["updated"]), "info")
    return redirect(url_for("staff.students", school_code=school.code))



# --- Templates to fill in (roster and adjustment imports) ------------------------------------


def _template_download(kind: str, fmt: str) -> Response:
    content, media_type, name = template(kind, fmt)
    return Response(content, mimetype=media_type,
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.get("/<school_code>/hoc-sinh/nhap/mau.<any(xlsx, csv):fmt>")
def roster_template(school_code: str, fmt: str):
    load_school(school_code)
    return _template_download("roster", fmt)


@bp.get("/<school_code>/dieu-chinh/mau.<any(xlsx, csv):fmt>")
def adjustments_template(school_code: str, fmt: str):
    load_school(school_code)
    return _template_download("adjustments", fmt)
