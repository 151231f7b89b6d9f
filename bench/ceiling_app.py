"""The ceiling of the stack: a Flask app whose one endpoint stores the request body as one row
(one INSERT, one commit) through the same SQLAlchemy and psycopg as tuition, served by the same
gunicorn. A webhook cannot be cheaper than this; bench_batch_matching.py prints the project's
webhook throughput beside it. Not part of the product.

    DATABASE_URL=postgresql+psycopg://... gunicorn bench.ceiling_app:app
"""

from __future__ import annotations

import os

from flask import Flask, jsonify, request
from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine, insert

metadata = MetaData()
rows = Table("bench_ceiling", metadata, Column("id", Integer, primary_key=True),
             Column("body", Text, nullable=False))
engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
metadata.create_all(engine)
app = Flask(__name__)


@app.post("/insert")
def store():
    with engine.begin() as conn:
        conn.execute(insert(rows).values(body=request.get_data(as_text=True)))
    return jsonify({"success": True})


@app.get("/healthz")
def healthz():
    return "ok"
