"""The custom menu file: valid against the KB and WeChat's limits, pushed by the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from bot.wechat import __main__ as cli
from bot.wechat.menu import MENU_FILE, MenuError, load_menu, validate


def test_shipped_menu_is_valid_against_the_kb(kb):
    menu = load_menu(kb=kb)
    names = [b["name"] for b in menu.buttons]
    assert names == ["政策咨询", "办事指南", "进度与人工"]
    keys = {s["key"] for b in menu.buttons for s in b["sub_button"]}
    assert {"CMD:status", "CMD:human", "CMD:tip_on", "CMD:tip_off"} <= keys
    assert validate(menu, kb) == []


def test_menu_breaking_wechats_limits_is_refused(tmp_path: Path, kb):
    data = yaml.safe_load(MENU_FILE.read_text(encoding="utf-8"))
    data["button"].append({"name": "第四个按钮太长了吧", "type": "click", "key": "CMD:nope"})
    data["button"][0]["sub_button"].append({"type": "click", "name": "x", "key": "TOPIC:nothing"})
    bad = tmp_path / "menu.yml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(MenuError) as error:
        load_menu(bad, kb=kb)
    message = str(error.value)
    assert "1 to 3 top-level" in message and "more than 5" in message
    assert "unknown topic 'nothing'" in message and "unknown command 'nope'" in message


async def test_menu_cli_pushes_the_menu_to_wechat(wechat, wx_settings, monkeypatch, capsys):
    monkeypatch.setattr(cli, "get_kb", _kb)
    assert await cli.push_menu(wx_settings, MENU_FILE, check_only=False) == 0
    pushed = wechat.sent("menu/create")
    assert len(pushed) == 1 and pushed[0]["button"][0]["name"] == "政策咨询"
    assert len(wechat.token_fetches) == 1
    assert "menu pushed" in capsys.readouterr().out


async def test_menu_check_only_calls_nothing(wechat, wx_settings, monkeypatch, capsys):
    monkeypatch.setattr(cli, "get_kb", _kb)
    assert await cli.push_menu(wx_settings, MENU_FILE, check_only=True) == 0
    assert wechat.attempts == [] and '"button"' in capsys.readouterr().out


def _kb():
    from core.kb import load_kb

    return load_kb(Path(__file__).resolve().parents[3] / "kb")


async def test_the_bot_refuses_to_start_without_its_settings_and_names_them(settings):
    from bot.wechat.app import config_problems

    problems = config_problems(settings)
    assert "WECHAT_TOKEN is not set; WeChat channel disabled" in problems
    assert any("WECHAT_APP_ID / WECHAT_APP_SECRET" in p for p in problems)
    bad_key = settings.model_copy(update={"wechat_aes_key": SecretStr("short")})
    assert any("43-character" in p for p in config_problems(bad_key))
    assert await cli.serve(settings) == 2
