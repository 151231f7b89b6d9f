"""running totals of statuses: the transition tables joined by hashing, not pairwise

The statement trigger that moves the receipts totals when notifications change status
(summaries_transaction_statuses) joins the statement's old and new rows on their id. Those
transition tables have no statistics, so the planner takes each for one row and joins them
in a nested loop: every old row compared with every new row, 130 x 130 comparisons for a
batch of 130 matched notifications (2.4 ms of the batch; a batch of 1,000 would take a
hundred times that). Planned without nested loops, the join hashes one side: linear.

PostgreSQL only: SQLite keeps its row triggers.

Revision ID: a1d7e4c2b9f3
Revises: 8f5dde1e5d76
Create Date: 2026-12-07 05:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a1d7e4c2b9f3'
down_revision = '8f5dde1e5d76'
branch_labels = None
depends_on = None

_FUNCTION = "summaries_transaction_statuses()"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER FUNCTION {_FUNCTION} SET enable_nestloop = off")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER FUNCTION {_FUNCTION} RESET enable_nestloop")
