"""A plain-language summary of a study. Works without any AI service: the facts themselves are
the summary. When an operator configures an OpenAI-compatible endpoint (MCP_SUMMARY_LLM_URL,
MCP_SUMMARY_LLM_MODEL, MCP_SUMMARY_LLM_KEY), the facts are sent there and its answer is shown,
falling back to the facts on any failure. Only the study's facts are sent: no keys, no email."""

from __future__ import annotations

import logging

import requests
from django.conf import settings

log = logging.getLogger(__name__)
PROMPT = (
    "You explain a grid-trading bot's results to a person who is not a trader. Use only the facts "
    "given, in plain words, in at most five sentences, in the language '{lang}'. Do not advise buying or selling."
)


def study_summary(*, facts: list[str], language: str = "en") -> dict:
    text = "\n".join(f"- {f}" for f in facts)
    url = getattr(settings, "MCP_SUMMARY_LLM_URL", "")
    if not url or not facts:
        return {"source": "facts", "text": text}
    headers = {"Content-Type": "application/json"}
    key = getattr(settings, "MCP_SUMMARY_LLM_KEY", "")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    body = {
        "model": getattr(settings, "MCP_SUMMARY_LLM_MODEL", ""),
        "messages": [{"role": "system", "content": PROMPT.format(lang=language)}, {"role": "user", "content": text}],
        "temperature": 0.2,
    }
    try:
        answer = requests.post(f"{url.rstrip('/')}/chat/completions", json=body, headers=headers, timeout=20)
        answer.raise_for_status()
        content = answer.json()["choices"][0]["message"]["content"].strip()
    except (requests.RequestException, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        log.warning("summary endpoint failed, showing the facts: %s", type(exc).__name__)
        return {"source": "facts", "text": text}
    return {"source": "llm", "text": content, "facts": text} if content else {"source": "facts", "text": text}
