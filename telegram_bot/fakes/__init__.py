"""Fakes of Telegram's Bot API (botapi.py). They speak the real wire protocol on 127.0.0.1 and
know nothing of the product."""
