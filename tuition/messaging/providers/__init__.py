"""The channels: each is reached through one interface (:class:`.base.Channel`).

Nothing here touches the database or Flask: a channel is built from plain settings and, for
Zalo, a token source the caller provides. Base URLs are settings, so tests (and a sandbox)
point them at local stand-ins.
"""
