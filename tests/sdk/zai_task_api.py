"""zai-sdk's task API, unchanged: submit with ``images.async_generations``, poll ``images.retrieve_images_result``.

python zai_task_api.py BASE_URL API_KEY [REQUEST_ID]
"""

from __future__ import annotations

import json
import sys
import time

from zai import ZhipuAiClient


def main() -> None:
    base_url, api_key = sys.argv[1], sys.argv[2]
    options = {"request_id": sys.argv[3]} if len(sys.argv) > 3 else {}
    client = ZhipuAiClient(api_key=api_key, base_url=base_url)
    submitted = client.images.async_generations(model="glm-image", prompt="一只猫", size="1280x1280", **options)
    polls = 0
    while True:
        polls += 1
        state = client.images.retrieve_images_result(submitted.id or "")
        if state.task_status != "PROCESSING" or polls > 1000:
            break
        time.sleep(0.02)
    print(json.dumps({"submitted": submitted.model_dump(), "state": state.model_dump(), "polls": polls}))


if __name__ == "__main__":
    main()
