"""indexes of the rows where a mostly empty column is set

Five indexes are on columns that are empty on nearly every row written while money comes
in: the payer's account (SePay does not give it), an allocation's student (set for credit
only), its voucher (refunds) and the allocation it reverses, and the receipt a receipt
replaces. A whole index still took an entry for every notification stored, every status it
was given and every allocation and receipt matching wrote. Each becomes an index of the rows
where the column is set: ``column = x`` finds the same rows, and the two unique ones keep
their meaning (empty values never collided).

Revision ID: 8f5dde1e5d76
Revises: f4b2c8d1e6a7
Create Date: 2026-12-07 05:01:19.803925

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8f5dde1e5d76'
down_revision = 'f4b2c8d1e6a7'
branch_labels = None
depends_on = None

_INDEXES = [
    ("bank_transactions", "ix_bank_transactions_payer_account", "payer_account"),
    ("allocations", "ix_allocations_student_id", "student_id"),
    ("allocations", "ix_allocations_voucher_id", "voucher_id"),
]
_UNIQUE = [
    ("allocations", "uq_allocations_reverses_id", "reverses_id"),
    ("receipts", "uq_receipts_replaces_id", "replaces_id"),
]


def _set(column):
    where = sa.text(f"{column} IS NOT NULL")
    return {"postgresql_where": where, "sqlite_where": where}


def upgrade():
    for table, name, column in _INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column], unique=False, **_set(column))
    for table, name, column in _UNIQUE:
        # Created under a temporary name first, so that the column is never without its key.
        op.create_index(f"{name}_set", table, [column], unique=True, **_set(column))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_='unique')
        op.create_index(name, table, [column], unique=True, **_set(column))
        op.drop_index(f"{name}_set", table_name=table)


def downgrade():
    for table, name, column in _UNIQUE:
        op.drop_index(name, table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_unique_constraint(name, [column])
    for table, name, column in _INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column], unique=False)
