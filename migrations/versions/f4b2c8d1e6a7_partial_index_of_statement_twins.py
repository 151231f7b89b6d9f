"""partial index of statement lines without a reference (the twins a notification may have)

A notification is checked against the statement lines of the same account, amount and day
that carry no bank reference. The index on (account_number, amount_vnd) visited every
transfer of that amount to the account (a school receives the same fee from hundreds of
parents), in the match worker's batches and in each webhook matched in the request.

Revision ID: f4b2c8d1e6a7
Revises: e3a1f7c90b25
Create Date: 2026-12-07 03:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4b2c8d1e6a7'
down_revision = 'e3a1f7c90b25'
branch_labels = None
depends_on = None

_WHERE = "provider = 'statement' AND bank_reference IS NULL"


def upgrade():
    with op.batch_alter_table('bank_transactions', schema=None) as batch_op:
        batch_op.create_index('ix_bank_transactions_statement_twins',
                              ['account_number', 'amount_vnd'], unique=False,
                              postgresql_where=sa.text(_WHERE), sqlite_where=sa.text(_WHERE))


def downgrade():
    with op.batch_alter_table('bank_transactions', schema=None) as batch_op:
        batch_op.drop_index('ix_bank_transactions_statement_twins',
                            postgresql_where=sa.text(_WHERE), sqlite_where=sa.text(_WHERE))
