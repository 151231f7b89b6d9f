"""Reaching parents: fee notices, reminders and payment confirmations by Zalo ZNS, SMS and
email, sent by RQ workers; and the same workers render large PDFs.

- :mod:`.core`: pure Python (no Flask, no SQLAlchemy): templates and placeholders, SMS length
  and segments, removing diacritics, phone and email checks, retry delays.
- :mod:`.providers`: one interface per channel (ZNS, an SMS gateway, SMTP), HTTP and SMTP only.
- :mod:`.settings`, :mod:`.templates`, :mod:`.outbox`, :mod:`.campaigns`: services (they take
  the acting user, flush and never commit).
- :mod:`.sending`: what a worker does with one message: claim it, pick the channel, call the
  provider, record the answer.
- :mod:`.jobs`: the RQ glue: queues, the dispatcher that enqueues the outbox after commit,
  the worker command's loop.
- :mod:`.exports`: whole-school PDFs rendered by a job, with progress.

The outbox (table ``messages``) is the truth; RQ only carries "send message N now". A
message row is written in the same transaction as what causes it (a campaign, a receipt);
jobs are enqueued only after that commit, by a dispatcher that enqueues every row not yet
enqueued, so a crash between the two loses nothing.
"""
