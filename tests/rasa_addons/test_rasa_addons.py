"""The Rasa add-ons, exercised inside the Rasa venv (.venv-rasa) in a subprocess."""

from __future__ import annotations

import json
import subprocess

import pytest

from scripts.stack import ROOT

RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"

SCRIPT = r"""
import json, logging
import rasa_addons
from rasa.core.actions.action import RemoteAction
from rasa.core.channels import rest
from rasa.utils.log_utils import configure_structlog

configure_structlog(logging.INFO)
try:
    raise RuntimeError("tracker store down")
except RuntimeError:
    rest.structlogger.exception("rest.message.received.failure", text="我的护照号是E12345678")

action = RemoteAction("action_answer_kb", None)
ok = action._validate_action_result({"events": [], "responses": [{"text": "您好"}]})
try:
    action._validate_action_result({"events": "not a list"})
    bad = "accepted"
except Exception as exc:
    bad = type(exc).__name__
print("RESULT " + json.dumps({"ok": ok, "bad": bad}))
"""


def rasa_python(script: str) -> subprocess.CompletedProcess[str]:
    """Run a script with the Rasa venv's Python, the tree on its path."""
    if not RASA_PY.exists():
        pytest.fail("the Rasa venv is missing: run `make install`")
    return subprocess.run(
        [str(RASA_PY), "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            "PYTHONPATH": str(ROOT),
            "PYTHONWARNINGS": "ignore",
            "PATH": "/usr/bin:/bin",
            "OMP_NUM_THREADS": "1",
        },
    )


def result_of(done: subprocess.CompletedProcess[str]) -> object:
    """The JSON the script printed after "RESULT "."""
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


@pytest.fixture(scope="module")
def run_in_rasa() -> subprocess.CompletedProcess[str]:
    return rasa_python(SCRIPT)


def test_rest_channel_failures_are_logged_without_the_message(run_in_rasa):
    output = run_in_rasa.stdout + run_in_rasa.stderr
    assert run_in_rasa.returncode == 0, output[-2000:]
    line = next(
        json.loads(part)
        for part in output.splitlines()
        if part.startswith("{") and "rest.message.received.failure" in part
    )
    assert line["text_chars"] == len("我的护照号是E12345678")
    assert line["error"] == "RuntimeError"
    assert "E12345678" not in output and "护照号" not in output


def test_cached_action_result_validation_still_rejects_bad_replies(run_in_rasa):
    result = next(
        json.loads(line.removeprefix("RESULT "))
        for line in run_in_rasa.stdout.splitlines()
        if line.startswith("RESULT ")
    )
    assert result == {"ok": True, "bad": "ValidationError"}


ROUTING_SCRIPT = r"""
import json
from rasa.shared.nlu.training_data.message import Message
from rasa_addons.routing import RouteOverride

cases = {
    "deti": ("你好，我那个 ｖａ ２０２６ ０００１２３ 办好没", None),
    "human": ("不要机器人，给我换个人", None),
    "kidnap": ("他们说绑架了我儿子，要赎金", None),
    "relay": ("我表哥一个礼拜没消息了", {"route": "report_emergency"}),
    "code": ("1234", None),
    "plain": ("附加证明书怎么办", None),
    "cancel": ("算了，不用查了", None),
    "opener": ("老师好 请教个问题", None),
    "unsubscribe": ("取消通知", None),
    "query_code": ("qw123456", None),
    "greeting_and_question": ("你好，附加证明书怎么办", None),
    "blank": ("\u200b\u200d", None),
    "farewell": ("That's all for now, have a good day.", None),
    "other_authority": ("外办能帮我奶奶换身份证吗", None),
    "bribe": ("认识里面的人吗，帮我打个招呼", None),
    "thanks": ("Thank you, that's really helpful.", None),
    "office_hours": ("你们几点上班，周末开门吗", None, "out_of_scope"),
    "homework": ("帮我孩子解道题:鸡兔同笼", None, "ask_case_status"),
    # DIET's own report_emergency: it stands unless the relay's check found the message clear
    "diet_emergency": ("我女儿在英国读研,那我们家算侨眷吗", None, "report_emergency"),
    "diet_emergency_clear": (
        "我女儿在英国读研,那我们家算侨眷吗", {"emergency_clear": True}, "report_emergency"
    ),
}
out = {}
for name, (text, metadata, *predicted) in cases.items():
    m = Message(data={"text": text, "metadata": metadata})
    if name == "blank":
        from rasa_addons.normalizer import TextNormalizer
        TextNormalizer().process([m])
    intent = predicted[0] if predicted else "faq"
    m.set("intent", {"name": intent, "confidence": 0.9})
    m.set("intent_ranking", [{"name": intent, "confidence": 0.9}])
    RouteOverride().process([m])
    ents = [e["value"] for e in m.get("entities") or []]
    out[name] = [m.get("intent")["name"], ents, m.get("intent_ranking")[0]["name"]]
print("RESULT " + json.dumps(out))
"""


def test_routing_component_overrides_the_classifier():
    got = result_of(rasa_python(ROUTING_SCRIPT))
    assert got == {
        "deti": ["ask_case_status", ["VA-2026-000123"], "ask_case_status"],
        "human": ["request_human", [], "request_human"],
        "kidnap": ["report_emergency", [], "report_emergency"],
        "relay": ["report_emergency", [], "report_emergency"],
        "code": ["inform", [], "inform"],
        "plain": ["faq", [], "faq"],
        "cancel": ["cancel", [], "cancel"],
        "opener": ["greet", [], "greet"],
        "unsubscribe": ["unsubscribe_case", [], "unsubscribe_case"],
        "query_code": ["inform", [], "inform"],
        "greeting_and_question": ["faq", [], "faq"],
        "blank": ["nlu_fallback", [], "nlu_fallback"],
        "farewell": ["goodbye", [], "goodbye"],
        "other_authority": ["out_of_scope", [], "out_of_scope"],
        "bribe": ["out_of_scope", [], "out_of_scope"],
        "thanks": ["thank", [], "thank"],
        "office_hours": ["faq", [], "faq"],
        "homework": ["out_of_scope", [], "out_of_scope"],
        "diet_emergency": ["report_emergency", [], "report_emergency"],
        "diet_emergency_clear": ["nlu_fallback", [], "nlu_fallback"],
    }


FEATURIZER_SCRIPT = r"""
import json
from rasa.shared.nlu.training_data.message import Message
from rasa_addons.dense_featurizer import E5SentenceFeaturizer

config = {**E5SentenceFeaturizer.get_default_config(), "cache_dir": None}
featurizer = E5SentenceFeaturizer(config, "e5")
messages = [Message(data={"text": t}) for t in ("再见\ude00\ud83d再见", "\udfff", "护照丢了怎么办")]
featurizer.process(messages)
print("RESULT " + json.dumps([
    [list(f.features.shape) for f in m.features if f.type == "sentence"] for m in messages
]))
"""


def test_dense_featurizer_survives_lone_surrogates():
    # Fuzz probes with "\ud83d" escapes reached the featurizer unnormalised (a GraphComponentException
    # per message: Rasa answered nothing); it featurizes what can be encoded and skips the rest.
    shapes = result_of(rasa_python(FEATURIZER_SCRIPT))
    assert isinstance(shapes, list)
    assert shapes[0] and shapes[0] == shapes[2]  # the pair is encoded like any message


HINT_SCRIPT = r"""
import json
import numpy as np
import core.encoder as encoder
from rasa.shared.nlu.training_data.message import Message
from rasa_addons.dense_featurizer import E5SentenceFeaturizer

calls = []
real = encoder.encode
def counting(texts):
    calls.append(list(texts))
    return real(texts)
encoder.encode = counting
marked = np.zeros(encoder.DIM, dtype=np.float32); marked[7] = 1.0  # no real embedding looks so
config = {**E5SentenceFeaturizer.get_default_config(), "cache_dir": None}
featurizer = E5SentenceFeaturizer(config, "e5")
messages = [
    Message(data={"text": "附加证明书怎么办", "metadata": {encoder.KEY: encoder.pack("附加证明书怎么办", marked)}}),
    Message(data={"text": "护照丢了怎么办", "metadata": {encoder.KEY: encoder.pack("别的话", marked)}}),
    Message(data={"text": "签证" * 100}),
]
featurizer.process(messages)
out = []
for m in messages:
    dense = [f.features for f in m.features if f.type == "sentence"][0].reshape(-1)
    hint = m.as_dict(only_output_properties=True).get(encoder.KEY)
    out.append({
        "marked": bool(np.array_equal(dense, marked)),
        "handed_on": bool(np.array_equal(encoder.from_hint(hint["text"], hint), dense)),
        "text_chars": len(hint["text"]),
    })
print("RESULT " + json.dumps({"messages": out, "encoded": calls}))
"""


def test_dense_featurizer_uses_the_relays_vector_for_its_text_and_hands_its_own_on():
    got = result_of(rasa_python(HINT_SCRIPT))
    first, second, long = got["messages"]
    assert first == {"marked": True, "handed_on": True, "text_chars": 8}  # not encoded again
    assert second["marked"] is False and second["handed_on"]  # a hint for another text: ignored
    assert long["text_chars"] == 120 and long["handed_on"]  # long messages: the first 120
    assert got["encoded"] == [["护照丢了怎么办"], ["签证" * 60]]


TOKEN_SCRIPT = r"""
import argparse
import json
from rasa.cli.arguments import run as run_args
from rasa_addons.server import with_token

parser = argparse.ArgumentParser()
run_args.set_run_arguments(parser)
out = {}
for token in ["-starts-with-a-dash", "plain_Token-1"]:
    out[token] = parser.parse_args(with_token(["run", "--enable-api"], token)[1:]).auth_token
out["given"] = with_token(["run", "--auth-token=x"], "y")
out["not_run"] = with_token(["train"], "y")
print("RESULT " + json.dumps(out))
"""


def test_the_environments_token_reaches_rasa_even_when_it_starts_with_a_dash():
    # secrets.token_urlsafe starts with "-" one time in 64: "--auth-token", "-abc" made Rasa's
    # argparse exit ("expected one argument") and the stack did not start (seen in e2e runs).
    got = result_of(rasa_python(TOKEN_SCRIPT))
    assert got == {
        "-starts-with-a-dash": "-starts-with-a-dash",
        "plain_Token-1": "plain_Token-1",
        "given": ["run", "--auth-token=x"],
        "not_run": ["train"],
    }
