"""receipt lookup codes: the short code printed on a receipt, typed in to check it

Revision ID: a7c3e9d2f410
Revises: 7632fd2c6acf
Create Date: 2026-12-07 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e9d2f410'
down_revision = '7632fd2c6acf'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lookup_code', sa.String(length=12), nullable=True))
        batch_op.create_index(batch_op.f('ix_receipts_lookup_code'), ['lookup_code'], unique=False)
    # Receipts already printed carry the code derived the same way (tuition.services.receipts).
    op.execute("UPDATE receipts SET lookup_code = upper(substr(verify_token, 1, 8))")


def downgrade():
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipts_lookup_code'))
        batch_op.drop_column('lookup_code')
