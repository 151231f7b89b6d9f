"""authority view: where schools are, the authority role, invitations, running totals

Schools and authorities get official place codes; users get the "authority" role with a scope;
invitations let new users set their password; four summary tables hold the totals of the
authority's overview, filled from the existing data and from then on kept exact by triggers on
invoices and bank_transactions (statement-level with transition tables on PostgreSQL, row-level
on SQLite), in the same transaction as the change of money.

Revision ID: b7e2a9c41d30
Revises: 969a5f237a16
Create Date: 2026-12-06 20:30:29.029252

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7e2a9c41d30'
down_revision = '969a5f237a16'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('province_code', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ward_code', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_schools_place'), '(ward_code IS NULL) = (province_code IS NULL)')
        batch_op.create_index('ix_schools_province_ward', ['province_code', 'ward_code'],
                              unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('province_code', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ward_code', sa.Integer(), nullable=True))
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.drop_constraint(op.f('ck_users_school_for_staff'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_users_role'), "role IN ('admin', 'accountant', 'principal', 'authority')")
        batch_op.create_check_constraint(
            op.f('ck_users_school_for_staff'), "role IN ('admin', 'authority') OR school_id IS NOT NULL")
        batch_op.create_check_constraint(
            op.f('ck_users_authority_scope'),
            "role <> 'authority' OR (province_code IS NOT NULL AND school_id IS NULL)")

    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_invitations_created_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_invitations_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_user_id'), ['user_id'], unique=False)

    op.create_table('summary_invoices',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('invoices', sa.Integer(), nullable=False),
    sa.Column('invoices_owing', sa.Integer(), nullable=False),
    sa.Column('expected_vnd', sa.BigInteger(), nullable=False),
    sa.Column('collected_vnd', sa.BigInteger(), nullable=False),
    sa.Column('outstanding_vnd', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_summary_invoices_school_id_schools')),
    sa.PrimaryKeyConstraint('school_id', 'period', 'due_date', name=op.f('pk_summary_invoices'))
    )
    op.create_table('summary_billed_students',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('invoices', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('school_id', 'scope', 'student_id', name=op.f('pk_summary_billed_students'))
    )
    op.create_table('summary_students',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('students', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_summary_students_school_id_schools')),
    sa.PrimaryKeyConstraint('school_id', 'scope', name=op.f('pk_summary_students'))
    )
    op.create_table('summary_receipts',
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('transactions', sa.Integer(), nullable=False),
    sa.Column('amount_vnd', sa.BigInteger(), nullable=False),
    sa.Column('last_received_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_summary_receipts_school_id_schools')),
    sa.PrimaryKeyConstraint('school_id', 'month', 'provider', name=op.f('pk_summary_receipts'))
    )

    dialect = op.get_bind().dialect.name
    # Fill from what exists, then keep exact: the triggers come after the fill, so that the
    # fill is not counted twice.
    for statement in _fill(dialect):
        op.execute(statement)
    for statement in (_postgresql_triggers() if dialect == 'postgresql' else _sqlite_triggers()):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        for trigger, table in _PG_TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS {trigger} ON {table}')
        for function in _PG_FUNCTIONS:
            op.execute(f'DROP FUNCTION IF EXISTS {function}')
    else:
        for trigger in _SQLITE_TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS {trigger}')
    op.drop_table('summary_receipts')
    op.drop_table('summary_students')
    op.drop_table('summary_billed_students')
    op.drop_table('summary_invoices')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_user_id'))
    op.drop_table('invitations')

    # Authority accounts cannot exist under the old constraints.
    op.execute("UPDATE audit_events SET actor_id = NULL "
               "WHERE actor_id IN (SELECT id FROM users WHERE role = 'authority')")
    op.execute("DELETE FROM users WHERE role = 'authority'")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_authority_scope'), type_='check')
        batch_op.drop_constraint(op.f('ck_users_school_for_staff'), type_='check')
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_role'),
                                         "role IN ('admin', 'accountant', 'principal')")
        batch_op.create_check_constraint(op.f('ck_users_school_for_staff'),
                                         "role = 'admin' OR school_id IS NOT NULL")
        batch_op.drop_column('ward_code')
        batch_op.drop_column('province_code')

    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_index('ix_schools_province_ward')
        batch_op.drop_constraint(op.f('ck_schools_place'), type_='check')
        batch_op.drop_column('ward_code')
        batch_op.drop_column('province_code')


# ----------------------------------------------------------------------------------------------
# The SQL. Written out here (not imported from the application) so that this migration stays
# what it was when the application changes.

def _term_scope(p):
    """The term an invoice period counts in: a term's own key; September-December of a
    school year's first year -> HK1, January-May of its second -> HK2; else NULL."""
    month = f"CAST(substr({p}, 6, 2) AS INTEGER)"
    year = f"CAST(substr({p}, 1, 4) AS INTEGER)"
    return (f"CASE WHEN length({p}) = 13 THEN {p} "
            f"WHEN length({p}) = 7 AND {month} >= 9 "
            f"THEN substr({p}, 1, 4) || '-' || CAST({year} + 1 AS TEXT) || '-HK1' "
            f"WHEN length({p}) = 7 AND {month} <= 5 "
            f"THEN CAST({year} - 1 AS TEXT) || '-' || substr({p}, 1, 4) || '-HK2' END")


def _year_scope(p):
    """The school year an invoice period counts in (NULL for June-August months)."""
    month = f"CAST(substr({p}, 6, 2) AS INTEGER)"
    year = f"CAST(substr({p}, 1, 4) AS INTEGER)"
    return (f"CASE WHEN length({p}) = 9 THEN {p} "
            f"WHEN length({p}) = 13 THEN substr({p}, 1, 9) "
            f"WHEN length({p}) = 7 AND {month} >= 9 "
            f"THEN substr({p}, 1, 4) || '-' || CAST({year} + 1 AS TEXT) "
            f"WHEN length({p}) = 7 AND {month} <= 5 "
            f"THEN CAST({year} - 1 AS TEXT) || '-' || substr({p}, 1, 4) END")


def _month(dialect, column):
    return (f"to_char({column}, 'YYYY-MM')" if dialect == 'postgresql'
            else f"substr({column}, 1, 7)")


_OWING = "CASE WHEN {r}total_vnd > {r}paid_vnd THEN 1 ELSE 0 END"
#: A transaction's money counts as received (the same rule as services/channels.py): set-aside
#: money (status ignored: the school's own cash back from the bank, money that is not fees) and
#: a transfer recorded twice (status duplicate) do not; cash always does, less what voided
#: receipts gave back (cash_entries of kind void).
_COUNTED = "NOT ({r}status IN ('ignored', 'duplicate') AND {r}provider <> 'cash')"
_OUTSTANDING = "CASE WHEN {r}total_vnd > {r}paid_vnd THEN {r}total_vnd - {r}paid_vnd ELSE 0 END"


def _fill(dialect):
    scopes = (f"SELECT school_id, student_id, {_term_scope('period')} AS scope FROM invoices "
              f"WHERE status <> 'cancelled' UNION ALL "
              f"SELECT school_id, student_id, {_year_scope('period')} FROM invoices "
              f"WHERE status <> 'cancelled'")
    return [
        "INSERT INTO summary_invoices (school_id, period, due_date, invoices, invoices_owing, "
        "expected_vnd, collected_vnd, outstanding_vnd) "
        f"SELECT school_id, period, due_date, count(*), sum({_OWING.format(r='')}), "
        f"sum(total_vnd), sum(paid_vnd), sum({_OUTSTANDING.format(r='')}) FROM invoices "
        "WHERE status <> 'cancelled' GROUP BY school_id, period, due_date",
        "INSERT INTO summary_billed_students (school_id, scope, student_id, invoices) "
        f"SELECT school_id, scope, student_id, count(*) FROM ({scopes}) AS s "
        "WHERE scope IS NOT NULL GROUP BY school_id, scope, student_id",
        "INSERT INTO summary_students (school_id, scope, students) "
        "SELECT school_id, scope, count(*) FROM summary_billed_students WHERE invoices > 0 "
        "GROUP BY school_id, scope",
        "INSERT INTO summary_receipts (school_id, month, provider, transactions, amount_vnd, "
        "last_received_at) "
        f"SELECT b.school_id, {_month(dialect, 'b.occurred_at')}, b.provider, "
        f"sum(CASE WHEN {_COUNTED.format(r='b.')} THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN {_COUNTED.format(r='b.')} THEN b.amount_vnd - coalesce(v.voided, 0) "
        "ELSE 0 END), max(b.received_at) FROM bank_transactions AS b "
        "LEFT JOIN (SELECT transaction_id, sum(amount_vnd) AS voided FROM cash_entries "
        "WHERE kind = 'void' GROUP BY transaction_id) AS v ON v.transaction_id = b.id "
        "WHERE b.direction = 'in' AND b.school_id IS NOT NULL "
        f"GROUP BY b.school_id, {_month(dialect, 'b.occurred_at')}, b.provider",
    ]


# --- SQLite: row-level triggers ---------------------------------------------------------------

_SQLITE_TRIGGERS = (
    'trg_summaries_invoice_insert', 'trg_summaries_invoice_update',
    'trg_summaries_invoice_delete', 'trg_summaries_billed_insert',
    'trg_summaries_billed_update', 'trg_summaries_transaction_insert',
    'trg_summaries_transaction_update', 'trg_summaries_transaction_delete',
    'trg_summaries_transaction_status', 'trg_summaries_cash_void',
)


def _sqlite_add_invoice(r, condition):
    """Add row ``r`` (NEW) to its summary row, if ``condition``."""
    return (
        "INSERT INTO summary_invoices (school_id, period, due_date, invoices, invoices_owing, "
        "expected_vnd, collected_vnd, outstanding_vnd) "
        f"SELECT {r}.school_id, {r}.period, {r}.due_date, 1, {_OWING.format(r=r + '.')}, "
        f"{r}.total_vnd, {r}.paid_vnd, {_OUTSTANDING.format(r=r + '.')} WHERE {condition} "
        "ON CONFLICT (school_id, period, due_date) DO UPDATE SET "
        "invoices = invoices + excluded.invoices, "
        "invoices_owing = invoices_owing + excluded.invoices_owing, "
        "expected_vnd = expected_vnd + excluded.expected_vnd, "
        "collected_vnd = collected_vnd + excluded.collected_vnd, "
        "outstanding_vnd = outstanding_vnd + excluded.outstanding_vnd;"
    )


def _sqlite_remove_invoice(r, condition):
    """Take row ``r`` (OLD) out of its summary row, which exists since it was added."""
    return (
        f"UPDATE summary_invoices SET invoices = invoices - 1, "
        f"invoices_owing = invoices_owing - {_OWING.format(r=r + '.')}, "
        f"expected_vnd = expected_vnd - {r}.total_vnd, "
        f"collected_vnd = collected_vnd - {r}.paid_vnd, "
        f"outstanding_vnd = outstanding_vnd - {_OUTSTANDING.format(r=r + '.')} "
        f"WHERE {condition} AND school_id = {r}.school_id AND period = {r}.period "
        f"AND due_date = {r}.due_date;"
    )


def _sqlite_add_student(r, condition):
    return (
        "INSERT INTO summary_billed_students (school_id, scope, student_id, invoices) "
        f"SELECT {r}.school_id, s.scope, {r}.student_id, 1 FROM "
        f"(SELECT {_term_scope(r + '.period')} AS scope "
        f"UNION ALL SELECT {_year_scope(r + '.period')}) AS s "
        f"WHERE s.scope IS NOT NULL AND {condition} "
        "ON CONFLICT (school_id, scope, student_id) DO UPDATE SET invoices = invoices + 1;"
    )


def _sqlite_remove_student(r, condition):
    return (
        "UPDATE summary_billed_students SET invoices = invoices - 1 "
        f"WHERE {condition} AND school_id = {r}.school_id AND student_id = {r}.student_id "
        f"AND scope IN ({_term_scope(r + '.period')}, {_year_scope(r + '.period')});"
    )


def _sqlite_add_receipt(r, condition):
    return (
        "INSERT INTO summary_receipts (school_id, month, provider, transactions, amount_vnd, "
        "last_received_at) "
        f"SELECT {r}.school_id, substr({r}.occurred_at, 1, 7), {r}.provider, "
        f"CASE WHEN {_COUNTED.format(r=r + '.')} THEN 1 ELSE 0 END, "
        f"CASE WHEN {_COUNTED.format(r=r + '.')} THEN {r}.amount_vnd ELSE 0 END, "
        f"{r}.received_at WHERE {condition} "
        "ON CONFLICT (school_id, month, provider) DO UPDATE SET "
        "transactions = transactions + excluded.transactions, "
        "amount_vnd = amount_vnd + excluded.amount_vnd, "
        "last_received_at = CASE WHEN last_received_at IS NULL "
        "OR excluded.last_received_at > last_received_at "
        "THEN excluded.last_received_at ELSE last_received_at END;"
    )


def _sqlite_remove_receipt(r, condition):
    # The latest delivery cannot be subtracted: it is read again from what is left.
    return (
        f"UPDATE summary_receipts SET "
        f"transactions = transactions - CASE WHEN {_COUNTED.format(r=r + '.')} THEN 1 ELSE 0 END, "
        f"amount_vnd = amount_vnd - "
        f"CASE WHEN {_COUNTED.format(r=r + '.')} THEN {r}.amount_vnd ELSE 0 END, "
        "last_received_at = (SELECT max(b.received_at) FROM bank_transactions AS b "
        f"WHERE b.school_id = {r}.school_id AND b.direction = 'in' "
        f"AND b.provider = {r}.provider "
        f"AND substr(b.occurred_at, 1, 7) = substr({r}.occurred_at, 1, 7)) "
        f"WHERE {condition} AND school_id = {r}.school_id "
        f"AND month = substr({r}.occurred_at, 1, 7) AND provider = {r}.provider;"
    )


def _sqlite_triggers():
    live_old, live_new = "OLD.status <> 'cancelled'", "NEW.status <> 'cancelled'"
    same = ("NEW.school_id = OLD.school_id AND NEW.student_id = OLD.student_id "
            "AND NEW.period = OLD.period")
    received_old = "OLD.direction = 'in' AND OLD.school_id IS NOT NULL"
    received_new = "NEW.direction = 'in' AND NEW.school_id IS NOT NULL"
    return [
        "CREATE TRIGGER trg_summaries_invoice_insert AFTER INSERT ON invoices BEGIN "
        + _sqlite_add_invoice("NEW", live_new)
        + _sqlite_add_student("NEW", live_new) + " END",
        "CREATE TRIGGER trg_summaries_invoice_update AFTER UPDATE OF school_id, student_id, "
        "period, due_date, total_vnd, paid_vnd, status ON invoices BEGIN "
        + _sqlite_remove_invoice("OLD", live_old)
        + _sqlite_add_invoice("NEW", live_new)
        # A student's count changes only when the invoice comes alive, dies or moves.
        + _sqlite_remove_student("OLD", f"{live_old} AND NOT ({live_new} AND {same})")
        + _sqlite_add_student("NEW", f"{live_new} AND NOT ({live_old} AND {same})") + " END",
        "CREATE TRIGGER trg_summaries_invoice_delete AFTER DELETE ON invoices BEGIN "
        + _sqlite_remove_invoice("OLD", live_old)
        + _sqlite_remove_student("OLD", live_old) + " END",
        "CREATE TRIGGER trg_summaries_billed_insert AFTER INSERT ON summary_billed_students "
        "WHEN NEW.invoices > 0 BEGIN "
        "INSERT INTO summary_students (school_id, scope, students) "
        "VALUES (NEW.school_id, NEW.scope, 1) "
        "ON CONFLICT (school_id, scope) DO UPDATE SET students = students + 1; END",
        "CREATE TRIGGER trg_summaries_billed_update AFTER UPDATE OF invoices "
        "ON summary_billed_students WHEN (OLD.invoices > 0) <> (NEW.invoices > 0) BEGIN "
        "INSERT INTO summary_students (school_id, scope, students) "
        "SELECT NEW.school_id, NEW.scope, 1 WHERE NEW.invoices > 0 "
        "ON CONFLICT (school_id, scope) DO UPDATE SET students = students + 1; "
        "UPDATE summary_students SET students = students - 1 WHERE NEW.invoices <= 0 "
        "AND school_id = NEW.school_id AND scope = NEW.scope; END",
        "CREATE TRIGGER trg_summaries_transaction_insert AFTER INSERT ON bank_transactions "
        "BEGIN " + _sqlite_add_receipt("NEW", received_new) + " END",
        "CREATE TRIGGER trg_summaries_transaction_update AFTER UPDATE OF school_id, direction, "
        "amount_vnd, provider, occurred_at, received_at ON bank_transactions BEGIN "
        + _sqlite_remove_receipt("OLD", received_old)
        + _sqlite_add_receipt("NEW", received_new) + " END",
        "CREATE TRIGGER trg_summaries_transaction_delete AFTER DELETE ON bank_transactions "
        "BEGIN " + _sqlite_remove_receipt("OLD", received_old) + " END",
        # Matching changes a status: the money stops counting when set aside or found to be
        # a duplicate (and counts again if that is undone).
        "CREATE TRIGGER trg_summaries_transaction_status AFTER UPDATE OF status "
        f"ON bank_transactions WHEN {received_new} AND ({_COUNTED.format(r='OLD.')}) "
        f"<> ({_COUNTED.format(r='NEW.')}) BEGIN "
        "UPDATE summary_receipts SET "
        f"transactions = transactions + CASE WHEN {_COUNTED.format(r='NEW.')} THEN 1 ELSE -1 END, "
        f"amount_vnd = amount_vnd + CASE WHEN {_COUNTED.format(r='NEW.')} THEN NEW.amount_vnd "
        "ELSE -NEW.amount_vnd END "
        "WHERE school_id = NEW.school_id AND month = substr(NEW.occurred_at, 1, 7) "
        "AND provider = NEW.provider; END",
        # A voided cash receipt gives its money back out of the cash box.
        "CREATE TRIGGER trg_summaries_cash_void AFTER INSERT ON cash_entries "
        "WHEN NEW.kind = 'void' AND NEW.transaction_id IS NOT NULL BEGIN "
        "UPDATE summary_receipts SET amount_vnd = amount_vnd - NEW.amount_vnd "
        "WHERE (school_id, month, provider) = (SELECT school_id, substr(occurred_at, 1, 7), "
        "provider FROM bank_transactions WHERE id = NEW.transaction_id); END",
    ]


# --- PostgreSQL: statement-level triggers with transition tables ------------------------------
# One statement that issues 2,000 invoices (a billing run) or pays a thousand (batch matching)
# updates each summary row once, in key order (so concurrent writers never deadlock on them).

_PG_TRIGGERS = (
    ('trg_summaries_invoice_insert', 'invoices'),
    ('trg_summaries_invoice_update', 'invoices'),
    ('trg_summaries_invoice_delete', 'invoices'),
    ('trg_summaries_transaction_insert', 'bank_transactions'),
    ('trg_summaries_transaction_change', 'bank_transactions'),
    ('trg_summaries_transaction_status', 'bank_transactions'),
    ('trg_summaries_cash_void', 'cash_entries'),
)
_PG_FUNCTIONS = (
    'summaries_invoices_inserted()', 'summaries_invoices_updated()',
    'summaries_invoices_deleted()', 'summaries_transactions_inserted()',
    'summaries_transaction_changed()', 'summaries_transaction_statuses()',
    'summaries_cash_voided()', 'summary_term_scope(text)', 'summary_year_scope(text)',
)


def _pg_invoice_function(name, changes):
    """A trigger function applying ``changes``: a query of (school_id, student_id, period,
    due_date, total_vnd, paid_vnd, sign) over the transition tables, live invoices only."""
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  WITH d AS ({changes})
  INSERT INTO summary_invoices AS s (school_id, period, due_date, invoices, invoices_owing,
                                     expected_vnd, collected_vnd, outstanding_vnd)
  SELECT school_id, period, due_date, sum(sign), sum(sign * {_OWING.format(r='')}),
         sum(sign * total_vnd), sum(sign * paid_vnd), sum(sign * {_OUTSTANDING.format(r='')})
  FROM d
  GROUP BY school_id, period, due_date
  HAVING sum(sign) <> 0 OR sum(sign * total_vnd) <> 0 OR sum(sign * paid_vnd) <> 0
      OR sum(sign * {_OWING.format(r='')}) <> 0 OR sum(sign * {_OUTSTANDING.format(r='')}) <> 0
  ORDER BY school_id, period, due_date
  ON CONFLICT (school_id, period, due_date) DO UPDATE SET
    invoices = s.invoices + EXCLUDED.invoices,
    invoices_owing = s.invoices_owing + EXCLUDED.invoices_owing,
    expected_vnd = s.expected_vnd + EXCLUDED.expected_vnd,
    collected_vnd = s.collected_vnd + EXCLUDED.collected_vnd,
    outstanding_vnd = s.outstanding_vnd + EXCLUDED.outstanding_vnd;

  WITH d AS ({changes}),
  sd AS (
    SELECT school_id, scope, student_id, sum(sign) AS delta FROM (
      SELECT school_id, student_id, summary_term_scope(period) AS scope, sign FROM d
      UNION ALL
      SELECT school_id, student_id, summary_year_scope(period), sign FROM d
    ) AS x
    WHERE scope IS NOT NULL
    GROUP BY school_id, scope, student_id
    HAVING sum(sign) <> 0
  ),
  up AS (
    INSERT INTO summary_billed_students AS b (school_id, scope, student_id, invoices)
    SELECT school_id, scope, student_id, delta FROM sd ORDER BY school_id, scope, student_id
    ON CONFLICT (school_id, scope, student_id) DO UPDATE SET invoices = b.invoices + EXCLUDED.invoices
    RETURNING b.school_id, b.scope, b.student_id, b.invoices
  ),
  became AS (
    SELECT up.school_id, up.scope,
           sum(CASE WHEN up.invoices > 0 AND up.invoices - sd.delta <= 0 THEN 1
                    WHEN up.invoices <= 0 AND up.invoices - sd.delta > 0 THEN -1
                    ELSE 0 END) AS change
    FROM up JOIN sd ON sd.school_id = up.school_id AND sd.scope = up.scope
                   AND sd.student_id = up.student_id
    GROUP BY up.school_id, up.scope
  )
  INSERT INTO summary_students AS c (school_id, scope, students)
  SELECT school_id, scope, change FROM became WHERE change <> 0 ORDER BY school_id, scope
  ON CONFLICT (school_id, scope) DO UPDATE SET students = c.students + EXCLUDED.students;
  RETURN NULL;
END $$"""


def _pg_rows(table, sign):
    return (f"SELECT school_id, student_id, period, due_date, total_vnd, paid_vnd, {sign} AS sign "
            f"FROM {table} WHERE status <> 'cancelled'")


def _postgresql_triggers():
    return [
        f"CREATE FUNCTION summary_term_scope(p text) RETURNS text LANGUAGE sql IMMUTABLE "
        f"AS $$ SELECT {_term_scope('p')} $$",
        f"CREATE FUNCTION summary_year_scope(p text) RETURNS text LANGUAGE sql IMMUTABLE "
        f"AS $$ SELECT {_year_scope('p')} $$",
        _pg_invoice_function('summaries_invoices_inserted', _pg_rows('new_rows', 1)),
        _pg_invoice_function('summaries_invoices_updated',
                             f"{_pg_rows('old_rows', -1)} UNION ALL {_pg_rows('new_rows', 1)}"),
        _pg_invoice_function('summaries_invoices_deleted', _pg_rows('old_rows', -1)),
        "CREATE TRIGGER trg_summaries_invoice_insert AFTER INSERT ON invoices "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION summaries_invoices_inserted()",
        "CREATE TRIGGER trg_summaries_invoice_update AFTER UPDATE ON invoices "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION summaries_invoices_updated()",
        "CREATE TRIGGER trg_summaries_invoice_delete AFTER DELETE ON invoices "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION summaries_invoices_deleted()",
        """
CREATE FUNCTION summaries_transactions_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO summary_receipts AS r (school_id, month, provider, transactions, amount_vnd,
                                     last_received_at)
  SELECT school_id, to_char(occurred_at, 'YYYY-MM'), provider,
         sum(CASE WHEN """ + _COUNTED.format(r='') + """ THEN 1 ELSE 0 END),
         sum(CASE WHEN """ + _COUNTED.format(r='') + """ THEN amount_vnd ELSE 0 END),
         max(received_at)
  FROM new_rows WHERE direction = 'in' AND school_id IS NOT NULL
  GROUP BY school_id, to_char(occurred_at, 'YYYY-MM'), provider
  ORDER BY 1, 2, 3
  ON CONFLICT (school_id, month, provider) DO UPDATE SET
    transactions = r.transactions + EXCLUDED.transactions,
    amount_vnd = r.amount_vnd + EXCLUDED.amount_vnd,
    last_received_at = GREATEST(r.last_received_at, EXCLUDED.last_received_at);
  RETURN NULL;
END $$""",
        # Transactions are append-only: matching changes only their status, which does not
        # fire this. Should a stored transaction ever change what the totals read, it is taken
        # out and put back (and the latest delivery read again).
        """
CREATE FUNCTION summaries_transaction_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.direction = 'in' AND OLD.school_id IS NOT NULL THEN
    UPDATE summary_receipts SET
      transactions = transactions - (CASE WHEN """ + _COUNTED.format(r='OLD.') + """ THEN 1 ELSE 0 END),
      amount_vnd = amount_vnd - (CASE WHEN """ + _COUNTED.format(r='OLD.') + """ THEN OLD.amount_vnd ELSE 0 END),
      last_received_at = (
        SELECT max(b.received_at) FROM bank_transactions AS b
        WHERE b.school_id = OLD.school_id AND b.direction = 'in' AND b.provider = OLD.provider
          AND to_char(b.occurred_at, 'YYYY-MM') = to_char(OLD.occurred_at, 'YYYY-MM'))
    WHERE school_id = OLD.school_id AND month = to_char(OLD.occurred_at, 'YYYY-MM')
      AND provider = OLD.provider;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF NEW.direction = 'in' AND NEW.school_id IS NOT NULL THEN
      INSERT INTO summary_receipts AS r (school_id, month, provider, transactions, amount_vnd,
                                         last_received_at)
      VALUES (NEW.school_id, to_char(NEW.occurred_at, 'YYYY-MM'), NEW.provider,
              CASE WHEN """ + _COUNTED.format(r='NEW.') + """ THEN 1 ELSE 0 END,
              CASE WHEN """ + _COUNTED.format(r='NEW.') + """ THEN NEW.amount_vnd ELSE 0 END,
              NEW.received_at)
      ON CONFLICT (school_id, month, provider) DO UPDATE SET
        transactions = r.transactions + EXCLUDED.transactions,
        amount_vnd = r.amount_vnd + EXCLUDED.amount_vnd,
        last_received_at = GREATEST(r.last_received_at, EXCLUDED.last_received_at);
    END IF;
  END IF;
  RETURN NULL;
END $$""",
        "CREATE TRIGGER trg_summaries_transaction_insert AFTER INSERT ON bank_transactions "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION summaries_transactions_inserted()",
        # Statuses change in bulk (batch matching): one statement-level trigger compares the
        # rows before and after and moves the money of those that stopped (or started)
        # counting. The row-level trigger above handles the other columns.
        """
CREATE FUNCTION summaries_transaction_statuses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO summary_receipts AS r (school_id, month, provider, transactions, amount_vnd)
  SELECT n.school_id, to_char(n.occurred_at, 'YYYY-MM'), n.provider,
         sum(CASE WHEN """ + _COUNTED.format(r='n.') + """ THEN 1 ELSE -1 END),
         sum(CASE WHEN """ + _COUNTED.format(r='n.') + """ THEN n.amount_vnd ELSE -n.amount_vnd END)
  FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
  WHERE n.direction = 'in' AND n.school_id IS NOT NULL
    AND o.school_id = n.school_id AND o.direction = n.direction
    AND o.amount_vnd = n.amount_vnd AND o.provider = n.provider
    AND o.occurred_at = n.occurred_at
    AND (""" + _COUNTED.format(r='o.') + """) <> (""" + _COUNTED.format(r='n.') + """)
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3
  ON CONFLICT (school_id, month, provider) DO UPDATE SET
    transactions = r.transactions + EXCLUDED.transactions,
    amount_vnd = r.amount_vnd + EXCLUDED.amount_vnd;
  RETURN NULL;
END $$""",
        """
CREATE FUNCTION summaries_cash_voided() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE summary_receipts AS r SET amount_vnd = r.amount_vnd - NEW.amount_vnd
  FROM bank_transactions AS b
  WHERE b.id = NEW.transaction_id AND r.school_id = b.school_id
    AND r.month = to_char(b.occurred_at, 'YYYY-MM') AND r.provider = b.provider;
  RETURN NULL;
END $$""",
        "CREATE TRIGGER trg_summaries_transaction_status AFTER UPDATE ON bank_transactions "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION summaries_transaction_statuses()",
        "CREATE TRIGGER trg_summaries_cash_void AFTER INSERT ON cash_entries FOR EACH ROW "
        "WHEN (NEW.kind = 'void' AND NEW.transaction_id IS NOT NULL) "
        "EXECUTE FUNCTION summaries_cash_voided()",
        "CREATE TRIGGER trg_summaries_transaction_change "
        "AFTER UPDATE OF school_id, direction, amount_vnd, provider, occurred_at, received_at "
        "OR DELETE "
        "ON bank_transactions FOR EACH ROW "
        "EXECUTE FUNCTION summaries_transaction_changed()",
    ]
