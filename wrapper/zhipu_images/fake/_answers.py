"""What the fake platform says: its business codes' HTTP statuses and messages, on both endpoints.

Kept apart from the platform's behaviour (``_platform``) so that updating the wording after a new
published answer touches only this file.
"""

from __future__ import annotations

#: The platform's messages, as it words them. Where ../shared/reference (answers of the real platform that
#: users published) differs from the error-code page, the fake follows the published answers:
#: DECISION: a wrong key answers 401 with code "401" (not 1002), no balance the 2026 wording of 1113.
MESSAGES = {
    "1001": "Header中未收到Authorization参数，无法进行身份验证。",
    "401": "令牌已过期或验证不正确",
    "1002": "Authorization Token非法，请确认Authorization Token正确传递。",
    "1113": "余额不足或无可用资源包,请充值。",
    "1210": "API 调用参数有误，请检查文档。",
    "1211": "模型不存在，请检查模型代码。",
    "1212": "当前模型不支持 async 调用方式。",
    "1214": "id 参数非法。请检查文档。",
    "1222": "API 不存在。",
    "1231": "已有相同 id 的请求。",
    "1301": "系统检测到输入或生成内容可能包含不安全或敏感内容，请您避免输入易产生敏感内容的提示语，感谢您的配合。",
    "1302": "您当前使用该API的并发数过高，请降低并发，或联系客服增加限额。",
    "1305": "当前API请求过多，请稍后重试。",
    "500": "服务内部错误，请稍后重试。",
}
#: What Z.AI says (``fake-server --platform zai``): English, as its docs and users' published answers word it
#: (1002, 1113, 1211, 1214, 1301: ../shared/reference); the rest are the code table's meanings in English.
#: DECISION: a wrong key is answered 1002, Z.AI's documented code, as no Z.AI capture of it was published.
ZAI_MESSAGES = {
    "1001": "Authorization header not received, unable to authenticate.",
    "1002": "Authorization Token is invalid, please ensure that the Authorization Token is correctly provided.",
    "1113": "Insufficient balance or no resource package. Please recharge.",
    "1210": "Invalid API parameters, please check the documentation.",
    "1211": "Unknown Model, please check the model code.",
    "1212": "The current model does not support the async call method.",
    "1214": "Invalid parameter. Please check the documentation.",
    "1222": "API does not exist.",
    "1231": "A request with this id already exists.",
    "1301": "The system has detected that the input or generated content may contain unsafe or sensitive content. "
    "Please avoid inputting prompts that are likely to produce sensitive content. Thank you for your cooperation.",
    "1302": "Rate limit reached for requests.",
    "1305": "The service may be temporarily overloaded, please try again later.",
    "500": "Internal error.",
}
#: Zhipu business code -> OpenAI-style (status, type, code) for the OpenAI-compatible endpoint
OPENAI_CODES = {
    "1001": (401, "invalid_request_error", "invalid_api_key"),
    "401": (401, "invalid_request_error", "invalid_api_key"),
    "1002": (401, "invalid_request_error", "invalid_api_key"),
    "1113": (429, "insufficient_quota", "insufficient_quota"),
    "1211": (404, "invalid_request_error", "model_not_found"),
    "1301": (400, "invalid_request_error", "content_policy_violation"),
    "1302": (429, "requests", "rate_limit_exceeded"),
    "1305": (429, "requests", "rate_limit_exceeded"),
    "500": (500, "server_error", None),
}
STATUS = {"1001": 401, "401": 401, "1002": 401, "1113": 429, "1302": 429, "1305": 429, "500": 500, "1222": 404}
#: What the OpenAI-compatible endpoint says, in English as OpenAI-compatible servers do.
OPENAI_MESSAGES = {
    "1001": "You didn't provide an API key. Send it in the Authorization header: Bearer YOUR_KEY.",
    "401": "Incorrect API key provided.",
    "1113": "You exceeded your current quota, please check your plan and billing details.",
    "1211": "The model does not exist or you do not have access to it.",
    "1301": "Your request was rejected as a result of the content filter.",
    "1302": "Rate limit reached for requests: too many requests in flight. Slow down.",
    "1305": "The model is currently overloaded with other requests. Retry later.",
    "500": "The server had an error while processing your request.",
}
UNAVAILABLE_HTML = b"<html><head><title>503 Service Temporarily Unavailable</title></head><body>503</body></html>"
