"""Fake of VK's API (vkapi.py): the real wire protocol on 127.0.0.1; it knows nothing of Setka."""
