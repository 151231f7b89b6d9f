"""Uploads built to sink the server: each is refused with a clear 4xx, within seconds, and the
server's own memory hardly moves (the file is read in a child process with a budget).

Memory is the server process's peak RSS during the request (Linux resets the peak through
/proc/self/clear_refs), compared with its RSS before; the test client runs the app in this
process, so that is the server's memory.
"""

from __future__ import annotations

import functools
import io
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests import bombs
from tests.helpers import ROSTER
from tuition.extensions import db
from tuition.importing import sandbox, sheets, tabular
from tuition.importing.sheets import FileTooLarge, FileTooSlow, ImportFileError, read_sheet
from tuition.models import Student
from tuition.services import schools

SECONDS = 10
GROWTH_MB = 200

#: name -> (builder, file name); built once per test session (a second or so each).
BOMBS = {
    "empty rows (5 M rows, 300 KB)": (bombs.empty_rows_xlsx, "ds.xlsx"),
    "one 400 MB shared string": (bombs.huge_shared_string_xlsx, "ds.xlsx"),
    "16,384 columns of numbers": (bombs.wide_xlsx, "ds.xlsx"),
    "a cell on row 1,048,576": (bombs.far_row_xlsx, "ds.xlsx"),
    "20,000 zip parts": (bombs.many_parts_xlsx, "ds.xlsx"),
    "billion laughs": (bombs.entity_xlsx, "ds.xlsx"),
    "a zip that is no workbook": (bombs.zip_not_xlsx, "ds.xlsx"),
    "CSV header of 60,000 columns": (bombs.wide_csv, "ds.csv"),
    "CSV header of 16,000 columns": (functools.partial(bombs.wide_csv, 16_000), "ds.csv"),
    "CSV first line of 200 KB": (bombs.long_line_csv, "ds.csv"),
    "CSV of 8 M blank lines": (bombs.blank_lines_csv, "ds.csv"),
    "CSV with an unclosed quote": (lambda: b'Ma HS,Ho ten,Lop\nHS1,"An' + b"x" * 9000 + b"\n",
                                   "ds.csv"),
}


@functools.cache
def bomb(name: str) -> bytes:
    return BOMBS[name][0]()


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(field)


@contextmanager
def measured():
    """Seconds taken and MB the process's peak memory rose above its memory before."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # the peak (VmHWM) starts again from the current RSS
    before = _status_kb("VmRSS")
    figures: dict[str, float] = {}
    started = time.perf_counter()
    yield figures
    figures["seconds"] = time.perf_counter() - started
    figures["grew_mb"] = (_status_kb("VmHWM") - before) / 1024


def assert_cheap(figures: dict[str, float]) -> None:
    assert figures["seconds"] < SECONDS, figures
    assert figures["grew_mb"] < GROWTH_MB, figures


@pytest.fixture
def acct(make_school, make_user, api, client):
    school = make_school(prefix="LQ")
    _, token = make_user("accountant", school)
    caller = api(token)
    caller.client = client
    return caller


def acct_client(acct):
    return acct.client


@pytest.mark.parametrize("name", list(BOMBS))
def test_roster_import_refuses_each_bomb_quickly_and_cheaply(acct, name):
    data, filename = bomb(name), BOMBS[name][1]
    with measured() as figures:
        response = upload(acct, "/schools/LQD/students/import", data, filename)
    assert response.status_code in (400, 413, 422), response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["message"] and error["message_en"]
    assert_cheap(figures)
    assert acct.get("/schools/LQD/students").get_json()["count"] == 0


@pytest.mark.parametrize("name", ["empty rows (5 M rows, 300 KB)", "one 400 MB shared string",
                                  "CSV header of 60,000 columns", "CSV of 8 M blank lines"])
def test_statement_upload_refuses_bombs(acct, name):
    data, filename = bomb(name), BOMBS[name][1]
    with measured() as figures:
        response = upload(acct, "/schools/LQD/statements", data, filename)
    assert response.status_code in (413, 422), response.get_data(as_text=True)
    assert response.get_json()["error"]["message_en"]
    assert_cheap(figures)
    assert acct.get("/schools/LQD/payments").get_json()["count"] == 0


def test_the_sizes_are_what_the_messages_say():
    with pytest.raises(FileTooLarge) as unpacked:
        read_sheet(bomb("one 400 MB shared string"), "x.xlsx")
    assert "giải nén ra 400,0 MB" in unpacked.value.message_vi
    with pytest.raises(FileTooLarge) as wide:
        read_sheet(bomb("CSV header of 16,000 columns"), "x.csv")
    assert "tối đa 200 cột" in wide.value.message_vi and "column GS" in wide.value.message_en
    with pytest.raises(FileTooLarge) as rows:
        read_sheet(bomb("a cell on row 1,048,576"), "x.xlsx")
    assert "hơn 50.000 dòng (kể cả dòng trống)" in rows.value.message_vi


def post_file(client, path: str, data: bytes, filename: str, headers=None, **fields):
    """POST ``data`` as the multipart field "file", encoded in memory: the test client would
    spool a body over 500 KB to a temporary file it never closes."""
    boundary, body = encode_multipart(
        {**fields, "file": FileStorage(io.BytesIO(data), filename=filename)})
    return client.post(path, data=body, headers=headers or {},
                       content_type=f"multipart/form-data; boundary={boundary}")


def upload(acct, path: str, data: bytes, filename: str):
    """Like ``acct.upload``, without the temporary file."""
    return post_file(acct_client(acct), "/api/v1" + path, data, filename, headers=acct.headers)


@pytest.mark.parametrize(("page", "field"), [
    ("/app/LQD/hoc-sinh/nhap", None),
    ("/app/LQD/dieu-chinh/nhap", "/app/LQD/dieu-chinh"),
    ("/app/LQD/sao-ke", None),
])
def test_staff_forms_refuse_bombs_with_a_page(make_school, make_staff, staff_login, page, field):
    school = make_school(prefix="LQ")
    user = make_staff("accountant", school)
    browser = staff_login(user.email, "mat-khau-rat-dai-123")
    form_page = field or page
    for name in ("empty rows (5 M rows, 300 KB)", "CSV header of 16,000 columns"):
        data, filename = bomb(name), BOMBS[name][1]
        token = browser.csrf(form_page)
        with measured() as figures:
            response = post_file(browser, page, data, filename, csrf_token=token)
        assert response.status_code == 413, name
        html = response.get_data(as_text=True)
        assert "tối đa" in html or "giải nén" in html
        assert_cheap(figures)


def test_cli_refuses_a_bomb(runner, make_school, tmp_path):
    make_school()
    path = tmp_path / "ds.xlsx"
    path.write_bytes(bomb("empty rows (5 M rows, 300 KB)"))
    with measured() as figures:
        result = runner.invoke(args=["tuition", "import-students", "--school", "LQD", str(path)])
    assert result.exit_code == 1 and "giải nén" in result.output
    assert_cheap(figures)


# --- The backstop: what the checks let through still cannot take the server down ----------


def _no_caps() -> sheets.Limits:
    huge = 10**12
    return sheets.Limits(file_bytes=huge, rows=huge, columns=huge, cells=huge, cell_chars=huge,
                         text_chars=huge, line_chars=huge, zip_parts=huge, part_bytes=huge,
                         total_bytes=huge, ratio=huge)


def test_without_the_caps_the_memory_budget_stops_a_bomb(acct, monkeypatch):
    monkeypatch.setattr(tabular, "LIMITS", _no_caps())
    monkeypatch.setattr(sandbox, "_budget", sandbox.Budget(seconds=30, memory_mb=256))
    with measured() as figures:
        response = upload(acct, "/schools/LQD/students/import",
                          bomb("one 400 MB shared string"), "ds.xlsx")
    assert response.status_code == 413, response.get_data(as_text=True)
    assert "bộ nhớ" in response.get_json()["error"]["message"]
    assert_cheap(figures)


def test_without_the_caps_the_time_budget_stops_a_bomb(acct, monkeypatch):
    monkeypatch.setattr(tabular, "LIMITS", _no_caps())
    monkeypatch.setattr(sandbox, "_budget", sandbox.Budget(seconds=2, memory_mb=512))
    with measured() as figures:
        response = upload(acct, "/schools/LQD/students/import",
                          bomb("empty rows (5 M rows, 300 KB)"), "ds.xlsx")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "2 giây" in response.get_json()["error"]["message"]
    assert figures["seconds"] < 5
    assert_cheap(figures)


def test_the_sandbox_reports_memory_time_and_unexpected_errors():
    budget = sandbox.Budget(seconds=5, memory_mb=256)
    with pytest.raises(sandbox.OutOfMemory):
        sandbox.run(bytearray, 1024**3, budget=budget)
    started = time.perf_counter()
    with pytest.raises(sandbox.OutOfTime):
        sandbox.run(time.sleep, 30, budget=sandbox.Budget(seconds=0.3))
    assert time.perf_counter() - started < 3
    with pytest.raises(sandbox.ChildFailed) as failed:
        sandbox.run(int, "not a number")
    assert "ValueError" in failed.value.details
    with pytest.raises(ImportFileError):  # declared: comes back as itself
        sandbox.run(sheets._read, "xlsx", b"PK\x03\x04 no zip", sheets.Limits(),
                    expected=(ImportFileError,))
    assert sandbox.run(sum, [1, 2, 3]) == 6


def test_a_slow_read_is_a_clear_refusal(monkeypatch):
    # 20,000 rows take a good part of a second to read; the budget is 20 ms.
    data = (ROSTER + "".join(f"HS{n:05d},Nguyễn Văn An,05/03/2019,1A,,\n"
                             for n in range(20_000))).encode()
    monkeypatch.setattr(sandbox, "_budget", sandbox.Budget(seconds=0.02))
    with pytest.raises(FileTooSlow) as slow:
        read_sheet(data, "ds.csv")
    assert slow.value.status == 422 and "giây" in slow.value.message_vi


# --- The request limit -----------------------------------------------------------------------


def test_a_body_over_the_request_limit_is_a_clean_413(acct, client, make_staff, staff_login,
                                                      app):
    too_big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = upload(acct, "/schools/LQD/students/import", too_big, "ds.csv")
    assert response.status_code == 413
    assert response.get_json()["error"]["message"] == "Tệp quá lớn."
    webhook = client.post("/webhooks/sepay", data=too_big,
                          headers={"Content-Type": "application/json"})
    assert webhook.status_code == 413 and webhook.get_json()["error"]["status"] == 413
    user = make_staff("accountant", schools.get_school("LQD"))
    browser = staff_login(user.email, "mat-khau-rat-dai-123")
    page = post_file(browser, "/app/LQD/hoc-sinh/nhap", too_big, "ds.csv",
                     csrf_token=browser.csrf("/app/LQD/hoc-sinh/nhap"))
    assert page.status_code == 413
    assert "Tệp quá lớn." in page.get_data(as_text=True)
    assert db.session.query(Student).count() == 0


def test_a_script_without_a_main_guard_can_read_uploads(tmp_path):
    # multiprocessing would have each child run the parent's main script again; ours do not,
    # so an operator's script that reads a roster at module level works (and gunicorn's or
    # flask's main is not imported again on every upload).
    script = tmp_path / "read_roster.py"
    script.write_text(
        "from tuition.importing.roster import parse_roster\n"
        f"rows = parse_roster({ROSTER.encode()!r}, 'ds.csv')\n"
        "print('rows', len(rows))\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "rows 3"
