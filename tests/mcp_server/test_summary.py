"""The study's summary: the facts as text without any AI service; with an operator's
OpenAI-compatible endpoint (a local fake here), its answer, and the facts again when it fails."""

from mcp_server.fakes.llm import FakeLLM
from mcp_server.insights.summary import study_summary

FACTS = [
    "Profit 5 USDT: grid cycles 7, inventory -2, funding 0; fees paid 1.",
    "Level 4 completed the most cycles (3).",
]


def test_without_an_endpoint_the_facts_are_the_summary(settings):
    settings.MCP_SUMMARY_LLM_URL = ""
    out = study_summary(facts=FACTS)
    assert out == {"source": "facts", "text": "- " + FACTS[0] + "\n- " + FACTS[1]}


def test_an_openai_compatible_endpoint_writes_it(settings):
    with FakeLLM() as llm:
        settings.MCP_SUMMARY_LLM_URL = llm.url
        settings.MCP_SUMMARY_LLM_MODEL = "local-model"
        settings.MCP_SUMMARY_LLM_KEY = "sk-local"
        out = study_summary(facts=FACTS, language="ru")
    assert out["source"] == "llm" and out["text"].startswith("Summary:")
    sent = llm.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer sk-local"
    assert sent["body"]["model"] == "local-model" and "'ru'" in sent["body"]["messages"][0]["content"]
    assert FACTS[1] in sent["body"]["messages"][1]["content"]


def test_a_failing_endpoint_falls_back_to_the_facts(settings):
    with FakeLLM(status=500) as llm:
        settings.MCP_SUMMARY_LLM_URL = llm.url
        out = study_summary(facts=FACTS)
    assert out["source"] == "facts" and FACTS[0] in out["text"]
