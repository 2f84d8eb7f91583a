"""Fake payment providers speaking each provider's real wire on 127.0.0.1 (tests and the quick
start point the real clients at them). They know nothing of Setka: no Django, no product code."""
