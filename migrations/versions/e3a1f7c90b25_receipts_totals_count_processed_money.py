"""receipts totals count a transaction once it is processed, not while it waits in the queue

The authority's running totals of money received (summary_receipts) were moved by every
INSERT into bank_transactions. In queue mode every webhook then updated the same row (the
school's month and provider) and held its lock until its commit reached the disk: the
webhooks of a school were stored one at a time, whatever the number of gunicorn workers.
Now a transaction counts (number, money, latest delivery) once it leaves the status
``received`` (matched, in review, set aside...): the match worker's batch moves the totals
once per batch, and a webhook's INSERT touches no summary row. The rule in
services/channels.py and the recomputation in services/summaries.py say the same.

Revision ID: e3a1f7c90b25
Revises: b7e2a9c41d30
Create Date: 2026-12-07 03:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e3a1f7c90b25'
down_revision = 'b7e2a9c41d30'
branch_labels = None
depends_on = None

_PG_TRIGGERS = (
    ('trg_summaries_transaction_insert', 'bank_transactions'),
    ('trg_summaries_transaction_change', 'bank_transactions'),
    ('trg_summaries_transaction_status', 'bank_transactions'),
)
_PG_FUNCTIONS = ('summaries_transactions_inserted()', 'summaries_transaction_changed()',
                 'summaries_transaction_statuses()')
_SQLITE_TRIGGERS = ('trg_summaries_transaction_insert', 'trg_summaries_transaction_update',
                    'trg_summaries_transaction_delete', 'trg_summaries_transaction_status')


#: Adds a row's counts to its summary row (the latest delivery only ever grows here).
_PG_ADD = (
    "ON CONFLICT (school_id, month, provider) DO UPDATE SET "
    "transactions = r.transactions + EXCLUDED.transactions, "
    "amount_vnd = r.amount_vnd + EXCLUDED.amount_vnd, "
    "last_received_at = GREATEST(r.last_received_at, EXCLUDED.last_received_at)"
)
_SQLITE_ADD = (
    "ON CONFLICT (school_id, month, provider) DO UPDATE SET "
    "transactions = transactions + excluded.transactions, "
    "amount_vnd = amount_vnd + excluded.amount_vnd, "
    "last_received_at = CASE WHEN excluded.last_received_at IS NOT NULL "
    "AND (last_received_at IS NULL OR excluded.last_received_at > last_received_at) "
    "THEN excluded.last_received_at ELSE last_received_at END"
)


def upgrade():
    _replace(processed_only=True)


def downgrade():
    _replace(processed_only=False)


def _replace(processed_only: bool):
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        for trigger, table in _PG_TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS {trigger} ON {table}')
        for function in _PG_FUNCTIONS:
            op.execute(f'DROP FUNCTION IF EXISTS {function}')
    else:
        for trigger in _SQLITE_TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS {trigger}')
    # Refilled by the rule the new triggers keep.
    op.execute('DELETE FROM summary_receipts')
    op.execute(_fill(dialect, processed_only))
    for statement in (_postgresql(processed_only) if dialect == 'postgresql'
                      else _sqlite(processed_only)):
        op.execute(statement)


def _processed(r: str, processed_only: bool) -> str:
    """SQL: row ``r`` (a prefix such as 'NEW.') is in the totals at all."""
    return f"{r}status <> 'received'" if processed_only else "TRUE"


def _counted(r: str, processed_only: bool) -> str:
    """SQL: row ``r``'s money counts as received (services/channels.py)."""
    rule = f"NOT ({r}status IN ('ignored', 'duplicate') AND {r}provider <> 'cash')"
    return f"({_processed(r, processed_only)} AND {rule})"


def _month(dialect: str, value: str) -> str:
    return f"to_char({value}, 'YYYY-MM')" if dialect == 'postgresql' else f"substr({value}, 1, 7)"


def _fill(dialect: str, processed_only: bool) -> str:
    counted = _counted('b.', processed_only)
    return (
        "INSERT INTO summary_receipts (school_id, month, provider, transactions, amount_vnd, "
        "last_received_at) "
        f"SELECT b.school_id, {_month(dialect, 'b.occurred_at')}, b.provider, "
        f"sum(CASE WHEN {counted} THEN 1 ELSE 0 END), "
        f"sum(CASE WHEN {counted} THEN b.amount_vnd - coalesce(v.voided, 0) ELSE 0 END), "
        "max(b.received_at) FROM bank_transactions AS b "
        "LEFT JOIN (SELECT transaction_id, sum(amount_vnd) AS voided FROM cash_entries "
        "WHERE kind = 'void' GROUP BY transaction_id) AS v ON v.transaction_id = b.id "
        "WHERE b.direction = 'in' AND b.school_id IS NOT NULL "
        f"AND {_processed('b.', processed_only)} "
        f"GROUP BY b.school_id, {_month(dialect, 'b.occurred_at')}, b.provider"
    )


def _latest(dialect: str, r: str, processed_only: bool) -> str:
    """SQL: the latest delivery left in row ``r``'s school, month and provider."""
    return (
        "(SELECT max(b.received_at) FROM bank_transactions AS b "
        f"WHERE b.school_id = {r}school_id AND b.direction = 'in' AND b.provider = {r}provider "
        f"AND {_month(dialect, 'b.occurred_at')} = {_month(dialect, r + 'occurred_at')} "
        f"AND {_processed('b.', processed_only)})"
    )


# --- PostgreSQL: statement-level triggers with transition tables --------------------------

def _postgresql_insert(p: bool):
    """What an INSERT adds. Counting only processed rows, a row-level trigger whose WHEN is
    false for a queued row: a webhook's INSERT then runs no trigger at all (a statement-level
    trigger would still collect a transition table and run its function for nothing)."""
    if p:
        return [
            """
CREATE FUNCTION summaries_transactions_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO summary_receipts AS r (school_id, month, provider, transactions, amount_vnd,
                                     last_received_at)
  VALUES (NEW.school_id, to_char(NEW.occurred_at, 'YYYY-MM'), NEW.provider,
          CASE WHEN """ + _counted('NEW.', p) + """ THEN 1 ELSE 0 END,
          CASE WHEN """ + _counted('NEW.', p) + """ THEN NEW.amount_vnd ELSE 0 END,
          NEW.received_at)
  """ + _PG_ADD + """;
  RETURN NULL;
END $$""",
            "CREATE TRIGGER trg_summaries_transaction_insert AFTER INSERT ON bank_transactions "
            "FOR EACH ROW WHEN (NEW.direction = 'in' AND NEW.school_id IS NOT NULL "
            f"AND {_processed('NEW.', p)}) EXECUTE FUNCTION summaries_transactions_inserted()",
        ]
    return [
        """
CREATE FUNCTION summaries_transactions_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO summary_receipts AS r (school_id, month, provider, transactions, amount_vnd,
                                     last_received_at)
  SELECT school_id, to_char(occurred_at, 'YYYY-MM'), provider,
         sum(CASE WHEN """ + _counted('', p) + """ THEN 1 ELSE 0 END),
         sum(CASE WHEN """ + _counted('', p) + """ THEN amount_vnd ELSE 0 END),
         max(received_at)
  FROM new_rows WHERE direction = 'in' AND school_id IS NOT NULL
  GROUP BY school_id, to_char(occurred_at, 'YYYY-MM'), provider
  ORDER BY 1, 2, 3
  """ + _PG_ADD + """;
  RETURN NULL;
END $$""",
        "CREATE TRIGGER trg_summaries_transaction_insert AFTER INSERT ON bank_transactions "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION summaries_transactions_inserted()",
    ]


def _postgresql(p: bool):
    same = ("o.school_id = n.school_id AND o.direction = n.direction "
            "AND o.amount_vnd = n.amount_vnd AND o.provider = n.provider "
            "AND o.occurred_at = n.occurred_at")
    entered = f"NOT {_processed('o.', p)} AND {_processed('n.', p)}"
    left = f"{_processed('o.', p)} AND NOT {_processed('n.', p)}"
    return _postgresql_insert(p) + [
        # A change of what the totals read (not only the status): taken out and put back.
        """
CREATE FUNCTION summaries_transaction_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.direction = 'in' AND OLD.school_id IS NOT NULL AND """ + _processed('OLD.', p) + """ THEN
    UPDATE summary_receipts SET
      transactions = transactions - (CASE WHEN """ + _counted('OLD.', p) + """ THEN 1 ELSE 0 END),
      amount_vnd = amount_vnd - (CASE WHEN """ + _counted('OLD.', p) + """ THEN OLD.amount_vnd ELSE 0 END),
      last_received_at = """ + _latest('postgresql', 'OLD.', p) + """
    WHERE school_id = OLD.school_id AND month = to_char(OLD.occurred_at, 'YYYY-MM')
      AND provider = OLD.provider;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF NEW.direction = 'in' AND NEW.school_id IS NOT NULL AND """ + _processed('NEW.', p) + """ THEN
      INSERT INTO summary_receipts AS r (school_id, month, provider, transactions, amount_vnd,
                                         last_received_at)
      VALUES (NEW.school_id, to_char(NEW.occurred_at, 'YYYY-MM'), NEW.provider,
              CASE WHEN """ + _counted('NEW.', p) + """ THEN 1 ELSE 0 END,
              CASE WHEN """ + _counted('NEW.', p) + """ THEN NEW.amount_vnd ELSE 0 END,
              NEW.received_at)
      """ + _PG_ADD + """;
    END IF;
  END IF;
  RETURN NULL;
END $$""",
        "CREATE TRIGGER trg_summaries_transaction_change "
        "AFTER UPDATE OF school_id, direction, amount_vnd, provider, occurred_at, received_at "
        "OR DELETE "
        "ON bank_transactions FOR EACH ROW "
        "EXECUTE FUNCTION summaries_transaction_changed()",
        # Statuses change in bulk (batch matching): one statement-level trigger compares the
        # rows before and after. A row enters the totals when it is processed, and its money
        # moves when it stops (or starts) counting; a row put back in the queue (rematch)
        # leaves, and the latest delivery is read again.
        """
CREATE FUNCTION summaries_transaction_statuses() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO summary_receipts AS r (school_id, month, provider, transactions, amount_vnd,
                                     last_received_at)
  SELECT n.school_id, to_char(n.occurred_at, 'YYYY-MM'), n.provider,
         sum(CASE WHEN """ + _counted('n.', p) + """ = """ + _counted('o.', p) + """ THEN 0
                  WHEN """ + _counted('n.', p) + """ THEN 1 ELSE -1 END),
         sum(CASE WHEN """ + _counted('n.', p) + """ = """ + _counted('o.', p) + """ THEN 0
                  WHEN """ + _counted('n.', p) + """ THEN n.amount_vnd ELSE -n.amount_vnd END),
         max(CASE WHEN """ + entered + """ THEN n.received_at END)
  FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
  WHERE n.direction = 'in' AND n.school_id IS NOT NULL AND """ + same + """
    AND ((""" + _counted('o.', p) + """) <> (""" + _counted('n.', p) + """)
         OR (""" + entered + """))
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3
  """ + _PG_ADD + """;
  UPDATE summary_receipts AS r SET last_received_at = """ + _latest('postgresql', 'r.', p)
        .replace("to_char(r.occurred_at, 'YYYY-MM')", "r.month") + """
  FROM (SELECT DISTINCT n.school_id, to_char(n.occurred_at, 'YYYY-MM') AS month, n.provider
        FROM old_rows AS o JOIN new_rows AS n ON n.id = o.id
        WHERE n.direction = 'in' AND n.school_id IS NOT NULL AND """ + same + """
          AND """ + left + """) AS g
  WHERE r.school_id = g.school_id AND r.month = g.month AND r.provider = g.provider;
  RETURN NULL;
END $$""",
        "CREATE TRIGGER trg_summaries_transaction_status AFTER UPDATE ON bank_transactions "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION summaries_transaction_statuses()",
    ]


# --- SQLite: row-level triggers -------------------------------------------------------------

def _sqlite_add(r: str, condition: str, p: bool) -> str:
    return (
        "INSERT INTO summary_receipts (school_id, month, provider, transactions, amount_vnd, "
        "last_received_at) "
        f"SELECT {r}.school_id, substr({r}.occurred_at, 1, 7), {r}.provider, "
        f"CASE WHEN {_counted(r + '.', p)} THEN 1 ELSE 0 END, "
        f"CASE WHEN {_counted(r + '.', p)} THEN {r}.amount_vnd ELSE 0 END, "
        f"{r}.received_at WHERE {condition} AND {_processed(r + '.', p)} "
        + _SQLITE_ADD + ";"
    )


def _sqlite_remove(r: str, condition: str, p: bool) -> str:
    # The latest delivery cannot be subtracted: it is read again from what is left.
    return (
        f"UPDATE summary_receipts SET "
        f"transactions = transactions - CASE WHEN {_counted(r + '.', p)} THEN 1 ELSE 0 END, "
        f"amount_vnd = amount_vnd - "
        f"CASE WHEN {_counted(r + '.', p)} THEN {r}.amount_vnd ELSE 0 END, "
        f"last_received_at = {_latest('sqlite', r + '.', p)} "
        f"WHERE {condition} AND {_processed(r + '.', p)} AND school_id = {r}.school_id "
        f"AND month = substr({r}.occurred_at, 1, 7) AND provider = {r}.provider;"
    )


def _sqlite(p: bool):
    in_old = "OLD.direction = 'in' AND OLD.school_id IS NOT NULL"
    in_new = "NEW.direction = 'in' AND NEW.school_id IS NOT NULL"
    same = ("NEW.school_id IS OLD.school_id AND NEW.direction = OLD.direction "
            "AND NEW.amount_vnd = OLD.amount_vnd AND NEW.provider = OLD.provider "
            "AND NEW.occurred_at = OLD.occurred_at")
    entered = f"NOT {_processed('OLD.', p)} AND {_processed('NEW.', p)}"
    left = f"{_processed('OLD.', p)} AND NOT {_processed('NEW.', p)}"
    counted_old, counted_new = _counted('OLD.', p), _counted('NEW.', p)
    return [
        "CREATE TRIGGER trg_summaries_transaction_insert AFTER INSERT ON bank_transactions "
        "BEGIN " + _sqlite_add("NEW", in_new, p) + " END",
        "CREATE TRIGGER trg_summaries_transaction_update AFTER UPDATE OF school_id, direction, "
        "amount_vnd, provider, occurred_at, received_at ON bank_transactions BEGIN "
        + _sqlite_remove("OLD", in_old, p) + _sqlite_add("NEW", in_new, p) + " END",
        "CREATE TRIGGER trg_summaries_transaction_delete AFTER DELETE ON bank_transactions "
        "BEGIN " + _sqlite_remove("OLD", in_old, p) + " END",
        # Matching changes a status: the row enters the totals when processed, and its money
        # stops counting when set aside or found to be a duplicate (and counts again if that
        # is undone); a row put back in the queue leaves them.
        "CREATE TRIGGER trg_summaries_transaction_status AFTER UPDATE OF status "
        f"ON bank_transactions WHEN {in_new} AND {same} AND (({counted_old}) <> ({counted_new}) "
        f"OR ({entered}) OR ({left})) BEGIN "
        "INSERT INTO summary_receipts (school_id, month, provider, transactions, amount_vnd, "
        "last_received_at) "
        "SELECT NEW.school_id, substr(NEW.occurred_at, 1, 7), NEW.provider, "
        f"CASE WHEN ({counted_old}) = ({counted_new}) THEN 0 WHEN {counted_new} THEN 1 "
        "ELSE -1 END, "
        f"CASE WHEN ({counted_old}) = ({counted_new}) THEN 0 WHEN {counted_new} "
        "THEN NEW.amount_vnd ELSE -NEW.amount_vnd END, "
        f"CASE WHEN {entered} THEN NEW.received_at END "
        + _SQLITE_ADD + "; "
        f"UPDATE summary_receipts SET last_received_at = {_latest('sqlite', 'NEW.', p)} "
        f"WHERE {left} AND school_id = NEW.school_id "
        "AND month = substr(NEW.occurred_at, 1, 7) AND provider = NEW.provider; END",
    ]
