"""What each business code means and what to do, in English: the platform's own messages are Chinese.

The library keeps the platform's message (``APIError.message``) and puts this
in front of it in the error's text. Sources: the platform's error-code page and
the answers users published (../shared/reference/zhipu-error-codes.md).
"""

from __future__ import annotations

_PARAMETER = "the platform refused a parameter (the message says which): check it against `zhipu-images models`"
_LATER = "a platform error: it was retried; try again later"

EXPLANATIONS: dict[str, str] = {
    "1000": "authentication failed: check the API key",
    "1001": "no API key reached the platform: pass api_key=... or set ZHIPUAI_API_KEY",
    "1002": "the API key was rejected: check it, and where it came from (api_key=, ZHIPUAI_API_KEY, ZAI_API_KEY)",
    "401": "the API key was rejected or has expired: check it, and where it came from (api_key=, ZHIPUAI_API_KEY)",
    "1003": "the API key has expired: create a new one on the platform's API keys page",
    "1004": "the API key could not be verified: check it",
    "1100": "the account could not be read: try again later, or contact the platform's support",
    "1110": "the account is not active: activate it on the platform",
    "1111": "the account does not exist: check the key",
    "1112": "the account is locked: contact the platform's support",
    "1113": "the account has no balance: top it up on the platform",
    "1120": "the account could not be reached: it was retried; try again later",
    "1121": "the account is locked for violations: contact the platform's support",
    "1200": _PARAMETER,
    "1210": _PARAMETER,
    "1211": "the model does not exist: check its name (`zhipu-images models` lists the known ones)",
    "1212": "the model does not support this call",
    "1213": _PARAMETER,
    "1214": _PARAMETER,
    "1215": "two parameters cannot be set together (the message says which)",
    "1220": "this key may not call this API: open the API for the account on the platform",
    "1221": "this API was taken offline",
    "1222": "this API does not exist: check the base URL (…/api/paas/v4)",
    "1230": _LATER,
    "1231": "a request with this id already exists",
    "1234": _LATER,
    "1300": "the call was blocked by the platform's policy",
    "1301": "the prompt or the image was judged unsafe by the platform: change the prompt",
    "1302": "too many requests in flight for the account's tier: lower max_concurrency (--concurrency)",
    "1304": "the daily quota of this API is used up: wait until tomorrow, or raise the quota",
    "1305": "the model is overloaded: it was retried; try again later",
    "1308": "a usage cap of the account is reached: wait for it to reset",
    "1309": "the subscription plan has expired: renew it",
    "1310": "the weekly or monthly cap is reached: wait for it to reset",
    "500": _LATER,
}


def explanation(code: str | None) -> str | None:
    return EXPLANATIONS.get(code) if code is not None else None


#: What a content-filter note's ``role`` says was checked (seed 001, the newer page: assistant, user, history).
_CHECKED = {"assistant": "the generated image", "user": "the prompt", "history": "the earlier context"}
#: The slightest level (seed 001: 0 is the most severe, 3 slight): nothing to act on, so no note is shown.
SLIGHTEST_LEVEL = 3


def content_filter_note(role: str | None, level: int | None) -> str | None:
    """English for one content-filter note of a successful answer; None where it means nothing to act on."""
    if level is None or level >= SLIGHTEST_LEVEL:
        return None
    checked = _CHECKED.get(role or "", f"role {role!r}")
    return (
        f"the platform's content filter flagged {checked} at level {level} (0 is the most severe, 3 slight); "
        "the image was still returned"
    )
