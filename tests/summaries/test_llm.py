"""The LLM backend against a fake OpenAI-compatible server on 127.0.0.1.

The fake server answers each request with the next scripted reply, records what it was
sent, and can stall (timeouts), fail, redirect, or invent facts; the backend must use a
reply only when it passes every check, and fall back to the offline summary otherwise.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from trialscout.app import TrialScout
from trialscout.registry.model import Trial
from trialscout.sample import sample_path
from trialscout.summaries import llm
from trialscout.summaries.model import PlainSummary
from trialscout.summaries.offline import summarize

Reply = Callable[[dict[str, Any]], tuple[int, dict[str, str], bytes]]


class FakeLLM:
    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append({"path": self.path, "headers": dict(self.headers),
                                      "body": body})
                reply = fake.replies.pop(0) if fake.replies else _chat("{}")
                status, headers, payload = reply(body)
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _chat(content: str, status: int = 200) -> Reply:
    payload = json.dumps({"choices": [{"message": {"role": "assistant",
                                                   "content": content}}]}).encode()
    return lambda _body: (status, {"Content-Type": "application/json"}, payload)


def _sentences(draft: PlainSummary, edit: Callable[[str], str] = lambda t: t) -> str:
    return json.dumps({"sentences": [
        {"topic": s.topic, "text": edit(s.text), "sources": s.sources}
        for s in draft.sentences]})


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    server = FakeLLM()
    yield server
    server.close()


@pytest.fixture
def trial(by_id: dict[str, Trial]) -> Trial:
    return by_id["NCT09000001"]


def _config(fake: FakeLLM, timeout: float = 5.0) -> llm.LLMConfig:
    return llm.LLMConfig(base_url=fake.base_url, model="fake-model", api_key="sk-test",
                         timeout=timeout)


def test_a_faithful_reply_is_used(fake: FakeLLM, trial: Trial) -> None:
    draft = summarize(trial)
    fake.replies.append(_chat(_sentences(draft, lambda t: t.replace("It tests",
                                                                      "The study tests"))))
    result = llm.rewrite(trial, draft, _config(fake))
    assert result.backend == "llm" and result.model == "fake-model"
    assert result.fallback_reason is None
    assert "The study tests the drug denosumab." in result.text
    (request,) = fake.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    assert request["body"]["model"] == "fake-model"


def test_the_request_carries_trial_fields_but_no_contact_details(fake: FakeLLM,
                                                                  trial: Trial) -> None:
    draft = summarize(trial)
    fake.replies.append(_chat(_sentences(draft)))
    llm.rewrite(trial, draft, _config(fake))
    sent = json.dumps(fake.requests[0]["body"])
    assert "denosumab" in sent.lower()
    for contact in [*trial.central_contacts, *(c for s in trial.sites for c in s.contacts)]:
        for value in (contact.email, contact.phone, contact.name):
            if value:
                assert value not in sent


@pytest.mark.parametrize(("edit", "reason"), [
    (lambda t: t.replace("840", "1200"), "number"),
    (lambda t: t.replace("alendronate", "metformin"), "drug"),
    (lambda t: t.replace("Boston", "Paris"), "name"),
    (lambda t: t.replace("It tests the drug denosumab.",
                         "It tests the drug denosumab and zorbatinib."), "drug"),
    (lambda t: t + " It lasts {absent} years." if "looking for people" in t else t, "number"),
])
def test_invented_facts_fall_back_to_the_offline_summary(
        fake: FakeLLM, trial: Trial, edit: Callable[[str], str], reason: str) -> None:
    from trialscout.summaries.grounding import number_key, record_facts, rules

    known = record_facts(trial).numbers
    absent = next(w for w, v in rules().number_words.items()
                  if number_key(str(v)) not in known and w not in record_facts(trial).words)
    draft = summarize(trial)
    fake.replies.append(_chat(_sentences(draft, lambda t: edit(t).replace("{absent}", absent))))
    result = llm.rewrite(trial, draft, _config(fake))
    assert result.backend == "offline"
    assert result.sentences == draft.sentences
    assert result.fallback_reason and reason in result.fallback_reason


@pytest.mark.parametrize(("reply", "reason"), [
    (_chat("Sure! Here is a summary."), "not the JSON"),
    (_chat('{"sentences": []}'), "no sentences"),
    (_chat('{"sentences": [{"topic": "what", "text": "It is about osteoporosis."}]}'),
     "no source list"),
    (_chat('{"sentences": [{"topic": "gossip", "text": "x", "sources": []}]}'), "topic"),
    (_chat("{}", status=500), "HTTP 500"),
    (lambda _b: (200, {"Content-Type": "application/json"}, b"not json"), "not a chat"),
    (lambda _b: (429, {}, b""), "HTTP 429"),
])
def test_broken_replies_fall_back(fake: FakeLLM, trial: Trial, reply: Reply,
                                  reason: str) -> None:
    draft = summarize(trial)
    fake.replies.append(reply)
    result = llm.rewrite(trial, draft, _config(fake))
    assert result.backend == "offline"
    assert result.fallback_reason and reason in result.fallback_reason


def test_unknown_sources_and_lost_topics_fall_back(fake: FakeLLM, trial: Trial) -> None:
    draft = summarize(trial)
    bad_source = json.loads(_sentences(draft))
    bad_source["sentences"][0]["sources"] = ["secret_field"]
    fake.replies.append(_chat(json.dumps(bad_source)))
    result = llm.rewrite(trial, draft, _config(fake))
    assert result.fallback_reason and "unknown source" in result.fallback_reason
    lost = json.loads(_sentences(draft))
    lost["sentences"] = [s for s in lost["sentences"] if s["topic"] != "where"]
    fake.replies.append(_chat(json.dumps(lost)))
    result = llm.rewrite(trial, draft, _config(fake))
    assert result.fallback_reason and "where" in result.fallback_reason


def test_hard_to_read_output_falls_back(fake: FakeLLM, trial: Trial) -> None:
    draft = summarize(trial)
    jargon = (", which necessitates comprehensive individualized pharmacological "
              "considerations regarding multidisciplinary administration.")
    fake.replies.append(_chat(_sentences(draft, lambda t: t.rstrip(".") + jargon)))
    result = llm.rewrite(trial, draft, _config(fake))
    assert result.backend == "offline"
    assert result.fallback_reason and "reading level" in result.fallback_reason


def test_a_slow_server_times_out_and_falls_back(fake: FakeLLM, trial: Trial) -> None:
    def stall(_body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        time.sleep(1.5)
        return 200, {}, b"{}"

    fake.replies.append(stall)
    draft = summarize(trial)
    result = llm.rewrite(trial, draft, _config(fake, timeout=0.3))
    assert result.backend == "offline"
    assert result.fallback_reason == "LLM: timed out"


def test_redirects_are_not_followed(fake: FakeLLM, trial: Trial) -> None:
    other = FakeLLM()
    try:
        target = other.base_url + "/chat/completions"
        fake.replies.append(lambda _b: (307, {"Location": target}, b""))
        result = llm.rewrite(trial, summarize(trial), _config(fake))
        assert result.fallback_reason == "LLM: HTTP 307"
        assert other.requests == []
    finally:
        other.close()


def test_proxy_settings_from_the_environment_are_ignored(
        fake: FakeLLM, trial: Trial, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    draft = summarize(trial)
    fake.replies.append(_chat(_sentences(draft)))
    assert llm.rewrite(trial, draft, _config(fake)).backend == "llm"
    assert len(fake.requests) == 1


def test_an_unreachable_server_falls_back(trial: Trial) -> None:
    config = llm.LLMConfig(base_url="http://127.0.0.1:9/v1", model="m", timeout=2)
    result = llm.rewrite(trial, summarize(trial), config)
    assert result.backend == "offline"
    assert result.fallback_reason and result.fallback_reason.startswith("LLM: request failed")


def test_config_is_off_by_default_and_checks_the_scheme() -> None:
    from trialscout.settings import load_settings

    assert llm.config_from_settings(load_settings(environ={})) is None
    with pytest.raises(ValueError, match="http"):
        llm.config_from_settings(load_settings({"llm_base_url": "file:///etc"}, environ={}))


def _app(fake: FakeLLM | None) -> TrialScout:
    from trialscout.app import create_app

    overrides: dict[str, Any] = {"database_url": "sqlite://"}
    if fake is not None:
        overrides |= {"llm_base_url": fake.base_url, "llm_model": "fake-model"}
    app = create_app(**overrides)
    app.import_paths([sample_path()])
    return app


def test_service_is_offline_without_an_llm_and_sends_nothing(fake: FakeLLM) -> None:
    app = _app(None)
    summary = app.summaries.for_trial("NCT09000001")
    assert summary is not None and summary.backend == "offline"
    assert summary.fallback_reason is None
    assert app.summaries.for_trial("NCT00000000") is None
    assert fake.requests == []
    app.close()


def test_service_caches_llm_summaries_per_content(fake: FakeLLM) -> None:
    app = _app(fake)
    draft = app.summaries.for_trial("NCT09000001", use_llm=False)
    assert draft is not None and draft.backend == "offline"
    assert fake.requests == []
    fake.replies.append(_chat(_sentences(draft)))
    first = app.summaries.for_trial("NCT09000001")
    second = app.summaries.for_trial("NCT09000001")
    assert first is not None and first.backend == "llm"
    assert second == first
    assert len(fake.requests) == 1
    app.close()


def test_service_remembers_a_failure_for_a_while(fake: FakeLLM) -> None:
    app = _app(fake)
    fake.replies.append(_chat("{}", status=503))
    first = app.summaries.for_trial("NCT09000002")
    second = app.summaries.for_trial("NCT09000002")
    assert first is not None and second is not None
    assert first.backend == second.backend == "offline"
    assert second.fallback_reason == "LLM: HTTP 503"
    assert len(fake.requests) == 1
    app.close()
