from core.text import clean_display, normalize


def test_normalize_converts_traditional_and_full_width():
    assert normalize("附加證明書怎麼辦理？") == "附加证明书怎么办理?"
    assert normalize("ＶＡ－２０２６　ｏｋ") == "VA-2026 ok"


def test_normalize_collapses_whitespace_and_strips_controls():
    assert normalize("  海牙\u200b认证 \n\t 在哪办 ") == "海牙认证 在哪办"


def test_clean_display_keeps_wording_but_drops_control_characters():
    assert clean_display(" 你好\x00\x07世界 ") == "你好世界"
    assert clean_display("附加證明書") == "附加證明書"


def test_lone_surrogates_are_dropped_and_real_emoji_kept():
    # "\ud83d" escaped in a JSON body decodes to a lone surrogate, which no encoder can encode
    # as UTF-8 (it crashed Rasa's dense featurizer on the fuzz probes).
    assert normalize("护照丢了\ud83d\ude00怎么办\udfff") == "护照丢了怎么办"
    assert clean_display("你好\ud800") == "你好"
    assert normalize("谢谢😀") == "谢谢😀"
    normalize("再见\ude00\ud83d再见").encode("utf-8")  # encodable
